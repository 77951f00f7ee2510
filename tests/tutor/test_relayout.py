"""tutor.relayout: a new widget that cannot scroll does not ask for a second layout pass for
its virtual size; a widget that scrolls does, and shows its scrollbar."""

from __future__ import annotations

from textual.app import App
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Size
from textual.widgets import Label, Static

from tutor import relayout


class Page(App):
    def compose(self):
        with VerticalScroll(id="scroll"):
            for i in range(60):
                yield Static(f"line {i}")
        with Horizontal(id="row"):
            yield Label("a", id="a")
            yield Label("b")


async def test_only_widgets_that_scroll_ask_for_a_layout_for_their_virtual_size():
    assert relayout.install()
    app = Page()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        scroll = app.query_one("#scroll", VerticalScroll)
        assert scroll.show_vertical_scrollbar, "the long column scrolls"
        assert scroll.max_scroll_y > 0
        drawn = "".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "line 0" in drawn
        for selector, asks in (("#a", False), ("#row", False), ("#scroll", True)):
            widget = app.query_one(selector)
            widget._layout_required = False
            widget._size_updated(widget.size, widget.virtual_size + Size(3, 3),
                                 widget.container_size)
            assert widget._layout_required is asks, selector
        label = app.query_one("#a")
        old = label.virtual_size
        label._size_updated(label.size, old + Size(1, 1), label.container_size)
        assert label.virtual_size == old + Size(1, 1)
