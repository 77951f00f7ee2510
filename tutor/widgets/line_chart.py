"""A braille line chart for loss curves and trajectories: axes, log scales, legend, markers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from tutor.widgets.braille import BRAILLE_BASE, BrailleCanvas, scale
from tutor.widgets.palette import SERIES

#: Colours given to series without one (readable on dark and light themes).
PALETTE = SERIES


def compact(value: float) -> str:
    """A short tick label: 0, 0.0123, 1.5, 250, 1e-3, 1.2e4, nan, inf."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    size = abs(value)
    if 100 <= size < 1e4:
        return f"{value:.0f}"
    if 1e-2 <= size < 100:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def nice_ticks(lo: float, hi: float, n: int) -> list[float]:
    """Round values (multiples of 1, 2 or 5 x 10^k) in [lo, hi], at most about `n` of them."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0) or n < 1:
        return []
    base = 10.0 ** math.floor(math.log10(span / n))
    step = next(m * base for m in (1, 2, 5, 10) if span / (m * base) <= n)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + 1e-9 * step:
        value = k * step
        ticks.append(0.0 if abs(value) < 1e-12 * step else value)
        k += 1
    return ticks


@dataclass
class Series:
    """One line: `y` values, optional `x` (default 0, 1, 2, ...), a name and a "#rrggbb" colour."""

    name: str
    y: Any
    x: Any = None
    color: str | None = None


def _axis(values: np.ndarray, log: bool) -> np.ndarray:
    """Values as drawn: log10 on a log axis (non-positive -> NaN); non-finite -> NaN."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
    return np.where(np.isfinite(v), v, np.nan)


