"""The convolution lab's state and computations (no Textual): what every view shows, as arrays.

`ConvModel` holds the image, the kernel and the settings, and a `History` of step numbers whose
meaning depends on the view: the window position (slide), the preset (filter, bank), the number
of layers (stack), the shift (pool) or the digit (lenet). Every figure it reports comes from
`core.vision`. It follows the lab kit's model protocol (`tutor.labs.kit.LabModel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vision import (
    LeNet5,
    avg_pool2d,
    builtin,
    conv2d,
    lenet5_layers,
    load_image,
    max_pool2d,
    output_size,
    pad2d,
    receptive_field,
    receptive_window,
)
from tutor.history import History, HistoryModel
from tutor.labs.datafiles import cached_read
from tutor.labs.convolution.kernels import preset
from tutor.labs.convolution.params import PARAMS, PRESETS

MAX_LAYERS = 6


def read_image(path: str, size: int) -> np.ndarray:
    """`load_image(path, max_size=size)`, decoded once per file version (changing a setting
    rebuilds the model, and must not decode the student's PNG or JPEG again). Returns a copy
    (numba types read-only arrays apart)."""
    return cached_read(decode_image, path, size).copy()


def decode_image(path: str, size: int) -> np.ndarray:
    """The image file, decoded (no cache): what `read_image` caches."""
    return load_image(path, max_size=size)


@dataclass(frozen=True)
class Window:
    """One sliding-window position: output pixel (i, j), the padded patch and the products."""

    i: int
    j: int
    patch: np.ndarray
    products: np.ndarray
    total: float
    bias: float
    output: float  # after the optional ReLU


def relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """Σ|after − before| / Σ|before| (0 when nothing changed; 0 for an all-zero map)."""
    scale = float(np.abs(before).sum())
    return float(np.abs(after - before).sum()) / scale if scale > 0 else 0.0


class ConvModel(HistoryModel):
    """Everything the convolution lab computes; `params` are the lab's validated parameters.

    Stepping (`step`, `back`, `reset`, `advance`) walks the view's step numbers (`t`); `apply`
    changes one setting by rebuilding the model from the new settings (the old state is kept
    when they do not fit); `move` is the arrow keys.
    """

    def __init__(self, params: dict) -> None:
        self._build(params)

    def _build(self, params: dict) -> None:
        """Set every attribute from `params` (ValueError when they do not fit the image)."""
        self.params = dict(params)
        p = self.params
        self.note = ""
        self.image = self._load_image(p)
        k = int(p["kernel_size"])
        if p["kernel"] == "custom":
            w = np.array(p["weights"], dtype=np.float64) if p["weights"] else preset("identity", k)
            if w.ndim != 2 or w.shape[0] != w.shape[1] or not 2 <= w.shape[0] <= 5:
                raise ValueError(f"a custom kernel must be square, 2x2 to 5x5; got shape {w.shape}")
            self.kernel = w
            self.params["kernel_size"] = w.shape[0]
        else:
            self.kernel = preset(p["kernel"], k)
        self.check()
        self.history: History[int] = History(0, self._next, max_len=100_000)
        self.focus = (0, 0)  # the stack view's chosen output pixel
        self._center_focus()

    # --- setup ---------------------------------------------------------------------------
    def _load_image(self, p: dict) -> np.ndarray:
        if p["view"] == "lenet":
            return builtin(f"digit{int(p['digit'])}", 32)
        if p["path"]:
            return read_image(p["path"], int(p["size"]))
        return builtin(p["image"], int(p["size"]))

    def check(self) -> None:
        """Raise ValueError when the settings do not fit the image (before any kernel runs)."""
        H, W = self.image.shape
        K, P, S = self.kernel.shape[0], int(self.params["padding"]), int(self.params["stride"])
        if K > min(H, W) + 2 * P:
            raise ValueError(f"the {K}x{K} kernel does not fit the {H}x{W} image with padding {P}")
        mode = self.params["padding_mode"]
        if mode == "reflect" and P >= min(H, W):
            raise ValueError("reflect padding must be smaller than the image")
        output_size(W, K, P, S)

    @property
    def view(self) -> str:
        return self.params["view"]

    @property
    def k(self) -> int:
        return int(self.kernel.shape[0])

    @property
    def t(self) -> int:
        """The step number of the view (its meaning depends on the view, see the module)."""
        return self.history.current

    @property
    def index(self) -> int:
        """How many steps the view is from its start."""
        return self.history.index

    def status(self) -> str:
        return f"{self.view} · step {self.index}"

    # --- settings ------------------------------------------------------------------------
    def apply(self, name: str, value) -> str | None:
        """Change one setting and rebuild (the view starts again at step 0): None when
        applied, else why the settings do not fit (the model is kept exactly as it was).
        Setting the "weights" makes the kernel the custom one."""
        if name not in PARAMS:
            return f"the convolution lab has no setting {name!r}"
        changes = {name: value, "kernel": "custom"} if name == "weights" else {name: value}
        kept = dict(vars(self))
        try:
            self._build({**self.params, **changes})
        except (TypeError, ValueError) as exc:
            vars(self).clear()
            vars(self).update(kept)
            return f"{exc}; kept the previous settings"
        return None

    def move(self, dr: int, dc: int) -> bool:
        """The arrow keys: move the stack view's chosen pixel, or the sliding window's start
        (the window is then at step 0 of its new start); False in the other views."""
        if self.view == "stack":
            self.move_focus(dr, dc)
            return True
        if self.view != "slide":
            return False
        w = self.window()
        oh, ow = self.output_shape()
        self.params.update(row=min(max(w.i + dr, 0), oh - 1), col=min(max(w.j + dc, 0), ow - 1))
        self.history.reset(0)
        return True

    # --- stepping ------------------------------------------------------------------------
    def _limit(self) -> int:
        """The last step number of the current view."""
        v = self.view
        if v == "slide":
            oh, ow = self.output_shape()
            return oh * ow - 1 - self._start()
        if v in ("filter", "bank"):
            return len(PRESETS) - 1
        if v == "stack":
            return MAX_LAYERS - int(self.params["layers"])
        if v == "pool":
            return 3 - int(self.params["shift"])
        return 9

    def _next(self, t: int) -> int | None:
        return t + 1 if t < self._limit() else None

    def _start(self) -> int:
        oh, ow = self.output_shape()
        i = min(int(self.params["row"]), oh - 1)
        j = min(int(self.params["col"]), ow - 1)
        return i * ow + j

    # --- the single convolution ----------------------------------------------------------
    def output_shape(self) -> tuple[int, int]:
        H, W = self.image.shape
        P, S = int(self.params["padding"]), int(self.params["stride"])
        return output_size(H, self.k, P, S), output_size(W, self.k, P, S)

    def current_kernel(self) -> np.ndarray:
        """The kernel in use: for filter and bank views the step walks through the presets."""
        if self.view in ("filter", "bank") and self.t:
            names = list(PRESETS)
            start = names.index(self.params["kernel"]) if self.params["kernel"] in names else 0
            return preset(names[(start + self.t) % len(names)], self.k)
        return self.kernel

    def current_kernel_name(self) -> str:
        if self.view in ("filter", "bank") and self.t:
            names = list(PRESETS)
            start = names.index(self.params["kernel"]) if self.params["kernel"] in names else 0
            return names[(start + self.t) % len(names)]
        return self.params["kernel"]

    def convolve(self, image: np.ndarray | None = None, kernel: np.ndarray | None = None) -> np.ndarray:
        """conv2d of the image with the kernel, bias, padding (mode) and stride; ReLU if on."""
        img = self.image if image is None else image
        ker = self.current_kernel() if kernel is None else kernel
        p = self.params
        out = conv2d(
            img[None, None], ker[None, None], np.array([p["bias"]]), int(p["stride"]),
            int(p["padding"]), padding_mode=p["padding_mode"],
        )[0, 0]  # fmt: skip
        return np.maximum(out, 0.0) if p["relu"] else out

    def formula(self) -> str:
        """The output size formula of notes (4.2.3) with the current numbers."""
        H, W = self.image.shape
        K, P, S = self.k, int(self.params["padding"]), int(self.params["stride"])
        oh, ow = self.output_shape()
        exact = (W - K + 2 * P) / S + 1
        rounded = "" if exact == ow else f"\n   = ⌊{exact:g}⌋"  # its own line: 30 columns
        return (
            f"W′ = (W − K + 2P)/S + 1\n   = ({W} − {K} + 2·{P})/{S} + 1{rounded} = {ow}\n"
            f"output {oh} × {ow} (input {H} × {W})"
        )

    # --- sliding window ------------------------------------------------------------------
    def window(self) -> Window:
        """The window at the current step: patch of the padded image, products, sum + bias."""
        oh, ow = self.output_shape()
        t = min(self._start() + self.t, oh * ow - 1)
        i, j = divmod(t, ow)
        P, S, K = int(self.params["padding"]), int(self.params["stride"]), self.k
        padded = pad2d(self.image[None, None], P, self.params["padding_mode"])[0, 0] if P else self.image
        patch = padded[i * S : i * S + K, j * S : j * S + K].copy()
        products = patch * self.kernel
        bias = float(self.params["bias"])
        total = float(products.sum()) + bias
        out = max(total, 0.0) if self.params["relu"] else total
        return Window(i, j, patch, products, total, bias, out)

    def window_rect(self, w: Window) -> tuple[int, int, int, int]:
        """The window's rows and columns [r0, r1) x [c0, c1) in input coordinates (may leave it)."""
        P, S, K = int(self.params["padding"]), int(self.params["stride"]), self.k
        r0, c0 = w.i * S - P, w.j * S - P
        return r0, r0 + K, c0, c0 + K

    # --- filter bank ---------------------------------------------------------------------
    def bank(self) -> list[tuple[str, np.ndarray]]:
        """(name, activation map) for each kernel of the bank (rotated by the step)."""
        names = list(self.params["bank"]) or ["sobel_x"]
        shift = self.t % len(PRESETS)
        if shift:
            names = [PRESETS[(PRESETS.index(n) + shift) % len(PRESETS)] for n in names]
        w = np.stack([preset(n, self.k) for n in names])[:, None]
        p = self.params
        b = np.full(len(names), float(p["bias"]))
        maps = conv2d(self.image[None, None], w, b, int(p["stride"]), int(p["padding"]),
                      padding_mode=p["padding_mode"])[0]  # fmt: skip
        if p["relu"]:
            maps = np.maximum(maps, 0.0)
        return list(zip(names, maps, strict=True))

    # --- stacked layers ------------------------------------------------------------------
    def layers(self) -> int:
        return min(MAX_LAYERS, int(self.params["layers"]) + (self.t if self.view == "stack" else 0))

    def stacked(self) -> np.ndarray:
        """L convolutions with the kernel, same padding (zeros) and stride 1, ReLU if on."""
        a = self.image[None, None]
        pad = (self.k - 1) // 2
        for _ in range(self.layers()):
            a = conv2d(a, self.kernel[None, None], None, 1, pad)
            if self.params["relu"]:
                a = np.maximum(a, 0.0)
        return a[0, 0]

    def _center_focus(self) -> None:
        h, w = self.stacked_shape()
        self.focus = (h // 2, w // 2)

    def stacked_shape(self) -> tuple[int, int]:
        H, W = self.image.shape
        pad = (self.k - 1) // 2
        h, w = H, W
        for _ in range(self.layers()):
            h, w = h + 2 * pad - self.k + 1, w + 2 * pad - self.k + 1
        return max(h, 1), max(w, 1)

    def move_focus(self, dr: int, dc: int) -> None:
        h, w = self.stacked_shape()
        r, c = self.focus
        self.focus = (min(max(r + dr, 0), h - 1), min(max(c + dc, 0), w - 1))

    def receptive(self) -> tuple[int, int, int, int, int]:
        """(side, r0, r1, c0, c1): the receptive field 1 + L(K − 1) of the focused pixel."""
        L, K = self.layers(), self.k
        r, c = self.focus
        r0, r1, c0, c1 = receptive_window(L, K, r, c, padding=(K - 1) // 2)
        return receptive_field(L, K), r0, r1, c0, c1

    # --- pooling -------------------------------------------------------------------------
    def shift(self) -> int:
        return min(3, int(self.params["shift"]) + (self.t if self.view == "pool" else 0))

    def pooling(self) -> dict:
        """Feature maps of the image and of the image shifted right, before and after pooling."""
        k = int(self.params["pool_size"])
        s = self.shift()
        shifted = np.roll(self.image, s, axis=1)
        shifted[:, :s] = self.image[:, :1]  # enter with the edge colour, not the other side
        pool = max_pool2d if self.params["pool"] == "max" else avg_pool2d
        a, b = self.convolve(self.image), self.convolve(shifted)
        pa, pb = pool(a[None, None], k)[0, 0], pool(b[None, None], k)[0, 0]
        # position by position, as the next layer sees them: Σ|after − before| / Σ|before|
        return {
            "map": a, "shifted_map": b, "pooled": pa, "pooled_shifted": pb,
            "change_map": relative_change(a, b), "change_pooled": relative_change(pa, pb),
            "shift": s, "size": k,
        }  # fmt: skip

    # --- LeNet-5 -------------------------------------------------------------------------
    def digit(self) -> int:
        return (int(self.params["digit"]) + (self.t if self.view == "lenet" else 0)) % 10

    def lenet(self) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """(the digit, every layer's activations, the 10 scores) from an untrained LeNet-5."""
        img = builtin(f"digit{self.digit()}", 32)
        acts = LeNet5(seed=0).activations(img[None, None])
        return img, [a[0] for a in acts], acts[-1][0]

    @staticmethod
    def lenet_table() -> list[tuple[str, str, str, str]]:
        rows = []
        for layer in lenet5_layers():
            shape = " × ".join(map(str, layer.shape))
            rows.append((layer.name, layer.kind, shape, f"{layer.params:,}"))
        return rows

    # --- PyTorch -------------------------------------------------------------------------
    def pytorch_code(self) -> str:
        p = self.params
        rows = ",\n     ".join("[" + ", ".join(f"{v:g}" for v in r) + "]" for r in self.current_kernel())
        relu = "\ny = torch.relu(y)" if p["relu"] else ""
        mode = "" if p["padding_mode"] == "zeros" else f", padding_mode={p['padding_mode']!r}"
        return (
            "import torch\nimport torch.nn as nn\n\n"
            f"x = torch.rand(1, 1, {self.image.shape[0]}, {self.image.shape[1]}, dtype=torch.float64)  # N, C, H, W\n"
            f"conv = nn.Conv2d(1, 1, kernel_size={self.k}, stride={p['stride']}, padding={p['padding']}{mode},\n"
            "                 dtype=torch.float64)\n"
            "with torch.no_grad():\n"
            f"    conv.weight[:] = torch.tensor(\n    [[{rows}]])  # cross-correlation: no flip\n"
            f"    conv.bias[:] = {p['bias']:g}\n"
            f"y = conv(x){relu}\nprint(y.shape)  # {tuple([1, 1, *self.output_shape()])}\n"
        )
