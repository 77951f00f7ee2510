"""The MLP lab's state without Textual: data, network, training history, and what to draw."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from core import nn
from core.nn import MLP, Checkpoint, Trainer
from tutor.history import History
from tutor.labs.datafiles import cached_read
from tutor.labs.mlp.params import MAX_HIDDEN_LAYERS, MAX_WIDTH
from tutor.widgets.colormap import colormap
from tutor.widgets.palette import CLASS_RGB

#: One bright colour per class for the data points, and a muted one for its region.
CLASS_COLORS = np.array(CLASS_RGB + ((160, 160, 160),), dtype=np.float64)
#: The glyph of each class (so classes differ without colour too).
CLASS_GLYPHS = "ox+*#%@&"
BACKGROUND = np.array([24, 24, 28], dtype=np.float64)
#: Probabilities are rounded to 1/LEVELS before colouring: smooth to the eye, and the last-bit
#: differences of another CPU's vector width do not change the picture.
LEVELS = 64


@dataclass(frozen=True)
class TrainState:
    """One point of the history: the weights and optimizer state, and the figures at it."""

    step: int
    checkpoint: Checkpoint
    batch_loss: float  # the loss of the mini-batch that led here (NaN at step 0)
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float


def parse_hidden(value) -> list[int]:
    """Hidden widths from a list of numbers or text like "8, 8" (ValueError saying why)."""
    if isinstance(value, str):
        parts = [p for p in value.replace(",", " ").split() if p]
        try:
            value = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"hidden widths must be whole numbers, e.g. 8, 8; got {value!r}") from None
    widths = []
    for w in value:
        if not float(w).is_integer() or not 1 <= w <= MAX_WIDTH:
            raise ValueError(f"each hidden width must be a whole number from 1 to {MAX_WIDTH}; got {w:g}")
        widths.append(int(w))
    if len(widths) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers; got {len(widths)}")
    return widths


MAX_CSV_POINTS = 10_000
"""The most points of a CSV file the lab trains on (every step evaluates all of them)."""
MAX_CSV_FILE_BYTES = 1_000_000
"""The largest CSV file the lab reads (10,000 rows take about 300 kB): a file the lab reads
again when it comes back (a restore, on the event loop) takes well under a frame's budget x 10."""


def read_points(path: str):
    """(X, y) of a CSV file of x, y, label rows, refused (ValueError) over `MAX_CSV_FILE_BYTES`
    bytes (before reading), over `MAX_CSV_POINTS` points or with a single class; the core
    refuses devices. Widgets call it in a worker (`tutor.labs.kit.read_data_file`)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # load_csv says why it cannot be read
    if size > MAX_CSV_FILE_BYTES:
        raise ValueError(f"{path}: {size:,} bytes; the lab reads at most "
                         f"MAX_CSV_FILE_BYTES = {MAX_CSV_FILE_BYTES:,}")
    X, y = nn.load_csv(path)
    if len(X) > MAX_CSV_POINTS:
        raise ValueError(f"{path}: {len(X):,} points; the lab takes at most "
                         f"MAX_CSV_POINTS = {MAX_CSV_POINTS:,}")
    if np.unique(y).size < 2:
        raise ValueError(f"{path}: needs at least 2 classes, found one")
    return X, y


def load_data(params: dict):
    """(X, y) of the lab's data set (generated, or read from csv_path, once per file version)."""
    if params["dataset"] == "csv":
        if not params["csv_path"]:
            raise ValueError("dataset is csv but csv_path is empty: give a file of x, y, label rows")
        return cached_read(read_points, params["csv_path"])
    return nn.make_dataset(params["dataset"], params["n_points"], params["noise"],
                           params["data_seed"], params["classes"])


