"""set_text: unchanged text costs nothing; a layout pass only when the height may change."""

from textual.app import App
from textual.widgets import Static

from tutor.widgets.text import set_text


async def test_set_text_asks_for_layout_only_when_needed():
    class Harness(App):
        def compose(self):
            yield Static("")

    app = Harness()
    async with app.run_test(size=(40, 10)) as pilot:
        static = app.query_one(Static)
        calls = []
        original = static.update

        def spy(content="", *, layout=True):
            calls.append(layout)
            original(content, layout=layout)

        static.update = spy
        set_text(static, "one line")
        await pilot.pause()
        set_text(static, "one line")  # unchanged: nothing
        set_text(static, "another line")  # same height: no layout pass
        set_text(static, "two\nlines")  # more lines: layout pass
        set_text(static, "x" * 60)  # wraps at 40 columns: layout pass
        await pilot.pause()
        assert calls == [True, False, True, True]
        assert "x" * 10 in str(static.render())
