"""GridView: the Gridworld drawn large, one coloured block of text per cell (Line API)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tutor.widgets.colormap import colormap
from tutor.widgets.palette import ORANGE

ARROWS = "↑↓←→"
#: The arrows of each 4-bit mask of greedy moves (bit a set: action a is greedy).
ARROW_SETS = tuple("".join(a for i, a in enumerate(ARROWS) if m >> i & 1) for m in range(16))
WALL_BG, WALL_FG = "#262626", "#5a5a5a"
TERMINAL_BG, TERMINAL_FG = "#56657a", "#ffffff"
#: Terminal cells whose entering reward is negative (the cliff, the -1 exit) or positive.
PIT_BG, GOAL_BG = "#8c2f39", "#2e7d4f"
SELECT_FG = ORANGE
AGENT_FG = "#ff3030"


@lru_cache(maxsize=8192)
def _fmt(value: float, width: int) -> str:
    if not math.isfinite(value):
        return "nan"[:width] if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if value == 0:
        return "0"  # no "-0"
    for spec in (".3g", ".2g", ".0f"):
        text = format(value, spec)
        if len(text) <= width and "e" not in text:
            return text
    text = format(value, ".0e").replace("e+0", "e").replace("e-0", "e-")
    return text if len(text) <= width else "#" * max(width, 0)


def fmt(value: float, width: int) -> str:
    """`value` in at most `width` characters (3 significant digits when they fit)."""
    return _fmt(float(value), int(width))


@dataclass(frozen=True)
class GridData:
    """What to draw: kinds (rows, cols) 0 free 1 wall 2 terminal 3 teleport; values (rows,
    cols); arrows (rows, cols, 4) bool; q (rows, cols, 4) or None; labels {(r, c): text} shown
    on the cell's first line (entering rewards, teleports); selected and agent cells or None;
    rewards {(r, c): reward for entering} colour terminal cells red (< 0) or green (> 0)."""

    kinds: np.ndarray
    values: np.ndarray
    arrows: np.ndarray
    q: np.ndarray | None = None
    labels: dict | None = None
    selected: tuple[int, int] | None = None
    agent: tuple[int, int] | None = None
    rewards: dict | None = None


#: Values are drawn in this many colour levels, so every cell style comes from a fixed table.
LEVELS = 256


def _make_level_styles() -> list[Style]:
    t = np.append(np.linspace(0.0, 1.0, LEVELS), np.nan)
    styles = []
    for rgb in colormap(t, 0.0, 1.0, "viridis").tolist():
        light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140
        styles.append(Style(bgcolor="#{:02x}{:02x}{:02x}".format(*rgb),
                            color="#000000" if light else "#ffffff"))
    return styles


_LEVEL_STYLES = _make_level_styles()


def levels(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """int64 colour levels of `values` scaled from [vmin, vmax] (clipped; ±inf at the ends,
    NaN → LEVELS, vmin == vmax → the middle level)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        t = (values - vmin) / (vmax - vmin) if vmax > vmin else np.where(
            np.isnan(values), np.nan, 0.5)
        t = np.clip(t, 0.0, 1.0) * (LEVELS - 1)
    out = np.full(values.shape, LEVELS, dtype=np.int64)
    ok = ~np.isnan(t)
    out[ok] = np.rint(t[ok])
    return out


def _terminal_style(reward: float | None) -> Style:
    bg = TERMINAL_BG if not reward else PIT_BG if reward < 0 else GOAL_BG
    return _TERMINAL_STYLES[bg]


_TERMINAL_STYLES = {bg: Style(bgcolor=bg, color=TERMINAL_FG, bold=True)
                    for bg in (TERMINAL_BG, PIT_BG, GOAL_BG)}