class MlpModel:
    """Everything the lab shows: data split, network, trainer and the history of its states.

    Raises ValueError (with a message for the student) when the parameters cannot be built.
    """

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        X, y = load_data(self.params)
        self.n_classes = int(y.max()) + 1
        self.X_train, self.y_train, self.X_test, self.y_test = nn.train_test_split(
            X, y, self.params["test_fraction"], self.params["data_seed"])
        self.hidden = parse_hidden(self.params["hidden"])
        self.sizes = [2, *self.hidden, self.n_classes]
        self.net = MLP(self.sizes, self.params["activation"], self.params["seed"])
        p = self.params
        hyper = {k: p[k] for k in ("gamma", "beta1", "beta2")}
        self.trainer = Trainer(self.net, self.X_train, self.y_train, p["loss"], p["optimizer"],
                               p["lr"], p["batch_size"], p["seed"], **hyper)
        self.message = ""
        self.history: History[TrainState] = History(self._state(float("nan")), self._step,
                                                    max_len=20_000)
        lo = np.minimum(self.X_train.min(axis=0), self.X_test.min(axis=0))
        hi = np.maximum(self.X_train.max(axis=0), self.X_test.max(axis=0))
        pad = 0.1 * np.maximum(hi - lo, 1e-6)
        self.bounds = (lo - pad, hi + pad)
        self._grids: dict[tuple[int, int], tuple[np.ndarray, float, np.ndarray]] = {}
        #: Steps computed ahead (a worker's): id(state) -> (state, the step after it).
        self._next: dict[int, tuple[TrainState, TrainState]] = {}
        #: Pictures computed ahead: id(state) -> (state, {picture key: picture}).
        self._drawn: dict[int, tuple[TrainState, dict]] = {}
        self._spare: list[MlpModel] = []  # copies for `compute_ahead`, built once

    # --- training -------------------------------------------------------------------------
    def _metrics(self, X, y) -> tuple[float, float]:
        out = self.net(X)
        if self.params["loss"] == "cross_entropy":
            loss = nn.cross_entropy(out, y)
        else:
            loss = nn.mse_loss(out, np.eye(self.n_classes)[y])
        return loss, float(np.mean(np.argmax(out, axis=1) == y))

    def _state(self, batch_loss: float) -> TrainState:
        tr_loss, tr_acc = self._metrics(self.X_train, self.y_train)
        te_loss, te_acc = self._metrics(self.X_test, self.y_test)
        return TrainState(self.trainer.t, self.trainer.checkpoint(), batch_loss,
                          tr_loss, te_loss, tr_acc, te_acc)

    def _step(self, state: TrainState) -> TrainState | None:
        ahead = self._next.pop(id(state), None)
        if ahead is not None and ahead[0] is state:  # computed ahead: the very same numbers
            return ahead[1]
        if state.step >= self.params["max_steps"]:
            self.message = f"reached max_steps = {self.params['max_steps']}"
            return None
        self.trainer.restore(state.checkpoint)
        loss = self.trainer.step()
        if self.trainer.diverged:
            self.trainer.restore(state.checkpoint)
            self.message = "diverged: the loss became NaN or infinite (try a smaller lr)"
            return None
        return self._state(loss)

    def step(self) -> bool:
        """One mini-batch forward (computed, or replayed after a step back)."""
        moved = self.history.step()
        self._sync()
        return moved

    def advance(self, n: int) -> int:
        taken = self.history.advance(n)
        self._sync()
        return taken

    def back(self) -> bool:
        moved = self.history.back()
        self.message = ""
        self._sync()
        return moved

    def reset(self) -> None:
        """Back to step 0: the same initial weights (the seed's)."""
        self.history.reset()
        self.message = ""
        self._next.clear()  # steps ahead of the forgotten ones
        self._drawn.clear()
        self._sync()

    def _sync(self) -> None:
        """Put the network's weights at the history's current state."""
        self.trainer.restore(self.state.checkpoint)

    @property
    def state(self) -> TrainState:
        return self.history.current

    # --- the lab protocol (tutor.labs.kit.LabModel) ----------------------------------------
    def status(self) -> str:
        s = self.state
        return f"step {s.step} · train loss {s.train_loss:.4f} · test loss {s.test_loss:.4f}"

    def pytorch_code(self) -> str:
        return pytorch_code(self.params, self.n_classes)

    def changed(self, **changes) -> MlpModel:
        """A new model with these settings, at the seed's initial weights (ValueError saying
        why when they cannot be built; this model is left as it is)."""
        from tutor.labs import validate_lab

        return MlpModel(validate_lab("mlp", {**self.params, **changes}))

    def apply(self, name: str, value) -> str | None:
        """Change one setting (training restarts from the seed); None when applied, else why
        it was refused (the model keeps its state)."""
        try:
            new = self.changed(**{name: value})
        except (ValueError, TypeError, KeyError) as exc:
            return str(exc)
        self.__dict__.update(new.__dict__)
        return None

    # --- steps computed ahead (a worker, while the lab plays or trains a head start) ----------
    def compute_ahead(self, tail: TrainState, n: int, first: int = 0, every: int = 1,
                      keys: tuple = (), cancelled=lambda: False) -> tuple[list, dict]:
        """(A worker thread.) Up to `n` steps after `tail` on a copy of this model (nothing of
        it changes), and for the steps `first`, `first + every`, ... of them (those a playing lab
        draws) the pictures `keys` (of `picture`). Returns (states, {id(state): (state,
        {key: picture})}) for `add_ahead`."""
        spare = self._spare  # read once: `apply` may replace this model's attributes meanwhile
        try:  # a copy no other worker uses (list.pop and append are atomic)
            copy = spare.pop()
        except IndexError:
            copy = MlpModel(self.params)
        copy.history.reset(tail)
        copy._next, copy._drawn, copy.message = {}, {}, ""
        copy._sync()
        drawn = {}
        for i in range(n):
            if cancelled() or not copy.step():
                break
            if keys and i >= first and (i - first) % every == 0:
                drawn[id(copy.state)] = (copy.state, {key: copy._picture(key) for key in keys})
        spare.append(copy)
        return copy.history.states[1:], drawn

    def add_ahead(self, tail: TrainState, states: list[TrainState], drawn: dict) -> bool:
        """Keep steps a worker computed after `tail`: stepping on from `tail`, whenever it
        does, takes them (and draws their pictures) instead of computing them again."""
        for before, after in zip([tail, *states], states):
            self._next[id(before)] = (before, after)
        step = self.state.step  # pictures of steps already passed are dropped
        self._drawn = {k: v for k, v in self._drawn.items() if v[0].step >= step}
        self._drawn.update(drawn)
        return True

    def _chain(self) -> tuple[int, TrainState]:
        """(Steps computed ahead of the current state, the last of them), the current state at
        the history's end; (steps stepped back over, None) otherwise."""
        future = len(self.history) - len(self.history.states)
        if future:
            return future, None
        n, state = 0, self.state
        while (link := self._next.get(id(state))) is not None and link[0] is state:
            n, state = n + 1, link[1]
        return n, state

    def steps_ahead(self) -> int:
        """How many steps after the current one are ready (stepped back over or computed
        ahead): stepping through them computes nothing."""
        return self._chain()[0]

    def ahead_tail(self) -> TrainState | None:
        """The state a worker computes on from (the last step computed ahead, or the current
        state); None while stepping replays steps stepped back over."""
        return self._chain()[1]

    @property
    def epoch(self) -> float:
        """Passes over the training set so far."""
        return self.state.step / self.trainer.batches_per_epoch

    def question(self) -> tuple[str, str, int, str]:
        """The prediction asked before training: how many steps make one epoch?
        (key, prompt, answer, explanation); the epoch counter shows the answer."""
        n, b = len(self.y_train), self.trainer.batch_size
        k = self.trainer.batches_per_epoch
        last = n - (k - 1) * b
        rest = f", the last holds {last}" if last != b else ""
        return ("steps-per-epoch",
                f"Predict: steps per epoch? {n} points, batches of {b}",
                k, f"⌈{n}/{b}⌉{rest}.")

    def curves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, train losses, test losses) up to the current state."""
        states = self.history.states
        steps = np.array([s.step for s in states], dtype=np.float64)
        return (steps, np.array([s.train_loss for s in states]),
                np.array([s.test_loss for s in states]))

    # --- drawing -------------------------------------------------------------------------
    def grid(self, width: int, height: int) -> tuple[np.ndarray, float, np.ndarray]:
        """Pixel centres of a width x height image over the data, equal units on both axes.

        Returns (points (height*width, 2) row-major from the top-left, units per pixel, origin).
        """
        cached = self._grids.get((width, height))
        if cached is not None:  # the same box on every frame: built once
            return cached
        lo, hi = self.bounds
        scale = max((hi[0] - lo[0]) / width, (hi[1] - lo[1]) / height)
        centre = (lo + hi) / 2
        origin = centre - scale * np.array([width, -height]) / 2  # x of left edge, y of top edge
        xs = origin[0] + scale * (np.arange(width) + 0.5)
        ys = origin[1] - scale * (np.arange(height) + 0.5)
        gx, gy = np.meshgrid(xs, ys)
        points = np.column_stack([gx.ravel(), gy.ravel()])
        points.flags.writeable = origin.flags.writeable = False
        if len(self._grids) > 8:
            self._grids.clear()
        self._grids[(width, height)] = points, scale, origin
        return points, scale, origin

    def picture(self, key: tuple):
        """A picture of the current state, the one computed ahead or else now:
        ("region", width, height, test) -> (pixels, overlay) of `region_pixels` and
        `point_overlay`; ("weights", layer, cols, rows) -> (W's shape, W's and ∂J/∂W's
        `heat_pixels`)."""
        kept = self._drawn.get(id(self.state))
        if kept is not None and kept[0] is self.state and key in kept[1]:
            return kept[1][key]
        return self._picture(key)

    def _picture(self, key: tuple):
        if key[0] == "region":
            _, width, height, test = key
            pixels = self.region_pixels(width, height)
            return pixels, self.point_overlay(width, height, test, pixels)
        _, layer, cols, rows = key
        w, g = self.layer_view(layer)
        return w.shape, heat_pixels(w, cols, rows), heat_pixels(g, cols, rows)

    def region_pixels(self, width: int, height: int) -> np.ndarray:
        """(height, width, 3) uint8: the decision regions, shaded by the network's confidence.

        Two classes: a diverging heat map of P(class 1) (blue 0, white 0.5, red 1). More
        classes: each pixel in its predicted class's colour, faded where the network hesitates.
        """
        points, _, _ = self.grid(width, height)
        out = self.net(points)
        if self.params["loss"] == "cross_entropy":
            z = out - out.max(axis=1, keepdims=True)
            prob = np.exp(z)
            prob /= prob.sum(axis=1, keepdims=True)
        else:
            prob = np.clip(out, 0.0, 1.0)
        if self.n_classes == 2:
            p1 = prob[:, 1] / np.maximum(prob.sum(axis=1), 1e-12)
            return _leveled(p1.reshape(height, width), 0, LEVELS)
        cls = np.argmax(prob, axis=1)
        conf = prob[np.arange(len(cls)), cls] / np.maximum(prob.sum(axis=1), 1e-12)
        conf = np.round(conf * LEVELS) / LEVELS
        strength = 0.15 + 0.55 * np.clip((conf - 1 / self.n_classes) * self.n_classes / (self.n_classes - 1), 0, 1)
        rgb = BACKGROUND + (CLASS_COLORS[cls % len(CLASS_COLORS)] - BACKGROUND) * strength[:, None]
        return np.rint(rgb).reshape(height, width, 3).astype(np.uint8)

    def point_overlay(self, width: int, height: int, test: bool = False,
                      pixels: np.ndarray | None = None) -> dict:
        """{(row, col): (glyph, colour)} for the training (or test) points on a width x
        (height pixels) image: one glyph per cell (the class's); the last point drawn wins.

        With the image's `pixels`, each glyph is black or white, whichever contrasts with the
        cell under it (computed here at once, cheaper than per cell); without, None (the view
        chooses)."""
        _, scale, origin = self.grid(width, height)
        X, y = (self.X_test, self.y_test) if test else (self.X_train, self.y_train)
        cols = np.floor((X[:, 0] - origin[0]) / scale).astype(int)
        rows = np.floor((origin[1] - X[:, 1]) / scale).astype(int) // 2
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < (height + 1) // 2)
        rows, cols, y = rows[inside], cols[inside], y[inside]
        colors = [None] * len(y)
        if pixels is not None and len(y):
            top = pixels[np.minimum(2 * rows, height - 1), cols].astype(np.float64)
            bottom = pixels[np.minimum(2 * rows + 1, height - 1), cols].astype(np.float64)
            luma = ((top + bottom) / 2) @ np.array([0.2126, 0.7152, 0.0722]) / 255.0
            colors = ["#000000" if v > 0.5 else "#ffffff" for v in luma.tolist()]
        return {
            (r, c): (CLASS_GLYPHS[label % len(CLASS_GLYPHS)], color)
            for r, c, label, color in zip(rows.tolist(), cols.tolist(), y.tolist(), colors)
        }

    def layer_view(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """(W, ∂J/∂W) of 1-based `layer` at the current weights, on the whole training set."""
        layer = min(max(1, layer), self.net.n_layers)
        _, grads = nn.value_and_grad(self.net, self.X_train, self.y_train, self.params["loss"])
        return self.net.parameters()[2 * (layer - 1)].copy(), grads[2 * (layer - 1)]


def heat_pixels(matrix: np.ndarray, max_cols: int, max_rows: int) -> np.ndarray:
    """A signed matrix as a diverging heat map, each entry a k x k block of pixels (k ≥ 1 as
    large as fits), cut to max_cols x (2 max_rows) pixels."""
    m = np.asarray(matrix, dtype=np.float64)
    rows, cols = m.shape
    k = max(1, min(4, max_cols // max(cols, 1), (2 * max_rows) // max(rows, 1)))
    big = np.repeat(np.repeat(m, k, axis=0), k, axis=1)[: 2 * max_rows, :max_cols]
    span = float(np.max(np.abs(m))) if m.size else 0.0
    span = span if span > 0 else 1.0
    return _leveled(big / span, -LEVELS, LEVELS)


_LEVEL_COLORS: dict[tuple[int, int], np.ndarray] = {}


def _leveled(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """`colormap(np.round(values * LEVELS) / LEVELS, low / LEVELS, high / LEVELS, "diverging")`
    by table look-up: the rounded values are the levels k / LEVELS, k in [low, high], whose
    colours are computed once (the same numbers: k / LEVELS is what the rounding gives)."""
    k = np.round(values * LEVELS)
    if not np.isfinite(k).all():  # NaN (a diverged network) keeps the colormap's NaN colour
        return colormap(k / LEVELS, low / LEVELS, high / LEVELS, "diverging")
    table = _LEVEL_COLORS.get((low, high))
    if table is None:
        table = colormap(np.arange(low, high + 1) / LEVELS, low / LEVELS, high / LEVELS, "diverging")
        _LEVEL_COLORS[(low, high)] = table
    return table[np.clip(k, low, high).astype(np.intp) - low]


_TORCH_OPTIMIZERS = {
    "sgd": "torch.optim.SGD(model.parameters(), lr={lr})",
    "momentum": "torch.optim.SGD(model.parameters(), lr={lr}, momentum={gamma})",
    "nesterov": "torch.optim.SGD(model.parameters(), lr={lr}, momentum={gamma}, nesterov=True)",
    "adagrad": "torch.optim.Adagrad(model.parameters(), lr={lr}, eps=1e-8)",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr={lr}, alpha={gamma}, eps=1e-8)",
    "adam": "torch.optim.Adam(model.parameters(), lr={lr}, betas=({beta1}, {beta2}))",
    "amsgrad": "torch.optim.Adam(model.parameters(), lr={lr}, betas=({beta1}, {beta2}), amsgrad=True)",
    "newton": "torch.optim.LBFGS(model.parameters(), lr={lr})",
}

_TORCH_NOTES = {
    "adagrad": "# PyTorch adds eps outside the square root: lr / (sqrt(s) + eps); the notes put it inside.",
    "rmsprop": "# PyTorch calls γ alpha, and adds eps outside the square root.",
    "amsgrad": "# PyTorch's AMSGrad also bias-corrects m and the running max; the notes do not.",
    "newton": "# PyTorch has no Newton optimizer: L-BFGS builds an approximation of H⁻¹ instead\n"
              "# (and its step() needs a closure that recomputes the loss).",
}


def pytorch_code(params: dict, n_classes: int | None = None) -> str:
    """The `nn.Sequential` model and training loop for the lab's current settings (notes 1.3.2)."""
    hidden = parse_hidden(params["hidden"])
    p = params
    if n_classes is None:
        n_classes = p["classes"] if p["dataset"] in ("spirals", "blobs") else 2
    sizes = [2, *hidden, n_classes]
    act = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}[p["activation"]]
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(f"    nn.Linear({d_in}, {d_out}),")
        if i < len(sizes) - 2:
            layers.append(f"    {act},")
    if p["dataset"] == "csv":
        data = f'X, y = load_csv({p["csv_path"]!r})  # your points: x, y, label rows'
        imports = "from core.nn import load_csv, train_test_split"
    else:
        extra = f", classes={p['classes']}" if p["dataset"] in ("spirals", "blobs") else ""
        data = (f'X, y = make_dataset("{p["dataset"]}", n={p["n_points"]}, noise={p["noise"]:g}, '
                f'seed={p["data_seed"]}{extra})')
        imports = "from core.nn import make_dataset, train_test_split"
    fmt = {k: f"{p[k]:g}" for k in ("lr", "gamma", "beta1", "beta2")}
    optimizer = _TORCH_OPTIMIZERS[p["optimizer"]].format(**fmt)
    if p["loss"] == "cross_entropy":
        criterion, target = "nn.CrossEntropyLoss()", "yb"
    else:
        criterion = "nn.MSELoss()"
        target = f"nn.functional.one_hot(yb, {n_classes}).float()"
    note = _TORCH_NOTES.get(p["optimizer"], "")
    newton = p["optimizer"] == "newton"
    body = (
        "        def closure():\n"
        "            optimizer.zero_grad()\n"
        f"            loss = criterion(model(xb), {target})\n"
        "            loss.backward()\n"
        "            return loss\n"
        "        optimizer.step(closure)\n"
        if newton else
        "        optimizer.zero_grad()  # forget the last step's gradients\n"
        f"        loss = criterion(model(xb), {target})  # forward pass\n"
        "        loss.backward()  # backward pass: ∂loss/∂θ for every parameter\n"
        "        optimizer.step()  # θ ← θ - update(∂loss/∂θ)\n"
    )
    return f"""import torch
from torch import nn
{imports}

{data}
X_train, y_train, X_test, y_test = train_test_split(X, y, test_fraction={p["test_fraction"]:g}, seed={p["data_seed"]})
X_train = torch.tensor(X_train, dtype=torch.float32)
X_test = torch.tensor(X_test, dtype=torch.float32)
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)

torch.manual_seed({p["seed"]})  # initial weights: the lab's distribution, PyTorch's own draws
model = nn.Sequential(
{chr(10).join(layers)}
)
criterion = {criterion}
{note + chr(10) if note else ""}optimizer = {optimizer}
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(X_train, y_train), batch_size={p["batch_size"]}, shuffle=True
)

step = 0
while step < {p["max_steps"]}:
    for xb, yb in loader:
{body}        step += 1
        if step == {p["max_steps"]}:
            break

with torch.no_grad():
    accuracy = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
print(f"test accuracy: {{accuracy:.1%}}")
"""
