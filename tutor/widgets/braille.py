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


class BrailleCanvas:
    """Dots on a grid of `width_cells` x `height_cells` terminal cells (2 x 4 dots each).

    Dot coordinates: x from 0 (left) to 2 * width_cells - 1, y from 0 (top) to
    4 * height_cells - 1. Each cell has one colour: the last one drawn into it wins.
    `cells()` gives a `PixelView.set_overlay` dict; `LineChart` draws with it.
    """

    def __init__(self, width_cells: int, height_cells: int) -> None:
        self.width_cells = max(0, int(width_cells))
        self.height_cells = max(0, int(height_cells))
        self.width = 2 * self.width_cells
        """Width in dots."""
        self.height = 4 * self.height_cells
        """Height in dots."""
        self._bits = np.zeros((self.height_cells, self.width_cells), dtype=np.uint8)
        self._colors: dict[tuple[int, int], str | None] = {}

    def clear(self) -> None:
        """Remove every dot."""
        self._bits[:] = 0
        self._colors.clear()

    def point(self, x: float, y: float, color: str | None = None) -> None:
        """Set the dot at (x, y) (rounded); dots off the canvas or NaN are ignored."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < self.width and 0 <= yi < self.height:
            row, col = yi >> 2, xi >> 1
            self._bits[row, col] |= DOT_BITS[yi & 3][xi & 1]
            self._colors[(row, col)] = color

    def _clip(self, x0: float, y0: float, x1: float, y1: float):
        """Liang-Barsky: the part of the segment inside the canvas, or None."""
        xmax, ymax = self.width - 0.5, self.height - 0.5
        dx, dy = x1 - x0, y1 - y0
        t0, t1 = 0.0, 1.0
        for p, q in ((-dx, x0 + 0.5), (dx, xmax - x0), (-dy, y0 + 0.5), (dy, ymax - y0)):
            if p == 0:
                if q < 0:
                    return None
                continue
            t = q / p
            if p < 0:
                if t > t1:
                    return None
                t0 = max(t0, t)
            else:
                if t < t0:
                    return None
                t1 = min(t1, t)
        return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str | None = None) -> None:
        """Draw a straight line of dots (Bresenham), clipped to the canvas; NaN ends skip it."""
        if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or self.width == 0 or self.height == 0:
            return
        clipped = self._clip(x0, y0, x1, y1)
        if clipped is None:
            return
        xa, ya, xb, yb = (int(round(v)) for v in clipped)
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

    def polyline(self, xs, ys, color: str | None = None) -> None:
        """Join consecutive points with lines; a NaN/inf point breaks the line there.

        A finite point with no finite neighbour is drawn as a single dot.
        """
        xs = np.asarray(xs, dtype=np.float64).ravel()
        ys = np.asarray(ys, dtype=np.float64).ravel()
        n = min(len(xs), len(ys))
        ok = np.isfinite(xs[:n]) & np.isfinite(ys[:n])
        for i in range(n):
            if not ok[i]:
                continue
            joined = False
            if i + 1 < n and ok[i + 1]:
                self.line(xs[i], ys[i], xs[i + 1], ys[i + 1], color)
                joined = True
            if not joined and not (i > 0 and ok[i - 1]):
                self.point(xs[i], ys[i], color)

    def cells(self) -> dict[tuple[int, int], tuple[str, str | None]]:
        """{(row, col): (braille character, colour)} for every cell with at least one dot."""
        rows, cols = np.nonzero(self._bits)
        bits = self._bits[rows, cols]
        return {
            (r, c): (chr(BRAILLE_BASE + b), self._colors.get((r, c)))
            for r, c, b in zip(rows.tolist(), cols.tolist(), bits.tolist())
        }

    def to_text(self) -> str:
        """The canvas as lines of braille characters (blank cells are U+2800), for tests."""
        return "\n".join("".join(chr(BRAILLE_BASE + int(b)) for b in row) for row in self._bits)
