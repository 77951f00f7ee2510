"""Attention maps of every layer and head as one pixel image with labels (for a PixelView)."""

from __future__ import annotations

import numpy as np

from tutor.widgets.colormap import colormap

BACKGROUND = np.array([24, 24, 28], dtype=np.uint8)


def maps_image(maps: np.ndarray, ideal: np.ndarray | None, width: int,
               max_rows: int = 1000) -> tuple[np.ndarray, dict]:
    """maps (layers, heads, T, T) in [0, 1] (and the ideal map, drawn last in each row) as a
    (2·rows, cols, 3) image and an overlay {(row, col): (text, colour)} of labels.

    Each map gets a label row; an entry is `cw` columns by `ph` pixels, as large as fits in
    `width` columns and `max_rows` terminal rows (3 x 2 for short sequences, 1 x 1 for long)."""
    layers, heads, t, _ = maps.shape
    per_row = heads + (ideal is not None)
    gap = 2
    cw = max(1, min(3, (max(width, 1) - gap * (per_row - 1)) // max(per_row * t, 1)))
    while cw > 1 and layers * (1 + t) > max_rows:  # 2-pixel rows would not fit: 1 x 1 entries
        cw = 1
    ph = 2 if cw >= 2 else 1
    map_w, map_h = t * cw, -(-t * ph // 2) * 2  # height rounded up to whole cells
    band_h = 2 + map_h  # a label row (2 pixels) above each map
    w = per_row * map_w + gap * (per_row - 1)
    img = np.empty((layers * band_h, w, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    overlay = {}
    for l in range(layers):
        top = l * band_h
        for h in range(per_row):
            left = h * (map_w + gap)
            m = maps[l, h] if h < heads else ideal
            rgb = colormap(m, 0.0, 1.0, "viridis")
            block = np.repeat(np.repeat(rgb, ph, axis=0), cw, axis=1)
            img[top + 2: top + 2 + block.shape[0], left: left + map_w] = block
            label = (f"L{l + 1} head {h + 1}" if h < heads else "ideal")[: max(map_w, 1)]
            for i, ch in enumerate(label):
                overlay[(top // 2, left + i)] = (ch, "#c0c0c0")
    return img, overlay
