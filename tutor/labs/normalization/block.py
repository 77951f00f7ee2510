"""Drawing an N x C x H x W batch as coloured cells, the normalized group lit (notes fig. 4.14)."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from tutor.widgets.colormap import colormap

DIM = 0.22  # brightness of cells outside the highlighted group
BACKGROUND = np.array([30, 30, 38], dtype=np.float64)


def _colors(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = float(np.max(np.abs(a))) or 1.0
    rgb = colormap(a, -m, m, "diverging").astype(np.float64)
    dimmed = BACKGROUND + DIM * (rgb - BACKGROUND)
    return np.where(mask[..., None], rgb, dimmed).astype(np.uint8)


def block_lines(a: np.ndarray, mask: np.ndarray, title: str) -> list[Text]:
    """Lines drawing `a` (N, C, H, W): one row of cells per (n, h), channels side by side."""
    n, c, h, w = a.shape
    rgb = _colors(a, mask)
    width = c * (2 * w + 1) - 1
    lines = [Text(title[: width + 4].ljust(width + 4), style="bold")]
    header = "N↓C→" + " ".join(f"c{k}".ljust(2 * w) for k in range(c))
    lines.append(Text(header, style="dim"))
    for i in range(n):
        for r in range(h):
            line = Text(f"n{i}  " if r == 0 else "    ", style="dim")
            for k in range(c):
                for j in range(w):
                    cr, cg, cb = rgb[i, k, r, j]
                    line.append("██", style=f"#{cr:02x}{cg:02x}{cb:02x}")
                if k < c - 1:
                    line.append(" ")
            lines.append(line)
        if i < n - 1:
            lines.append(Text(""))
    return lines


def side_by_side(left: list[Text], right: list[Text], gap: int = 3) -> Text:
    """Two blocks next to each other (the left one padded to its widest line)."""
    width = max(len(t.plain) for t in left)
    out = Text()
    for k in range(max(len(left), len(right))):
        line = left[k].copy() if k < len(left) else Text("")
        line.pad_right(width - len(line.plain) + gap)
        if k < len(right):
            line.append_text(right[k])
        out.append_text(line)
        out.append("\n")
    return out


def stacked(top: list[Text], bottom: list[Text]) -> Text:
    out = Text()
    for line in [*top, Text(""), *bottom]:
        out.append_text(line)
        out.append("\n")
    return out
