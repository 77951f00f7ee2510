"""The shell never shows a traceback: known crashes, escape one level at a time, errors logged."""

from __future__ import annotations

from textual.widgets import Input

from tutor.app import DlTutorApp
from tutor.screens.catalog import CatalogScreen
from tutor.screens.lesson import LessonScreen

SIZE = (120, 36)


def make_app(**kw) -> DlTutorApp:
    app = DlTutorApp(warm=False, **kw)
    app.animation_level = "none"
    return app


async def test_value_iteration_resize_to_one_row_keeps_the_lesson():
    """Lesson "Value iteration", ctrl+o, z, 1, enter: the selected cell (2, 2) was redrawn
    before it was dropped, and the app died with 'cell (2, 2) is outside the 1 x 5 grid'."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("rl-value-iteration")
        await pilot.pause()
        await pilot.press("ctrl+o", "z", "1", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        lab = app.screen.query_one("#lab")
        assert lab.model.spec.rows == 1
        assert lab.selected is None or lab.selected[0] == 0
