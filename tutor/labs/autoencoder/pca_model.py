"""The pca view's state without Textual: a linear autoencoder trained by gradient descent on a
2-D or 3-D point cloud, and the angle between its subspace and the principal one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.generative import linear_autoencoder_steps, principal_angles, principal_subspace
from core.generative.linear_ae import init_linear_autoencoder
from tutor.history import History, HistoryModel

#: Standard deviations of the clouds along their own axes (then rotated and shifted).
CLOUD_SCALES = {"2d": (2.0, 0.6), "3d": (2.0, 1.0, 0.35)}
N_POINTS = 200


def rotation(cloud: str) -> np.ndarray:
    """The fixed rotation that tilts the cloud's axes away from the coordinate axes."""
    a = math.radians(35.0)
    rz = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0, 0, 1]])
    if cloud == "2d":
        return rz[:2, :2]
    b = math.radians(25.0)
    rx = np.array([[1.0, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rx @ rz


def make_cloud(cloud: str, seed: int) -> np.ndarray:
    """(N, D) points: Gaussian with CLOUD_SCALES along rotated axes, centred off the origin."""
    scales = np.array(CLOUD_SCALES[cloud])
    rng = np.random.default_rng(seed)
    pts = rng.standard_normal((N_POINTS, scales.size)) * scales
    return pts @ rotation(cloud).T + np.array([1.0, -0.5, 0.5])[: scales.size]


@dataclass(frozen=True)
class LinearState:
    """One gradient-descent step: the weights, the loss and the angles to the principal subspace."""

    step: int
    encoder: np.ndarray  # (k, D)
    decoder: np.ndarray  # (D, k)
    loss: float
    angles: np.ndarray  # degrees, ascending (k,)


class PcaModel(HistoryModel):
    """Linear autoencoder x̂ = W_d W_e x (centred data) against PCA; one step = one GD step."""

    view = "pca"

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        cloud, k = params["cloud"], int(params["k"])
        if k > len(CLOUD_SCALES[cloud]) - 1:
            raise ValueError(f"k = {k} needs the 3-D cloud (the code must be smaller than the "
                             "data): set cloud = 3d or k = 1")
        self.k = k
        self.X = make_cloud(cloud, int(params["seed"]))
        self.D = self.X.shape[1]
        self.mean = self.X.mean(axis=0)
        self.basis, self.eigenvalues = principal_subspace(self.X, k)
        #: The loss the autoencoder can reach: the discarded variance over D.
        self.floor = float(self.eigenvalues[k:].sum() / self.D)
        enc, dec = init_linear_autoencoder(self.D, k, int(params["seed"]))
        loss = float(linear_autoencoder_steps(self.X, enc, dec, params["lr_linear"], 0)[2][0])
        self.message = ""
        self.history: History[LinearState] = History(
            LinearState(0, enc, dec, loss, self._angles(dec)), self._step)

    def _angles(self, dec: np.ndarray) -> np.ndarray:
        return np.degrees(principal_angles(dec, self.basis))

    def _step(self, state: LinearState) -> LinearState | None:
        if state.step >= self.params["max_steps"]:
            self.message = f"reached max_steps = {self.params['max_steps']}"
            return None
        enc, dec, losses = linear_autoencoder_steps(self.X, state.encoder, state.decoder,
                                                    self.params["lr_linear"], 1)
        if not (np.all(np.isfinite(dec)) and np.all(np.isfinite(enc)) and
                math.isfinite(losses[-1]) and losses[-1] < 1e12):
            self.message = "diverged: the loss exploded (try a smaller lr_linear)"
            return None
        return LinearState(state.step + 1, enc, dec, float(losses[-1]), self._angles(dec))

    # --- the model protocol ----------------------------------------------------------------
    @property
    def state(self) -> LinearState:
        return self.history.current

    def back(self) -> bool:
        self.message = ""
        return self.history.back()

    def reset(self) -> None:
        self.message = ""
        self.history.reset()

    def status(self) -> str:
        s = self.state
        angle = ", ".join(f"{a:.2f}°" for a in s.angles)
        return f"step {s.step} · loss {s.loss:.4f} · angle {angle}"

    def curves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, largest angle in degrees, loss) up to the current state."""
        states = self.history.states
        return (np.array([s.step for s in states], dtype=float),
                np.array([s.angles[-1] for s in states]), np.array([s.loss for s in states]))

    def question(self) -> tuple[str, str, float, float, str]:
        """(key, prompt, answer, tolerance, explanation) of the view's prediction."""
        lam = ", ".join(f"{v:.3f}" for v in self.eigenvalues)
        kept = "λ₁" if self.k == 1 else "λ₁ and λ₂"
        return (f"pca-floor-{self.params['cloud']}-{self.k}",
                f"Covariance eigenvalues λ = {lam}. What loss (mean over the N·D entries) "
                f"will the k = {self.k} autoencoder reach?",
                self.floor, 0.02 * self.floor + 1e-4,
                f"It keeps {kept}; the rest is lost: Σ discarded λ / D = {self.floor:.4f} "
                "(Baldi & Hornik: the optimum is PCA's projection).")

    # --- drawing data ----------------------------------------------------------------------
    def directions(self) -> tuple[np.ndarray, np.ndarray]:
        """(principal basis (D, k), learned basis (D, k)): orthonormal columns, the learned one
        from the decoder's column space (its columns span what the autoencoder can output)."""
        dec = self.state.decoder
        q, _ = np.linalg.qr(dec)
        return self.basis, q
