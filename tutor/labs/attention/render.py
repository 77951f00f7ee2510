"""Matrices as small heat maps of numbers (rich Text: each cell a coloured number), laid out in
bands that fit the width; attention maps as blocks of colour (no Textual widgets here)."""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text

from tutor.widgets.colormap import colormap, to_hex

CELL = 6  # characters per number: a space, then 5
_LUMA = np.array([0.2126, 0.7152, 0.0722])
MASKED_BG = "#3a3a3a"


def fmt(v: float) -> str:
    """A number in exactly CELL characters: −∞ for a masked score, 2 decimals when they fit."""
    if v == -np.inf:
        return "   −∞ "
    if not np.isfinite(v):
        return "   ?  "
    for digits in (2, 1, 0):
        s = f"{v:5.{digits}f}"
        if len(s) <= 5:
            return " " + s
    return " " + f"{v:5.0e}"[:5]


def _cell_styles(values: np.ndarray, kind: str) -> list[list[Style]]:
    """A background per cell (diverging around 0 for signed matrices, viridis 0..1 for
    weights) and black or white text, whichever reads."""
    finite = np.where(np.isfinite(values), values, np.nan)
    if kind == "weights":
        rgb = colormap(finite, 0.0, 1.0, "viridis")
    else:
        span = np.nanmax(np.abs(finite)) if np.isfinite(finite).any() else 1.0
        span = span if span > 0 else 1.0
        rgb = colormap(finite, -span, span, "diverging")
    out = []
    for r, row in enumerate(rgb):
        styles = []
        for c, color in enumerate(row):
            if values[r, c] == -np.inf:
                styles.append(Style(color="#9a9a9a", bgcolor=MASKED_BG))
                continue
            luma = float(color @ _LUMA) / 255.0
            styles.append(Style(color="#000000" if luma > 0.5 else "#ffffff", bgcolor=to_hex(color)))
        out.append(styles)
    return out


def matrix_block(title: str, values: np.ndarray | None, rows: int, cols: int, *,
                 row_labels: list[str] | None = None, kind: str = "signed", lit: bool = False,
                 mark_row: int | None = None) -> list[Text]:
    """Title line, then one line per row: `values` as coloured numbers, or `?` cells when None
    (not computed yet). `mark_row` gets a ▸ in front of its label."""
    width = cols * CELL
    label_w = 0
    if row_labels is not None:
        label_w = max(len(s) for s in row_labels) + 2
    head = Text(" " * label_w + title[: max(width, 1)].ljust(width), style="bold" if lit else "dim")
    lines = [head]
    styles = None if values is None else _cell_styles(values, kind)
    for r in range(rows):
        line = Text()
        if row_labels is not None:
            mark = "▸" if r == mark_row else " "
            line.append(f"{mark}{row_labels[r]:<{label_w - 2}} ", style="bold" if r == mark_row else "")
        for c in range(cols):
            if values is None:
                line.append("   ·  ", style="dim")
            else:
                line.append(fmt(float(values[r, c])), style=styles[r][c])
        lines.append(line)
    return lines


def flow(blocks: list[list[Text]], width: int, gap: int = 2) -> Text:
    """Blocks side by side while they fit `width`, then a new band (a blank line between)."""
    bands: list[list[list[Text]]] = [[]]
    used = 0
    for block in blocks:
        w = max(line.cell_len for line in block)
        need = w if not bands[-1] else used + gap + w
        if bands[-1] and need > width:
            bands.append([])
            need = w
        bands[-1].append(block)
        used = need
    out = Text()
    for b, band in enumerate(bands):
        height = max(len(block) for block in band)
        widths = [max(line.cell_len for line in block) for block in band]
        for r in range(height):
            line = Text()
            for i, block in enumerate(band):
                cell = block[r] if r < len(block) else Text("")
                line.append_text(cell)
                if i + 1 < len(band):
                    line.append(" " * (widths[i] - cell.cell_len + gap))
            out.append_text(line)
            if r + 1 < height or b + 1 < len(bands):
                out.append("\n")
        if b + 1 < len(bands):
            out.append("\n")
    return out


def heat_block(values: np.ndarray, vmin: float, vmax: float, cmap: str, cell_w: int = 2) -> np.ndarray:
    """(2·rows, cols·cell_w, 3) pixels for a PixelView: one entry = cell_w columns x 2 pixels
    (a whole terminal cell high), so rows and columns read as squares-ish."""
    rgb = colormap(values, vmin, vmax, cmap)
    return np.repeat(np.repeat(rgb, 2, axis=0), cell_w, axis=1)
