"""The digit views' state without Textual: an autoencoder, denoising autoencoder or VAE with a
2-D code trained on the built-in digits, its history, and what the panels show."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.data import digits
from core.generative import DigitAutoencoder
from core.generative.autoencoder import Checkpoint
from tutor.history import History

SIZE = 16
D = SIZE * SIZE
#: A full checkpoint (weights and Adam's moments) every this many lab steps; the steps between
#: are replayed from the nearest one (the batches and the noise are drawn from the step number).
CHECKPOINT_EVERY = 5
#: Digits whose loss the curves follow, and the digits the scatter shows.
N_EVAL = 200


@lru_cache(maxsize=4)
def load_digits(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, 256) in [0, 1], y (n,)) from core.data.digits, cached (drawing them takes a while)."""
    X, y = digits(n_per_class=n_per_class, size=SIZE, seed=seed)
    X = np.ascontiguousarray(X.reshape(len(X), D))
    X.flags.writeable = False
    return X, y


@dataclass(frozen=True)
class DigitState:
    """One lab step (`batches` Adam steps): the figures, and a checkpoint every few steps."""

    step: int
    t: int  # Adam steps so far
    checkpoint: Checkpoint | None
    batch_recon: float  # mean of the step's batches (NaN at step 0)
    batch_kl: float
    recon: float  # on the N_EVAL evaluation digits (fixed noise and ε)
    kl: float


@dataclass(frozen=True)
class Snapshot:
    """What the panels draw, consistent with one state (the worker swaps it in one assignment)."""

    state: DigitState
    theta: np.ndarray
    codes: np.ndarray  # μ of the evaluation digits (N_EVAL, 2)
    logvar: np.ndarray | None  # their log σ² (VAE)


