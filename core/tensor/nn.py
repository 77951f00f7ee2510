"""core.tensor.nn: modules with PyTorch's parameter names, shapes, gate orders and default initializations.

Every constructor takes `seed=` (an int, a `np.random.Generator`, or None for fresh entropy);
the same seed gives the same weights. A parameter is a Tensor with requires_grad=True whose
`.data` can be overwritten in place, so weights copied from PyTorch give PyTorch's numbers.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from core.tensor import functional as F
from core.tensor.recurrent import gru_cell, lstm_cell
from core.tensor._tensor import ShapeError, Tensor, _const

__all__ = [
    "Parameter", "Module", "Linear", "Embedding", "LayerNorm", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "Sequential", "ModuleList", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
    "Softplus", "Flatten", "Identity", "Dropout", "positional_encoding",
]


def Parameter(data) -> Tensor:
    """A leaf Tensor that requires grad (a Module registers it when assigned as an attribute)."""
    return Tensor(data, requires_grad=True)


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _uniform(rng, bound, shape):
    return Parameter(rng.uniform(-bound, bound, size=shape))


def _positive_int(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{cls}: got {name}={value!r}; expected a positive integer")
    return int(value)


class Module:
    """Base class: attributes that are parameters or modules are registered in assignment order.

    `named_parameters()` yields PyTorch's dotted names ("0.weight", "out_proj.bias").
    Subclasses define `forward`; calling the module calls it.
    """

    training = True

    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            object.__setattr__(self, "_parameters", OrderedDict())
            object.__setattr__(self, "_modules", OrderedDict())
        params, mods = d["_parameters"], d["_modules"]
        params.pop(name, None)
        mods.pop(name, None)
        if isinstance(value, Tensor) and value.requires_grad:
            params[name] = value
        elif isinstance(value, Module):
            mods[name] = value
        object.__setattr__(self, name, value)

    def _children(self):
        d = self.__dict__
        return d.get("_parameters", {}), d.get("_modules", {})

    def named_parameters(self, prefix: str = ""):
        """(name, parameter) pairs, each parameter once, in registration order."""
        seen = set()
        stack = [(prefix, self)]
        out = []

        def walk(pre, mod):
            params, mods = mod._children()
            for name, p in params.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((pre + name, p))
            for name, m in mods.items():
                walk(pre + name + ".", m)

        del stack
        walk(prefix + "." if prefix else "", self)
        return iter(out)

    def parameters(self):
        return iter([p for _, p in self.named_parameters()])

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, m in self._children()[1].items():
            yield from m.named_modules(prefix + ("." if prefix else "") + name)

    def modules(self):
        return iter([m for _, m in self.named_modules()])

    def children(self):
        return iter(list(self._children()[1].values()))

    def zero_grad(self) -> None:
        """Set every parameter's grad to None."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of the parameters' arrays by name."""
        return OrderedDict((n, p.data.copy()) for n, p in self.named_parameters())

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy arrays into the parameters in place (shapes must match; strict: same names)."""
        own = dict(self.named_parameters())
        if strict:
            missing = sorted(set(own) - set(state))
            extra = sorted(set(state) - set(own))
            if missing or extra:
                raise ValueError(f"load_state_dict: missing keys {missing}, unexpected keys {extra}")
        for name, value in state.items():
            if name not in own:
                continue
            arr = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
            if arr.shape != own[name].data.shape:
                raise ValueError(
                    f"load_state_dict: got {name} of shape {arr.shape}; expected {own[name].data.shape}"
                )
            own[name].data[...] = arr

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} defines no forward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        mods = self._children()[1]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not mods:
            return head + ")"
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in mods.items()]
        return head + "\n" + "\n".join(lines) + "\n)"


