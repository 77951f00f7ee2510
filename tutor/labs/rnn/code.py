"""Show PyTorch: runnable code of what the RNN lab shows, with its settings filled in."""

from __future__ import annotations

_CELL_CLASS = {"rnn": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}
_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


def pytorch_code(p: dict) -> str:
    """The PyTorch program for the lab's current view and settings."""
    return {"unroll": unroll_code}[p["view"]](p)


def _recurrent_matrix(p: dict) -> str:
    if p["w_init"] == "orthogonal":
        return ("def recurrent_matrix(H, rho):\n"
                "    q, r = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))\n"
                "    return rho * q * torch.sign(torch.diagonal(r))  # ρ·Q: every singular value ρ\n")
    return ("def recurrent_matrix(H, rho):\n"
            "    a = torch.randn(H, H, dtype=torch.float64)\n"
            "    return rho * a / torch.linalg.eigvals(a).abs().max()  # spectral radius ρ\n")


def unroll_code(p: dict) -> str:
    cell, act = p["cell"], p["activation"]
    blocks = _BLOCKS[cell]
    if cell == "rnn" and act == "linear":
        make = ("# PyTorch's RNN has no linear φ: the cell is written out (same parameters)\n"
                "cell = nn.RNNCell(D, H, dtype=torch.float64)\n"
                "def step(x, h):\n"
                "    return x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh\n")
    elif cell == "rnn":
        make = (f"cell = nn.RNNCell(D, H, nonlinearity={act!r}, dtype=torch.float64)\n"
                "step = cell\n")
    else:
        make = f"cell = nn.{_CELL_CLASS[cell]}(D, H, dtype=torch.float64)\n"
        make += ("def step(x, state):\n"
                 "    return cell(x, state)  # (h, c)\n" if cell == "lstm" else "step = cell\n")
    state0 = ("state = (torch.zeros(1, H, dtype=torch.float64), torch.zeros(1, H, dtype=torch.float64))"
              if cell == "lstm" else "state = torch.zeros(1, H, dtype=torch.float64)")
    get_h = "state[0]" if cell == "lstm" else "state"
    gate = ""
    if cell != "rnn" and p["gate_bias"]:
        name = "forget gate f" if cell == "lstm" else "update gate z"
        gate = f"\n    cell.bias_hh[H:2 * H] += {p['gate_bias']:g}  # the {name} starts more open"
    clip = (f"norm = nn.utils.clip_grad_norm_(cell.parameters(), max_norm={p['clip_norm']:g})\n"
            "print('gradient norm before clipping', float(norm))\n"
            if p["clip"] else
            "norm = torch.cat([q.grad.flatten() for q in cell.parameters()]).norm()\n"
            "print('gradient norm (no clipping)', float(norm))\n")
    return f"""import torch
from torch import nn

torch.manual_seed({p["seed"]})  # PyTorch's own random draws: same distributions, other numbers
T, D, H, rho = {p["T"]}, 4, {p["hidden"]}, {p["rho"]:g}

{_recurrent_matrix(p)}
{make}with torch.no_grad():  # W_hh: one H x H block per gate ({blocks}), each of spectral radius ρ
    cell.weight_hh.copy_(torch.cat([recurrent_matrix(H, rho) for _ in range({blocks})])){gate}

x = {p["input_scale"]:g} * torch.randn(T, 1, D, dtype=torch.float64)
u = torch.randn(H, dtype=torch.float64)
u = u / u.norm()                       # ℒ = uᵀ h_T, so ‖∂ℒ/∂h_T‖ = 1

{state0}
hs = []
for t in range(T):                     # the unrolled network: one cell, T copies
    state = step(x[t], state)
    {get_h}.retain_grad()                # keep ∂ℒ/∂hₜ of this intermediate tensor
    hs.append({get_h})
loss = (hs[-1][0] * u).sum()
loss.backward()                        # BPTT: the chain rule back through every step

for t, h in enumerate(hs, start=1):
    print(f"t={{t:3d}}  ‖∂ℒ/∂h_t‖ = {{h.grad.norm():.3e}}")
{clip}"""
