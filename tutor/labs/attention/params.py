"""Parameters of the attention lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The lab computes with NumPy only (its tiny transformer's backward pass is written out), so it
#: mounts at once.
CORE_PACKAGES = ()

VIEWS = ("steps", "scaling", "positions", "train", "lm")
TASKS = ("reverse", "sort", "copy")

PARAMS: dict[str, Param] = {
    "view": Param("str", "steps", "steps: one attention computed step by step; scaling: why √d; "
                  "positions: sinusoidal encodings; train: a tiny transformer on a digit task; "
                  "lm: a character-level decoder on a built-in text", choices=VIEWS),
    # one attention, step by step
    "sentence": Param("str", "the cat sat on the mat", "the tokens (words) of the sequence, 2 to 8"),
    "d_model": Param("int", 4, "width of each token's vector x", min=2, max=6),
    "d": Param("int", 4, "d, the width of queries and keys (and values)", min=1, max=6),
    "causal": Param("bool", False, "causal mask: position i sees only keys j ≤ i"),
    "pad": Param("int", 0, "how many of the last tokens are padding (masked as keys)", min=0, max=7),
    "positions": Param("bool", False, "add the sinusoidal positional encoding to x"),
    "query": Param("int", 2, "the row (query position) the questions are about", min=0, max=7),
    "seed": Param("int", 0, "seed of the vectors and weights (and of training)", min=0, max=9999),
    # why √d
    "keys": Param("int", 8, "number of keys t in the √d experiment", min=2, max=64),
    # positional encodings
    "length": Param("int", 32, "positions shown in the encoding table", min=4, max=64),
    "pe_dim": Param("int", 32, "d_model of the encoding table (even)", min=2, max=64),
    # training
    "task": Param("str", "reverse", "the toy task: reverse, sort, or copy (causal mask)", choices=TASKS),
    "seq_len": Param("int", 6, "digits per sequence in the toy task", min=3, max=10),
    "layers": Param("int", 2, "transformer blocks", min=1, max=3),
    "heads": Param("int", 2, "attention heads per block", min=1, max=4),
    "d_model_train": Param("int", 32, "d_model of the trained transformer", min=8, max=64),
    "lr": Param("float", 3e-3, "Adam's learning rate", min=1e-5, max=0.1),
    "batch": Param("int", 32, "sequences per training step", min=1, max=128),
    "chunk": Param("int", 5, "optimizer steps per lab step", min=1, max=200),
    "context": Param("int", 24, "characters of context of the language model", min=4, max=48),
    "temperature": Param("float", 0.8, "sampling temperature of the language model", min=0.05, max=5.0),
}
