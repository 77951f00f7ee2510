"""A student's walk through the whole course: every lesson opens, every lab preset answers the
shared keys, every lab opens its PyTorch view and the help."""

from __future__ import annotations

from tutor.app import DlTutorApp
from tutor.content import load_catalog
from tutor.labs.base import Lab
from tutor.screens.code_dialog import CodeDialog
from tutor.screens.help import HelpScreen
from tutor.screens.lesson import LessonScreen


async def test_walk_every_lesson_and_press_every_shared_lab_key():
    catalog = load_catalog()
    app = DlTutorApp(catalog, warm=False, resume=False)
    app.animation_level = "none"
    visited = []
    labs_seen: set[str] = set()
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson(catalog.lessons[0].id)
        await pilot.pause()
        for lesson in catalog.lessons:
            screen = app.screen
            assert isinstance(screen, LessonScreen) and screen.lesson.id == lesson.id
            visited.append(lesson.id)
            if lesson.lab is not None:
                labs = screen.query(Lab)
                assert len(labs) == 1, f"the lab of {lesson.id} did not mount"
                lab = labs.first()
                await pilot.press("ctrl+o")
                await pilot.pause()
                assert screen.focused is lab or lab in screen.focused.ancestors_with_self
                for key in ("n", "n", "b", "space", "space", "r", "plus", "minus"):
                    await pilot.press(key)
                await pilot.pause()
                if lesson.lab.name not in labs_seen:  # dialogs once per lab: they cost seconds
                    labs_seen.add(lesson.lab.name)
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
                await pilot.press("ctrl+o")  # back to the text, where [ and ] navigate
                await pilot.pause()
            await pilot.press("right_square_bracket")
            await pilot.pause()
    assert visited == [lesson.id for lesson in catalog.lessons]
    assert labs_seen == {lesson.lab.name for lesson in catalog.lessons if lesson.lab}
