"""The app as a student uses it: catalog, lessons, quizzes, progress, help, themes, tiny terminals."""

from __future__ import annotations

import asyncio
import json

import pytest
from textual.widgets import Input, OptionList

from tutor.app import DlTutorApp
from tutor.content import load_catalog
from tutor.progress import Progress
from tutor.screens.catalog import CatalogScreen
from tutor.screens.help import HelpScreen
from tutor.screens.lesson import LessonScreen
from tutor.widgets.quiz import QuizView

SIZE = (120, 36)


def make_app(**kw) -> DlTutorApp:
    app = DlTutorApp(warm=False, **kw)
    app.animation_level = "none"
    return app


def lesson_ids() -> list[str]:
    return [lesson.id for lesson in load_catalog().lessons]


async def test_catalog_lists_every_chapter_and_lesson():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert [i for i in ids if i] == lesson_ids()
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Getting started" in p for p in prompts)
        assert all("○" in str(options.get_option(i).prompt) for i in lesson_ids())


async def test_open_next_previous_done_and_back_to_catalog():
    app = make_app()
    first, second = lesson_ids()[:2]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == first
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.screen.lesson.id == second
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.screen.lesson.id == first
        await pilot.press("left_square_bracket")  # nothing before the first lesson
        await pilot.pause()
        assert app.screen.lesson.id == first
        await pilot.press("d")
        await pilot.pause()
        assert app.progress.status(first) == "done"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        options = app.screen.query_one(OptionList)
        assert "●" in str(options.get_option(first).prompt)
        assert "○" in str(options.get_option(second).prompt) or "◐" in str(options.get_option(second).prompt)
    saved = json.loads(Progress.load().path.read_text())
    assert saved["lessons"][first] == "done"
    assert saved["last_lesson"] == first


async def test_progress_survives_a_restart_and_reopens_the_last_lesson():
    target = lesson_ids()[2]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(target)
        await pilot.pause()
        await pilot.press("q")
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(again.screen, LessonScreen) and again.screen.lesson.id == target
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(again.screen, CatalogScreen)
        assert again.screen.query_one(OptionList).highlighted_option.id == target


async def test_numeric_quiz_feedback_and_progress():
    lesson = load_catalog().get("training-objective")
    quiz = next(q for q in lesson.quizzes if not q.is_choice)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(lesson.id)
        await pilot.pause()
        view = app.screen.query(QuizView).first()
        field = view.query_one(Input)
        field.focus()
        for text in ("seven", "3"):  # unreadable, then wrong
            field.value = text
            await pilot.press("enter")
            await pilot.pause()
        record = app.progress.quiz_record(lesson.id, quiz.id)
        assert record["attempts"] == 1 and record["correct"] is False
        assert view.has_class("-wrong")
        field.value = f"{quiz.answer}"
        await pilot.press("enter")
        await pilot.pause()
        assert view.has_class("-correct")
        assert app.progress.quiz_record(lesson.id, quiz.id)["correct"] is True
    saved = json.loads(Progress.load().path.read_text())
    assert saved["quizzes"][f"{lesson.id}/{quiz.id}"]["correct"] is True


async def test_choice_quiz_by_click():
    lesson = load_catalog().get("how-to-use")
    quiz = lesson.quizzes[0]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(lesson.id)
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        view.scroll_visible(animate=False)
        await pilot.pause()
        from textual.widgets import RadioButton

        buttons = list(view.query(RadioButton))
        buttons[quiz.correct].value = True
        await pilot.pause()
        await pilot.click("#check")
        await pilot.pause()
        assert app.progress.quiz_record(lesson.id, quiz.id)["correct"] is True


