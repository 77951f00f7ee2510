"""The key footer: one line that shows the focused widget's keys, presses them when clicked."""

from __future__ import annotations

from tests.screen import screen_text
from tutor.labs.base import Lab
from tutor.widgets.footer import KeyFooter


def _footer_line(app) -> str:
    return screen_text(app).splitlines()[-1]


async def test_the_footer_shows_the_labs_keys_and_a_click_presses_one(lab_app):
    app = lab_app("losses")
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        lab = app.query_one(Lab)
        footer = app.query_one(KeyFooter)
        line = _footer_line(app)
        assert " space Play/pause " in line and " n Step " in line, line
        assert line.rstrip().endswith("▏^p palette"), line
        steps = []
        original = lab.step_forward
        lab.step_forward = lambda: steps.append(1) or original()
        x = line.index(" n Step ")
        await pilot.hover(KeyFooter, offset=(x + 2, 0))
        hovered = app.screen._compositor.render_strips()[-1]
        assert footer.tooltip is None or isinstance(footer.tooltip, str)
        await pilot.click(KeyFooter, offset=(x + 2, 0))
        await pilot.pause()
        assert steps == [1], "a click on the footer's n did not step the lab"
        await pilot.hover(KeyFooter, offset=(1, 0))  # another key: the first one is drawn as before
        await pilot.pause()
        assert app.screen._compositor.render_strips()[-1] != hovered


async def test_the_footer_follows_the_focus_and_fits_any_width():
    from tutor.app import DlTutorApp

    app = DlTutorApp(warm=False, resume=False, open_lesson="loss-and-gradient-descent")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        with_text = footer.items
        assert any(item.description == "Next lesson" for item in with_text)
        await pilot.press("ctrl+o")  # to the lab: its keys come first
        await pilot.pause()
        assert footer.items != with_text
        assert footer.items[0].description == "Play"
        assert " space Play " in _footer_line(app) and " esc Catalog " in _footer_line(app)
        for width in (40, 12, 3):
            await pilot.resize_terminal(width, 10)
            await pilot.pause()
            line = _footer_line(app)
            assert len(line) == width, (width, line)
        await pilot.click(KeyFooter, offset=(1, 0))  # whatever is there, or nothing: no error
        await pilot.pause()
