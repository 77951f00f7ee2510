"""set_text: unchanged text costs nothing; a layout pass only when the height changes."""

from textual.app import App
from textual.widgets import Static

from tutor.widgets.text import set_text


async def test_set_text_asks_for_layout_only_when_needed():
    class Harness(App):
        CSS = "#capped { max-height: 2; }"

        def compose(self):
            yield Static("")
            yield Static("", id="capped")

    app = Harness()
    async with app.run_test(size=(40, 10)) as pilot:
        static, capped = app.query(Static)
        calls = []

        def spy(widget):
            refresh = widget.refresh

            def recording(*regions, layout=False, **kwargs):
                calls.append(layout)
                return refresh(*regions, layout=layout, **kwargs)

            widget.refresh = recording

        def layout_requested(target, text) -> bool | None:
            """Whether set_text asked for a layout pass (None: it did not repaint at all)."""
            calls.clear()
            set_text(target, text)
            return any(calls) if calls else None

        spy(static)
        spy(capped)
        assert layout_requested(static, "one line") is False  # as high as the empty text
        await pilot.pause()
        assert layout_requested(static, "one line") is None  # unchanged: nothing
        assert layout_requested(static, "another line") is False  # same height
        assert layout_requested(static, "two\nlines") is True  # more lines
        await pilot.pause()
        assert layout_requested(static, "x" * 60) is False  # wraps onto two lines: same height
        assert layout_requested(static, "x" * 90) is True  # three lines
        await pilot.pause()
        assert "x" * 10 in str(static.render())
        # a long text wrapping in a capped Static: a layout pass only when its height changes
        assert layout_requested(capped, "y" * 100) is True
        await pilot.pause()
        assert layout_requested(capped, "z" * 100) is False
        assert capped.size.height == 2


async def test_text_lines_repaint_only_the_rows_that_change():
    from textual.geometry import Region

    from tutor.widgets.text_lines import TextLines

    class Harness(App):
        def compose(self):
            yield TextLines("a\nb\nc")

    app = Harness()
    async with app.run_test(size=(40, 10)) as pilot:
        lines = app.query_one(TextLines)
        await pilot.pause()
        calls = []
        refresh = lines.refresh

        def recording(*regions, layout=False, **kwargs):
            calls.append((regions, layout))
            return refresh(*regions, layout=layout, **kwargs)

        lines.refresh = recording
        lines.update("a\nB\nc")  # one row changed: that row only, no layout pass
        assert calls == [((Region(0, 1, lines.size.width, 1),), False)]
        calls.clear()
        lines.update("a\nB\nc\nd")  # one more row: a layout pass
        assert calls == [((), True)]
        await pilot.pause()
        assert lines.plain == "a\nB\nc\nd" and lines.size.height == 4
