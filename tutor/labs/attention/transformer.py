"""A tiny transformer in NumPy with its backward pass written out: embedding, sinusoidal
positions, pre-LayerNorm blocks of multi-head self-attention and a ReLU MLP with residuals, a
final LayerNorm and a linear head; Adam as `torch.optim.Adam`. Parameter names and shapes are
PyTorch's (`nn.TransformerEncoderLayer(norm_first=True)`), so weights copy across."""

from __future__ import annotations

import numpy as np

from tutor.labs.attention.numerics import positional_encoding, softmax

EPS = 1e-5


class TinyTransformer:
    """Tokens (B, T) -> logits (B, T, n_out).

    x₀ = E[tokens] + PE;  for each block: x ← x + MHA(LN₁(x)),  x ← x + W₂ ReLU(W₁ LN₂(x));
    logits = head(LN(x)). `mask` (T, T) bool (True: may attend) is applied in every block.
    """

    def __init__(self, vocab: int, n_out: int, d_model: int = 32, heads: int = 2, layers: int = 2,
                 d_ff: int = 64, max_len: int = 64, seed: int = 0) -> None:
        if d_model % heads:
            raise ValueError(f"d_model = {d_model} must be a multiple of heads = {heads}")
        self.vocab, self.n_out, self.d, self.h, self.n_layers, self.d_ff = vocab, n_out, d_model, heads, layers, d_ff
        self.pe = positional_encoding(max_len, d_model)
        rng = np.random.default_rng(seed)
        D, F = d_model, d_ff

        def uniform(shape, fan_in):
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, shape)

        p = {"embed.weight": rng.standard_normal((vocab, D))}
        for l in range(layers):
            pre = f"layers.{l}."
            xavier = np.sqrt(6.0 / (D + 3 * D))
            p[pre + "self_attn.in_proj_weight"] = rng.uniform(-xavier, xavier, (3 * D, D))
            p[pre + "self_attn.in_proj_bias"] = np.zeros(3 * D)
            p[pre + "self_attn.out_proj.weight"] = uniform((D, D), D)
            p[pre + "self_attn.out_proj.bias"] = np.zeros(D)
            p[pre + "linear1.weight"] = uniform((F, D), D)
            p[pre + "linear1.bias"] = uniform((F,), D)
            p[pre + "linear2.weight"] = uniform((D, F), F)
            p[pre + "linear2.bias"] = uniform((D,), F)
            for n in ("norm1", "norm2"):
                p[pre + n + ".weight"] = np.ones(D)
                p[pre + n + ".bias"] = np.zeros(D)
        p["norm.weight"], p["norm.bias"] = np.ones(D), np.zeros(D)
        p["head.weight"] = uniform((n_out, D), D)
        p["head.bias"] = uniform((n_out,), D)
        self.params = p

    @property
    def n_parameters(self) -> int:
        return sum(a.size for a in self.params.values())

    # --- forward ---------------------------------------------------------------------------
    def forward(self, tokens: np.ndarray, mask: np.ndarray | None = None, keep: bool = False):
        """Logits (B, T, n_out); with keep=True also the cache the backward pass needs (which
        holds every attention map, (B, heads, T, T) per layer)."""
        p, T = self.params, tokens.shape[1]
        x = p["embed.weight"][tokens] + self.pe[:T]
        bias = None if mask is None else np.where(mask, 0.0, -np.inf)
        cache = {"tokens": tokens, "bias": bias, "blocks": []}
        for l in range(self.n_layers):
            pre = f"layers.{l}."
            c = {}
            h1, c["ln1"] = _ln(x, p[pre + "norm1.weight"], p[pre + "norm1.bias"])
            a, c["attn"] = self._mha(h1, pre, bias)
            x = x + a
            h2, c["ln2"] = _ln(x, p[pre + "norm2.weight"], p[pre + "norm2.bias"])
            z = h2 @ p[pre + "linear1.weight"].T + p[pre + "linear1.bias"]
            r = np.maximum(z, 0.0)
            x = x + r @ p[pre + "linear2.weight"].T + p[pre + "linear2.bias"]
            c.update(h1=h1, h2=h2, z=z, r=r)
            cache["blocks"].append(c)
        hf, cache["lnf"] = _ln(x, p["norm.weight"], p["norm.bias"])
        cache["hf"] = hf
        logits = hf @ p["head.weight"].T + p["head.bias"]
        return (logits, cache) if keep else logits

    def _mha(self, h, pre, bias):
        p, (B, T, D), H = self.params, h.shape, self.h
        dh = D // H
        qkv = h @ p[pre + "self_attn.in_proj_weight"].T + p[pre + "self_attn.in_proj_bias"]
        q, k, v = (qkv[..., i * D:(i + 1) * D].reshape(B, T, H, dh).transpose(0, 2, 1, 3) for i in range(3))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        if bias is not None:
            s = s + bias
        a = softmax(s)
        o = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
        out = o @ p[pre + "self_attn.out_proj.weight"].T + p[pre + "self_attn.out_proj.bias"]
        return out, {"q": q, "k": k, "v": v, "a": a, "o": o}

    def attention_maps(self, tokens: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """(layers, heads, T, T): the attention weights of every head for one sequence (T,)."""
        _, cache = self.forward(np.asarray(tokens)[None], mask, keep=True)
        return np.stack([c["attn"]["a"][0] for c in cache["blocks"]])

    # --- loss and backward -------------------------------------------------------------------
    def loss_and_grads(self, tokens, targets, mask=None):
        """Mean cross-entropy over every position of the batch and ∂loss/∂θ for each parameter
        (a dict with the names of `params`); targets (B, T) ints."""
        logits, cache = self.forward(tokens, mask, keep=True)
        B, T, C = logits.shape
        flat = logits.reshape(-1, C)
        m = flat.max(axis=1, keepdims=True)
        logp = flat - m - np.log(np.exp(flat - m).sum(axis=1, keepdims=True))
        idx = targets.reshape(-1)
        loss = float(-logp[np.arange(idx.size), idx].mean())
        dlogits = np.exp(logp)
        dlogits[np.arange(idx.size), idx] -= 1.0
        dlogits = (dlogits / idx.size).reshape(B, T, C)
        return loss, self.backward(dlogits, cache)

    def backward(self, dlogits, cache):
        p, g = self.params, {}
        g["head.weight"] = _wgrad(dlogits, cache["hf"])
        g["head.bias"] = dlogits.sum(axis=(0, 1))
        dx, g["norm.weight"], g["norm.bias"] = _ln_back(dlogits @ p["head.weight"], cache["lnf"])
        for l in reversed(range(self.n_layers)):
            pre, c = f"layers.{l}.", cache["blocks"][l]
            # x ← x + W₂ ReLU(W₁ h₂ + b₁) + b₂
            g[pre + "linear2.weight"] = _wgrad(dx, c["r"])
            g[pre + "linear2.bias"] = dx.sum(axis=(0, 1))
            dz = (dx @ p[pre + "linear2.weight"]) * (c["z"] > 0)
            g[pre + "linear1.weight"] = _wgrad(dz, c["h2"])
            g[pre + "linear1.bias"] = dz.sum(axis=(0, 1))
            dh2, g[pre + "norm2.weight"], g[pre + "norm2.bias"] = _ln_back(dz @ p[pre + "linear1.weight"], c["ln2"])
            dx = dx + dh2
            # x ← x + MHA(h₁)
            dh1 = self._mha_back(dx, c["h1"], c["attn"], pre, g)
            dh1, g[pre + "norm1.weight"], g[pre + "norm1.bias"] = _ln_back(dh1, c["ln1"])
            dx = dx + dh1
        dembed = np.zeros_like(p["embed.weight"])
        np.add.at(dembed, cache["tokens"], dx)
        g["embed.weight"] = dembed
        return g

    def _mha_back(self, dout, h, c, pre, g):
        p, (B, T, D), H = self.params, h.shape, self.h
        dh = D // H
        g[pre + "self_attn.out_proj.weight"] = _wgrad(dout, c["o"])
        g[pre + "self_attn.out_proj.bias"] = dout.sum(axis=(0, 1))
        do = (dout @ p[pre + "self_attn.out_proj.weight"]).reshape(B, T, H, dh).transpose(0, 2, 1, 3)
        a, q, k, v = c["a"], c["q"], c["k"], c["v"]
        da = do @ v.transpose(0, 1, 3, 2)
        dv = a.transpose(0, 1, 3, 2) @ do
        ds = a * (da - (da * a).sum(axis=-1, keepdims=True)) / np.sqrt(dh)
        dq = ds @ k
        dk = ds.transpose(0, 1, 3, 2) @ q
        dqkv = np.concatenate([t.transpose(0, 2, 1, 3).reshape(B, T, D) for t in (dq, dk, dv)], axis=-1)
        g[pre + "self_attn.in_proj_weight"] = _wgrad(dqkv, h)
        g[pre + "self_attn.in_proj_bias"] = dqkv.sum(axis=(0, 1))
        return dqkv @ p[pre + "self_attn.in_proj_weight"]


def _wgrad(dy, x):
    """∂loss/∂W of y = x Wᵀ for dy (B, T, out), x (B, T, in): Σ dyᵀ x, shape (out, in)."""
    # One small product per sequence, then a sum: a single (out x B·T)·(B·T x in) product is
    # large enough for OpenBLAS to split over threads, and on a busy machine waiting for the
    # second thread took 20-40 ms instead of 0.06 (a sequence's product stays single-threaded).
    return np.matmul(dy.transpose(0, 2, 1), x).sum(axis=0)


def _ln(x, w, b):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(var + EPS)
    xhat = (x - mu) * inv
    return xhat * w + b, (xhat, inv, w)


def _ln_back(dy, cache):
    xhat, inv, w = cache
    n = xhat.shape[-1]
    dxhat = dy * w
    dx = inv / n * (n * dxhat - dxhat.sum(axis=-1, keepdims=True)
                    - xhat * (dxhat * xhat).sum(axis=-1, keepdims=True))
    return dx, (dy * xhat).sum(axis=(0, 1)), dy.sum(axis=(0, 1))


class Adam:
    """`torch.optim.Adam` (no weight decay): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
    θ ← θ − η m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)."""

    def __init__(self, params: dict, lr: float = 3e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads: dict) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for k, p in self.params.items():
            gk = grads[k]
            self.m[k] = b1 * self.m[k] + (1 - b1) * gk
            self.v[k] = b2 * self.v[k] + (1 - b2) * gk * gk
            p -= self.lr * (self.m[k] / c1) / (np.sqrt(self.v[k] / c2) + self.eps)
