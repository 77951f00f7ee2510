"""`TextLines`: a few lines of styled text drawn with the Line API, cropped, never wrapped.

For texts that change on every step (a legend, a state, a title): a `Static` re-formats its
whole content (wrapping, markup) on each update, this repaints only the rows that changed.
A `Static` updated with `tutor.widgets.text.set_text` is the other way.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class TextLines(Widget):
    """Lines of `rich.text.Text`, one per row, cropped to the width (never wrapped).

    `update(text)` takes a `Text` or a `str` with newlines; only rows whose text changed are
    repainted. The height is the number of lines (`height: auto`).
    """

    DEFAULT_CSS = """
    TextLines { height: auto; }
    """

    def __init__(self, text: Text | str = "", *, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._width = -1
        self._base = None  # the widget's style, looked up once per style change
        self.update(text)

    @property
    def plain(self) -> str:
        """The text shown, without styles."""
        return "\n".join(line.plain for line in self._lines)

    def render(self) -> Text:  # str(widget.render()) in tests and tools
        return Text("\n").join(self._lines)

    def update(self, text: Text | str) -> None:
        """Show `text`; repaint the rows that changed (and the layout if the row count did)."""
        if isinstance(text, str):
            text = Text(text)
        lines = text.split("\n", allow_blank=True) if text.plain else [Text("")]
        grew = len(lines) != len(self._lines)
        changed = [y for y, line in enumerate(lines)
                   if y >= len(self._lines) or not _same(line, self._lines[y])]
        self._lines = lines
        for y in changed:
            self._strips.pop(y, None)
        for y in [y for y in self._strips if y >= len(lines)]:
            del self._strips[y]
        if not self.is_mounted:
            return
        if grew:
            self.refresh(layout=True)
        elif changed:
            width = max(self.size.width, 1)
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((line.cell_len for line in self._lines), default=0)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._width or self._base is None:
            self._strips.clear()
            self._width = width
            self._base = self.rich_style
        strip = self._strips.get(y)
        if strip is None:
            base = self._base
            pad = self.pad_style(base)
            if 0 <= y < len(self._lines):
                segments = Segment.apply_style(self._lines[y].render(self.app.console), base)
                strip = Strip(segments).crop_extend(0, width, pad)
            else:
                strip = Strip.blank(width, pad)
            self._strips[y] = strip
        return strip

    def pad_style(self, base: Style) -> Style:
        """The style of the cells right of a row's text and of the rows below the last:
        the widget's own (`base`)."""
        return base

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._base = None


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and a.spans == b.spans and a.style == b.style
