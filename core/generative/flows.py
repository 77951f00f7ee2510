"""Normalizing flows on points in R^d: planar flows, affine coupling layers, compositions (ch. 11).

Every layer maps a base point z to x = f(z) with `forward(z) -> (x, log_det)`, log_det the
log |det ∂x/∂z| of each point, and (where f has a closed-form inverse) `inverse(x) -> z`. By the
change of variables, for x = f(z) with z ~ N(0, I):

    log p(x) = log N(f⁻¹(x); 0, I) − log |det ∂f/∂z|  at z = f⁻¹(x).

Layers also carry a hand-written backward so a `FlowTrainer` fits them with `core.optim`:
coupling flows by maximum likelihood on data (the inverse pass), planar flows (which have no
closed-form inverse) by the reverse KL to a density known up to a constant (Rezende & Mohamed
2015, section 6.1).
"""

from __future__ import annotations

import math

import numpy as np

from core.generative._mlp import Net
from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper

LOG_2PI = math.log(2 * math.pi)


def _points(x, d: int, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"{name} must have shape (N, {d}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def _dim(d) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 1 <= d <= 64:
        raise ValueError(f"d must be a whole number from 1 to 64, got {d!r}")
    return int(d)


def standard_normal_log_prob(z: np.ndarray) -> np.ndarray:
    """(N,) log N(z; 0, I) for z (N, d)."""
    return -0.5 * (z * z).sum(axis=1) - 0.5 * z.shape[1] * LOG_2PI


def _softplus(a):
    return np.logaddexp(0.0, a)


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


class PlanarFlow:
    """f(z) = z + û h(wᵀz + b), h = tanh (Rezende & Mohamed 2015, eq. 10); forward only.

    log |det ∂f/∂z| = log |1 + ûᵀψ(z)|, ψ(z) = h'(wᵀz + b) w (eq. 11-12). The stored u is
    mapped to û = u + (m(wᵀu) − wᵀu) w / ‖w‖², m(a) = −1 + softplus(a), so wᵀû ≥ −1 and f is
    invertible (their appendix A); still, the inverse has no closed form.
    Parameters in `theta` = [w (d), u (d), b].
    """

    invertible = False

    def __init__(self, d: int, seed: int = 0, scale: float = 0.5) -> None:
        self.d = _dim(d)
        rng = np.random.default_rng(seed)
        self.n_parameters = 2 * self.d + 1
        self.theta = np.concatenate([scale * rng.standard_normal(2 * self.d), [0.0]])

    def bind(self, theta: np.ndarray) -> None:
        theta[:] = self.theta
        self.theta = theta

    @property
    def w(self) -> np.ndarray:
        return self.theta[: self.d]

    @property
    def u(self) -> np.ndarray:
        return self.theta[self.d: 2 * self.d]

    @property
    def b(self) -> float:
        return float(self.theta[-1])

    def u_hat(self) -> np.ndarray:
        """û, the constrained u that keeps f invertible."""
        w, u = self.w, self.u
        ww = max(float(w @ w), 1e-12)
        alpha = float(w @ u)
        return u + (-1.0 + float(_softplus(alpha)) - alpha) * w / ww

    def forward(self, z):
        """(x (N, d), log_det (N,)) for z (N, d)."""
        z = _points(z, self.d, "z")
        uh = self.u_hat()
        h = np.tanh(z @ self.w + self.b)
        det = 1.0 + (1.0 - h * h) * float(uh @ self.w)
        return z + h[:, None] * uh, np.log(np.abs(det))

    def inverse(self, x):
        raise NotImplementedError("a planar flow has no closed-form inverse (forward only)")

    def backward(self, z, gx, gl):
        """Gradients of a loss L through `forward`: given gx = ∂L/∂x (N, d) and gl = ∂L/∂log_det
        (N,), return (∂L/∂theta, ∂L/∂z (N, d))."""
        w, u = self.w, self.u
        ww = max(float(w @ w), 1e-12)
        alpha = float(w @ u)
        c = (-1.0 + float(_softplus(alpha)) - alpha) / ww
        uh = u + c * w
        a = z @ w + self.b
        h = np.tanh(a)
        hp = 1.0 - h * h
        uw = float(uh @ w)
        det = 1.0 + hp * uw
        r = gl / det  # ∂L/∂det
        ga = gx @ uh * hp + r * uw * (-2.0 * h * hp)
        g_uh = (gx * h[:, None]).sum(axis=0) + (r * hp).sum() * w
        g_w = z.T @ ga + (r * hp).sum() * uh
        g_b = ga.sum()
        gz = gx + ga[:, None] * w
        # through û = u + c(w, u) w
        dm = float(_sigmoid(alpha)) - 1.0
        proj = float(g_uh @ w)
        g_u = g_uh + proj * dm * w / ww
        g_w = g_w + c * g_uh + proj * (dm * u / ww - 2.0 * c * w / ww)
        return np.concatenate([g_w, g_u, [g_b]]), gz


class AffineCoupling:
    """RealNVP's affine coupling layer (Dinh et al. 2017) with a binary mask b (d,):

        x = b ⊙ z + (1 − b) ⊙ (z ⊙ exp(s(b ⊙ z)) + t(b ⊙ z)),   log |det| = Σ (1 − b) ⊙ s.

    The Jacobian is triangular (after ordering the kept coordinates first): ones for the kept
    coordinates, exp(s) on the diagonal for the others, whatever s and t are. One MLP
    [d, *hidden, 2d] (tanh) gives (raw, t); s = 2 tanh(raw) keeps each scale in [e⁻², e²].
    The inverse reuses s and t: z = b ⊙ x + (1 − b) ⊙ (x − t(b ⊙ x)) ⊙ exp(−s(b ⊙ x)).
    """

    invertible = True
    S_MAX = 2.0

    def __init__(self, d: int, hidden=(16,), mask=None, seed: int = 0) -> None:
        self.d = _dim(d)
        if mask is None:
            mask = (np.arange(self.d) % 2 == 0).astype(float)
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape != (self.d,) or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"mask must be {self.d} zeros and ones, got {mask.tolist()}")
        if mask.all() or not mask.any():
            raise ValueError("mask must keep some coordinates (1) and transform others (0)")
        self.mask = mask
        self.free = 1.0 - mask
        try:
            hidden = [int(h) for h in hidden]
        except (TypeError, ValueError):
            raise ValueError(f"hidden must be a list of whole numbers, got {hidden!r}") from None
        if any(not 1 <= h <= 256 for h in hidden) or len(hidden) > 4:
            raise ValueError(f"hidden must be at most 4 widths from 1 to 256, got {hidden}")
        self.net = Net([self.d, *hidden, 2 * self.d], "tanh", np.random.default_rng(seed),
                       out_scale=0.1)
        self.n_parameters = self.net.n_parameters

    @property
    def theta(self) -> np.ndarray:
        return self.net.theta

    def bind(self, theta: np.ndarray) -> None:
        self.net.bind(theta)

    def _st(self, kept: np.ndarray):
        out, cache = self.net.forward(kept * self.mask)
        tr = np.tanh(out[:, : self.d])
        s = self.S_MAX * tr * self.free
        t = out[:, self.d:] * self.free
        return s, t, tr, cache

    def forward(self, z):
        """(x (N, d), log_det (N,)) for z (N, d)."""
        z = _points(z, self.d, "z")
        s, t, _, _ = self._st(z)
        return z * np.exp(s) + t, s.sum(axis=1)

    def inverse(self, x):
        """z (N, d) with forward(z)[0] = x."""
        return self.inverse_with_log_det(x)[0]

    def inverse_with_log_det(self, x):
        """(z, log |det ∂x/∂z| at that z) for x (N, d)."""
        z, log_det, _ = self._inverse_cached(_points(x, self.d))
        return z, log_det

    def _inverse_cached(self, x):
        s, t, tr, cache = self._st(x)
        e = np.exp(-s)
        z = (x - t) * e
        return z, s.sum(axis=1), (x, z, e, tr, cache)

    def inverse_backward(self, x, gz, gl, cached=None):
        """Through the inverse pass: with gz = ∂L/∂z (N, d) and gl = ∂L/∂log_det (N,),
        return (∂L/∂theta, ∂L/∂x (N, d)). `cached`: the third value of `_inverse_cached(x)`."""
        if cached is None:
            cached = self._inverse_cached(x)[2]
        x, z, e, tr, cache = cached
        g_t = -gz * e * self.free
        g_s = (-gz * z + gl[:, None]) * self.free
        g_raw = g_s * self.S_MAX * (1.0 - tr * tr)
        dtheta, dkept = self.net.backward(cache, np.hstack([g_raw, g_t]))
        return dtheta, gz * e + dkept * self.mask