def _limits(arrays: list[np.ndarray]) -> tuple[float, float] | None:
    """(lo, hi) over the finite values of `arrays`, widened when flat; None when there are none."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return None
    lo = float(min(a.min() for a in finite))
    hi = float(max(a.max() for a in finite))
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        pad = 0.5 if lo == 0 else abs(lo) * 0.1
        lo, hi = lo - pad, hi + pad
    return lo, hi


class LineChart(Widget):
    """Lines drawn in braille dots (2 x 4 per cell) with a y axis, x range and legend.

    `set_series([Series("train", losses), Series("val", val, color="#ff9e3d")])` replaces the
    data. NaN, inf, empty series and (on log axes) non-positive values are skipped: a line
    breaks where a value is missing. The chart redraws when its data, settings or size change.
    """

    DEFAULT_CSS = """
    LineChart {
        height: 1fr;
        width: 1fr;
        min-height: 4;
        background: $surface;
        color: $foreground;
        & > .line-chart--axis {
            color: $text-muted;
        }
        & > .line-chart--title {
            color: $text;
            text-style: bold;
        }
        & > .line-chart--marker {
            color: $warning;
            text-style: bold;
        }
    }
    """

    COMPONENT_CLASSES = {"line-chart--axis", "line-chart--title", "line-chart--marker"}

    log_y: reactive[bool] = reactive(False)
    """Plot log10(y); values <= 0 are skipped."""

    log_x: reactive[bool] = reactive(False)
    """Plot log10(x); values <= 0 are skipped."""

    title: reactive[str] = reactive("")
    """Shown bold on the first row, before the legend."""

    x_label: reactive[str] = reactive("")
    """Shown centred under the plot, between the x range labels."""

    y_label: reactive[str] = reactive("")
    """Shown at the top left, above the y tick labels."""

    markers: reactive[list[tuple[float, float, str]]] = reactive(list, always_update=True, repaint=False)
    """Points to highlight, as (x, y, label): e.g. the minimum, or where the step diverged."""

    def __init__(
        self,
        series: list[Series] | None = None,
        *,
        title: str = "",
        x_label: str = "",
        y_label: str = "",
        log_y: bool = False,
        log_x: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(LineChart.title, title)
        self.set_reactive(LineChart.x_label, x_label)
        self.set_reactive(LineChart.y_label, y_label)
        self.set_reactive(LineChart.log_y, log_y)
        self.set_reactive(LineChart.log_x, log_x)
        self._series: list[Series] = []
        self._version = 0
        self._strips: list[Strip] = []
        self._key: tuple | None = None
        self._checked = False  # inside render_lines, which has checked the cached strips
        self._drawn_markers: tuple = ()  # the markers in the cached strips
        self._base = Style()
        if series:
            self.set_series(series)

    # --- data --------------------------------------------------------------------------
    @property
    def series(self) -> list[Series]:
        """The series shown (copies of what was given, as float arrays)."""
        return list(self._series)

    def set_series(self, series: list[Series]) -> None:
        """Replace every line; arrays are copied, so the caller may keep changing its own."""
        copied = []
        for i, s in enumerate(series):
            y = np.array(s.y, dtype=np.float64).ravel()
            x = np.arange(len(y), dtype=np.float64) if s.x is None else np.array(s.x, dtype=np.float64).ravel()
            n = min(len(x), len(y))
            color = s.color or PALETTE[i % len(PALETTE)]
            copied.append(Series(s.name, y[:n], x[:n], color))
        if self._same_series(copied):
            return  # the same lines again (a lab redrawing every frame): nothing to redraw
        self._series = copied
        self._version += 1
        self.refresh()

    def _same_series(self, series: list[Series]) -> bool:
        """Whether `series` draws exactly what is shown (names, colours, and every value)."""
        if len(series) != len(self._series):
            return False
        return all(
            a.name == b.name and a.color == b.color
            and np.array_equal(a.x, b.x, equal_nan=True) and np.array_equal(a.y, b.y, equal_nan=True)
            for a, b in zip(series, self._series)
        )

    def _watch_any(self) -> None:
        self.refresh()

    watch_log_y = watch_log_x = watch_title = watch_x_label = watch_y_label = _watch_any

    def watch_markers(self, markers: list[tuple[float, float, str]]) -> None:
        # Labs set the markers on every frame: the same points drawn again need no repaint.
        if self._key is None or tuple(markers) != self._drawn_markers:
            self.refresh()

    # --- drawing -----------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        # One check of the cached strips per repaint, not one per line.
        self._update_strips()
        self._checked = True
        try:
            return super().render_lines(crop)
        finally:
            self._checked = False

    def _update_strips(self) -> None:
        """Rebuild the cached strips when the data, a setting, the size or the theme changed."""
        width, height = self.size
        key = (width, height, self._version, self.log_x, self.log_y, self.title,
               self.x_label, self.y_label, tuple(self.markers), self.app.theme)
        if key != self._key:
            self._base = self.rich_style
            self._strips = self._build(width, height)
            self._key = key
            self._drawn_markers = key[8]

    def render_line(self, y: int) -> Strip:
        if not self._checked:
            self._update_strips()
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self._base)

    def _build(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        axis = base + self.get_component_rich_style("line-chart--axis")
        bold = base + self.get_component_rich_style("line-chart--title")
        marker_style = base + self.get_component_rich_style("line-chart--marker")
        if width <= 0 or height <= 0:
            return []
        rows: list[list[Segment]] = [self._header(base, bold, axis)]
        plot_h = height - 2
        xs = [_axis(s.x, self.log_x) for s in self._series]
        ys = [_axis(s.y, self.log_y) for s in self._series]
        mx = _axis([m[0] for m in self.markers], self.log_x)
        my = _axis([m[1] for m in self.markers], self.log_y)
        # Points drawn need both coordinates.
        for i in range(len(xs)):
            bad = np.isnan(xs[i]) | np.isnan(ys[i])
            xs[i], ys[i] = np.where(bad, np.nan, xs[i]), np.where(bad, np.nan, ys[i])
        xlim, ylim = _limits(xs + [mx]), _limits(ys + [my])
        if plot_h < 1:
            return [Strip(r).crop_extend(0, width, base) for r in rows[:height]]
        if xlim is None or ylim is None:
            ylim = ylim or (0.0, 1.0)
            xlim = xlim or (0.0, 1.0)
        labels = self._y_tick_labels(ylim, plot_h)
        gutter = min(max((len(t) for t in labels.values()), default=1), max(0, width // 3))
        plot_w = width - gutter - 1
        if plot_w < 2:
            return [Strip(r).crop_extend(0, width, base) for r in rows[:height]]
        canvas = BrailleCanvas(plot_w, plot_h)
        for s, x, y in zip(self._series, xs, ys):
            dx = scale(x, *xlim, canvas.width)
            dy = (canvas.height - 1) - scale(y, *ylim, canvas.height)
            self._draw(canvas, dx, dy, s.color)
        # The plot as two cell grids: characters (code points) and indices into a small table of
        # pre-built styles (equal styles share an index, so equal-style runs are single segments).
        table: list[Style] = []

        def index_of(style: Style) -> int:
            for i, known in enumerate(table):
                if known == style:
                    return i
            table.append(style)
            return len(table) - 1

        base_i, axis_i, marker_i = index_of(base), index_of(axis), index_of(marker_style)
        color_i = {color: index_of(base + Style(color=color)) for color in {s.color for s in self._series}}
        color_i[None] = base_i
        bits, ink, palette = canvas.grid()
        ink_i = np.array([color_i.get(color, base_i) for color in palette] + [base_i], dtype=np.int32)
        dotted = bits != 0
        chars = np.where(dotted, bits.astype(np.uint32) + BRAILLE_BASE, np.uint32(32)).astype(np.uint32)
        style_of = np.full(bits.shape, base_i, dtype=np.int32)
        style_of[dotted] = ink_i[ink[dotted]]
        # Markers: a diamond at the point, its label to the right.
        mdx = scale(mx, *xlim, canvas.width)
        mdy = (canvas.height - 1) - scale(my, *ylim, canvas.height)
        for (_, _, label), px, py in zip(self.markers, mdx, mdy):
            if not (math.isfinite(px) and math.isfinite(py)):
                continue
            row, col = int(round(py)) // 4, int(round(px)) // 2
            text = "◆" + (f" {label}" if label else "")
            if col + len(text) > plot_w:  # keep the label inside: put it to the left
                text = (f"{label} " if label else "") + "◆"
                col = col - len(text) + 1
            for i, char in enumerate(text):
                if 0 <= col + i < plot_w and 0 <= row < plot_h:
                    chars[row, col + i] = ord(char)
                    style_of[row, col + i] = marker_i
        if not self._series or all(np.isnan(y).all() for y in ys):
            message = "no data yet"
            col, row = max(0, (plot_w - len(message)) // 2), plot_h // 2
            for i, char in enumerate(message[:plot_w]):
                chars[row, col + i] = ord(char)
                style_of[row, col + i] = axis_i
        text = chars.astype("<u4").tobytes().decode("utf-32-le")
        # Where the style changes along each row (row starts included).
        change = np.ones(style_of.shape, dtype=bool)
        change[:, 1:] = style_of[:, 1:] != style_of[:, :-1]
        for row in range(plot_h):
            label = labels.get(row, "")
            tick = "┤" if label else "│"
            line = text[row * plot_w:(row + 1) * plot_w]
            starts = np.flatnonzero(change[row]).tolist()
            kinds = style_of[row, starts].tolist()
            starts.append(plot_w)
            lead = label.rjust(gutter)[:gutter] + tick
            if kinds[0] == axis_i:  # the first run has the axis style: one segment with the ticks
                lead, segments = lead + line[:starts[1]], []
                starts, kinds = starts[1:], kinds[1:]
            segments = [Segment(lead, axis)]
            segments.extend(Segment(line[a:b], table[k]) for a, b, k in zip(starts, starts[1:], kinds))
            rows.append(segments)
        rows.append(self._x_row(xlim, gutter, plot_w, axis, base))
        # Plot rows are maximal runs of equal styles already; the header and x row are simplified.
        rows[0], rows[-1] = list(Segment.simplify(rows[0])), list(Segment.simplify(rows[-1]))
        strips = [Strip(r).crop_extend(0, width, base) for r in (rows[0], rows[-1])]
        # Plot rows are `width` cells when every character is one cell wide (braille, ASCII):
        # the strips are made with that length, saving Rich's measuring of every segment.
        common = ((chars >= 32) & (chars < 127)) | ((chars >= BRAILLE_BASE) & (chars <= BRAILLE_BASE + 0xFF))
        others = {chr(c) for c in np.unique(chars[~common]).tolist()}
        others.update(c for label in labels.values() for c in label)
        narrow = all(get_character_cell_size(c) == 1 for c in others)  # e.g. '◆', 'z₀'
        plot = [Strip(r, width) if narrow else Strip(r).crop_extend(0, width, base) for r in rows[1:-1]]
        return ([strips[0]] + plot + [strips[1]])[:height]

    def _draw(self, canvas: BrailleCanvas, dx: np.ndarray, dy: np.ndarray, color: str | None) -> None:
        """Draw one series; long monotonic series are reduced to min/max per dot column."""
        n = len(dx)
        ok = np.isfinite(dx) & np.isfinite(dy)
        if n <= 4 * canvas.width or not ok.any() or np.any(np.diff(dx[ok]) < 0):
            canvas.polyline(dx, dy, color)
            return
        index = np.flatnonzero(ok)  # original positions, to keep NaN gaps as gaps
        x, y = dx[ok], dy[ok]
        col = np.floor(x + 0.5).astype(np.int64)
        starts = np.flatnonzero(np.concatenate([[True], col[1:] != col[:-1]]))
        ends = np.append(starts[1:], len(y)) - 1
        c = col[starts].astype(np.float64)
        low, high = np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)
        first, last = y[starts], y[ends]
        # Join each column to the previous one where the data had no gap between them.
        joined = index[starts][1:] == index[ends][:-1] + 1
        # ...and draw the min..max range of every column: all in one NumPy pass.
        canvas.lines(
            np.concatenate([c[:-1][joined], c]), np.concatenate([last[:-1][joined], low]),
            np.concatenate([c[1:][joined], c]), np.concatenate([first[1:][joined], high]),
            color,
        )

    def _y_tick_labels(self, ylim: tuple[float, float], plot_h: int) -> dict[int, str]:
        """Labels at round values (1, 2, 5 x 10^k; decades on a log axis), at least two rows apart.

        When fewer than two round values fit, the top and bottom rows get the exact limits.
        """
        lo, hi = ylim
        dots = 4 * plot_h
        if self.log_y and hi - lo >= 1:
            values = [float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)]
            if len(values) > max(2, plot_h // 2):  # too many decades: every second, third, ...
                stride = math.ceil(len(values) / max(2, plot_h // 2))
                values = values[::stride]
        elif self.log_y:  # less than a decade: round values of the data, placed on the log scale
            values = [math.log10(t) for t in nice_ticks(10.0**lo, 10.0**hi, max(2, plot_h // 3)) if t > 0]
        else:
            values = nice_ticks(lo, hi, max(2, plot_h // 3))
        labels: dict[int, str] = {}
        for v in values:
            dot = (hi - v) / (hi - lo) * (dots - 1)
            row = int(round(dot)) // 4
            if 0 <= row < plot_h and all(abs(row - r) >= 2 for r in labels):
                labels[row] = compact(10.0**v if self.log_y else v)
        if len(labels) < 2:
            labels = {0: compact(10.0**hi if self.log_y else hi)}
            if plot_h > 1:
                labels[plot_h - 1] = compact(10.0**lo if self.log_y else lo)
        return labels

    def _header(self, base: Style, bold: Style, axis: Style) -> list[Segment]:
        segments: list[Segment] = []
        if self.y_label:
            segments.append(Segment(self.y_label + ("  " if self.title else " "), axis))
        if self.title:
            segments.append(Segment(self.title + " ", bold))
        for s in self._series:
            segments.append(Segment(" ━ ", base + Style(color=s.color)))
            segments.append(Segment(s.name, base + Style(color=s.color, bold=True)))
        if self.log_y or self.log_x:
            scales = ", ".join(a for a, on in (("log y", self.log_y), ("log x", self.log_x)) if on)
            segments.append(Segment(f"  ({scales})", axis))
        if segments:
            segments.append(Segment(" ", base))
        return segments

    def _x_row(self, xlim, gutter: int, plot_w: int, axis: Style, base: Style) -> list[Segment]:
        lo, hi = xlim
        if self.log_x:
            lo, hi = 10.0**lo, 10.0**hi
        left, right = compact(lo), compact(hi)
        middle = self.x_label
        space = plot_w - len(left) - len(right)
        if len(middle) + 2 > space:
            middle = ""
        gap = max(0, space - len(middle))
        text = left + " " * (gap // 2) + middle + " " * (gap - gap // 2) + right
        return [Segment(" " * (gutter + 1) + text[:plot_w], axis)]

    def on_resize(self) -> None:
        self.refresh()
