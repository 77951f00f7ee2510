"""Show PyTorch: runnable code of what the RNN lab shows, with its settings filled in."""

from __future__ import annotations

_CELL_CLASS = {"rnn": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}
_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


def pytorch_code(p: dict) -> str:
    """The PyTorch program for the lab's current view and settings."""
    return {"unroll": unroll_code, "memory": memory_code, "text": text_code,
            "padding": padding_code}[p["view"]](p)


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


def _clip_line(p: dict, indent: str = "        ") -> str:
    if not p["clip"]:
        return ""
    return f"{indent}nn.utils.clip_grad_norm_(model.parameters(), max_norm={p['clip_norm']:g})\n"


def memory_code(p: dict) -> str:
    from tutor.labs.rnn.training import (MEMORY_BATCH, MEMORY_BUDGET, MEMORY_HIDDEN,
                                         MEMORY_NOISE, N_SYMBOLS)

    gate = ""
    if p["gate_bias"]:
        gate = ("        if cell != 'rnn':  # LSTM: forget gate f; GRU: update gate z (rows H..2H)\n"
                f"            self.rnn.bias_hh_l0.data[H:2 * H] += {p['gate_bias']:g}\n")
    return f"""import math
import torch
from torch import nn

T, K, H, B = {p["length"]}, {N_SYMBOLS}, {MEMORY_HIDDEN}, {MEMORY_BATCH}


def recall_batch(generator):
    \"\"\"x₁: one of K symbols (one-hot) + a marker channel; x₂ … x_T: noise; label: x₁.\"\"\"
    labels = torch.randint(0, K, (B,), generator=generator)
    x = torch.zeros(T, B, K + 1)
    x[0, torch.arange(B), labels] = 1.0
    x[0, :, K] = 1.0
    x[1:, :, :K] = {MEMORY_NOISE:g} * torch.randn(T - 1, B, K, generator=generator)
    return x, labels


class Recall(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = {{"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}}[cell](K + 1, H)
        self.out = nn.Linear(H, K)
{gate}
    def forward(self, x):
        outputs, _ = self.rnn(x)          # (T, B, H): every hₜ
        return self.out(outputs[-1])      # read the answer from h_T


for cell in ("rnn", "lstm", "gru"):      # the same batches and budget for the three
    torch.manual_seed({p["seed"]})
    model = Recall(cell)
    optimizer = torch.optim.Adam(model.parameters(), lr={p["lr"]:g})
    generator = torch.Generator().manual_seed({p["seed"]})
    for step in range({MEMORY_BUDGET}):
        x, labels = recall_batch(generator)
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()                   # BPTT through all T steps
{_clip_line(p)}        optimizer.step()
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    print(f"{{cell}}: loss {{loss.item():.3f}} (chance {{math.log(K):.3f}}), accuracy {{accuracy:.0%}}")
"""


def text_code(p: dict) -> str:
    from tutor.labs.rnn.training import (PROMPT, SAMPLE_LENGTH, TEXT_BATCH, TEXT_BUDGET,
                                         TEXT_HIDDEN, TEXT_WINDOW)

    cls = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}[p["cell"]]
    extra = f", nonlinearity={p['activation']!r}" if p["cell"] == "rnn" and p["activation"] != "linear" else ""
    return f"""import torch
from torch import nn
from core.recurrent import PETER_RABBIT as text   # the lab's built-in public-domain text

chars = sorted(set(text))
V = len(chars)
codes = torch.tensor([chars.index(ch) for ch in text])


class CharModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = {cls}(V, {TEXT_HIDDEN}{extra})
        self.out = nn.Linear({TEXT_HIDDEN}, V)

    def forward(self, x, state=None):
        outputs, state = self.rnn(x, state)
        return self.out(outputs), state    # logits for the next character at every step


torch.manual_seed({p["seed"]})
model = CharModel()
optimizer = torch.optim.Adam(model.parameters(), lr={p["lr"]:g})
for step in range({TEXT_BUDGET}):
    starts = torch.randint(0, len(codes) - {TEXT_WINDOW}, ({TEXT_BATCH},))
    window = torch.stack([codes[s:s + {TEXT_WINDOW} + 1] for s in starts], dim=1)  # (T+1, B)
    x = nn.functional.one_hot(window[:-1], V).float()
    logits, _ = model(x)
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), window[1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
{_clip_line(p, "    ")}    optimizer.step()


@torch.no_grad()
def sample(prompt={PROMPT!r}, n={SAMPLE_LENGTH}, temperature={p["temperature"]:g}):
    x = nn.functional.one_hot(torch.tensor([chars.index(c) for c in prompt]), V).float()
    logits, state = model(x[:, None])
    out = []
    for _ in range(n):
        p = torch.softmax(logits[-1, 0] / temperature, dim=0)   # temperature: sharper or flatter
        k = torch.multinomial(p, 1).item()
        out.append(chars[k])
        logits, state = model(nn.functional.one_hot(torch.tensor([[k]]), V).float(), state)
    return prompt + "".join(out)


print(f"loss {{loss.item():.3f}}")
print(sample())
"""


def padding_code(p: dict) -> str:
    from tutor.labs.rnn.padding import HIDDEN, WORDS

    return f"""import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

words = {list(WORDS)!r}
chars = sorted(set("".join(words)))
seqs = [nn.functional.one_hot(torch.tensor([chars.index(c) for c in w]), len(chars)).float()
        for w in words]
lengths = torch.tensor([len(w) for w in words])

padded = pad_sequence(seqs)                    # (T_max, B, V): zeros after each word's end
mask = torch.arange(padded.shape[0])[:, None] < lengths[None, :]   # (T_max, B): 1 real, 0 padding
print(mask.int())

torch.manual_seed({p["seed"]})
gru = nn.GRU(len(chars), {HIDDEN})
packed = pack_padded_sequence(padded, lengths, enforce_sorted=False)  # sorts by length inside
print("batch_sizes", packed.batch_sizes.tolist())  # words still running at each step
outputs, h_last = gru(packed)                  # padding never enters the recurrence
outputs, _ = pad_packed_sequence(outputs)      # back to (T_max, B, H), zeros on padding

for b, w in enumerate(words):                   # the same as each word alone
    _, alone = gru(seqs[b][:, None])
    print(w, (h_last[0, b] - alone[0, 0]).abs().max().item())

# a per-step loss over the padded batch averages over the real tokens only:
# loss = (per_token_loss * mask).sum() / mask.sum()
"""