class Flow:
    """A composition x = f_K ∘ … ∘ f_1(z) of flow layers, with a standard normal base.

    log |det ∂x/∂z| is the sum of the layers' log-dets (the chain rule multiplies Jacobians);
    `log_prob(x)` inverts layer by layer (every layer must be invertible). The layers'
    parameters are views into one vector `theta`, which `FlowTrainer` updates.
    """

    def __init__(self, layers) -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("a Flow needs at least one layer")
        for layer in layers:
            if not hasattr(layer, "forward") or not hasattr(layer, "d"):
                raise ValueError(f"not a flow layer: {layer!r}")
        dims = {layer.d for layer in layers}
        if len(dims) != 1:
            raise ValueError(f"all layers must have the same dimension, got {sorted(dims)}")
        self.layers = layers
        self.d = dims.pop()
        self.theta = np.empty(sum(layer.n_parameters for layer in layers))
        at = 0
        for layer in layers:
            layer.bind(self.theta[at: at + layer.n_parameters])
            at += layer.n_parameters

    @property
    def invertible(self) -> bool:
        return all(layer.invertible for layer in self.layers)

    def forward(self, z):
        """(x (N, d), total log_det (N,))."""
        xs, lds = self.forward_layers(z)
        return xs[-1], np.sum(lds, axis=0)

    def forward_layers(self, z):
        """([z, f_1(z), f_2(f_1(z)), …] (K + 1 arrays), [log_det of each layer] (K arrays))."""
        x = _points(z, self.d, "z")
        xs, lds = [x], []
        for layer in self.layers:
            x, ld = layer.forward(x)
            xs.append(x)
            lds.append(ld)
        return xs, lds

    def _check_invertible(self) -> None:
        if not self.invertible:
            raise ValueError("this flow has a layer without an inverse (a planar flow): "
                             "it cannot evaluate log_prob of data; train it by reverse KL")

    def inverse(self, x):
        """z = f⁻¹(x) (N, d)."""
        self._check_invertible()
        z = _points(x, self.d)
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        """(N,) log p(x) = log N(f⁻¹(x)) − Σ_k log |det ∂f_k|, by the change of variables."""
        self._check_invertible()
        z = _points(x, self.d)
        total = np.zeros(len(z))
        for layer in reversed(self.layers):
            z, ld = layer.inverse_with_log_det(z)
            total += ld
        return standard_normal_log_prob(z) - total

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """(n, d) samples x = f(z), z ~ N(0, I)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative whole number, got {n!r}")
        z = np.random.default_rng(seed).standard_normal((int(n), self.d))
        return self.forward(z)[0]

    # --- objectives with their gradients -------------------------------------------------
    def nll_and_grad(self, x):
        """(mean −log p(x), ∂/∂theta) over the batch x (N, d): maximum likelihood."""
        self._check_invertible()
        x = _points(x, self.d)
        n = len(x)
        caches, z, total = [], x, np.zeros(n)
        for layer in reversed(self.layers):
            z, ld, cached = layer._inverse_cached(z)
            caches.append(cached)
            total += ld
        loss = float(-(standard_normal_log_prob(z) - total).mean())
        gz = z / n                      # ∂(−log N(z))/∂z = z, over the mean
        gl = np.full(n, 1.0 / n)        # −log p contains +log_det
        grads = []
        for layer, cached in zip(self.layers, reversed(caches)):
            dtheta, gz = layer.inverse_backward(None, gz, gl, cached)
            grads.append(dtheta)
        return loss, np.concatenate(grads)

    def reverse_kl_and_grad(self, z, log_target, grad_log_target):
        """(mean of log q(x) − log p̃(x), ∂/∂theta) for base samples z (N, d), x = f(z):
        the reverse KL(q ‖ p) up to log of p̃'s normaliser (Rezende & Mohamed 2015, eq. 15).

        `log_target(x) -> (N,)` and `grad_log_target(x) -> (N, d)` give log p̃ and its gradient.
        Layers need a `backward` (planar flows have one)."""
        xs, lds = self.forward_layers(z)
        n = len(xs[0])
        x = xs[-1]
        log_q = standard_normal_log_prob(xs[0]) - np.sum(lds, axis=0)
        loss = float((log_q - log_target(x)).mean())
        gx = -grad_log_target(x) / n
        gl = np.full(n, -1.0 / n)
        grads = []
        for layer, z_in in zip(reversed(self.layers), reversed(xs[:-1])):
            if not hasattr(layer, "backward"):
                raise ValueError(f"{type(layer).__name__} has no forward backward; "
                                 "train a coupling flow by maximum likelihood")
            dtheta, gx = layer.backward(z_in, gx, gl)
            grads.append(dtheta)
        return loss, np.concatenate(grads[::-1])


class FlowTrainer:
    """Adam (or SGD) from `core.optim` on a Flow's `theta`: maximum likelihood on `data`
    (mini-batches), or reverse KL to `target` = (log p̃, ∇ log p̃) on fresh base samples."""

    def __init__(self, flow: Flow, data=None, target=None, lr: float = 5e-3,
                 optimizer: str = "adam", batch_size: int = 128, seed: int = 0) -> None:
        if (data is None) == (target is None):
            raise ValueError("give either data (maximum likelihood) or target (reverse KL)")
        self.flow = flow
        self.data = None if data is None else _points(data, flow.d, "data")
        if self.data is not None:
            flow._check_invertible()
        self.target = target
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be sgd or adam, got {optimizer!r}")
        self.code = OPTIMIZER_CODES[optimizer]
        self.hyper = make_hyper(optimizer, lr=lr)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.state = np.zeros((3, flow.theta.size))
        self.t = 0
        self.rng = np.random.default_rng(seed)

    def step(self) -> float:
        """One update; the loss of the batch before it."""
        if self.data is not None:
            idx = self.rng.choice(len(self.data), self.batch_size, replace=self.batch_size > len(self.data))
            loss, grad = self.flow.nll_and_grad(self.data[idx])
        else:
            z = self.rng.standard_normal((self.batch_size, self.flow.d))
            loss, grad = self.flow.reverse_kl_and_grad(z, *self.target)
        if not np.all(np.isfinite(grad)):
            return float("nan")
        self.t += 1
        apply_step(self.code, self.flow.theta, grad, self.state, self.t, self.hyper)
        return loss

    def checkpoint(self):
        return (self.flow.theta.copy(), self.state.copy(), self.t, self.rng.bit_generator.state)

    def restore(self, c) -> None:
        self.flow.theta[:] = c[0]
        self.state[:] = c[1]
        self.t = c[2]
        self.rng.bit_generator.state = c[3]


# --- one dimension ----------------------------------------------------------------------------
MONOTONE_1D = ("affine", "exp", "sinh", "split")


class Monotone1D:
    """An increasing map x = f(z) of the real line, with its derivative and inverse:

    affine: x = a z + 1;  exp: x = exp(a z);  sinh: x = sinh(a z);
    split: x = z + a tanh(3 z) (a steep middle pulls one bump of mass into two).
    The pushed-forward density is p_X(x) = p_Z(z) / |f'(z)| at z = f⁻¹(x).
    """

    def __init__(self, kind: str = "affine", a: float = 2.0) -> None:
        if kind not in MONOTONE_1D:
            raise ValueError(f"kind must be one of {', '.join(MONOTONE_1D)}, got {kind!r}")
        a = float(a)
        if not math.isfinite(a) or a <= 0 or a > 20:
            raise ValueError(f"a must be in (0, 20], got {a}")
        self.kind, self.a = kind, a

    def __call__(self, z):
        z = np.asarray(z, dtype=np.float64)
        a = self.a
        if self.kind == "affine":
            return a * z + 1.0
        if self.kind == "exp":
            return np.exp(a * z)
        if self.kind == "sinh":
            return np.sinh(a * z)
        return z + a * np.tanh(3 * z)

    def derivative(self, z):
        z = np.asarray(z, dtype=np.float64)
        a = self.a
        if self.kind == "affine":
            return np.full_like(z, a)
        if self.kind == "exp":
            return a * np.exp(a * z)
        if self.kind == "sinh":
            return a * np.cosh(a * z)
        return 1.0 + 3 * a * (1.0 - np.tanh(3 * z) ** 2)

    def inverse(self, x):
        """z = f⁻¹(x); NaN where x is outside f's range (x ≤ 0 for exp)."""
        x = np.asarray(x, dtype=np.float64)
        a = self.a
        if self.kind == "affine":
            return (x - 1.0) / a
        if self.kind == "exp":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)) / a, np.nan)
        if self.kind == "sinh":
            return np.arcsinh(x) / a
        lo, hi = x - a - 1.0, x + a + 1.0  # |f(z) − z| < a brackets the root
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            above = mid + a * np.tanh(3 * mid) > x
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        return 0.5 * (lo + hi)

    def density(self, x):
        """p_X(x) = N(z; 0, 1) / f'(z), z = f⁻¹(x); 0 outside f's range."""
        z = self.inverse(x)
        ok = np.isfinite(z)
        zz = np.where(ok, z, 0.0)
        p = np.exp(-0.5 * zz * zz) / math.sqrt(2 * math.pi) / self.derivative(zz)
        return np.where(ok, p, 0.0)
