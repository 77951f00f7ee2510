"""GraphView: a scrollable Line-API view of the rendered computational graph."""

from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tutor.labs.backprop.layout import BOX_H, compute_layout, drawable, render_graph

STYLES = ("box", "focus", "hot", "done", "edge", "edge-hot", "label", "value", "grad",
          "partial", "bad", "muted")


class GraphView(ScrollView, can_focus=False):
    """Shows `render_graph(view)` rows; scrolls in both directions; keeps the focus visible.

    A graph wider than the view is drawn in the compact layout (narrower boxes, no v / ∂
    marks) when that fits the width, so a lab beside the lesson text rarely scrolls sideways.
    """

    COMPONENT_CLASSES = {f"graph-view--{name}" for name in STYLES}

    DEFAULT_CSS = """
    GraphView {
        height: 1fr;
        scrollbar-size: 1 1;
        & > .graph-view--box { color: $text-muted; }
        & > .graph-view--focus { color: $accent; text-style: bold; }
        & > .graph-view--hot { color: $warning; text-style: bold; }
        & > .graph-view--done { color: $success; }
        & > .graph-view--edge { color: $text-muted; }
        & > .graph-view--edge-hot { color: $warning; text-style: bold; }
        & > .graph-view--label { color: $text; text-style: bold; }
        & > .graph-view--value { color: $text; }
        & > .graph-view--grad { color: $success; text-style: bold; }
        & > .graph-view--partial { color: $warning; }
        & > .graph-view--bad { color: $error; text-style: bold; }
        & > .graph-view--muted { color: $text-muted; }
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: list[list[tuple[str, str]]] = []
        self._view = None
        self.compact = False
        self._styles: tuple | None = None  # (base, {name: style}); rich_style is costly per line

    @property
    def rows(self) -> list[list[tuple[str, str]]]:
        return self._rows

    def show(self, view) -> None:
        """Draw a `model.View` and scroll its focused node into sight. Only the rows that
        changed are repainted when the view does not scroll (a step changes a few boxes)."""
        self._view = view
        structure = tuple((b.label, b.inputs) for b in view.boxes)
        self.compact = drawable(structure) and self._wants_compact(structure)
        old_rows, old_size, old_scroll = self._rows, self.virtual_size, self.scroll_offset
        self._rows = render_graph(view, compact=self.compact)
        if drawable(structure):
            layout = compute_layout(structure, self.compact)
            self.virtual_size = Size(layout.width, layout.height)
            focus = (None if view.focus is None
                     else (*layout.boxes[view.focus], layout.box_w + 4, BOX_H))
        else:  # listed as a table, one line per node
            width = max(sum(len(text) for text, _ in row) for row in self._rows)
            self.virtual_size = Size(width, len(self._rows))
            focus = None if view.focus is None else (0, view.focus + 1, width, 1)
        if focus is not None:
            self.scroll_to_region(Region(*focus), animate=False, immediate=True)
        else:  # back at the start: show the inputs
            self.scroll_to(0, 0, animate=False, immediate=True)
        scroll = self.scroll_offset
        if (scroll != old_scroll or self.virtual_size != old_size
                or len(old_rows) != len(self._rows)):
            self.refresh()
            return
        width = self.size.width
        for y, (before, after) in enumerate(zip(old_rows, self._rows)):
            if before != after and 0 <= y - scroll.y < self.size.height:
                self.refresh(Region(0, y - scroll.y, width, 1))

    def _wants_compact(self, structure) -> bool:
        """The wide layout overflows the view's width (not yet known: assume 80 columns)."""
        width = self.scrollable_content_region.width or 80
        return compute_layout(structure).width > width

    def on_resize(self) -> None:
        if self._view is not None:
            structure = tuple((b.label, b.inputs) for b in self._view.boxes)
            if drawable(structure) and self._wants_compact(structure) != self.compact:
                self.show(self._view)

    def notify_style_update(self) -> None:
        self._styles = None  # a theme or CSS change: look the styles up again
        super().notify_style_update()

    def _style_table(self) -> tuple:
        if self._styles is None:
            base = self.rich_style
            self._styles = (base, {name: base + self.get_component_rich_style(
                f"graph-view--{name}") for name in STYLES})
        return self._styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = y + scroll_y
        width = self.size.width
        base, styles = self._style_table()
        if row >= len(self._rows) or width <= 0:
            return Strip.blank(max(0, width), base)
        segments = [Segment(text, styles[style]) for text, style in self._rows[row]]
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width, base)
