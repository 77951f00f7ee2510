"""Map numbers to colours for heat maps (pure NumPy, no Textual): viridis, diverging, gray."""

from __future__ import annotations

import numpy as np

#: Colour for NaN cells: a muted magenta-grey that none of the maps produce.
NAN_COLOR: tuple[int, int, int] = (150, 96, 150)

#: Anchor colours, evenly spaced over [0, 1]; values in between are interpolated linearly.
_ANCHORS: dict[str, np.ndarray] = {
    # matplotlib's viridis sampled at 9 points: perceptually uniform, readable in grey.
    "viridis": np.array(
        [
            (68, 1, 84),
            (71, 44, 122),
            (59, 81, 139),
            (44, 113, 142),
            (33, 144, 141),
            (39, 173, 129),
            (92, 200, 99),
            (170, 220, 50),
            (253, 231, 37),
        ],
        dtype=np.float64,
    ),
    # blue - white - red (ColorBrewer RdBu reversed): for signed values such as gradients.
    "diverging": np.array(
        [(33, 102, 172), (103, 169, 207), (247, 247, 247), (239, 138, 98), (178, 24, 43)],
        dtype=np.float64,
    ),
    "gray": np.array([(0, 0, 0), (255, 255, 255)], dtype=np.float64),
}

COLORMAPS: tuple[str, ...] = tuple(_ANCHORS)


def normalize(values, vmin: float, vmax: float) -> np.ndarray:
    """(v - vmin) / (vmax - vmin) clipped to [0, 1]; NaN stays NaN, vmin == vmax gives 0.5."""
    v = np.asarray(values, dtype=np.float64)
    span = float(vmax) - float(vmin)
    if not np.isfinite(span) or span == 0.0:
        t = np.where(np.isnan(v), np.nan, 0.5)
        # +inf / -inf still go to the ends when the range is degenerate.
        t = np.where(v == np.inf, 1.0, np.where(v == -np.inf, 0.0, t))
        return t
    with np.errstate(invalid="ignore", over="ignore"):
        t = (v - float(vmin)) / span
    return np.clip(t, 0.0, 1.0)


def colormap(values, vmin: float, vmax: float, name: str = "viridis") -> np.ndarray:
    """Colours for `values` (any shape) as a uint8 array of shape `values.shape + (3,)`.

    Values are scaled linearly from [vmin, vmax] to the map and clipped at the ends (±inf
    included); NaN becomes `NAN_COLOR`. vmin == vmax maps everything to the middle colour.
    """
    anchors = _ANCHORS.get(name)
    if anchors is None:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")
    t = normalize(values, vmin, vmax)
    nan = np.isnan(t)
    pos = np.where(nan, 0.0, t) * (len(anchors) - 1)
    low = np.minimum(pos.astype(np.int64), len(anchors) - 2)
    frac = (pos - low)[..., None]
    rgb = anchors[low] * (1.0 - frac) + anchors[low + 1] * frac
    out = np.rint(rgb).astype(np.uint8)
    out[nan] = NAN_COLOR
    return out


def to_hex(rgb) -> str:
    """`(r, g, b)` -> "#rrggbb"."""
    r, g, b = (int(c) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
