"""A pixel canvas for Textual: two pixels per terminal cell with `▀`, text overlays, clicks."""

from __future__ import annotations

import os
from bisect import bisect_right
from itertools import accumulate

import numpy as np
from rich.color import Color, ColorTriplet, ColorType
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.filter import ANSIToTruecolor
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

#: Characters for the ASCII fallback, from dark to bright (one per cell, by luminance).
ASCII_RAMP = " .:-=+*#%@"

_LUMA = np.array([0.2126, 0.7152, 0.0722])


def ascii_mode_active(app) -> bool:
    """True when colours are off: the app's `ascii_mode` flag, or NO_COLOR set and non-empty."""
    return bool(getattr(app, "ascii_mode", False)) or bool(os.environ.get("NO_COLOR"))


def contrast_color(rgb) -> Color:
    """Black on light backgrounds, white on dark ones."""
    luma = float(np.dot(np.asarray(rgb, dtype=np.float64), _LUMA)) / 255.0
    return Color.from_rgb(0, 0, 0) if luma > 0.5 else Color.from_rgb(255, 255, 255)


class PixelView(Widget):
    """Draws a (2H, W, 3) uint8 image as H rows x W columns of `▀` (Line API).

    The foreground of each cell is its top pixel, the background its bottom pixel. Strips are
    cached per row and rebuilt only for the rows whose pixels or overlay changed. Text can be
    written over cells with `set_overlay` (labels, arrows, braille trajectories). Clicks post
    `PixelView.Clicked` in pixel coordinates. Without colours (`app.ascii_mode` or NO_COLOR)
    each cell is one character of `ASCII_RAMP` chosen by brightness.
    """

    DEFAULT_CSS = """
    PixelView {
        width: auto;
        height: auto;
        background: $background;
    }
    """

    class Clicked(Message):
        """A cell was clicked. `x`, `y` are pixel coordinates (y is the cell's top pixel);
        `row`, `col` the cell (y = 2 * row or 2 * row + 1: the click cannot tell which)."""

        def __init__(self, pixel_view: PixelView, x: int, y: int, row: int, col: int, button: int) -> None:
            super().__init__()
            self.pixel_view: PixelView = pixel_view
            """The view that was clicked."""
            self.x: int = x
            """Pixel column (0 = left)."""
            self.y: int = y
            """Pixel row of the cell's top pixel (0 = top)."""
            self.row: int = row
            """Terminal row of the cell inside the view."""
            self.col: int = col
            """Terminal column of the cell inside the view (= x)."""
            self.button: int = button
            """Mouse button (1 = left)."""

        @property
        def control(self) -> PixelView:
            """Alias for `pixel_view`."""
            return self.pixel_view

    def __init__(
        self,
        pixels: np.ndarray | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._pixels = np.zeros((0, 0, 3), dtype=np.uint8)
        self._odd = False  # the image had an odd height: the last row has no bottom pixel
        self._overlay: dict[int, dict[int, tuple[str, str | None]]] = {}
        self._strips: list[Strip | None] = []
        self._ascii: bool | None = None  # the mode the cached strips were built for
        self._packed = np.zeros((0, 0), dtype=np.int64)  # 0xRRGGBB per pixel
        self._styles: dict[int, Style] = {}  # (top << 24 | bottom) -> style
        self._odd_styles: dict[int, Style] = {}  # top -> style on the widget's background
        self._runs: tuple[list[int], list[int]] | None = None  # see _find_runs
        self._segments: dict[int, Segment] = {}  # (top << 36 | bottom << 12 | length) -> segment
        self._colors: dict[int, Color] = {}
        self._parsed: dict[str, int] = {}
        self._base: Style | None = None  # cached `rich_style` (walking the DOM costs ~0.3 ms)
        self._truecolor: bool | None = None  # whether every colour drawn is truecolor
        self._pass: tuple[int, bool] | None = None  # (width, ascii mode) during render_lines
        if pixels is not None:
            self.set_pixels(pixels)

    # --- data ------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Terminal rows the image needs (half its pixel height, rounded up)."""
        return self._pixels.shape[0] // 2

    @property
    def cols(self) -> int:
        """Terminal columns the image needs (its pixel width)."""
        return self._pixels.shape[1]

    @property
    def pixels(self) -> np.ndarray:
        """A read-only view of the image shown, padded to an even height."""
        view = self._pixels.view()
        view.flags.writeable = False
        return view

    def set_pixels(self, pixels: np.ndarray) -> None:
        """Show `pixels`, a (2H, W, 3) uint8 array (an odd height gets an empty last half-row).

        Only the rows that differ from the previous image are rebuilt and refreshed.
        """
        a = np.asarray(pixels)
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"pixels must have shape (height, width, 3), got {a.shape}")
        if a.dtype != np.uint8:
            raise TypeError(f"pixels must be uint8 (use colormap() for numbers), got {a.dtype}")
        odd = a.shape[0] % 2 == 1
        old = self._pixels
        padded = (a.shape[0] + odd,) + a.shape[1:]
        if old.shape == padded and odd == self._odd and np.array_equal(old[: a.shape[0]], a):
            return  # the same image again: nothing to rebuild or repaint
        if odd:
            a = np.concatenate([a, np.zeros((1,) + a.shape[1:], dtype=np.uint8)])
        else:
            a = a.copy()
        wide = a.astype(np.int64)
        packed = (wide[..., 0] << 16) | (wide[..., 1] << 8) | wide[..., 2]
        was_odd = self._odd
        self._pixels, self._packed, self._odd = a, packed, odd
        self._runs = None  # found again on the next row build
        if old.shape != a.shape:  # a new size: every row, and the layout
            self._strips = [None] * self.rows
            self.refresh(layout=True)
            return
        changed = np.flatnonzero(np.any((old != a).reshape(self.rows, -1), axis=1)).tolist()
        if odd != was_odd and self.rows - 1 not in changed:
            changed.append(self.rows - 1)  # the last row gains or loses its bottom pixels
        self._invalidate_rows(changed)

    def set_overlay(self, overlay: dict[tuple[int, int], tuple[str, str | None]]) -> None:
        """Write text over cells: {(row, col): (text, "#rrggbb" or None)}; None = contrast.

        A text longer than one character continues to the right; cells outside the image are
        dropped. The background stays the average of the cell's two pixels.
        """
        rows: dict[int, dict[int, tuple[str, str | None]]] = {}
        for (row, col), (text, color) in overlay.items():
            line = rows.setdefault(int(row), {})
            for i, char in enumerate(str(text)):
                line[int(col) + i] = (char, color)
        dirty = {r for r in set(rows) | set(self._overlay) if rows.get(r) != self._overlay.get(r)}
        self._overlay = rows
        self._invalidate_rows(sorted(dirty))

    def clear_overlay(self) -> None:
        """Remove every overlay text."""
        self.set_overlay({})

    def _invalidate_rows(self, rows: list[int]) -> None:
        """Drop the cached strips of `rows` and repaint them (consecutive rows as one region)."""
        width = max(self.size.width, self.cols)
        rows = sorted(r for r in rows if 0 <= r < len(self._strips))
        if not rows:
            return
        regions = []
        first = previous = rows[0]
        for row in rows:
            self._strips[row] = None
            if row > previous + 1:
                regions.append(Region(0, first, width, previous - first + 1))
                first = row
            previous = row
        regions.append(Region(0, first, width, previous - first + 1))
        self.refresh(*regions)

    # --- size ------------------------------------------------------------------------
    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.cols

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.rows

    # --- drawing ---------------------------------------------------------------------
    def _color(self, packed: int) -> Color:
        """A cached truecolor from a packed 0xRRGGBB int (built directly: faster than from_rgb)."""
        color = self._colors.get(packed)
        if color is None:
            triplet = ColorTriplet(packed >> 16, (packed >> 8) & 255, packed & 255)
            color = Color(triplet.hex, ColorType.TRUECOLOR, triplet=triplet)
            if len(self._colors) > 65536:
                self._colors.clear()
            self._colors[packed] = color
        return color

    def _base_style(self) -> Style:
        """The widget's own style (background for padding and odd last rows), cached until the
        CSS or the theme changes (`notify_style_update`)."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def get_line_filters(self):
        """The app's line filters, without `ANSIToTruecolor` when it has nothing to convert.

        That filter maps ANSI colours to truecolor, segment by segment, through an LRU cache of
        1024 styles: an image has thousands of styles per frame, so it missed on nearly every
        cell (about a third of Textual's cost of repainting an image). Every image and overlay
        colour here is truecolor already; the filter is kept when the widget's own colours or
        its border are ANSI colours (the textual-ansi theme) or dim.
        """
        filters = super().get_line_filters()
        if self._truecolor is None:
            self._truecolor = self._only_truecolor()
        if self._truecolor:
            return [f for f in filters if not isinstance(f, ANSIToTruecolor)]
        return filters

    def _only_truecolor(self) -> bool:
        base = self._base_style()
        if base.dim or any(c is not None and c.triplet is None for c in (base.color, base.bgcolor)):
            return False
        styles = self.styles
        for kind, color in (*styles.border, *styles.outline):
            if kind and (color.ansi is not None or color.a < 1):
                return False
        return True

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._truecolor = None
        if self._base is None:
            return
        # The background may have changed (theme, CSS): rows drawn with it are rebuilt.
        self._base = None
        self._odd_styles.clear()
        if self._ascii:
            self._strips = [None] * self.rows
        elif self._odd and self._strips:
            self._strips[-1] = None
        self.refresh()

    def _style(self, fg: int, bg: int | None) -> Style:
        """A cached style from packed 0xRRGGBB colours (bg None = the widget's background)."""
        if bg is None:
            style = self._odd_styles.get(fg)
            if style is None:
                style = Style.from_color(self._color(fg), self._base_style().bgcolor)
                self._odd_styles[fg] = style
            return style
        key = (fg << 24) | bg
        style = self._styles.get(key)
        if style is None:
            style = Style.from_color(self._color(fg), self._color(bg))
            if len(self._styles) > 65536:
                self._styles.clear()
            self._styles[key] = style
        return style

    def _find_runs(self) -> tuple[list[int], list[int]]:
        """Runs of equal cells in every row: run keys (top << 36 | bottom << 12 | length) in
        row order, and where each row's runs start in that list (rows + 1 offsets)."""
        rows, width = self.rows, self.cols
        key = ((self._packed[0::2] << 24) | self._packed[1::2]).reshape(-1)
        new_run = np.empty(key.shape, dtype=bool)
        new_run[0] = True
        np.not_equal(key[1:], key[:-1], out=new_run[1:])
        new_run[::width] = True  # every row starts a run
        starts = np.flatnonzero(new_run)
        lengths = np.diff(starts, append=key.size)
        offsets = np.searchsorted(starts, np.arange(rows + 1) * width)
        return ((key[starts] << 12) | lengths).tolist(), offsets.tolist()

    def _segment(self, run_key: int) -> Segment:
        """The Segment of a run: `run_key` = (top << 36) | (bottom << 12) | length."""
        key, length = run_key >> 12, run_key & 0xFFF
        segment = Segment("▀" * length, self._style(key >> 24, key & 0xFFFFFF))
        if len(self._segments) > 65536:
            self._segments.clear()
        self._segments[run_key] = segment
        return segment

    def _build_row(self, row: int, ascii_mode: bool) -> Strip:
        last_odd = self._odd and row == self.rows - 1
        overlay = self._overlay.get(row)
        if ascii_mode:
            top = self._pixels[2 * row].astype(np.int64)
            bottom = self._pixels[2 * row + 1].astype(np.int64)
            return self._build_ascii_row(top, bottom, last_odd, overlay or {})
        width = self.cols
        if not last_odd and width < 4096:
            # The common case: the runs of every row were found in one NumPy pass, and each
            # run is a cached Segment per (colours, length), so colours seen before cost a
            # dict lookup.
            if self._runs is None:
                self._runs = self._find_runs()
            run_keys, offsets = self._runs
            cache = self._segments
            runs = run_keys[offsets[row]:offsets[row + 1]]
            if not overlay:
                # (`is None`, not `or`: a Segment's truth is a Python-level __bool__ call)
                get, segment_of = cache.get, self._segment
                return Strip([s if (s := get(k)) is not None else segment_of(k) for k in runs], width)
            return Strip(self._overlay_runs(row, runs, overlay), width)
        packed_top = self._packed[2 * row]
        # Key of a cell: its two colours (the odd last row has only a top pixel).
        key = packed_top if last_odd else (packed_top << 24) | self._packed[2 * row + 1]
        # Runs of cells with the same two colours become one segment; overlay cells are cut out.
        cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
        marks = [c for c in overlay if 0 <= c < width] if overlay else []
        if marks:
            cuts = np.union1d(cuts, np.array(marks + [c + 1 for c in marks]))
            cuts = cuts[(cuts > 0) & (cuts < width)]
        starts = [0, *cuts.tolist()]
        ends = [*cuts.tolist(), width]
        keys = key[starts].tolist()
        styles = self._odd_styles if last_odd else self._styles
        style_of = self._style
        segments = []
        append = segments.append
        for k, start, end in zip(keys, starts, ends):
            if marks and start in overlay:
                append(self._overlay_segment(row, start, overlay[start], last_odd))
                continue
            style = styles.get(k)
            if style is None:
                style = style_of(k, None) if last_odd else style_of(k >> 24, k & 0xFFFFFF)
            append(Segment("▀" * (end - start), style))
        return Strip(segments, width)

    def _overlay_runs(self, row: int, runs: list[int], overlay: dict) -> list[Segment]:
        """The segments of a row with overlay text: the row's run segments, the runs under
        overlay cells split around them (right to left, so a split never moves a run that a
        later, smaller column falls in)."""
        cache, segment_of = self._segments, self._segment
        get = cache.get
        segments = [s if (s := get(k)) is not None else segment_of(k) for k in runs]
        marks = sorted((c for c in overlay if 0 <= c < self.cols), reverse=True)
        if not marks:
            return segments
        runs = list(runs)
        starts = list(accumulate([k & 0xFFF for k in runs], initial=0))
        for c in marks:
            i = bisect_right(starts, c) - 1
            run, start = runs[i], starts[i]
            key, left, right = run >> 12 << 12, c - start, start + (run & 0xFFF) - c - 1
            new_segments = [self._overlay_segment(row, c, overlay[c], False)]
            new_runs, new_starts = [0], [c]
            if left:
                new_segments.insert(0, cache.get(key | left) or segment_of(key | left))
                new_runs.insert(0, key | left)
                new_starts.insert(0, start)
            if right:
                new_segments.append(cache.get(key | right) or segment_of(key | right))
                new_runs.append(key | right)
                new_starts.append(c + 1)
            segments[i:i + 1], runs[i:i + 1], starts[i:i + 1] = new_segments, new_runs, new_starts
        return segments

    def _overlay_segment(self, row: int, col: int, item, last_odd: bool) -> Segment:
        char, color = item
        top = int(self._packed[2 * row, col])
        r, g, b = top >> 16, (top >> 8) & 255, top & 255
        if not last_odd:  # the cell's average colour
            bottom = int(self._packed[2 * row + 1, col])
            r, g, b = (r + (bottom >> 16)) // 2, (g + ((bottom >> 8) & 255)) // 2, (b + (bottom & 255)) // 2
        if color is None:  # black on light backgrounds, white on dark ones
            luma = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0
            fg = 0x000000 if luma > 0.5 else 0xFFFFFF
        else:
            fg = self._parse(color)
        return Segment(char, self._style(fg, (r << 16) | (g << 8) | b))

    def _parse(self, color: str) -> int:
        """A colour string ("#rrggbb", a name) as a packed 0xRRGGBB int, cached."""
        packed = self._parsed.get(color)
        if packed is None:
            r, g, b = Color.parse(color).get_truecolor()
            packed = self._parsed[color] = (r << 16) | (g << 8) | b
        return packed

    def _build_ascii_row(self, top, bottom, last_odd: bool, overlay) -> Strip:
        mean = top if last_odd else (top + bottom) / 2.0
        luma = mean @ _LUMA / 255.0
        index = np.clip((luma * len(ASCII_RAMP)).astype(np.int64), 0, len(ASCII_RAMP) - 1)
        chars = [ASCII_RAMP[i] for i in index.tolist()]
        for col, (char, _color) in overlay.items():
            if 0 <= col < len(chars):
                chars[col] = char
        return Strip([Segment("".join(chars), self._base_style())], len(chars))

    def render_lines(self, crop: Region) -> list[Strip]:
        # The width and the colour mode, looked up once for all the rows of a repaint (a
        # widget's size walks the DOM to the screen: 2,000 lookups a frame in the MLP lab).
        self._pass = (self.size.width, ascii_mode_active(self.app))
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        if self._pass is not None:
            width, ascii_mode = self._pass
        else:
            width, ascii_mode = self.size.width, ascii_mode_active(self.app)
        if y < 0 or y >= self.rows or self.cols == 0:
            return Strip.blank(width, self._base_style())
        if ascii_mode != self._ascii:
            self._ascii = ascii_mode
            self._strips = [None] * self.rows
        strip = self._strips[y]
        if strip is None:
            strip = self._strips[y] = self._build_row(y, ascii_mode)
        if strip.cell_length == width:
            return strip
        return strip.crop_extend(0, width, self._base_style())

    # --- input -----------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        col, row = offset.x, offset.y
        if 0 <= row < self.rows and 0 <= col < self.cols:
            event.stop()
            self.post_message(self.Clicked(self, col, 2 * row, row, col, event.button))
