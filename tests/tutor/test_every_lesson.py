"""A student's walk through the whole course, one test per lab (and one for reading-only lessons)
so the walk spreads over the parallel workers: every lesson opens, every lab preset answers the
shared keys, every lab opens its PyTorch view and the help, and `]` reaches the next lesson."""

from __future__ import annotations

import pytest

from tests.keys import press
from tutor.app import DlTutorApp
from tutor.content import load_catalog
from tutor.labs.base import Lab
from tutor.screens.code_dialog import CodeDialog
from tutor.screens.help import HelpScreen
from tutor.screens.lesson import LessonScreen

CATALOG = load_catalog()
GROUPS = sorted({lesson.lab.name if lesson.lab else "reading" for lesson in CATALOG.lessons})


def _group(lesson) -> str:
    return lesson.lab.name if lesson.lab else "reading"


async def _open(app, pilot, lesson_id: str) -> LessonScreen:
    app.open_lesson(lesson_id)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson_id
    return screen


def _drawn(app) -> list:
    return [[(segment.text, segment.style) for segment in strip]
            for strip in app.screen._compositor.render_strips()]


async def _styles_are_current(app, pilot, where: str) -> None:
    """What is on screen does not change when the whole screen is restyled: the styles Textual
    is spared (a screen shown the first time, a lab's or the text's focus moving, see
    `tutor.widgets.focus`) were right."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    before = _drawn(app)
    app.stylesheet.update(app.screen)
    await pilot.pause()
    assert _drawn(app) == before, f"a full restyle changed the screen ({where})"


@pytest.mark.parametrize("group", GROUPS)
async def test_walk_the_lessons_of_each_lab_and_press_every_shared_key(group):
    lessons = [lesson for lesson in CATALOG.lessons if _group(lesson) == group]
    app = DlTutorApp(CATALOG, warm=False, resume=False)
    app.animation_level = "none"
    dialogs_seen = False
    async with app.run_test(size=(120, 36)) as pilot:
        for lesson in lessons:
            screen = await _open(app, pilot, lesson.id)
            if lesson.lab is None:
                continue
            labs = screen.query(Lab)
            assert len(labs) == 1, f"the lab of {lesson.id} did not mount"
            lab = labs.first()
            await pilot.press("ctrl+o")
            await pilot.pause()
            assert screen.focused is lab or lab in screen.focused.ancestors_with_self
            await press(pilot, "n", "n", "b", "space", "space", "r", "plus", "minus")
            await pilot.pause()
            assert isinstance(app.screen, LessonScreen), f"a shared key left {lesson.id}"
            if screen.focused is not lab:  # "-" began the answer to a question the lab asks
                await pilot.press("escape")  # one level up: from the field back to the lab
                await pilot.pause()
            assert screen.focused is lab, f"escape did not return to the lab of {lesson.id}"
            if not dialogs_seen:  # dialogs once per lab: they cost seconds
                dialogs_seen = True
                await pilot.press("y")
                await pilot.pause()
                if lab.pytorch_code() is not None:
                    assert isinstance(app.screen, CodeDialog), lesson.id
                    await pilot.press("escape")
                    await pilot.pause()
                await pilot.press("f1")
                await pilot.pause()
                assert isinstance(app.screen, HelpScreen)
                await pilot.press("escape")
                await pilot.pause()
            if lesson is lessons[0]:
                await _styles_are_current(app, pilot, f"{lesson.id}, the lab focused")
            await pilot.press("ctrl+o")  # back to the text, where [ and ] navigate
            await pilot.pause()
            if lesson is lessons[0]:
                await _styles_are_current(app, pilot, f"{lesson.id}, the text focused")
        last = lessons[-1]
        following = CATALOG.neighbour(last.id, 1)
        if following is not None:
            await _open(app, pilot, last.id)
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert app.screen.lesson.id == following.id
