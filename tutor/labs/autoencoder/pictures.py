"""Pixels and dots of the autoencoder lab (NumPy only): digit tiles, pages of tiles, the latent
scatter coloured by class, and the point cloud with its principal and learned subspaces."""

from __future__ import annotations

import math

import numpy as np

from tutor.widgets.braille import BrailleCanvas, scale
from tutor.widgets.palette import CLASS_RGB, GREEN, ORANGE

BACKGROUND = np.array([18, 18, 22], dtype=np.uint8)
#: One colour per digit class 0-9 (the scatter and its legend).
CLASS_COLORS = np.array(CLASS_RGB + ((200, 200, 200), (150, 110, 60), (120, 170, 255)),
                        dtype=np.uint8)
PRINCIPAL = GREEN
LEARNED = ORANGE
POINTS = "#9aa0aa"
RESIDUAL = "#5a6070"


def to_hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


def tile(image, small: bool = False, big: bool = False) -> np.ndarray:
    """A 256-pixel digit as a (16, 16, 3) grey tile; `small`: 2x2 averaged to (8, 8, 3);
    `big`: each pixel doubled to (32, 32, 3)."""
    img = np.clip(np.asarray(image, dtype=np.float64).reshape(16, 16), 0.0, 1.0)
    if small:
        img = img.reshape(8, 2, 8, 2).mean(axis=(1, 3))
    elif big:
        img = np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)
    # 32 grey levels: smooth to the eye, and the last-bit differences of another CPU's vector
    # width (the linear kernels may reorder sums) do not change a snapshot
    grey = np.rint(np.rint(img * 31) / 31 * 235 + 20).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def page(rows: list[list[np.ndarray | None]], gap: int = 1, width: int | None = None) -> np.ndarray:
    """Tiles laid out row by row with `gap` background pixels between them (None: an empty
    slot). All tiles of a row share its height; the page is cut or padded to `width`."""
    if not rows or not any(rows):
        return np.full((2, max(1, width or 1), 3), BACKGROUND, dtype=np.uint8)
    heights = [max((t.shape[0] for t in r if t is not None), default=0) for r in rows]
    widths = [sum((t.shape[1] if t is not None else 16) + gap for t in r) for r in rows]
    w = width if width is not None else max(widths)
    h = sum(heights) + gap * (len(rows) - 1)
    out = np.empty((max(h, 1), max(w, 1), 3), dtype=np.uint8)
    out[:] = BACKGROUND
    y = 0
    for r, height in zip(rows, heights):
        x = 0
        for t in r:
            tw = t.shape[1] if t is not None else 16
            if t is not None and x < w:
                cut = min(tw, w - x)
                out[y: y + t.shape[0], x: x + cut] = t[:, :cut]
            x += tw + gap
        y += height + gap
    return out


def scatter_pixels(codes: np.ndarray, labels: np.ndarray, lo, hi, width: int,
                   height: int) -> np.ndarray:
    """(height, width, 3): each code a pixel in its class's colour over [lo, hi] (x right,
    z₂ up); codes outside the box are left out."""
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[:] = BACKGROUND
    if width < 1 or height < 1 or len(codes) == 0:
        return out
    cols, rows = latent_to_pixel(codes, lo, hi, width, height)
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    out[rows[inside], cols[inside]] = CLASS_COLORS[np.asarray(labels)[inside] % 10]
    return out


def latent_to_pixel(z, lo, hi, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (col, row) arrays of latent points z (N, 2) in a width x height image of [lo, hi]."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    span = np.maximum(np.asarray(hi, float) - np.asarray(lo, float), 1e-12)
    fx = (z[:, 0] - lo[0]) / span[0]
    fy = (hi[1] - z[:, 1]) / span[1]
    with np.errstate(invalid="ignore"):
        cols = np.floor(np.nan_to_num(fx, nan=-1.0) * width).astype(int)
        rows = np.floor(np.nan_to_num(fy, nan=-1.0) * height).astype(int)
    cols = np.where(fx == 1.0, width - 1, cols)  # the box's right and bottom edges are inside
    rows = np.where(fy == 1.0, height - 1, rows)
    return cols, rows


def pixel_to_latent(col: float, row: float, lo, hi, width: int, height: int) -> np.ndarray:
    """The latent point at the centre of pixel (col, row)."""
    return np.array([lo[0] + (col + 0.5) / width * (hi[0] - lo[0]),
                     hi[1] - (row + 0.5) / height * (hi[1] - lo[1])])


def projection(d: int, azimuth: float) -> np.ndarray:
    """(2, d) map from data space to the screen: identity in 2-D; in 3-D a view from `azimuth`
    degrees around the vertical (third) axis and 30 degrees above."""
    if d == 2:
        return np.eye(2)
    a, e = math.radians(azimuth), math.radians(30.0)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.0]])
    rx = np.array([[1.0, 0, 0], [0, math.cos(e), -math.sin(e)], [0, math.sin(e), math.cos(e)]])
    return (rx @ rz)[[0, 2]]


def cloud_overlay(X, mean, principal, learned, eigenvalues, width_cells: int,
                  height_cells: int, azimuth: float = 30.0, residuals=None) -> dict:
    """Braille overlay: the points, the principal subspace (green) and the decoder's subspace
    (orange) through the mean: a line per direction for k = 1, the circle of radius 2.5 √λ₁ in
    the plane for k = 2. `residuals`: (x, x̂) pairs drawn as faint segments."""
    canvas = BrailleCanvas(width_cells, height_cells)
    if canvas.width < 2 or canvas.height < 2:
        return {}
    P = projection(X.shape[1], azimuth)
    screen = (X - mean) @ P.T
    reach = 2.5 * math.sqrt(max(float(eigenvalues[0]), 1e-12))
    half = max(float(np.max(np.abs(screen))) if screen.size else 1.0, reach) * 1.05
    # equal units on both axes: braille dots are (about) square
    ux = half / (canvas.width / 2)
    uy = half / (canvas.height / 2)
    unit = max(ux, uy)
    hx, hy = unit * canvas.width / 2, unit * canvas.height / 2

    def to_dots(pts):
        pts = np.atleast_2d(pts)
        return scale(pts[:, 0], -hx, hx, canvas.width), (canvas.height - 1) - scale(pts[:, 1], -hy, hy, canvas.height)

    if residuals is not None:
        a, b = residuals
        (ax, ay), (bx, by) = to_dots((a - mean) @ P.T), to_dots((b - mean) @ P.T)
        canvas.lines(ax, ay, bx, by, RESIDUAL)
    xs, ys = to_dots(screen)
    for x, y in zip(xs.tolist(), ys.tolist()):
        canvas.point(x, y, POINTS)
    for basis, color in ((principal, PRINCIPAL), (learned, LEARNED)):
        if basis.shape[1] == 1:
            u = basis[:, 0] * reach
            (x0, x1), (y0, y1) = to_dots(np.stack([-u, u]) @ P.T)
            canvas.line(x0, y0, x1, y1, color)
        else:
            t = np.linspace(0.0, 2 * math.pi, 73)
            ring = (np.cos(t)[:, None] * basis[:, 0] + np.sin(t)[:, None] * basis[:, 1]) * reach
            rx, ry = to_dots(ring @ P.T)
            canvas.polyline(rx, ry, color)
    return canvas.cells()