async def test_help_lists_every_key_and_the_open_labs_own():
    """F1 beside a lab: the app's, the lesson's and every lab's keys, then this lab's, drawn
    by one widget (the Markdown it replaced took ~90 ms to show)."""
    from textual.containers import VerticalScroll
    from textual.geometry import Region

    from tests.screen import screen_text
    from tutor.screens.help import HelpText

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("cnn-kernels")
        for _ in range(4):
            await pilot.pause()
        await pilot.press("ctrl+o", "f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.query_one(HelpText)
        assert len(list(app.screen.walk_children())) == 2  # the scroll and the text
        assert "Everywhere" in screen_text(app) and "this help" in screen_text(app)
        width, height = help_text.size
        lines = [strip.text for strip in help_text.render_lines(Region(0, 0, width, height))]
        drawn = "\n".join(lines)
        for words in ["Catalog", "Lesson", "Every lab", "ctrl+p", "previous / next lesson",
                      "This lab: convolution", "Flip 180°"]:
            assert words in drawn, words
        assert drawn.index("Every lab") < drawn.index("This lab: convolution")
        app.screen.query_one(VerticalScroll).scroll_end(animate=False)
        await pilot.pause()
        assert "Flip 180°" in screen_text(app), "scrolled to the lab's keys"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


async def test_help_theme_and_palette():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        before = app.theme
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.theme != before
        chosen = app.theme
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to lesson pipeline")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "ml-pipeline"
    assert Progress.load().theme == chosen
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == chosen


async def test_corrupt_progress_file_is_reported_and_app_runs():
    path = Progress.load().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{ this is not json")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        assert any("damaged" in n.message for n in app._notifications)
    assert any(p.name.startswith("progress.corrupt-") for p in path.parent.iterdir())


async def test_broken_lesson_file_shows_as_an_error_entry(tmp_path):
    (tmp_path / "broken.md").write_text("+++\nid = 'x'\n")
    app = make_app(catalog=load_catalog([tmp_path]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        assert options.get_option("error:0") is not None
        options.highlighted = options.get_option_index("error:0")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen), "a broken lesson does not open"


@pytest.mark.parametrize("size", [(1, 1), (10, 3), (59, 40), (120, 15)])
async def test_tiny_terminals_show_a_notice_on_every_screen(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-too-narrow") or app.screen.has_class("-too-short")
        await pilot.press("f1")  # the help screen at the tiny size too
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        lab_lesson = next(x for x in load_catalog().lessons if x.lab is not None)
        app.open_lesson(lab_lesson.id)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert not app.screen.has_class("-too-narrow") and not app.screen.has_class("-too-short")
        await pilot.resize_terminal(*size)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)


async def test_warmup_worker_reports_progress_and_readiness():
    import core

    app = DlTutorApp()
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the warm-up starts after the first paint
        for _ in range(3000):  # a child process compiles, a daemon thread loads: not a worker
            if app.kernels_ready:
                break
            await asyncio.sleep(0.02)
        await pilot.pause()
        assert app.kernels_ready
        assert app.kernels_done == app.kernels_total > 0
        assert app.ready_packages == set(), "no lab open: nothing loaded in the app's process"
        lesson = next(x for x in load_catalog().lessons if x.lab is not None)
        app.open_lesson(lesson.id)
        from tutor.labs import lab_core_packages

        for _ in range(3000):
            if set(lab_core_packages(lesson.lab.name)) <= app.ready_packages:
                break
            await asyncio.sleep(0.02)
        assert set(lab_core_packages(lesson.lab.name)) <= app.ready_packages <= set(core.SUBPACKAGES)
        from tutor.labs.base import Lab

        for _ in range(500):  # the lab mounts once its packages are loaded
            await pilot.pause()
            if app.screen.query(Lab):
                break
        assert app.screen.query(Lab)


async def test_a_lab_waits_for_its_kernels_then_mounts():
    from textual.widgets import Static

    from tutor.labs.base import Lab
    from tutor.screens.lesson import LabPane

    lesson = next(x for x in load_catalog().lessons if x.lab is not None)
    app = DlTutorApp(warm=False)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        app.ready_packages = frozenset()  # as on a first start, before any kernel is ready
        app.open_lesson(lesson.id)
        await pilot.pause()
        pane = app.screen.query_one(LabPane)
        assert "Preparing" in str(pane.query_one("#preparing", Static).render())
        assert not pane.query(Lab)
        import core

        app.ready_packages = frozenset(core.SUBPACKAGES)
        await pilot.pause()
        assert len(pane.query(Lab)) == 1 and not pane.query("#preparing")


@pytest.mark.parametrize("ready", [True, False], ids=["kernels-ready", "kernels-later"])
async def test_a_lab_that_cannot_be_built_is_reported_in_its_pane(monkeypatch, ready):
    """Built with the lesson (kernels ready) or mounted later: a lab whose constructor fails
    leaves the lesson open, its text readable, and says why in the lab's place."""
    import core
    from textual.widgets import Static

    import tutor.labs
    from tutor.screens.lesson import LabPane

    def broken(name):
        class Broken:
            def __init__(self, *args, **kwargs):
                raise RuntimeError("the lab's data are missing")
        return Broken

    monkeypatch.setattr(tutor.labs, "lab_class", broken)
    lesson = next(x for x in load_catalog().lessons if x.lab is not None)
    app = DlTutorApp(warm=False, resume=False)
    async with app.run_test(size=SIZE) as pilot:
        if not ready:
            app.ready_packages = frozenset()
        app.open_lesson(lesson.id)
        await pilot.pause()
        if not ready:
            app.ready_packages = frozenset(core.SUBPACKAGES)
            await pilot.pause()
        pane = app.screen.query_one(LabPane)
        errors = [str(w.render()) for w in pane.query(Static) if w.has_class("lab-error")]
        assert len(errors) == 1 and "the lab's data are missing" in errors[0], errors
        assert app.screen.lesson.id == lesson.id and app.screen.query_one("#lesson-text").display


async def test_escape_in_a_text_field_leaves_the_field_not_the_lesson():
    lesson = load_catalog().get("training-objective")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(lesson.id)
        await pilot.pause()
        field = app.screen.query(QuizView).first().query_one(Input)
        field.focus()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen), "the first escape only leaves the field"
        assert not isinstance(app.screen.focused, Input)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)


async def test_escape_in_a_lab_field_returns_to_the_lab():
    from tutor.labs.base import Lab

    lesson = next(x for x in load_catalog().lessons if x.lab is not None and x.lab.name == "optimizer")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(lesson.id)
        await pilot.pause()
        inputs = app.screen.query_one(Lab).query(Input)
        assert inputs, "the optimizer lab has hyperparameter fields"
        inputs.first().focus()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert isinstance(app.screen.focused, Lab)


async def test_a_lab_is_kept_only_when_the_student_changed_it():
    """Leaving a lesson keeps its lab as the student left it; a lab only looked at keeps
    nothing (it follows its lesson file, whose settings may change later)."""
    from tutor.labs.base import Lab

    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("loss-functions")
        await pilot.pause()
        await pilot.pause()
        app.open_lesson(lesson_ids()[0])  # left untouched
        await pilot.pause()
        assert app.progress.lab_state("loss-functions") is None
        app.open_lesson("loss-functions")
        await pilot.pause()
        lab = app.screen.query_one(Lab)
        lab.model.set_label(0)
        app.open_lesson(lesson_ids()[0])
        await pilot.pause()
        assert app.progress.lab_state("loss-functions")["label"] == 0
        app.open_lesson("loss-functions")  # back, and put as the lesson builds it
        await pilot.pause()
        app.screen.query_one(Lab).model.set_label(1)
        await pilot.press("q")
    assert Progress.load().lab_state("loss-functions") is None