class Linear(Module):
    """y = x Wᵀ + b; weight (out, in) and bias (out,) drawn from U(−1/√in, 1/√in) as torch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, seed=None):
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        rng = _rng(seed)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = _uniform(rng, bound, (self.out_features, self.in_features))
        self.bias = _uniform(rng, bound, (self.out_features,)) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table weight (num_embeddings, embedding_dim) ~ N(0, 1) as torch."""

    def __init__(self, num_embeddings: int, embedding_dim: int, seed=None):
        n = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        d = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.weight = Parameter(_rng(seed).standard_normal((n, d)))

    def forward(self, indices):
        return F.embedding(indices, self.weight)


class LayerNorm(Module):
    """Normalize the last axis (size d): (x − μ)/√(σ² + eps) ⊙ weight + bias; weight 1, bias 0."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5, elementwise_affine: bool = True, seed=None):
        if isinstance(normalized_shape, (tuple, list)):
            if len(normalized_shape) != 1:
                raise ValueError(f"LayerNorm: got normalized_shape {normalized_shape}; expected one axis (d,)")
            normalized_shape = normalized_shape[0]
        d = _positive_int(normalized_shape, "normalized_shape", "LayerNorm")
        if not (isinstance(eps, (int, float)) and eps >= 0):
            raise ValueError(f"LayerNorm: got eps={eps!r}; expected a number >= 0")
        self.eps = float(eps)
        self.weight = Parameter(np.ones(d)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(d)) if elementwise_affine else None

    def forward(self, x):
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class _Cell(Module):
    """Shared parts of the recurrent cells: weights U(−1/√H, 1/√H) for gates·H rows."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, seed=None):
        name = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        rng = _rng(seed)
        H = self.hidden_size
        k = 1.0 / math.sqrt(H)
        self.weight_ih = _uniform(rng, k, (self.gates * H, self.input_size))
        self.weight_hh = _uniform(rng, k, (self.gates * H, H))
        self.bias_ih = _uniform(rng, k, (self.gates * H,)) if bias else None
        self.bias_hh = _uniform(rng, k, (self.gates * H,)) if bias else None

    def _input(self, x):
        x = _const(x)
        if x.data.ndim not in (1, 2) or x.data.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: got input {x.data.shape}; expected (batch, {self.input_size}) "
                f"or ({self.input_size},)"
            )
        return x

    def _hidden(self, h, x, what="hx"):
        shape = x.data.shape[:-1] + (self.hidden_size,)
        if h is None:
            return Tensor(np.zeros(shape))
        h = _const(h)
        if h.data.shape != shape:
            raise ShapeError(f"{type(self).__name__}: got {what} {h.data.shape}; expected {shape}")
        return h

    def _gates(self, x, h):
        return F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)


