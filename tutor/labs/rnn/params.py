"""Parameters of the RNN lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (Adam's update lives in core.optim).
CORE_PACKAGES = ("optim", "recurrent")

VIEWS = ("unroll", "memory", "text", "padding")
CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu", "linear")
W_INITS = ("orthogonal", "gaussian")
MAX_T = 200
MAX_HIDDEN = 32

#: Named starting points for the lessons: each fills in the parameters a lesson leaves at their
#: defaults (a parameter the lesson sets explicitly wins).
PRESETS: dict[str, dict] = {
    "none": {},
    "unroll": {"view": "unroll", "cell": "rnn", "activation": "tanh", "rho": 0.9, "T": 12},
    "vanishing": {"view": "unroll", "cell": "rnn", "activation": "linear", "rho": 0.5, "T": 20},
    "exploding": {"view": "unroll", "cell": "rnn", "activation": "linear", "rho": 1.5, "T": 20,
                  "clip": True},
    "lstm": {"view": "unroll", "cell": "lstm", "rho": 0.9, "T": 30},
    "lstm_open": {"view": "unroll", "cell": "lstm", "rho": 0.9, "T": 30, "gate_bias": 3.0},
    "gru": {"view": "unroll", "cell": "gru", "rho": 0.9, "T": 30},
    "memory": {"view": "memory", "gate_bias": 5.0, "clip": True, "lr": 0.02},
    "memory_closed": {"view": "memory", "clip": True, "lr": 0.02},
    "text": {"view": "text", "cell": "lstm", "clip": True},
    "padding": {"view": "padding"},
}

#: What switching to a view fills in (for the parameters still at their defaults).
VIEW_PRESETS = {"unroll": "unroll", "memory": "memory", "text": "text", "padding": "padding"}

PARAMS: dict[str, Param] = {
    "preset": Param("str", "none", "a lesson's starting point (fills in the other parameters "
                    "left at their defaults)", choices=tuple(PRESETS)),
    "view": Param("str", "unroll", "unroll: the network over T steps and BPTT; memory: recall "
                  "the first symbol with RNN, LSTM and GRU; text: a character language model; "
                  "padding: a batch of words of unequal length, masked", choices=VIEWS),
    "cell": Param("str", "rnn", "the recurrent cell (PyTorch's equations)", choices=CELLS),
    "activation": Param("str", "tanh", "the vanilla RNN's φ (LSTM and GRU have their own)",
                        choices=ACTIVATIONS),
    "rho": Param("float", 0.9, "spectral radius ρ of the recurrent matrix W_hh (each gate's "
                 "block for LSTM and GRU)", min=0.0, max=3.0),
    "w_init": Param("str", "orthogonal", "W_hh = ρ·(random orthogonal) or a Gaussian matrix "
                    "rescaled to spectral radius ρ", choices=W_INITS),
    "gate_bias": Param("float", 0.0, "added to the bias of the LSTM's forget gate f (GRU: update "
                       "gate z): a gate that starts open lets the state, and its gradient, through",
                       min=-5.0, max=10.0),
    "T": Param("int", 20, "sequence length of the unrolled view", min=2, max=MAX_T),
    "hidden": Param("int", 8, "hidden units H of the unrolled view", min=2, max=MAX_HIDDEN),
    "input_scale": Param("float", 1.0, "standard deviation of the random inputs xₜ",
                         min=0.0, max=10.0),
    "clip": Param("bool", False, "clip the gradient's global norm to clip_norm"),
    "clip_norm": Param("float", 1.0, "the clipping threshold", min=1e-3, max=100.0),
    "length": Param("int", 40, "memory task: sequence length (the symbol to recall comes first)",
                    min=2, max=100),
    "lr": Param("float", 0.01, "Adam's learning rate for the memory and text tasks",
                min=1e-5, max=1.0),
    "temperature": Param("float", 0.8, "text: sampling temperature (→ 0 greedy, 1 the model's "
                         "own distribution, > 1 flatter)", min=0.05, max=5.0),
    "steps": Param("int", 0, "training steps done before the lab is shown (memory, text)",
                   min=0, max=1500),
    "seed": Param("int", 0, "seed of the weights, inputs and batches", min=0),
}


def resolve(params: dict, preset: str | None = None) -> dict:
    """The parameters with the preset's values (default: params["preset"]) filled in where
    `params` keeps the default."""
    out = dict(params)
    for key, value in PRESETS[preset or out.get("preset", "none")].items():
        if out.get(key, PARAMS[key].default) == PARAMS[key].default:
            out[key] = value
    return out
