"""Turning the convolution lab's arrays into PixelView pixels: fit, colour, outline, tile."""

from __future__ import annotations

import warnings

import numpy as np

from tutor.widgets.colormap import colormap

GAP_RGB = (24, 24, 32)
HIGHLIGHT = (255, 170, 0)
CURSOR = (0, 220, 255)


def scale_for(h: int, w: int, cols: int, pix_rows: int) -> float:
    """The largest scale (display pixels per image pixel) that fits cols x pix_rows."""
    return max(1e-6, min(cols / max(w, 1), pix_rows / max(h, 1)))


def fit(img: np.ndarray, cols: int, pix_rows: int, shrink: str = "mean") -> tuple[np.ndarray, float]:
    """Resample a 2-D array to fit cols x pix_rows; returns (array, scale).

    Enlarging repeats pixels (each stays a visible square). Shrinking combines each block of
    source pixels: "mean" for images, "maxabs" (the value of largest magnitude, sign kept) for
    activation maps, so one-pixel edges do not vanish. NaN gaps are ignored where possible.
    """
    h, w = img.shape[:2]
    s = scale_for(h, w, cols, pix_rows)
    if s >= 1:
        s = float(int(s))  # whole pixels: every image pixel gets the same number of cells
    dh, dw = max(1, int(h * s)), max(1, int(w * s))
    rows = np.minimum((np.arange(dh) / s).astype(np.int64), h - 1)
    cols_ = np.minimum((np.arange(dw) / s).astype(np.int64), w - 1)
    if s >= 1 or img.ndim != 2:
        return img[rows][:, cols_], s
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if shrink == "maxabs":
            hi = np.fmax.reduceat(np.fmax.reduceat(img, rows, axis=0), cols_, axis=1)
            lo = np.fmin.reduceat(np.fmin.reduceat(img, rows, axis=0), cols_, axis=1)
            return np.where(np.abs(lo) > np.abs(hi), lo, hi), s
        valid = np.isfinite(img)
        total = np.add.reduceat(np.add.reduceat(np.where(valid, img, 0.0), rows, axis=0), cols_, axis=1)
        count = np.add.reduceat(np.add.reduceat(valid.astype(np.float64), rows, axis=0), cols_, axis=1)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), s


def signed_limits(a: np.ndarray) -> tuple[float, float, str]:
    """(vmin, vmax, colormap): gray 0..max for non-negative maps, diverging ±max otherwise."""
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return 0.0, 1.0, "gray"
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0:
        return 0.0, max(hi, 1e-12), "gray"
    m = max(abs(lo), abs(hi), 1e-12)
    return -m, m, "diverging"


def to_rgb(a: np.ndarray, vmin: float | None = None, vmax: float | None = None, name: str | None = None) -> np.ndarray:
    """Colour a 2-D float array (NaN = gap colour) as uint8 (H, W, 3)."""
    if vmin is None or vmax is None or name is None:
        vmin, vmax, name = signed_limits(a)
    rgb = colormap(np.nan_to_num(a, nan=vmin), vmin, vmax, name)
    gaps = np.isnan(a)
    if gaps.any():
        rgb[gaps] = GAP_RGB
    return rgb


def image_pixels(img: np.ndarray, cols: int, pix_rows: int, signed: bool = False):
    """(uint8 pixels, scale) of a gray image in [0, 1] or (signed=True) of an activation map."""
    shown, s = fit(img, cols, pix_rows, "maxabs" if signed else "mean")
    rgb = to_rgb(shown) if signed else to_rgb(shown, 0.0, 1.0, "gray")
    return rgb, s


def outline(rgb: np.ndarray, r0: float, r1: float, c0: float, c1: float, s: float, color=HIGHLIGHT) -> None:
    """Draw (in place) the border of image rows [r0, r1) x cols [c0, c1) at display scale s."""
    h, w = rgb.shape[:2]
    top, bottom = int(np.floor(r0 * s)), int(np.ceil(r1 * s)) - 1
    left, right = int(np.floor(c0 * s)), int(np.ceil(c1 * s)) - 1
    t, b = max(top, 0), min(bottom, h - 1)
    lft, rgt = max(left, 0), min(right, w - 1)
    if t > b or lft > rgt:
        return
    if 0 <= top < h:
        rgb[top, lft : rgt + 1] = color
    if 0 <= bottom < h:
        rgb[bottom, lft : rgt + 1] = color
    if 0 <= left < w:
        rgb[t : b + 1, left] = color
    if 0 <= right < w:
        rgb[t : b + 1, right] = color


def fill(rgb: np.ndarray, r0: float, r1: float, c0: float, c1: float, s: float, color=CURSOR) -> None:
    """Paint (in place) image rows [r0, r1) x cols [c0, c1) at display scale s."""
    h, w = rgb.shape[:2]
    top, bottom = max(int(np.floor(r0 * s)), 0), min(max(int(np.ceil(r1 * s)), int(np.floor(r0 * s)) + 1), h)
    left, right = max(int(np.floor(c0 * s)), 0), min(max(int(np.ceil(c1 * s)), int(np.floor(c0 * s)) + 1), w)
    if top < bottom and left < right:
        rgb[top:bottom, left:right] = color


def mosaic(maps: list[np.ndarray], columns: int, gap: int = 1) -> np.ndarray:
    """Tile 2-D maps (each scaled to [-1, 1] by its own max |value|) in a grid; gaps are NaN."""
    if not maps:
        return np.full((1, 1), np.nan)
    h = max(m.shape[0] for m in maps)
    w = max(m.shape[1] for m in maps)
    columns = max(1, min(columns, len(maps)))
    rows = -(-len(maps) // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan)
    for k, m in enumerate(maps):
        r, c = divmod(k, columns)
        peak = float(np.nanmax(np.abs(m))) if m.size else 0.0
        out[r * (h + gap) : r * (h + gap) + m.shape[0], c * (w + gap) : c * (w + gap) + m.shape[1]] = (
            m / peak if peak > 0 else m
        )
    return out