class RNNCell(_Cell):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu); x (B, in), h (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", seed=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: got nonlinearity={nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, seed)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x = self._input(input)
        h = self._hidden(hx, x)
        z = self._gates(x, h)
        return z.tanh() if self.nonlinearity == "tanh" else z.relu()


class LSTMCell(_Cell):
    """Gates in torch's order i, f, g, o (rows of weight_ih (4H, in)):

    i = σ(·), f = σ(·), g = tanh(·), o = σ(·);  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c').
    forward(x, (h, c)) -> (h', c'); a missing state is zeros.
    """

    gates = 4

    def forward(self, input, hx=None):
        x = self._input(input)
        if hx is None:
            h = c = self._hidden(None, x)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError("LSTMCell: got hx that is not a pair; expected (h, c)")
            h, c = self._hidden(hx[0], x, "h"), self._hidden(hx[1], x, "c")
        H = self.hidden_size
        hc = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return hc[..., :H], hc[..., H:]


class GRUCell(_Cell):
    """Gates in torch's order r, z, n:

    r = σ(W_ir x + b_ir + W_hr h + b_hr);  z = σ(W_iz x + b_iz + W_hz h + b_hz);
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));  h' = (1 − z) ⊙ n + z ⊙ h.
    """

    gates = 3

    def forward(self, input, hx=None):
        x = self._input(input)
        h = self._hidden(hx, x)
        return gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class MultiheadAttention(Module):
    """Multi-head attention, batch_first: query (B, L, E), key/value (B, S, E) (or unbatched 2-D).

    in_proj_weight (3E, E) stacks W_q, W_k, W_v (Xavier-uniform), in_proj_bias (3E,) zeros,
    out_proj a Linear(E, E) with zero bias, as torch. Each head h of size d = E/heads:
    A_h = softmax(Q_h K_hᵀ/√d + mask), out = concat_h(A_h V_h) W_oᵀ + b_o.
    attn_mask as torch's MultiheadAttention: bool True = NOT allowed (the opposite of
    `F.scaled_dot_product_attention`), float = added; shape (L, S) or (B·heads, L, S).
    key_padding_mask (B, S): True = ignore that key. Returns (output, weights averaged over
    heads (B, L, S)) — per head (B, heads, L, S) with average_attn_weights=False; None if
    need_weights=False.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True, batch_first: bool = True, seed=None):
        E = _positive_int(embed_dim, "embed_dim", "MultiheadAttention")
        h = _positive_int(num_heads, "num_heads", "MultiheadAttention")
        if E % h:
            raise ValueError(f"MultiheadAttention: got embed_dim={E}, num_heads={h}; expected embed_dim divisible by num_heads")
        if not batch_first:
            raise ValueError("MultiheadAttention: only batch_first=True is supported")
        self.embed_dim, self.num_heads, self.head_dim = E, h, E // h
        self.batch_first = True
        rng = _rng(seed)
        bound = math.sqrt(6.0 / (E + 3 * E))
        self.in_proj_weight = _uniform(rng, bound, (3 * E, E))
        self.in_proj_bias = Parameter(np.zeros(3 * E)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, seed=rng)
        if bias:
            self.out_proj.bias.data[...] = 0.0

    def forward(self, query, key, value, attn_mask=None, key_padding_mask=None, need_weights=True,
                average_attn_weights=True, is_causal=False):
        q, k, v = _const(query), _const(key), _const(value)
        E, nh, d = self.embed_dim, self.num_heads, self.head_dim
        unbatched = q.data.ndim == 2
        if unbatched:
            q, k, v = q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)
        if q.data.ndim != 3 or q.data.shape[-1] != E or k.data.shape[-1] != E or v.data.shape[-1] != E \
                or k.data.ndim != 3 or v.data.shape != k.data.shape or k.data.shape[0] != q.data.shape[0]:
            raise ShapeError(
                f"MultiheadAttention: got query {query.shape}, key {key.shape}, value {value.shape}; "
                f"expected (B, L, {E}), (B, S, {E}), (B, S, {E})"
            )
        B, L, S = q.data.shape[0], q.data.shape[1], k.data.shape[1]
        W, b = self.in_proj_weight, self.in_proj_bias
        if q is k and k is v:
            qkv = F.linear(q, W, b)
            Q, K, V = qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
        else:
            Q = F.linear(q, W[:E], None if b is None else b[:E])
            K = F.linear(k, W[E : 2 * E], None if b is None else b[E : 2 * E])
            V = F.linear(v, W[2 * E :], None if b is None else b[2 * E :])
        Q = Q.reshape(B, L, nh, d).transpose(1, 2)
        K = K.reshape(B, S, nh, d).transpose(1, 2)
        V = V.reshape(B, S, nh, d).transpose(1, 2)
        mask = self._mask(attn_mask, key_padding_mask, is_causal, B, L, S)
        A = F.attention_weights(Q, K, mask)
        out = (A @ V).transpose(1, 2).reshape(B, L, E)
        out = self.out_proj(out)
        weights = None
        if need_weights:
            weights = A.mean(axis=1) if average_attn_weights else A
            if unbatched:
                weights = weights[0]
        return (out[0] if unbatched else out), weights

    def _mask(self, attn_mask, key_padding_mask, is_causal, B, L, S):
        """torch's masks -> one float mask (B, heads, L, S) or (L, S) added to the scores."""
        nh = self.num_heads
        add = None
        if attn_mask is not None:
            m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
            if m.shape == (B * nh, L, S):
                m = m.reshape(B, nh, L, S)
            elif m.shape != (L, S):
                raise ShapeError(f"MultiheadAttention: got attn_mask {m.shape}; expected ({L}, {S}) or ({B * nh}, {L}, {S})")
            add = np.where(m, -np.inf, 0.0) if m.dtype == np.bool_ else np.asarray(m, dtype=np.float64)
        elif is_causal:
            add = np.where(np.tril(np.ones((L, S), dtype=bool)), 0.0, -np.inf)
        if key_padding_mask is not None:
            kp = key_padding_mask.data if isinstance(key_padding_mask, Tensor) else np.asarray(key_padding_mask)
            if kp.shape != (B, S):
                raise ShapeError(f"MultiheadAttention: got key_padding_mask {kp.shape}; expected ({B}, {S})")
            kp = np.where(kp, -np.inf, 0.0) if kp.dtype == np.bool_ else np.asarray(kp, dtype=np.float64)
            kp = kp[:, None, None, :]
            add = kp if add is None else add + kp
        return add


class Sequential(Module):
    """Modules applied in order, registered as "0", "1", ... (so names read "0.weight")."""

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise ValueError(f"Sequential: got {type(m).__name__} at position {i}; expected a Module")
            setattr(self, str(i), m)

    def forward(self, x):
        for m in self._children()[1].values():
            x = m(x)
        return x

    def __getitem__(self, i):
        mods = list(self._children()[1].values())
        return Sequential(*mods[i]) if isinstance(i, slice) else mods[i]

    def __len__(self):
        return len(self._children()[1])

    def __iter__(self):
        return iter(list(self._children()[1].values()))


class ModuleList(Module):
    """A list of modules registered as "0", "1", ... (names read "layers.0.weight")."""

    def __init__(self, modules=()):
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise ValueError(f"ModuleList: got {type(module).__name__}; expected a Module")
        setattr(self, str(len(self)), module)
        return self

    def __getitem__(self, i):
        return list(self._children()[1].values())[i]

    def __len__(self):
        return len(self._children()[1])

    def __iter__(self):
        return iter(list(self._children()[1].values()))


class ReLU(Module):
    def forward(self, x):
        return _const(x).relu()


class Tanh(Module):
    def forward(self, x):
        return _const(x).tanh()


class Sigmoid(Module):
    def forward(self, x):
        return _const(x).sigmoid()


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class Softplus(Module):
    def forward(self, x):
        return F.softplus(x)


class Flatten(Module):
    """(N, d₁, d₂, ...) -> (N, d₁·d₂·...) (axes start_dim..end_dim merged, as torch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return _const(x).flatten(self.start_dim, self.end_dim)


class Identity(Module):
    def forward(self, x):
        return x


class Dropout(Module):
    """Dropout(p) with its own seeded generator: each call in training mode draws a new mask."""

    def __init__(self, p: float = 0.5, seed=None):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: got p={p!r}; expected a probability in [0, 1]")
        self.p = float(p)
        object.__setattr__(self, "_rng", _rng(seed))

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self._rng)


def positional_encoding(length: int, d: int) -> Tensor:
    """The sinusoidal table (length, d) of "Attention is all you need" (no grad):

    PE[pos, 2i] = sin(pos / 10000^(2i/d)),  PE[pos, 2i+1] = cos(pos / 10000^(2i/d)).
    """
    length = _positive_int(length, "length", "positional_encoding")
    d = _positive_int(d, "d", "positional_encoding")
    pos = np.arange(length)[:, None]
    freq = 10000.0 ** (-np.arange(0, d, 2) / d)
    pe = np.zeros((length, d))
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq[: d // 2])
    return Tensor(pe)
