"""A pixel map of a 2-D data plane: the point each pixel shows, values on it, where points fall.

The flow lab (its density) and the GAN lab (D's belief) draw their plane this way. Plain NumPy
(no Textual): models import it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def plane_grid(bounds, width: int, height: int):
    """(pixel centres (height·width, 2) row-major from the top-left, units per pixel, origin)
    of a width x height map of the box `bounds` = (lo, hi), with square pixels, centred."""
    lo, hi = bounds
    scale = max((hi[0] - lo[0]) / width, (hi[1] - lo[1]) / height)
    centre = (lo + hi) / 2
    origin = centre - scale * np.array([width, -height]) / 2
    xs = origin[0] + scale * (np.arange(width) + 0.5)
    ys = origin[1] - scale * (np.arange(height) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]), scale, origin


def coarse_values(f: Callable[[np.ndarray], np.ndarray], bounds, width: int,
                  height: int) -> np.ndarray:
    """(height, width) values of a smooth f (points (n, 2) -> (n,)) on the map, evaluated at
    the centre of each 2 x 2 pixel block and repeated: a quarter of the points, so a frame
    stays well under 16 ms."""
    w2, h2 = (width + 1) // 2, (height + 1) // 2
    _, scale, origin = plane_grid(bounds, width, height)
    gx, gy = np.meshgrid(origin[0] + scale * (2 * np.arange(w2) + 1.0),
                         origin[1] - scale * (2 * np.arange(h2) + 1.0))
    coarse = np.asarray(f(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(h2, w2)
    return np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)[:height, :width]


def to_dots(x: np.ndarray, bounds, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Braille dot coordinates (2 per cell across, 4 down) of points x (n, 2) on the
    width x height pixel map of `bounds` (height pixels = height / 2 cells)."""
    _, scale, origin = plane_grid(bounds, width, height)
    return (x[:, 0] - origin[0]) / scale * 2, (origin[1] - x[:, 1]) / scale * 2