class GridView(Widget):
    """Each cell is a block of `cw` x `ch` characters coloured by its value (viridis), with the
    value, the greedy moves as arrows, and optionally the four Q-values around the centre.

    Cell sizes adapt to the space: 3 lines x 9 columns when there is room (13 with Q-values),
    down to one character per cell (colour and arrow only) on large grids. Clicking a cell posts
    `GridView.CellClicked`.
    """

    DEFAULT_CSS = """
    GridView {
        width: 1fr;
        height: 1fr;
        min-height: 3;
        background: $surface;
    }
    """

    class CellClicked(Message):
        """A cell was clicked: `row`, `col`, and whether shift or the right button was used."""

        def __init__(self, row: int, col: int, shift: bool, button: int) -> None:
            super().__init__()
            self.row, self.col, self.shift, self.button = row, col, shift, button

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data: GridData | None = None
        self._version = 0
        self._key: tuple | None = None
        self._strips: list[Strip] = []
        self._geometry = (1, 1, 0, 0)  # cw, ch, x0, y0
        self._styles: dict = {}  # ("edge", cell style) -> the selected cell's edge style

    def show(self, data: GridData) -> None:
        self.data = data
        self._version += 1
        self.refresh()

    # --- geometry --------------------------------------------------------------------------
    def geometry(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(cell width, cell height, x offset, y offset) for the current data and size."""
        if self.data is None:
            return 1, 1, 0, 0
        rows, cols = self.data.kinds.shape
        max_w = 13 if self.data.q is not None else 11
        cw = max(1, min(max_w, width // cols))
        ch = max(1, min(5, height // rows))
        x0 = max(0, (width - cw * cols) // 2)
        y0 = max(0, (height - ch * rows) // 2)
        return cw, ch, x0, y0

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The (row, col) under widget coordinates (x, y), or None."""
        if self.data is None:
            return None
        cw, ch, x0, y0 = self._geometry
        rows, cols = self.data.kinds.shape
        if x < x0 or y < y0:
            return None
        r, c = (y - y0) // ch, (x - x0) // cw
        return (int(r), int(c)) if r < rows and c < cols else None

    def on_click(self, event: events.Click) -> None:
        cell = self.cell_at(event.x, event.y)
        if cell is not None:
            event.stop()
            self.post_message(self.CellClicked(*cell, event.shift, event.button))

    # --- drawing ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width, height = self.size
        ascii_mode = bool(getattr(self.app, "ascii_mode", False)) or "NO_COLOR" in os.environ
        key = (width, height, self._version, ascii_mode)
        if key != self._key:
            self._strips = self._build(width, height, ascii_mode)
            self._key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def _build(self, width: int, height: int, ascii_mode: bool) -> list[Strip]:
        data = self.data
        if data is None or width <= 0 or height <= 0:
            return []
        self._geometry = cw, ch, x0, y0 = self.geometry(width, height)
        rows, cols = data.kinds.shape
        free = data.kinds != 1
        free &= data.kinds != 2
        finite = data.values[free & np.isfinite(data.values)]
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        styles = [[_LEVEL_STYLES[i] for i in row]
                  for row in levels(data.values, vmin, vmax).tolist()]
        kinds, values = data.kinds.tolist(), data.values.tolist()
        masks = (data.arrows.astype(np.int64) @ np.array([1, 2, 4, 8])).tolist()
        if ch == 1 and cw < 5 and data.q is None and not ascii_mode:
            blocks = self._small_cells(data, cw, styles, kinds, values, masks)
        else:
            blocks = [[self._cell(data, r, c, cw, ch, styles[r][c], ascii_mode, kinds[r][c],
                                  values[r][c], ARROW_SETS[masks[r][c]])
                       for c in range(cols)] for r in range(rows)]
        strips = []
        blank = self.rich_style  # padding needs a real style (the monochrome filter reads it)
        pad_left = [Segment(" " * x0, blank)] if x0 else []
        right = width - x0 - cols * cw
        pad_right = [Segment(" " * right, blank)] if right > 0 else []
        for y in range(height):
            r, i = divmod(y - y0, ch)
            if y < y0 or r >= rows:
                strips.append(Strip.blank(width, blank))
                continue
            segments = list(pad_left)
            for c in range(cols):
                segments.extend(blocks[r][c][i])
            if right >= 0:  # exactly `width` cells: no measuring or cropping needed
                segments.extend(pad_right)
                strips.append(Strip(segments, width))
            else:
                strips.append(Strip(segments).crop_extend(0, width, blank))
        return strips

    def _small_cells(self, data: GridData, cw: int, styles, kinds, values, masks):
        """The fast path for grids of one-line cells narrower than 5 (a 20 x 20 grid beside a
        lesson): one segment per cell. Cells narrower than 4 show the greedy arrow alone (a
        value squeezed into one or two characters was mostly "#" and read as noise)."""
        wall = Style(bgcolor=WALL_BG, color=WALL_FG)
        labels, rewards = data.labels or {}, data.rewards or {}
        arrows = [(ARROW_SETS[m][:1] or "·").center(cw) for m in range(16)]
        blocks = []
        for r, (krow, vrow, mrow, srow) in enumerate(zip(kinds, values, masks, styles)):
            row = []
            for c, kind in enumerate(krow):
                if kind == 1:
                    text, style = "▒" * cw, wall
                elif kind == 2:
                    label = labels.get((r, c)) or "end"
                    text = (label if len(label) < cw else "■").center(cw)
                    style = _terminal_style(rewards.get((r, c)))
                else:
                    text, style = arrows[mrow[c]], srow[c]
                    if cw >= 4:
                        value = fmt(vrow[c], cw - 1)
                        if "#" not in value:
                            text = (ARROW_SETS[mrow[c]][:1] or "·") + value
                            text = text.center(cw)
                if data.agent == (r, c):
                    mid = cw // 2
                    row.append([[Segment(text[:mid], style),
                                 Segment("@", style + Style(color=AGENT_FG, bold=True)),
                                 Segment(text[mid + 1:], style)]])
                elif data.selected == (r, c):
                    row.append([[Segment(text, style + Style(reverse=True))]])
                else:
                    row.append([[Segment(text, style)]])
            blocks.append(row)
        return blocks

    def _cell(self, data: GridData, r: int, c: int, cw: int, ch: int, style: Style,
              ascii_mode: bool,
              kind: int, value: float, arrows: str):
        """The `ch` lines of cell (r, c), each a list of segments `cw` wide."""
        inner = cw - 2 if cw >= 5 else cw
        label = (data.labels or {}).get((r, c), "")
        if cw < 5 and kind != 2:
            label = ""  # no room: the colour and the arrow say enough
        if ascii_mode:
            base = self.rich_style
        elif kind == 1:
            base = Style(bgcolor=WALL_BG, color=WALL_FG)
        elif kind == 2:
            base = _terminal_style((data.rewards or {}).get((r, c)))
        else:
            base = style
        if kind == 1:
            lines = ["▒" * inner if not ascii_mode else "#" * inner] * ch
        elif kind == 2:
            text = label or "end"
            lines = self._lines(ch, "", text if len(text) < cw or cw >= 5 else "■", "", inner)
            if ascii_mode and ch >= 3:
                lines = ["=" * inner, text, "=" * inner]
        elif data.q is not None and ch >= 3 and cw >= 11:
            q = data.q[r, c]
            half = (inner - 1) // 2
            centre = arrows[:1] or "·"
            mid = fmt(q[2], half).rjust(half) + centre + fmt(q[3], half).ljust(half)
            lines = [fmt(q[0], inner).center(inner), mid.center(inner)[:inner],
                     fmt(q[1], inner).center(inner)]
        else:
            text = fmt(value, inner)
            lines = self._lines(ch, label, "" if "#" in text else text, arrows or "·", inner)
        top = (ch - len(lines)) // 2 if ch > 3 and kind != 1 else 0
        lines = [""] * top + lines + [""] * (ch - top - len(lines))  # centred vertically
        agent = data.agent == (r, c)
        agent_line = top + (2 if ch >= 3 and data.q is None else 1 if ch >= 3 else 0)
        selected = data.selected == (r, c)
        out = []
        edge = None
        if cw >= 5:
            edge = self._styles.get(("edge", base))
            if edge is None:
                edge = self._styles[("edge", base)] = base + Style(color=SELECT_FG, bold=True)
        for i, text in enumerate(lines):
            text = text[:inner].center(inner)
            if agent and i == agent_line:
                mid = inner // 2
                segs = [Segment(text[:mid], base), Segment("@", base + Style(color=AGENT_FG,
                        bold=True)), Segment(text[mid + 1:], base)]
            else:
                segs = [Segment(text, base)]
            if edge is not None and selected:
                left, right = ("[", "]") if ascii_mode else ("▐", "▌")
                segs = [Segment(left, edge), *segs, Segment(right, edge)]
            elif edge is not None:
                segs = [Segment(" ", base), *segs, Segment(" ", base)] if len(segs) > 1 else [
                    Segment(f" {text} ", base)]
            elif selected:
                segs = [Segment(s.text, s.style + Style(reverse=True)) for s in segs]
            out.append(segs)
        return out

    @staticmethod
    def _lines(ch: int, label: str, value: str, arrows: str, inner: int) -> list[str]:
        if ch >= 3:
            return [label, value, arrows]
        if ch == 2:
            return [value or label, arrows]
        one = f"{arrows[:1]}{value}" if value and inner >= len(value) + 1 else (arrows[:1] or value)
        return [one or label]
