"""A braille dot canvas (pure Python/NumPy): 2 x 4 dots per terminal cell, for lines and points."""

from __future__ import annotations

import math

import numpy as np

#: Bit of each dot in a braille cell, indexed [dy][dx] (Unicode U+2800 block, dots 1-8).
DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))

BRAILLE_BASE = 0x2800


def scale(values, lo: float, hi: float, n: int) -> np.ndarray:
    """Map data in [lo, hi] linearly onto dot coordinates 0 .. n-1 (floats; NaN stays NaN).

    Values outside [lo, hi] map outside the canvas (lines to them are clipped, not bent).
    lo == hi maps everything to the middle. For a y axis that grows upwards use
    `(n - 1) - scale(...)`.
    """
    v = np.asarray(values, dtype=np.float64)
    span = float(hi) - float(lo)
    if not math.isfinite(span) or span == 0.0:
        return np.where(np.isfinite(v), (n - 1) / 2.0, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        out = (v - float(lo)) / span * (n - 1)
    return np.where(np.isfinite(out), out, np.nan)


def clip_segments(x0, y0, x1, y1, width: int, height: int):
    """Liang-Barsky on arrays of segments (float64 ends) against a width x height dot grid,
    the box [-0.5, width - 0.5] x [-0.5, height - 0.5]: (mask of the segments that touch it,
    their clipped ends x0, y0, x1, y1)."""
    dx, dy = x1 - x0, y1 - y0
    xmax, ymax = width - 0.5, height - 0.5
    if x0.size and min(x0.min(), x1.min()) >= -0.5 and max(x0.max(), x1.max()) <= xmax \
            and min(y0.min(), y1.min()) >= -0.5 and max(y0.max(), y1.max()) <= ymax:
        # Every end inside (the usual chart): t0 = 0, t1 = 1 below, so the same ends.
        return np.ones(x0.shape, dtype=bool), x0 + 0.0 * dx, y0 + 0.0 * dy, x0 + dx, y0 + dy
    t0, t1 = np.zeros_like(x0), np.ones_like(x0)
    keep = np.ones(x0.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for p, q in ((-dx, x0 + 0.5), (dx, xmax - x0), (-dy, y0 + 0.5), (dy, ymax - y0)):
            flat = p == 0
            keep &= ~(flat & (q < 0))
            t = np.where(flat, 0.0, q / np.where(flat, 1.0, p))
            enter, leave = (p < 0) & ~flat, (p > 0) & ~flat
            keep &= ~(enter & (t > t1)) & ~(leave & (t < t0))
            t0 = np.where(enter, np.maximum(t0, t), t0)
            t1 = np.where(leave, np.minimum(t1, t), t1)
        return keep, x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


#: DOT_BITS as an array, for drawing many dots at once.
_DOT_ARRAY = np.array(DOT_BITS, dtype=np.uint8)


class BrailleCanvas:
    """Dots on a grid of `width_cells` x `height_cells` terminal cells (2 x 4 dots each).

    Dot coordinates: x from 0 (left) to 2 * width_cells - 1, y from 0 (top) to
    4 * height_cells - 1. Each cell has one colour: the last one drawn into it wins.
    `cells()` gives a `PixelView.set_overlay` dict; `LineChart` draws with it.
    Lines are rasterised with NumPy (the same dots as Bresenham's algorithm), so `lines` and
    `polyline` cost little per segment.
    """

    def __init__(self, width_cells: int, height_cells: int) -> None:
        self.width_cells = max(0, int(width_cells))
        self.height_cells = max(0, int(height_cells))
        self.width = 2 * self.width_cells
        """Width in dots."""
        self.height = 4 * self.height_cells
        """Height in dots."""
        self._bits = np.zeros((self.height_cells, self.width_cells), dtype=np.uint8)
        self._ink = np.full((self.height_cells, self.width_cells), -1, dtype=np.int32)
        self._palette: list[str | None] = []  # colour of each ink index
        self._index: dict[str | None, int] = {}

    def clear(self) -> None:
        """Remove every dot."""
        self._bits[:] = 0
        self._ink[:] = -1

    def _ink_of(self, color: str | None) -> int:
        index = self._index.get(color)
        if index is None:
            index = self._index[color] = len(self._palette)
            self._palette.append(color)
        return index

    def point(self, x: float, y: float, color: str | None = None) -> None:
        """Set the dot at (x, y) (rounded); dots off the canvas or NaN are ignored."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < self.width and 0 <= yi < self.height:
            row, col = yi >> 2, xi >> 1
            self._bits[row, col] |= DOT_BITS[yi & 3][xi & 1]
            self._ink[row, col] = self._ink_of(color)

    def _plot(self, xi: np.ndarray, yi: np.ndarray, color: str | None) -> None:
        """Set many dots at integer coordinates (those off the canvas are dropped)."""
        keep = (xi >= 0) & (xi < self.width) & (yi >= 0) & (yi < self.height)
        if not keep.all():
            xi, yi = xi[keep], yi[keep]
        if xi.size == 0:
            return
        rows, cols = yi >> 2, xi >> 1
        flat = rows * self.width_cells + cols
        np.bitwise_or.at(self._bits.reshape(-1), flat, _DOT_ARRAY[yi & 3, xi & 1])
        self._ink.reshape(-1)[flat] = self._ink_of(color)

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str | None = None) -> None:
        """Draw a straight line of dots (Bresenham), clipped to the canvas; NaN ends skip it."""
        if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or self.width == 0 or self.height == 0:
            return
        keep, *clipped = clip_segments(*(np.array([v], dtype=np.float64) for v in (x0, y0, x1, y1)),
                                       self.width, self.height)
        if not keep[0]:
            return
        xa, ya, xb, yb = (int(round(float(v[0]))) for v in clipped)
        dx, dy = abs(xb - xa), -abs(yb - ya)
        sx, sy = (1 if xb >= xa else -1), (1 if yb >= ya else -1)
        err = dx + dy
        while True:
            self.point(xa, ya, color)
            if xa == xb and ya == yb:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                xa += sx
            if e2 <= dx:
                err += dx
                ya += sy

    def lines(self, x0, y0, x1, y1, color: str | None = None) -> None:
        """Draw many lines at once (arrays of ends): the same dots as `line` on each, in NumPy.

        Segments with a NaN/inf end are skipped; the rest are clipped to the canvas.
        """
        x0, y0, x1, y1 = (np.asarray(v, dtype=np.float64).ravel() for v in (x0, y0, x1, y1))
        if self.width == 0 or self.height == 0 or x0.size == 0:
            return
        ok = np.isfinite(x0) & np.isfinite(y0) & np.isfinite(x1) & np.isfinite(y1)
        keep, x0, y0, x1, y1 = clip_segments(x0[ok], y0[ok], x1[ok], y1[ok], self.width, self.height)
        if not keep.any():
            return
        # Rounded like Python's round() (half to even), as `line` does.
        xa, ya, xb, yb = (np.rint(v[keep]).astype(np.int64) for v in (x0, y0, x1, y1))
        adx, ady = np.abs(xb - xa), np.abs(yb - ya)
        sx, sy = np.where(xb >= xa, 1, -1), np.where(yb >= ya, 1, -1)
        major = np.maximum(adx, ady)
        counts = major + 1
        seg = np.repeat(np.arange(len(xa)), counts)
        k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        # Bresenham's choice on the minor axis: floor((2 k minor + major) / (2 major)).
        big, small = major[seg], np.minimum(adx, ady)[seg]
        m = (2 * k * small + big) // np.maximum(2 * big, 1)
        x_major = (adx >= ady)[seg]
        xs = xa[seg] + sx[seg] * np.where(x_major, k, m)
        ys = ya[seg] + sy[seg] * np.where(x_major, m, k)
        self._plot(xs, ys, color)

    def polyline(self, xs, ys, color: str | None = None) -> None:
        """Join consecutive points with lines; a NaN/inf point breaks the line there.

        A finite point with no finite neighbour is drawn as a single dot.
        """
        xs = np.asarray(xs, dtype=np.float64).ravel()
        ys = np.asarray(ys, dtype=np.float64).ravel()
        n = min(len(xs), len(ys))
        xs, ys = xs[:n], ys[:n]
        ok = np.isfinite(xs) & np.isfinite(ys)
        joined = ok[:-1] & ok[1:]
        self.lines(xs[:-1][joined], ys[:-1][joined], xs[1:][joined], ys[1:][joined], color)
        before = np.concatenate([[False], joined])
        after = np.concatenate([joined, [False]])
        lone = ok & ~before & ~after
        if lone.any():
            x, y = np.rint(xs[lone]), np.rint(ys[lone])
            inside = (x >= 0) & (x < self.width) & (y >= 0) & (y < self.height)
            self._plot(x[inside].astype(np.int64), y[inside].astype(np.int64), color)

    def grid(self) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """The canvas as arrays (not copies): dot bits per cell (uint8, 0 = empty), the ink index of
        each cell (int32; -1 = never drawn) and the colour of each ink index."""
        return self._bits, self._ink, self._palette

    def cells(self) -> dict[tuple[int, int], tuple[str, str | None]]:
        """{(row, col): (braille character, colour)} for every cell with at least one dot."""
        rows, cols = np.nonzero(self._bits)
        bits = self._bits[rows, cols]
        ink = self._ink[rows, cols]
        palette = self._palette + [None]  # -1 (never happens with dots) -> None
        return {
            (r, c): (chr(BRAILLE_BASE + b), palette[i])
            for r, c, b, i in zip(rows.tolist(), cols.tolist(), bits.tolist(), ink.tolist())
        }

    def to_text(self) -> str:
        """The canvas as lines of braille characters (blank cells are U+2800), for tests."""
        return "\n".join("".join(chr(BRAILLE_BASE + int(b)) for b in row) for row in self._bits)
