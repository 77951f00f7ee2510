"""Drawing the race (no Textual): a banded contour map as pixels, trajectories as braille."""

from __future__ import annotations

import numpy as np

from tutor.widgets.braille import BrailleCanvas, scale
from tutor.widgets.colormap import colormap

#: Number of filled contour bands of the map.
BANDS = 14
#: Map colours are dimmed by this factor so the bright trajectories stand out.
DIM = 0.7


def map_values(surface, rows: int, cols: int) -> np.ndarray:
    """log10(L − L* + δ) on a (2 rows, cols) pixel grid (pixel row 0 = top = largest y)."""
    (x0, x1), (y0, y1) = surface.bounds
    xs = x0 + (np.arange(cols) + 0.5) / cols * (x1 - x0)
    ys = y1 - (np.arange(2 * rows) + 0.5) / (2 * rows) * (y1 - y0)
    z = surface.grid(xs, ys) - surface.f_min
    finite = z[np.isfinite(z)]
    spread = float(np.median(finite)) if finite.size else 1.0
    delta = max(1e-3 * spread, 1e-12)
    with np.errstate(all="ignore"):
        return np.log10(np.maximum(z, 0.0) + delta)


def map_pixels(surface, rows: int, cols: int) -> np.ndarray:
    """The filled contour map, (2 rows, cols, 3) uint8: the log loss cut into `BANDS` bands."""
    if rows <= 0 or cols <= 0:
        return np.zeros((0, 0, 3), dtype=np.uint8)
    v = map_values(surface, rows, cols)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return np.zeros((2 * rows, cols, 3), dtype=np.uint8)
    lo, hi = np.percentile(finite, [1, 99])
    if hi <= lo:
        hi = lo + 1.0
    t = np.clip((v - lo) / (hi - lo), 0.0, 1.0)
    banded = np.floor(t * (BANDS - 1e-9)) / (BANDS - 1)
    rgb = colormap(banded, 0.0, 1.0, "viridis").astype(np.float64) * DIM
    return rgb.astype(np.uint8)


def to_dots(surface, points: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Braille dot coordinates (x, y) of points (k, 2) on a map of rows x cols cells."""
    (x0, x1), (y0, y1) = surface.bounds
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    dx = scale(pts[:, 0], x0, x1, 2 * cols)
    dy = (4 * rows - 1) - scale(pts[:, 1], y0, y1, 4 * rows)
    return dx, dy


def to_cell(surface, point, rows: int, cols: int) -> tuple[int, int] | None:
    """The (row, col) cell of a point, or None when it is off the map."""
    dx, dy = to_dots(surface, np.asarray(point), rows, cols)
    if not (np.isfinite(dx[0]) and np.isfinite(dy[0])):
        return None
    col, row = int(round(dx[0])) // 2, int(round(dy[0])) // 4
    if 0 <= row < rows and 0 <= col < cols:
        return row, col
    return None


def pixel_to_point(surface, x: int, y: int, rows: int, cols: int) -> tuple[float, float]:
    """The (x, y) of the surface at the centre of a clicked cell (pixel column x, top pixel y)."""
    (x0, x1), (y0, y1) = surface.bounds
    px = x0 + (x + 0.5) / max(cols, 1) * (x1 - x0)
    py = y1 - (y + 1.0) / max(2 * rows, 1) * (y1 - y0)
    return float(px), float(py)


def _distinct(dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dot coordinates rounded, with consecutive repeats dropped: a converged run adds no work."""
    with np.errstate(invalid="ignore"):
        x = np.round(dx)
        y = np.round(dy)
    if x.size < 2:
        return x, y
    keep = np.ones(x.size, dtype=bool)
    keep[1:] = (x[1:] != x[:-1]) | (y[1:] != y[:-1])
    return x[keep], y[keep]


class TrailCache:
    """Each optimizer's braille trail, extended segment by segment as playback moves forward
    (a frame then draws one new segment per optimizer instead of the whole path)."""

    def __init__(self) -> None:
        self._trails: dict[str, tuple] = {}

    def cells(self, name: str, run, upto: int, surface, rows: int, cols: int, color: str) -> dict:
        key = (id(run), rows, cols, color)
        entry = self._trails.get(name)
        if entry is None or entry[0] != key or upto < entry[1]:
            entry = (key, 0, BrailleCanvas(cols, rows), None)
        _, done, canvas, last = entry
        if upto > done or last is None:
            start = max(done, 0)
            path = run.thetas[start : upto + 1]
            dx, dy = _distinct(*to_dots(surface, path, rows, cols))
            canvas.polyline(dx, dy, color)
            last = canvas.cells()
        self._trails[name] = (key, upto, canvas, last)
        return last


def _merge(into: dict, cells: dict) -> None:
    """Overlay braille cells: dots of both trails are kept (bitwise or), the newer colour wins."""
    for cell, (char, color) in cells.items():
        old = into.get(cell)
        if old is not None:
            char = chr(0x2800 | ((ord(old[0]) - 0x2800) | (ord(char) - 0x2800)))
        into[cell] = (char, color)


def race_overlay(model, rows: int, cols: int, colors: dict[str, str],
                 cache: TrailCache | None = None) -> dict:
    """Braille trajectories up to the current step, each optimizer's current point (● or ✗
    once diverged), the start (◆) and the minima (★); the focused optimizer is drawn last."""
    if rows <= 0 or cols <= 0:
        return {}
    cache = cache or TrailCache()
    names = sorted(model.runs, key=lambda n: n == model.focus)
    cells: dict = {}
    for name in names:
        _merge(cells, cache.cells(name, model.runs[name], model.index(name), model.surface,
                                  rows, cols, colors[name]))
    for m in model.surface.minima:
        cell = to_cell(model.surface, m, rows, cols)
        if cell:
            cells[cell] = ("★", "#ffffff")
    cell = to_cell(model.surface, model.start, rows, cols)
    if cell:
        cells[cell] = ("◆", "#ffffff")
    for name in names:
        cell = to_cell(model.surface, model.position(name), rows, cols)
        if cell:
            cells[cell] = ("✗" if model.has_diverged(name) else "●", colors[name])
    return cells
