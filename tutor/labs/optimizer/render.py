"""Drawing the race (no Textual): a banded contour map as pixels, trajectories as braille."""

from __future__ import annotations

import math

import numpy as np

from tutor.widgets.braille import DOT_BITS, clip_segments, scale
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


def polyline_dots(dx: np.ndarray, dy: np.ndarray, width: int, height: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The integer dots (x, y) of the polyline through (dx, dy) on a width x height dot grid,
    in one NumPy pass: the points are rounded to dots, each segment clipped to the grid and
    given the dots Bresenham's algorithm draws; a NaN point breaks the line, a lone finite
    point is one dot; dots off the grid are dropped. Returns x, y and, for each dot, the index
    of the point its segment starts at (or of the lone point)."""
    x = np.asarray(dx, dtype=np.float64).ravel()
    y = np.asarray(dy, dtype=np.float64).ravel()
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    empty = np.zeros(0, np.int64)
    if n == 0 or width <= 0 or height <= 0:
        return empty, empty, empty
    ok = np.isfinite(x) & np.isfinite(y)
    x = np.round(np.where(ok, x, 0.0))
    y = np.round(np.where(ok, y, 0.0))
    seg = ok[:-1] & ok[1:]
    alone = ok.copy()
    alone[:-1] &= ~seg
    alone[1:] &= ~seg
    keep, x0, y0, x1, y1 = clip_segments(x[:-1][seg], y[:-1][seg], x[1:][seg], y[1:][seg], width, height)
    xa, ya, xb, yb = (np.rint(v[keep]).astype(np.int64) for v in (x0, y0, x1, y1))
    adx, ady = np.abs(xb - xa), np.abs(yb - ya)
    major = np.maximum(adx, ady)
    counts = major + 1
    owner = np.repeat(np.arange(counts.size), counts)
    k = np.arange(owner.size) - (np.cumsum(counts) - counts)[owner]
    # Bresenham's choice on the minor axis: floor((2 k minor + major) / (2 major)).
    big = major[owner]
    m = (2 * k * np.minimum(adx, ady)[owner] + big) // np.maximum(2 * big, 1)
    x_major = (adx >= ady)[owner]
    px = np.concatenate([xa[owner] + np.sign(xb - xa)[owner] * np.where(x_major, k, m),
                         x[alone].astype(np.int64)])
    py = np.concatenate([ya[owner] + np.sign(yb - ya)[owner] * np.where(x_major, m, k),
                         y[alone].astype(np.int64)])
    source = np.concatenate([np.flatnonzero(seg)[keep][owner], np.flatnonzero(alone)])
    inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    return px[inside], py[inside], source[inside]


#: Bit of each braille dot, [y % 4, x % 2] (Unicode U+2800 block).
_DOT_BITS = np.array(DOT_BITS, dtype=np.uint8)


class TrailCache:
    """Each optimizer's braille trail as a (rows, cols) array of dot bits, extended segment by
    segment as playback moves forward (a frame draws one new segment per optimizer, not the
    whole path), and the merged overlay of all trails, rebuilt only when a trail changed."""

    def __init__(self) -> None:
        self._trails: dict[str, list] = {}
        self._merged: tuple | None = None
        self._version = 0  # one counter for all trails: a version is never reused

    def layers(self, model, names: list[str], rows: int, cols: int) -> list[tuple[np.ndarray, int]]:
        """For each optimizer of `names`: (the dot bits of its trail up to the step shown, a
        version number that changes whenever they do). The new segments of all trails are
        rasterised together, in one NumPy pass."""
        surface = model.surface
        entries, paths, owners = [], [], []
        for name in names:
            run, upto = model.runs[name], model.index(name)
            entry = self._trails.get(name)
            # The run itself, not its id(): a new run may reuse a freed one's id.
            if entry is None or entry[0] is not run or entry[4] != (rows, cols) or upto < entry[1]:
                entry = [run, 0, np.zeros((rows, cols), dtype=np.uint8), -1, (rows, cols)]
            if upto > entry[1] or entry[3] < 0:
                path = run.thetas[entry[1] : upto + 1]
                paths += [path, np.full((1, path.shape[1]), np.nan)]  # NaN: trails stay apart
                owners += [len(entries)] * (path.shape[0] + 1)
                self._version += 1
                entry[1], entry[3] = upto, self._version
            self._trails[name] = entry
            entries.append(entry)
        if paths:
            dx, dy = to_dots(surface, np.concatenate(paths), rows, cols)
            x, y, source = polyline_dots(dx, dy, 2 * cols, 4 * rows)
            trail = np.asarray(owners)[source]
            for i in np.unique(trail).tolist():
                at = trail == i
                xi, yi = x[at], y[at]
                np.bitwise_or.at(entries[i][2], (yi >> 2, xi >> 1), _DOT_BITS[yi & 3, xi & 1])
        return [(e[2], e[3]) for e in entries]

    def merged(self, names: list[str], layers: list[tuple[np.ndarray, int]],
               colors: dict[str, str]) -> dict:
        """The overlay of the trails `layers` (drawn in the order of `names`): every cell with a
        dot of any trail, the dots of all of them, the colour of the last one drawn there."""
        key = (tuple(names), tuple(v for _, v in layers), tuple(colors[n] for n in names))
        if self._merged is not None and self._merged[0] == key:
            return self._merged[1]
        cells: dict = {}
        if layers:
            stack = np.stack([b for b, _ in layers])
            total = np.bitwise_or.reduce(stack, axis=0)
            last = len(layers) - 1 - np.argmax(stack[::-1] != 0, axis=0)
            rr, cc = np.nonzero(total)
            palette = [colors[n] for n in names]
            cells = {
                (r, c): (chr(0x2800 + b), palette[o])
                for r, c, b, o in zip(rr.tolist(), cc.tolist(), total[rr, cc].tolist(),
                                      last[rr, cc].tolist())
            }
        self._merged = (key, cells)
        return cells


def race_overlay(model, rows: int, cols: int, colors: dict[str, str],
                 cache: TrailCache | None = None) -> dict:
    """Braille trajectories up to the current step, each optimizer's current point (● or ✗
    once diverged), the start (◆) and the minima (★); the focused optimizer is drawn last."""
    if rows <= 0 or cols <= 0:
        return {}
    cache = cache or TrailCache()
    surface = model.surface
    names = sorted(model.runs, key=lambda n: n == model.focus)
    layers = cache.layers(model, names, rows, cols)
    cells = dict(cache.merged(names, layers, colors))
    marks = [("★", "#ffffff", m) for m in surface.minima]
    marks.append(("◆", "#ffffff", model.start))
    for name in names:
        marks.append(("✗" if model.has_diverged(name) else "●", colors[name], model.position(name)))
    points = np.array([np.asarray(p, dtype=np.float64).ravel()[:2] for _, _, p in marks])
    dx, dy = to_dots(surface, points, rows, cols)
    with np.errstate(invalid="ignore"):
        col, row = np.floor_divide(np.round(dx), 2), np.floor_divide(np.round(dy), 4)
    for (char, color, _), r, c in zip(marks, row.tolist(), col.tolist()):
        if math.isfinite(r) and math.isfinite(c) and 0 <= r < rows and 0 <= c < cols:
            cells[(int(r), int(c))] = (char, color)
    return cells