class DigitsModel:
    """Autoencoder (view "ae"), denoising autoencoder ("denoise") or VAE ("vae") on the digits.

    One step is `batches` mini-batches of Adam. The history keeps the figures of every step and
    the weights of every CHECKPOINT_EVERY-th; stepping back restores the nearest checkpoint and
    replays, which gives exactly the same weights (the batches, noise and ε depend only on the
    step number and the seed).
    """

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.view = params["view"]
        p = self.params
        self.X, self.y = load_digits(int(p["n_per_class"]), int(p["seed"]))
        order = np.random.default_rng([int(p["seed"]), 99]).permutation(len(self.X))
        self.eval_idx = np.sort(order[:N_EVAL])
        self.X_eval, self.y_eval = self.X[self.eval_idx], self.y[self.eval_idx]
        self.noise = float(p["noise"]) if self.view == "denoise" else 0.0
        self.beta = float(p["beta"]) if self.view == "vae" else 0.0
        kind = "vae" if self.view == "vae" else "ae"
        self.latent = int(p["latent"])
        self.net = DigitAutoencoder(D, int(p["hidden"]), self.latent, kind, int(p["seed"]))
        self.viewer = DigitAutoencoder(D, int(p["hidden"]), self.latent, kind, int(p["seed"]))
        self.message = ""
        first = self._state(0, math.nan, math.nan, self.net.checkpoint())
        self.history: History[DigitState] = History(first, self._step)
        self.snapshot = self._snapshot(first)

    # --- training --------------------------------------------------------------------------
    def _state(self, step: int, batch_recon: float, batch_kl: float,
               checkpoint: Checkpoint | None) -> DigitState:
        ev = self.net.evaluate(self.X_eval, self.noise, self.beta, int(self.params["seed"]))
        return DigitState(step, self.net.t, checkpoint, batch_recon, batch_kl, ev["recon"], ev["kl"])

    def _goto(self, target: DigitState) -> None:
        """Bring the network to `target` (a state of the history up to the current one)."""
        if self.net.t > target.t:
            for s in reversed(self.history.states):
                if s.checkpoint is not None and s.t <= target.t:
                    self.net.restore(s.checkpoint)
                    break
        p = self.params
        while self.net.t < target.t:
            self.net.step(self.X, int(p["batch_size"]), p["lr"], self.noise, self.beta,
                          int(p["seed"]))

    def _step(self, state: DigitState) -> DigitState | None:
        p = self.params
        if state.step >= p["max_steps"]:
            self.message = f"reached max_steps = {p['max_steps']}"
            return None
        self._goto(state)
        terms = []
        for _ in range(int(p["batches"])):
            terms.append(self.net.step(self.X, int(p["batch_size"]), p["lr"], self.noise,
                                       self.beta, int(p["seed"])))
            time.sleep(0)  # in the worker: hand the GIL to the UI thread if it is waiting
        recon = float(np.mean([t["recon"] for t in terms]))
        kl = float(np.mean([t["kl"] for t in terms]))
        if not (math.isfinite(recon) and math.isfinite(kl) and np.all(np.isfinite(self.net.theta))):
            self._goto(state)
            self.message = "diverged: the loss became NaN or infinite (try a smaller lr)"
            return None
        step = state.step + 1
        ckpt = self.net.checkpoint() if step % CHECKPOINT_EVERY == 0 else None
        return self._state(step, recon, kl, ckpt)

    def _snapshot(self, state: DigitState) -> Snapshot:
        mu, logvar = self.net.encode(self.X_eval)
        return Snapshot(state, self.net.theta.copy(), mu, logvar)

    def _sync(self) -> None:
        self._goto(self.state)
        self.snapshot = self._snapshot(self.state)

    # --- the model protocol ----------------------------------------------------------------
    @property
    def state(self) -> DigitState:
        return self.history.current

    def step(self) -> bool:
        moved = self.history.step()
        self._sync()
        return moved

    def advance(self, n: int) -> int:
        taken = self.history.advance(n)
        self._sync()
        return taken

    def back(self) -> bool:
        self.message = ""
        moved = self.history.back()
        self._sync()
        return moved

    def reset(self) -> None:
        self.message = ""
        self.history.reset()
        self._sync()

    def status(self, hide_loss: bool = False) -> str:
        """One line; `hide_loss` while the student still has to predict the first loss."""
        s = self.state
        recon = "? (predict first)" if hide_loss else f"{s.recon:.1f}"
        text = f"step {s.step} · {s.t} batches · −log p(x|z) {recon}"
        if self.view == "vae":
            text += f" · KL {'?' if hide_loss else f'{s.kl:.2f}'} · β {self.beta:g}"
        return text

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{name: (batches, values)} of the evaluation figures up to the current state."""
        states = self.history.states
        t = np.array([s.t for s in states], dtype=float)
        out = {"−log p(x|z)": (t, np.array([s.recon for s in states]))}
        if self.view == "vae":
            out["KL"] = (t, np.array([s.kl for s in states]))
        return out

    def question(self) -> tuple[str, str, float, float, str] | None:
        """(key, prompt, answer, tolerance, explanation) of the view's prediction at step 0."""
        if self.view == "denoise":
            return self.noise_question()
        first = self.history.states[0]
        return (f"{self.view}-initial-loss",
                "Untrained, the decoder outputs about 0.5 for each of the 256 pixels. Predict "
                "the loss −log p(x|z) = Σ BCE of a digit.",
                first.recon, 0.08 * first.recon,
                f"Each pixel costs about −log 0.5 = ln 2 ≈ 0.693 whatever its value: 256 · ln 2 "
                f"≈ 177.4; measured {first.recon:.1f}.")

    def noise_question(self) -> tuple[str, str, float, float, str]:
        x = self.X_eval
        rng = np.random.default_rng([int(self.params["seed"]), 0])
        noisy = np.clip(x + self.noise * rng.standard_normal(x.shape), 0.0, 1.0)
        mse = float(np.mean((noisy - x) ** 2))
        return (f"denoise-mse-{self.noise:g}",
                f"Noise σ = {self.noise:g} is added to each pixel, then clipped to [0, 1]. "
                "Predict the mean squared difference per pixel between noisy and clean digits.",
                mse, 0.3 * mse + 1e-4,
                f"Without clipping it would be σ² = {self.noise ** 2:.4f}; most pixels are black "
                f"(0) and lose the negative half of their noise, so it is smaller: {mse:.4f}.")

    # --- what the panels show (from the snapshot: safe while a worker trains) ---------------
    def _viewer(self) -> DigitAutoencoder:
        self.viewer.theta[:] = self.snapshot.theta
        return self.viewer

    def decode(self, Z) -> np.ndarray:
        """Images (N, 256) decoded from codes Z (N, latent) with the shown weights; codes of
        two numbers (the scatter's plane) are completed with `rest()` for a wider code."""
        Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
        if Z.shape[1] == 2 and self.latent > 2:
            Z = np.column_stack([Z, np.broadcast_to(self.rest(), (len(Z), self.latent - 2))])
        return self._viewer().decode(Z)

    def rest(self) -> np.ndarray:
        """Code dimensions 3, 4, ... where the scatter's plane cuts the code space: the prior's
        mean 0 for the VAE, the mean code of the digits for the autoencoders."""
        if self.view == "vae":
            return np.zeros(self.latent - 2)
        return self.snapshot.codes[:, 2:].mean(axis=0)

    def reconstruct(self, X) -> np.ndarray:
        return self._viewer().reconstruct(X)

    def noisy(self, idx: np.ndarray) -> np.ndarray:
        """The evaluation digits `idx` with the noise the evaluation uses (fixed per seed)."""
        rng = np.random.default_rng([int(self.params["seed"]), 0])
        noise = rng.standard_normal(self.X_eval.shape)[idx]
        return np.clip(self.X_eval[idx] + self.noise * noise, 0.0, 1.0)

    def latent_box(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) of the latent square the scatter and the grid show: the prior's ±3 for the
        VAE, the middle 96% of the codes (with a margin) for the autoencoders."""
        if self.view == "vae":
            return np.array([-3.0, -3.0]), np.array([3.0, 3.0])
        codes = self.snapshot.codes[:, :2]
        lo, hi = np.quantile(codes, 0.02, axis=0), np.quantile(codes, 0.98, axis=0)
        centre, half = (lo + hi) / 2, max(float(np.max(hi - lo)) / 2 * 1.1, 1e-3)
        return centre - half, centre + half

    def reparam(self, index: int, draw: int) -> dict:
        """The pieces of z = μ + σ ⊙ ε for evaluation digit `index` and ε draw number `draw`."""
        net = self._viewer()
        x = self.X_eval[index % N_EVAL][None]
        mu, logvar = net.encode(x)
        logvar = np.zeros_like(mu) if logvar is None else logvar
        eps = np.random.default_rng([int(self.params["seed"]), 7, draw]).standard_normal(self.latent)
        sigma = np.exp(logvar[0] / 2)
        z = mu[0] + sigma * eps
        return {"x": x[0], "mu": mu[0], "logvar": logvar[0], "sigma": sigma, "eps": eps,
                "z": z, "x_hat": net.decode(z[None])[0], "label": int(self.y_eval[index % N_EVAL])}

    def prior_samples(self, n: int, draw: int) -> np.ndarray:
        """n images decoded from z ~ N(0, I) (draw number `draw`)."""
        z = np.random.default_rng([int(self.params["seed"]), 11, draw]).standard_normal((n, self.latent))
        return self.decode(z)

    def pair(self, n: int) -> tuple[int, int]:
        """Evaluation indices of the n-th interpolation pair: a digit of class n mod 10 and one
        of class (n + 5) mod 10 (different classes, so the path crosses the latent space)."""
        def first(label: int, skip: int) -> int:
            found = np.flatnonzero(self.y_eval == label)
            return int(found[skip % len(found)]) if len(found) else 0
        return first(n % 10, n // 10), first((n + 5) % 10, n // 10)

    def interpolation(self, a: int, b: int, n: int) -> np.ndarray:
        """n images decoded along the segment from μ(digit a) to μ(digit b) (n ≥ 2)."""
        codes = self.snapshot.codes
        w = np.linspace(0.0, 1.0, max(2, n))[:, None]
        return self.decode((1 - w) * codes[a % N_EVAL] + w * codes[b % N_EVAL])

    def grid(self, rows: int, cols: int) -> np.ndarray:
        """rows·cols images decoded on a regular grid (row-major, z₂ up) over the prior's ±2σ
        square for the VAE, over `latent_box` for the autoencoders."""
        lo, hi = self.latent_box()
        if self.view == "vae":  # the prior's ±2σ: where its mass is
            lo, hi = np.array([-2.0, -2.0]), np.array([2.0, 2.0])
        xs = np.linspace(lo[0], hi[0], cols)
        ys = np.linspace(hi[1], lo[1], rows)
        gx, gy = np.meshgrid(xs, ys)
        return self.decode(np.column_stack([gx.ravel(), gy.ravel()]))
