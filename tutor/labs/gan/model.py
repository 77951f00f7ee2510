"""The GAN lab's state without Textual: data, the two networks, their history, the bilinear game."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.generative import GAN, bilinear_game, modes_covered, sample_2d
from core.generative.gan import GanCheckpoint, generator_loss, discriminator_loss
from tutor.labs.gan import params as P
from tutor.labs.gan.code import pytorch_code
from tutor.history import CheckpointHistory, PicturesAhead
from tutor.labs.params import ParamError
from tutor.labs.planemap import coarse_values, plane_grid, to_dots
from tutor.widgets.braille import BrailleCanvas
from tutor.widgets.palette import (BRIGHT_CYAN, BRIGHT_GREEN, BRIGHT_PINK, BRIGHT_RED,
                                    BRIGHT_YELLOW)

#: How many generated points are drawn (a fixed noise sample, so motion is the generator's).
N_SHOWN = 256
#: How many real points are drawn (a fixed random subset): the modes show, fewer cells to paint.
N_REAL_SHOWN = 256
#: Colours: real points, generated points, their arrows; the background tints for D = 1 / 0.
REAL_COLOR = BRIGHT_GREEN
FAKE_COLOR = BRIGHT_PINK
ARROW_COLOR = BRIGHT_YELLOW
SIM_COLOR = BRIGHT_RED
ALT_COLOR = BRIGHT_CYAN
EG_COLOR = BRIGHT_GREEN
_REAL_TINT = np.array([24.0, 92.0, 52.0])
_FAKE_TINT = np.array([88.0, 36.0, 104.0])
_MID_TINT = np.array([34.0, 34.0, 40.0])
#: D is rounded to 1/LEVELS before colouring (smooth to the eye, stable across CPUs).
LEVELS = 32


def _tint(d: np.ndarray) -> np.ndarray:
    """(n, 3) uint8: D values (rounded to levels) as a tint, purple (0) to green (1)."""
    a = np.clip(2 * d - 1, -1, 1)[:, None]
    rgb = np.where(a > 0, _MID_TINT + a * (_REAL_TINT - _MID_TINT),
                   _MID_TINT - a * (_FAKE_TINT - _MID_TINT))
    return np.rint(rgb).astype(np.uint8)


#: The tint of each level k / LEVELS (D is a probability: levels 0 to LEVELS).
_TINTS = _tint(np.arange(LEVELS + 1) / LEVELS)

#: Arrow length in data units per unit of gradient, and the longest arrow as a share of the map.
ARROW_SCALE = 0.5
ARROW_MAX = 0.12
LOG4 = 2 * math.log(2)


@dataclass(frozen=True)
class GanState:
    """One point of the history: the networks after `action`, and what to show there."""

    checkpoint: GanCheckpoint
    action: str        # "start", "round" (k D steps + 1 G step), "d" or "g"
    d_loss: float      # the loss of the last D step that led here (NaN if none yet)
    g_loss: float
    d_real: float      # mean D on the real points
    d_fake: float      # mean D on the shown generated points
    modes: int         # ring modes covered by the shown generated points (-1: not a ring)

    @property
    def round(self) -> int:
        return self.checkpoint.g_steps


@dataclass(frozen=True)
class GanPicture:
    """What the map shows of one state at one size: D's belief as pixels, the real and
    generated points (with G's arrows or without) as a braille overlay, and the mean ‖∇ₓ‖ the
    stats quote. Computed ahead in the lab's worker while it plays, else when drawn."""

    key: tuple         # (width, rows, arrows)
    pixels: np.ndarray
    overlay: dict
    grad_norm: float


def heat_pixels(gan: GAN, bounds, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8: D(x) as a tint, purple (fake, 0) to green (real, 1)."""
    d = coarse_values(gan.discriminate, bounds, width, height).ravel()
    k = np.round(d * LEVELS)
    if np.isfinite(k).all():  # the tints of the LEVELS + 1 levels, looked up
        return _TINTS[np.clip(k, 0, LEVELS).astype(np.intp)].reshape(height, width, 3)
    return _tint(k / LEVELS).reshape(height, width, 3)


def arrows_and_gradients(gan: GAN, z_shown: np.ndarray, bounds):
    """(generated points (N, 2), arrow vectors (N, 2) = −∇ₓ generator loss, scaled and capped,
    the gradients ∇ₓ (N, 2))."""
    x, g = gan.generator_gradients(z_shown)
    v = -ARROW_SCALE * g
    lo, hi = bounds
    cap = ARROW_MAX * float(np.max(hi - lo))
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    v = np.where(norm > cap, v * cap / np.maximum(norm, 1e-300), v)
    return x, v, g


def gan_picture(gan: GAN, z_shown: np.ndarray, real_shown: np.ndarray, bounds, width: int,
                rows: int, arrows: bool) -> GanPicture:
    """The map of `gan` as it is, `width` x `rows` cells (2 pixels per cell down)."""
    h = 2 * rows
    pixels = heat_pixels(gan, bounds, width, h)
    canvas = BrailleCanvas(width, rows)
    rx, ry = to_dots(real_shown, bounds, width, h)
    canvas.lines(rx, ry, rx, ry, REAL_COLOR)
    x, v, g = arrows_and_gradients(gan, z_shown, bounds)
    if arrows:
        x0, y0 = to_dots(x, bounds, width, h)
        x1, y1 = to_dots(x + v, bounds, width, h)
        canvas.lines(x0, y0, x1, y1, ARROW_COLOR)
    else:
        x0, y0 = to_dots(gan.G(z_shown), bounds, width, h)
    canvas.lines(x0, y0, x0, y0, FAKE_COLOR)
    grad_norm = float(np.linalg.norm(g, axis=1).mean())
    return GanPicture((width, rows, arrows), pixels, canvas.cells(), grad_norm)


def parse_widths(value, what: str) -> list[int]:
    """Hidden widths from a list of numbers or text like "16, 16" (ValueError saying why)."""
    if isinstance(value, str):
        try:
            value = [float(p) for p in value.replace(",", " ").split()]
        except ValueError:
            raise ValueError(f"{what} widths must be whole numbers, e.g. 16, 16") from None
    widths = []
    for w in value:
        if not float(w).is_integer() or not 1 <= w <= 64:
            raise ValueError(f"each {what} width must be a whole number from 1 to 64; got {w:g}")
        widths.append(int(w))
    if len(widths) > 3:
        raise ValueError(f"{what}: at most 3 hidden layers; got {len(widths)}")
    return widths


def load_data(params: dict) -> np.ndarray:
    if params["dataset"] == "custom":
        pts = np.asarray(params["points"], dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
            raise ValueError("custom points must be at least 2 pairs [x, y]")
        if np.abs(pts).max() > 10:
            raise ValueError("custom points must lie within ±10")
        return pts
    return sample_2d(params["dataset"], params["n_points"], params["seed"])


def build_gan(params: dict, data: np.ndarray) -> GAN:
    p = params
    return GAN(data, latent=p["latent"], g_hidden=parse_widths(p["g_hidden"], "generator"),
               d_hidden=parse_widths(p["d_hidden"], "discriminator"), activation=p["activation"],
               g_lr=p["g_lr"], d_lr=p["d_lr"], k=p["k"], g_loss=p["g_loss"],
               optimizer=p["optimizer"], batch_size=p["batch_size"], seed=p["seed"])


class Trainer:
    """Computes new history states from a checkpoint; owns its own GAN, so a thread worker can
    run one while the lab draws from another."""

    def __init__(self, params: dict, data: np.ndarray, z_shown: np.ndarray) -> None:
        self.params = params
        self.data = data
        self.gan = build_gan(params, data)
        self.z_shown = z_shown
        self.ring = params["dataset"] == "ring"

    def evaluate(self, action: str, d_loss: float, g_loss: float) -> GanState:
        gan = self.gan
        fake = gan.G(self.z_shown)
        d_real = float(gan.discriminate(self.data).mean())
        d_fake = float(gan.discriminate(fake).mean())
        modes = modes_covered(fake) if self.ring else -1
        return GanState(gan.checkpoint(), action, d_loss, g_loss, d_real, d_fake, modes)

    def advance(self, state: GanState, action: str) -> GanState:
        """The state after one `action` from `state` ("round", "d" or "g")."""
        gan = self.gan
        gan.restore(state.checkpoint)
        d_loss, g_loss = state.d_loss, state.g_loss
        if action == "round":
            d_loss, g_loss = gan.step()
        elif action == "d":
            d_loss = gan.d_step()
        else:
            g_loss = gan.g_step()
        return self.evaluate(action, d_loss, g_loss)

    def picture(self, state: GanState, real_shown: np.ndarray, bounds, size: tuple) -> GanPicture:
        """The map of `state` (`size`: (width, rows, arrows)), on this trainer's own GAN."""
        self.gan.restore(state.checkpoint)
        return gan_picture(self.gan, self.z_shown, real_shown, bounds, *size)

    def run(self, state: GanState, n: int, limit: int, cancelled=lambda: False) -> list[GanState]:
        """Up to `n` rounds after `state`, stopping at round `limit` or when `cancelled()`."""
        out = []
        for _ in range(n):
            if state.round >= limit or cancelled():
                break
            state = self.advance(state, "round")
            if not all(map(math.isfinite, (state.d_loss, state.g_loss))):
                break
            out.append(state)
        return out


class GanModel(PicturesAhead, CheckpointHistory):
    """The GAN view: a history of network states you can step (a round, a D step or a G step),
    step back, reset and replay; plus the bilinear game. Raises ValueError for bad settings.
    """

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.view = self.params["view"]
        self.data = load_data(self.params)
        self.z_shown = np.random.default_rng(self.params["seed"] + 7).standard_normal(
            (N_SHOWN, self.params["latent"]))
        self.trainer = Trainer(self.params, self.data, self.z_shown)
        pick = np.random.default_rng(self.params["seed"] + 9).permutation(len(self.data))
        self.real_shown = self.data[np.sort(pick[:N_REAL_SHOWN])]
        self.gan = self.trainer.gan
        self.message = ""
        self.states: list[GanState] = [self.trainer.evaluate("start", math.nan, math.nan)]
        self.index = 0
        lo, hi = self.data.min(axis=0), self.data.max(axis=0)
        span = np.maximum(hi - lo, 1.0)
        self.bounds = (lo - 0.25 * span, hi + 0.25 * span)
        self.game = BilinearGame(self.params)
        #: Pictures computed ahead: id(state) -> (state, GanPicture) (the state kept, so its
        #: id is not reused).
        self.pictures: dict[int, tuple[GanState, GanPicture]] = {}
        self._spare_trainers: list[Trainer] = []  # for `compute_ahead`, built once

    # --- the GAN history ---------------------------------------------------------------
    def restore_checkpoint(self, checkpoint) -> None:
        self.gan.restore(checkpoint)

    def act(self, action: str = "round") -> bool:
        """One step of `action` (replayed if the history already holds it, else computed)."""
        if self.index + 1 < len(self.states):
            if self.states[self.index + 1].action == action:
                self.index += 1
                self._sync()
                return True
            del self.states[self.index + 1:]  # a different step than last time: a new future
        if action == "round" and self.state.round >= self.params["max_steps"]:
            self.message = f"reached max_steps = {self.params['max_steps']}"
            return False
        nxt = self.trainer.advance(self.state, action)
        if not all(map(math.isfinite, (nxt.d_loss, nxt.g_loss)[: 1 if action == "d" else 2])):
            self.message = "diverged: a loss became NaN or infinite (try smaller learning rates)"
            self._sync()
            return False
        self.states.append(nxt)
        self.index += 1
        self.message = ""
        return True

    # --- the model protocol (on the active view) ---------------------------------------
    def step(self) -> bool:
        return self.game.step() if self.view == "bilinear" else self.act("round")

    def back(self) -> bool:
        return self.game.back() if self.view == "bilinear" else super().back()

    def reset(self) -> None:
        if self.view == "bilinear":
            self.game.reset()
        else:
            super().reset()

    def advance(self, n: int) -> int:
        taken = 0
        while taken < n and self.step():
            taken += 1
        return taken

    def status(self) -> str:
        if self.view == "bilinear":
            return self.game.status()
        s = self.state
        c = s.checkpoint
        text = f"round {s.round} · D steps {c.d_steps} · G steps {c.g_steps}"
        if math.isfinite(s.d_loss):
            text += f" · D loss {s.d_loss:.3f}"
        if math.isfinite(s.g_loss):
            text += f" · G loss {s.g_loss:.3f}"
        return text

    def pytorch_code(self) -> str:
        return pytorch_code(self.params, self.view)

    def apply(self, name: str, value) -> str | None:
        """Change one setting and rebuild (the GAN restarts from its seed, the game from its
        start); None if applied, else the reason it was refused (nothing changes then)."""
        if name not in P.PARAMS:
            return f"no parameter {name!r}"
        try:
            if name in ("g_hidden", "d_hidden"):
                what = "generator" if name[0] == "g" else "discriminator"
                value = [float(w) for w in parse_widths(value, what)]
            else:
                value = P.PARAMS[name].check(name, value)
            new = GanModel({**self.params, name: value, "view": self.view})
        except (ParamError, ValueError) as exc:
            return str(exc)
        self.__dict__.update(new.__dict__)
        return None

    # --- what to draw --------------------------------------------------------------------
    def grid(self, width: int, height: int):
        return plane_grid(self.bounds, width, height)

    def heat_pixels(self, width: int, height: int) -> np.ndarray:
        """(height, width, 3) uint8: D(x) as a tint, purple (fake, 0) to green (real, 1)."""
        return heat_pixels(self.gan, self.bounds, width, height)

    def fake_points(self) -> np.ndarray:
        return self.gan.G(self.z_shown)

    def arrows(self) -> tuple[np.ndarray, np.ndarray]:
        """(generated points (N, 2), arrow vectors (N, 2) = −∇ₓ generator loss, scaled, capped)."""
        x, v, _ = arrows_and_gradients(self.gan, self.z_shown, self.bounds)
        return x, v

    def mean_grad_norm(self) -> float:
        """Mean ‖∇ₓ generator loss‖ over the shown points (minimax's vanish where D rejects)."""
        _, g = self.gan.generator_gradients(self.z_shown)
        return float(np.linalg.norm(g, axis=1).mean())

    def picture(self, width: int, rows: int, arrows: bool) -> GanPicture:
        """The map of the current state at this size: the one computed ahead, else now."""
        kept = self.picture_ahead((width, rows, arrows))
        if kept is not None:
            return kept
        return gan_picture(self.gan, self.z_shown, self.real_shown, self.bounds, width, rows,
                           arrows)

    # --- rounds computed ahead (a worker, while the lab plays) ---------------------------
    def rounds_only(self) -> bool:
        """Whether every step up to the current state was a round (no single D or G step)."""
        return all(s.action == "round" for s in self.states[1: self.index + 1])

    def ahead_tail(self) -> GanState | None:
        """The history's last state when every state after the current one is a round (which
        `step` replays): rounds computed after it continue what the student sees; else None."""
        if all(s.action == "round" for s in self.states[self.index + 1:]):
            return self.states[-1]
        return None

    def compute_ahead(self, tail: GanState, n: int, first: int, every: int,
                      size: tuple | None, cancelled=lambda: False) -> tuple[list, list]:
        """(A worker thread.) Up to `n` rounds after `tail` on a trainer of its own, and the
        pictures (`size`: (width, rows, arrows); None: none) of the states `first`,
        `first + every`, ... of them (those a playing lab draws). Nothing of the model
        changes: the lab adds them with `add_ahead` if `tail` is still the last state."""
        # What is read of the model is read once: `apply` may replace it all meanwhile.
        spare, limit = self._spare_trainers, self.params["max_steps"]
        real, bounds = self.real_shown, self.bounds
        try:  # a trainer no other worker uses (list.pop and append are atomic)
            trainer = spare.pop()
        except IndexError:
            trainer = Trainer(self.params, self.data, self.z_shown)
        states = trainer.run(tail, n, limit, cancelled)
        pictures = []
        if size is not None:
            for i in range(first, len(states), every):
                if cancelled():
                    break
                pictures.append((states[i], trainer.picture(states[i], real, bounds, size)))
        spare.append(trainer)
        return states, pictures

    def curves(self):
        """(rounds, D losses, G losses) up to the current state (NaN-free: the first dropped)."""
        states = self.states[1: self.index + 1]
        x = np.array([s.round + 0.5 * (s.action == "d") for s in states], dtype=np.float64)
        return (x, np.array([s.d_loss for s in states]), np.array([s.g_loss for s in states]))

    def to_cell(self, x: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Braille dot coordinates of points x on a width x height pixel map."""
        return to_dots(x, self.bounds, width, height)


class BilinearGame:
    """min_x max_y x·y by simultaneous and alternating gradient descent-ascent, step by step."""

    def __init__(self, params: dict) -> None:
        self.x0, self.y0, self.eta = params["x0"], params["y0"], params["eta"]
        self.n = params["game_steps"]
        self.predict_at = min(params["predict_at"], self.n)
        self.sim = bilinear_game(self.x0, self.y0, self.eta, self.n, "simultaneous")
        self.alt = bilinear_game(self.x0, self.y0, self.eta, self.n, "alternating")
        self.eg = bilinear_game(self.x0, self.y0, self.eta, self.n, "extragradient")
        self.t = 0

    def step(self) -> bool:
        if self.t >= self.n:
            return False
        self.t += 1
        return True

    def back(self) -> bool:
        if self.t == 0:
            return False
        self.t -= 1
        return True

    def reset(self) -> None:
        self.t = 0

    @property
    def r0(self) -> float:
        return math.hypot(self.x0, self.y0)

    def radius(self, which: str, t: int | None = None) -> float:
        path = {"simultaneous": self.sim, "alternating": self.alt, "extragradient": self.eg}[which]
        return float(np.hypot(*path[self.t if t is None else t]))

    def predicted_radius(self) -> float:
        """The answer to the lab's question: ‖(x, y)‖ after `predict_at` simultaneous steps."""
        return self.r0 * (1 + self.eta**2) ** (self.predict_at / 2)

    def invariant(self) -> float:
        x, y = self.alt[self.t]
        return float(x * x - self.eta * x * y + y * y)

    def status(self) -> str:
        return (f"step {self.t}/{self.n} · η = {self.eta:g} · simultaneous r = "
                f"{self.radius('simultaneous'):.4g} · alternating r = {self.radius('alternating'):.4g}")

    def limits(self) -> float:
        """Half the side of the square shown: fits the paths so far (at least 1.2 r0)."""
        upto = self.t + 1
        m = max(np.abs(self.sim[:upto]).max(), np.abs(self.alt[:upto]).max(), 1e-9)
        return 1.15 * max(m, 1.2 * self.r0 if self.r0 > 0 else 1.0)


def losses_reference() -> float:
    """D's loss when D = 1/2 everywhere (G matches the data): 2 log 2 = log 4."""
    return discriminator_loss(np.zeros(1), np.zeros(1))


__all__ = ["GanModel", "GanPicture", "GanState", "BilinearGame", "Trainer", "generator_loss", "LOG4"]
