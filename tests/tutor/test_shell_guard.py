"""The shell never shows a traceback: known crashes, escape one level at a time, errors logged."""

from __future__ import annotations

import asyncio
from time import monotonic

import pytest

from textual import events
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


def _lesson_with(lab: str) -> str:
    from tutor.content import load_catalog

    return next(x.id for x in load_catalog().lessons if x.lab is not None and x.lab.name == lab)


async def test_an_error_in_a_lab_action_is_reported_logged_and_survived(monkeypatch, tmp_path):
    from tutor.labs.base import Lab
    from tutor.labs.losses.widget import LossesLab

    monkeypatch.delenv("DL_TUTOR_STRICT")

    def broken(self):
        raise RuntimeError("kaboom in step")

    monkeypatch.setattr(LossesLab, "step_forward", broken)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(_lesson_with("losses"))
        await pilot.pause()
        await pilot.press("ctrl+o", "n")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert len(app.reported_errors) == 1
        lab = app.screen.query_one(Lab)
        assert lab.is_attached
        await pilot.press("r")  # the lab still answers its keys
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        assert any("kaboom in step" in n and "errors.log" in n for n in notes), notes
    log = tmp_path / "data" / "errors.log"
    assert "RuntimeError: kaboom in step" in log.read_text()
    assert "Traceback" in log.read_text()


async def test_an_error_in_a_lab_message_handler_and_timer_is_survived(monkeypatch):
    from tutor.labs.base import Lab
    from tutor.labs.losses.widget import LossesLab

    monkeypatch.delenv("DL_TUTOR_STRICT")

    def broken(self, event):
        raise ZeroDivisionError("in a handler")

    monkeypatch.setattr(LossesLab, "on_param_input_changed", broken)
    calls = []

    def broken_tick(self):
        calls.append(1)
        raise ValueError("in the timer")

    monkeypatch.setattr(LossesLab, "_tick", broken_tick)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(_lesson_with("losses"))
        await pilot.pause()
        lab = app.screen.query_one(Lab)
        from tutor.widgets.param_input import ParamInput

        lab.post_message(ParamInput.Changed(lab.query(ParamInput).first(), "scale", 2.0))
        await pilot.pause()
        lab.playing = True
        lab._frame()
        await pilot.pause()
        assert [type(e) for e in app.reported_errors] == [ZeroDivisionError, ValueError]
        assert calls and not lab.playing, "an error stops playback"
        assert isinstance(app.screen, LessonScreen) and lab.is_attached


async def test_a_widget_of_the_lab_that_dies_gets_the_lab_rebuilt(monkeypatch):
    from tutor.labs.base import Lab
    from tutor.widgets.step_controls import StepControls

    monkeypatch.delenv("DL_TUTOR_STRICT")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(_lesson_with("losses"))
        await pilot.pause()
        old = app.screen.query_one(Lab)

        target = old.query_one(StepControls)

        def broken(self, event):
            if self is target:
                raise KeyError("a child widget's handler")

        monkeypatch.setattr(StepControls, "on_resize", broken, raising=False)
        target.post_message(events.Resize((1, 1), (1, 1)))
        for _ in range(200):  # not pilot.pause(): it would wait on the dead widget's queue
            await asyncio.sleep(0.01)
            if not old.is_attached and app.screen.query(Lab):
                break
        monkeypatch.undo()
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        new = app.screen.query_one(Lab)
        assert new is not old and new.is_attached
        assert len(app.reported_errors) == 1


async def test_escape_goes_one_level_up_after_enter_in_a_field_and_after_an_answer():
    """Field → lab → lesson text → catalog: enter in a field gave the keys back to the lab,
    and the next escape used to leave the lesson."""
    from textual.widgets import Input

    from tutor.labs.base import Lab
    from tutor.widgets.quiz import QuizView

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("rl-mdp")
        await pilot.pause()
        lab = app.screen.query_one(Lab)
        await pilot.press("ctrl+o", "g", "0", ".", "5", "enter")  # γ accepted, keys to the lab
        await pilot.pause()
        assert lab.model.spec.gamma == 0.5 and app.focused is lab
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen) and app.focused.id == "lesson-text"
        quiz = app.screen.query(QuizView).first()
        field = quiz.query(Input)
        target = field.first() if field else quiz.query("RadioSet").first()
        target.focus()
        await pilot.press("escape")  # from the quiz to the lesson text, not the catalog
        assert isinstance(app.screen, LessonScreen) and app.focused.id == "lesson-text"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)


def test_quitting_ends_the_compiling_child_at_once(tmp_path, monkeypatch):
    """Kernels compile in a child process: stop() kills it mid-compile (no thread to wait for)."""
    import threading

    from tutor.kernels import KernelCompiler

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cold"))  # a cold cache: a long compile
    compiler = KernelCompiler(["optim", "nn"])
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(compiler.lines()), daemon=True)
    reader.start()
    for _ in range(500):
        if compiler._proc is not None:
            break
        threading.Event().wait(0.01)
    compiler.stop()
    reader.join(timeout=30)
    assert not reader.is_alive() and compiler._proc.poll() is not None
    assert not any(line.startswith("package nn") for line in lines)


def test_the_child_reports_kernels_and_packages():
    from tutor.kernels import run_child

    out: list[str] = []
    assert run_child(["optim"], out.append) == 0
    assert out[-1] == "package optim"
    assert all(line.startswith("kernel ") for line in out[:-1]) and out[:-1]


def test_the_child_notes_what_it_cached_with_a_stamp_of_the_sources():
    """A package the child cached is noted with a stamp of the core's sources; a note with
    another stamp (a source, numba or Python changed since) counts for nothing."""
    from tutor import kernels

    out: list[str] = []
    assert kernels.run_child(["optim"], out.append) == 0
    stamp = kernels.sources_stamp()
    assert "optim" in kernels.known_cached(["optim", "nn"], stamp)
    assert kernels.known_cached(["optim"], stamp + "0") == set()
    assert kernels.known_cached(["no-such-package"], stamp) == set()


async def test_packages_noted_as_cached_load_without_waiting_for_the_child(monkeypatch):
    """`--open` (or the lesson resumed at start): the lab's packages, noted as cached on an
    earlier run, are loaded while the child starts, not after it confirms them (~1 s)."""
    import threading

    from tutor import kernels
    from tutor.labs import lab_core_packages
    from tutor.labs.base import Lab

    assert set(lab_core_packages("optimizer")) == {"optim"}
    kernels.run_child(["optim"], lambda line: None)  # an earlier run noted optim
    started: list[list[str]] = []

    def silent_child(self):  # a child that starts and confirms nothing until the app quits
        started.append(self.packages)
        while not self._stopped:
            threading.Event().wait(0.01)
        yield from ()

    monkeypatch.setattr(kernels.KernelCompiler, "lines", silent_child)
    app = DlTutorApp(warm=True, resume=False, open_lesson="first-order-methods")  # optimizer lab
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(300):
            await pilot.pause(0.01)
            labs = app.screen.query(Lab)
            if "optim" in app.ready_packages and labs and labs.first().is_mounted:
                break
        assert started and "optim" in app.ready_packages
        assert app.screen.query_one(Lab).is_mounted


def test_open_an_unknown_lesson_is_a_clear_error(capsys):
    from tutor.__main__ import main

    assert main(["--open", "bellman"]) == 2
    err = capsys.readouterr().err
    assert "no lesson 'bellman'" in err and "rl-bellman" in err and "--list-lessons" in err


async def test_open_a_lesson_directly():
    app = make_app(open_lesson="rl-bellman", resume=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "rl-bellman"


async def test_the_catalog_keeps_the_lesson_just_left_and_continues_after_it():
    from textual.widgets import OptionList, Static

    from tutor.content import load_catalog

    ids = [x.id for x in load_catalog().lessons]
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(ids[3])
        await pilot.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        options = app.screen.query_one(OptionList)
        assert options.highlighted_option.id == ids[5], "the cursor is on the lesson just left"
        assert f"continue with {load_catalog().get(ids[5]).title}" in str(
            app.screen.query_one("#catalog-continue", Static).render())
        app.progress.set_done(ids[5])
        app.screen.rebuild()
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == ids[6]
        await pilot.press("escape")
        await pilot.pause()
        heading = str(options.get_option_at_index(0).prompt)
        assert "done" in heading and "/" in heading


async def test_a_lab_comes_back_as_it_was_left_also_after_a_restart():
    from tutor.labs.base import Lab

    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("rl-value-iteration")
        await pilot.pause()
        await pilot.press("ctrl+o", "down", "w", "n", "n", "n")
        await pilot.pause()
        lab = app.screen.query_one(Lab)
        cell, walls = lab.selected, lab.model.spec.walls
        assert cell in walls and lab.model.k == 3
        await pilot.press("right_square_bracket")  # to the next lesson and back
        await pilot.pause()
        await pilot.press("left_square_bracket")
        await pilot.pause()
        back = app.screen.query_one(Lab)  # the lesson stayed built: the very same lab
        assert back.model.spec.walls == walls and back.model.k == 3 and back.selected == cell
        await pilot.press("q")
    from tutor.progress import Progress

    assert Progress.load().lab_state("rl-value-iteration")["k"] == 3
    again = make_app(resume=True)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        lab = again.screen.query_one(Lab)
        assert lab.model.spec.walls == walls and lab.model.k == 3


async def test_a_damaged_lab_state_starts_the_lab_fresh_with_a_notice():
    from tutor.labs.base import Lab

    app = make_app(resume=False)
    app.progress.set_lab_state("rl-value-iteration", {"spec": {"rows": "x"}, "mode": "nope"})
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("rl-value-iteration")
        await pilot.pause()
        await pilot.pause()
        lab = app.screen.query_one(Lab)
        assert lab.model.k == 0 and lab.model.spec.rows == 5
        assert any("could not be put back" in str(n.message) for n in app._notifications)
        assert app.progress.lab_state("rl-value-iteration") is None


async def test_recent_lessons_stay_built_and_old_ones_are_dropped():
    from tutor.app import KEPT_LESSONS
    from tutor.content import load_catalog

    ids = [x.id for x in load_catalog().lessons][: KEPT_LESSONS + 2]
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        for lesson_id in ids:
            app.open_lesson(lesson_id)
            await pilot.pause()
        first_again = app.screen
        await pilot.press("left_square_bracket")
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.screen is first_again, "going back and forth reuses the built screens"
        assert len(app._recent_lessons) == KEPT_LESSONS
        assert not app.is_screen_installed(f"lesson:{ids[0]}")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        app.open_lesson(ids[-1])
        await pilot.pause()
        assert app.screen is first_again


@pytest.mark.parametrize("query, lesson_id", [
    ("8.2.5", "rl-value-iteration"),       # a section number of the notes
    ("gridworld mdp", "rl-mdp"),           # the lab's name and a word of the title
    ("teleports", None),                   # a word of the text only
])
async def test_the_palette_finds_lessons_by_section_lab_and_text(query, lesson_id):
    from tutor.app import LessonCommands
    from tutor.content import load_catalog

    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        provider = LessonCommands(app.screen)
        hits = [hit async for hit in provider.search(query)]
        assert hits, query
        best = max(hits, key=lambda h: h.score)
        if lesson_id is not None:
            assert load_catalog().get(lesson_id).title in str(best.match_display)
        else:  # found in the text, shown with the words around it
            shown = [str(h.match_display) for h in hits]
            assert any("teleport" in text.split("“")[-1].lower() for text in shown), shown


async def test_the_losses_lab_state_round_trips(lab_app):
    from tutor.labs.base import Lab

    async with lab_app("losses").run_test(size=SIZE) as pilot:
        lab = pilot.app.query_one(Lab)
        lab.model.set_logits("3, 0.5, -2, 1")
        lab.model.set_label(3)
        lab.model.mode = "stability"
        lab.step_forward()
        lab.step_forward()
        state = lab.save_state()
    async with lab_app("losses").run_test(size=SIZE) as pilot:
        lab = pilot.app.query_one(Lab)
        lab.restore_state(state)
        await pilot.pause()
        assert lab.save_state() == state
        assert lab.query_one("#loss-logits", Input).value == "3, 0.5, -2, 1"


@pytest.mark.parametrize("lab", __import__("tutor.labs", fromlist=["lab_names"]).lab_names())
def test_the_lab_keys_fit_the_footer_at_120_columns(lab):
    """Beside a lesson the footer lists the lab's keys first; backprop, gan and robustness
    were cut off. Room: 120 columns less the palette hint."""
    from textual.binding import Binding

    from tutor.labs import lab_class
    from tutor.screens.lesson import FOOTER_SHORT

    merged: dict[str, Binding] = {}
    for cls in reversed(lab_class(lab).__mro__):
        for binding in getattr(cls, "BINDINGS", None) or []:
            if isinstance(binding, Binding):
                merged[binding.action] = binding
    width = 0
    for binding in merged.values():
        description = FOOTER_SHORT.get(binding.action, binding.description)
        if binding.show and description is not None:
            key = {"space": "space", "escape": "esc"}.get(binding.key.split(",")[0], binding.key)
            width += len(binding.key_display or key) + 1 + len(description) + 2
    assert width <= 120 - 13, f"{lab}: {width} columns of keys"


async def test_an_error_in_a_lab_worker_is_reported(monkeypatch, lab_app):
    from tutor.labs.base import Lab

    monkeypatch.delenv("DL_TUTOR_STRICT")

    def failing():
        raise ArithmeticError("in a worker")

    async with lab_app("losses").run_test(size=SIZE) as pilot:
        lab = pilot.app.query_one(Lab)
        worker = lab.run_worker(failing, thread=True, exit_on_error=False)  # a @work method
        try:
            await worker.wait()
        except Exception:  # WorkerFailed: the worker's own report
            pass
        await pilot.pause()
        await pilot.pause()
        assert [type(e) for e in pilot.app.reported_errors] == [ArithmeticError]
        assert lab.is_attached


def _drawn(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def _built(app, pilot, screen) -> bool:
    """Let a screen built ahead compose and mount its lab (a few turns of the event loop)."""
    from tutor.labs.base import Lab

    for _ in range(50):
        await pilot.pause()
        await app.workers.wait_for_complete()
        if any(lab.is_mounted for lab in screen.query(Lab)):
            return True
    return False


async def test_the_next_lesson_is_built_ahead_while_the_student_reads():
    """When the student has been quiet a while (the dl-tutor command looks every IDLE_EVERY s;
    here `_when_idle` is called by hand) the next lesson is built off screen, its lab
    included, then at the next quiet moment the previous one; `]` then shows that very screen,
    and only then is the visit recorded. A key just pressed, or the lab playing, puts the
    build off; a theme changed in between is applied when the screen is shown."""
    from tutor.app import AHEAD_AFTER
    from tutor.labs.base import Lab

    first = "rl-value-iteration"
    second = make_app().catalog.neighbour(first, +1)
    assert second is not None and second.lab is not None
    name = f"lesson:{second.id}"
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(first)
        await pilot.pause()
        await pilot.press("ctrl+o", "n")  # the student works in the lab
        app._last_input = monotonic()  # as the key did (however long the press took)
        app._when_idle()
        assert not app.is_screen_installed(name), "built while keys come"
        lab = app.screen.query_one(Lab)
        lab.playing = True
        app._last_input -= 2 * AHEAD_AFTER
        app._when_idle()
        assert not app.is_screen_installed(name), "built while the lab plays"
        lab.playing = False
        app._when_idle()
        assert app.is_screen_installed(name)
        ahead = app.get_screen(name)
        assert await _built(app, pilot, ahead), "the lab is built ahead too"
        previous = app.catalog.neighbour(first, -1)
        assert not app.is_screen_installed(f"lesson:{previous.id}"), "one per quiet moment"
        app._when_idle()
        assert app.is_screen_installed(f"lesson:{previous.id}")
        assert await _built(app, pilot, app.get_screen(f"lesson:{previous.id}"))
        assert app._build_ahead() is False, "nothing more to build"
        assert app.screen.lesson.id == first and app.progress.last_lesson == first
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is ahead and app.progress.last_lesson == second.id
        shown = _drawn(app)
        assert any(second.title in line for line in shown)
        app.stylesheet.update(app.screen)  # restyle all: nothing may change
        await pilot.pause()
        assert _drawn(app) == shown, "the theme changed after the build is not applied"


async def test_while_the_student_reads_every_kind_of_lab_is_loaded_one_at_a_time(monkeypatch):
    """With nothing to build ahead and no collection due, each quiet moment loads one more
    kind of lab (its modules and its core packages), in course order: the first lesson of a
    kind opened from the palette then does not wait for them. Never while keys come."""
    import tutor.labs as labs
    from tutor.app import AHEAD_AFTER
    from tutor.labs import gc_hold

    imported: list[str] = []
    lab_class = labs.lab_class
    monkeypatch.setattr(labs, "lab_class", lambda name: (imported.append(name), lab_class(name))[1])
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        monkeypatch.setattr(app, "_build_ahead", lambda: False)
        monkeypatch.setattr(gc_hold, "collect_when_idle", lambda quiet: False)
        wanted: list[set] = []
        monkeypatch.setattr(app, "want_packages", lambda packages: wanted.append(set(packages)))
        app._last_input = monotonic()
        app._when_idle()
        assert imported == [], "not while keys come"
        app._last_input -= 2 * AHEAD_AFTER
        kinds = list(dict.fromkeys(l.lab.name for l in app.catalog.lessons if l.lab is not None))
        for _ in range(len(kinds) + 2):
            app._when_idle()
        assert imported == kinds, "one kind per quiet moment, in course order, each once"
        assert wanted == [set(labs.lab_core_packages(name)) for name in kinds]
        assert app._load_a_lab_kind() is False


async def test_a_lesson_built_ahead_puts_its_lab_back_as_it_was_left():
    """The lab state saved for the next lesson is restored off screen, then shown."""
    from tutor.labs.base import Lab
    from tutor.progress import Progress

    lesson = "rl-value-iteration"
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(lesson)
        await pilot.pause()
        await pilot.press("ctrl+o", "down", "w", "n", "n", "n")
        await pilot.pause()
        saved = app.screen.query_one(Lab).save_state()
        await pilot.press("q")
    assert Progress.load().lab_state(lesson) == saved
    before = make_app().catalog.neighbour(lesson, -1)
    again = make_app(resume=False)
    async with again.run_test(size=SIZE) as pilot:
        again.open_lesson(before.id)
        await pilot.pause()
        assert again._build_ahead()
        assert await _built(again, pilot, again.get_screen(f"lesson:{lesson}"))
        await pilot.press("right_square_bracket")
        await pilot.pause()
        await pilot.pause()
        assert again.screen.lesson.id == lesson
        lab = again.screen.query_one(Lab)
        assert lab.save_state() == saved
        assert lab.size.width > 20 and any("V" in line for line in _drawn(again))


async def test_the_lesson_highlighted_in_the_catalog_is_built_ahead():
    """A lesson the cursor rests on in the catalog is built ahead: enter shows that screen."""
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")
        await pilot.pause()
        highlighted = app.screen.query_one("#lessons").highlighted_option.id
        assert app._build_ahead()
        ahead = app.get_screen(f"lesson:{highlighted}")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is ahead and app.progress.last_lesson == highlighted


async def test_a_lesson_is_laid_out_once_when_shown_and_fits_a_terminal_resized_meanwhile(
        monkeypatch):
    """A screen's first layout sends the screen a Resize to its own size; Textual laid the
    whole lesson out again for it. Not any more, but a lesson built ahead at one terminal size
    and shown at another still gets that size's classes (and layout)."""
    from textual.screen import Screen

    relaid: list[Screen] = []
    resized = Screen._screen_resized
    monkeypatch.setattr(Screen, "_screen_resized",
                        lambda self, size: (relaid.append(self), resized(self, size))[1])
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("rl-value-iteration")
        for _ in range(3):
            await pilot.pause()
        shown = app.screen
        assert isinstance(shown, LessonScreen) and shown not in relaid
        assert shown.has_class("-wide-enough")
        assert app._build_ahead()
        ahead = app.get_screen(f"lesson:{app.catalog.neighbour('rl-value-iteration', +1).id}")
        await _built(app, pilot, ahead)
        await pilot.resize_terminal(90, 36)
        await pilot.pause()
        assert shown in relaid, "a resize of the terminal is laid out"
        await pilot.press("right_square_bracket")
        for _ in range(3):
            await pilot.pause()
        assert app.screen is ahead
        assert ahead.has_class("-narrow") and not ahead.has_class("-wide-enough")
        assert ahead.size.width == 90


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_lessons_built_are_frozen_and_the_ones_dropped_collected_at_the_next_quiet_moment(
        monkeypatch):
    """A student going from lesson to lesson without a pause: each lesson built is frozen (so
    Python's own full collections, while the next is built, walk only what is newer); after
    DROPPED_BEFORE_COLLECTING dropped lesson screens a full collection runs at the first quiet
    moment, not only after QUIET_BEFORE_COLLECTING s; after DROPPED_AT_MOST, with no such
    moment, as soon as the next lesson is built (when it was at 24, everything was thawed
    and Python's own full collections, of every object, came at any key: 1.2-1.4 s each)."""
    import gc
    import weakref

    from tutor.labs import gc_hold

    monkeypatch.setattr(gc_hold, "idle_collection", True)
    monkeypatch.setattr(gc_hold, "_young_at_last", gc.get_stats()[0]["collections"])
    monkeypatch.setattr(gc_hold, "_dropped", 0)
    gc.unfreeze()
    try:
        gc_hold.settled()
        assert gc.get_freeze_count() > 0, "a lesson built is frozen"
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        gc_hold.settled()
        del cycle  # a dropped lesson: garbage among the frozen objects
        for _ in range(gc_hold.DROPPED_BEFORE_COLLECTING - 1):
            gc_hold.dropped()
        assert gc_hold.collect_when_idle(0.6) is False, "not yet"
        gc_hold.dropped()
        assert gc_hold.collect_when_idle(0.6) is True, "enough dropped: at a quiet moment"
        assert gone() is None and gc.get_freeze_count() > 0
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        gc_hold.settled()
        del cycle
        for _ in range(gc_hold.DROPPED_AT_MOST - 1):
            gc_hold.dropped()
        gc_hold.settled()
        assert gone() is not None and gc.get_freeze_count() > 0, "not yet: still frozen"
        gc_hold.dropped()
        assert gc.get_freeze_count() > 0, "nothing thawed when a screen is dropped"
        full = gc.get_stats()[2]["collections"]
        gc_hold.settled()  # the next lesson built, no quiet moment: collected now
        assert gone() is None and gc.get_stats()[2]["collections"] == full + 1
        assert gc.get_freeze_count() > 0 and gc_hold._dropped == 0
        gc.unfreeze()
        monkeypatch.setattr(gc_hold, "idle_collection", False)
        monkeypatch.setattr(gc_hold, "_dropped", 0)
        gc_hold.settled()
        assert gc.get_freeze_count() == 0, "only in the dl-tutor command"
    finally:
        gc.unfreeze()


async def test_a_lesson_opened_on_a_key_shows_its_text_before_its_lab_is_built(monkeypatch):
    """`]`: the lesson's text is painted first, and its lab is built right after (the text
    used to wait for the whole lab: ~100-250 ms of a lesson opened)."""
    from tutor.labs.base import Lab
    from tutor.screens.lesson import LabPane

    painted: list[list[str]] = []
    new_lab = LabPane._new_lab

    def spied(self):
        painted.append([strip.text for strip in self.screen._compositor.render_strips()])
        return new_lab(self)

    monkeypatch.setattr(LabPane, "_new_lab", spied)
    app = make_app(resume=False)
    first = "loss-and-gradient-descent"
    after = app.catalog.neighbour(first, +1)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(first)
        await pilot.pause()
        painted.clear()
        await pilot.press("right_square_bracket")
        for _ in range(20):
            await pilot.pause()
            if app.screen.query(Lab) and app.screen.query_one(Lab).is_mounted:
                break
        assert app.screen.lesson.id == after.id and len(painted) == 1
        assert any(after.title in line for line in painted[0]), "the text came first"
        await pilot.pause()
        assert app.screen.query_one(Lab).size.width > 20
        assert any("Step" in line or "step" in line for line in _drawn(app))


async def test_a_lab_is_laid_out_once_when_all_its_widgets_are_mounted(monkeypatch):
    """Textual laid the screen out again as each level of a lab's widgets mounted (4-5 passes
    of the whole screen); the lab pane holds layout and paint until the lab is mounted."""
    from textual.screen import Screen

    from tutor.labs.base import Lab
    from tutor.screens.lesson import LabPane
    from tutor.widgets.param_input import ParamInput

    waiting: list = []
    build = LabPane.build_lab
    monkeypatch.setattr(LabPane, "build_lab", lambda self: waiting.append(self))
    passes: list[int] = []
    refresh_layout = Screen._refresh_layout

    def counted(self, *args, **kwargs):
        pane = waiting[0] if waiting else None
        if pane is not None and pane.lab:
            passes.append(sum(1 for w in pane.lab.walk_children() if w.is_mounted))
        return refresh_layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("rnn-sequences")  # settings with choices: three levels of widgets
        await pilot.pause()
        await pilot.pause()
        build(waiting[0])
        lab = waiting[0].lab
        for _ in range(10):
            await pilot.pause()
        widgets = len(list(lab.walk_children()))
        assert widgets > 40 and all(w.is_mounted for w in lab.walk_children())
        assert passes and passes == [widgets] * len(passes), "no layout of a lab half mounted"
        assert lab.size.width > 20 and app.screen.query(ParamInput)
        assert app.screen.query_one(Lab) is lab


async def test_lessons_left_behind_are_freed():
    """Past the KEPT_LESSONS most recent, a lesson's screen, text and lab are garbage: nothing
    of the app keeps them (a finished task kept by each lab pane held the context it was made
    in, with the lesson shown then: every lesson opened stayed alive, one through the next)."""
    import gc
    import weakref

    from tutor.app import KEPT_LESSONS

    app = make_app(resume=False)
    lessons = [x.id for x in app.catalog.lessons if x.lab is not None][:KEPT_LESSONS + 4]
    async with app.run_test(size=SIZE) as pilot:
        screens = []
        for lesson in lessons:
            app.open_lesson(lesson)
            for _ in range(4):
                await pilot.pause()
            screens.append(weakref.ref(app.screen))
        await asyncio.sleep(0.1)
        await pilot.pause()
        gc.collect()
        alive = [ref() is not None for ref in screens]
        assert alive[-KEPT_LESSONS:] == [True] * KEPT_LESSONS
        # One more may wait a little: a task of the next screen was made while it was shown.
        assert not any(alive[:2]) and sum(alive) <= KEPT_LESSONS + 1, alive


async def test_ctrl_o_pressed_before_the_lab_is_built_focuses_it_once_built(monkeypatch):
    """`]` then at once ctrl+o: the lab is built just after the text, and the focus the key
    asked for goes to it then (not lost because the lab did not exist yet)."""
    from tutor.labs.base import Lab
    from tutor.screens.lesson import LabPane

    waiting: list = []
    build = LabPane.build_lab
    monkeypatch.setattr(LabPane, "build_lab", lambda self: waiting.append(self))
    app = make_app(resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson("loss-and-gradient-descent")
        await pilot.pause()
        await pilot.pause()
        assert len(waiting) == 1 and waiting[0].lab is None, "held back: not built yet"
        await pilot.press("ctrl+o")
        assert not app.screen.query(Lab)
        build(waiting[0])
        for _ in range(5):
            await pilot.pause()
        assert app.screen.focused is app.screen.query_one(Lab)


def test_a_full_collection_runs_when_idle_and_freezes_what_survives(monkeypatch):
    """In the dl-tutor command the big garbage collections come while the student reads:
    due after IDLE_COLLECTION_AFTER young collections, run after QUIET_BEFORE_COLLECTING
    seconds without a key, never while a lab plays; what survives
    is frozen (Python's own full collections then walk only what is newer), and a lab that
    stops playing leaves it frozen until the next one."""
    import gc
    import weakref

    from tutor.labs import gc_hold

    monkeypatch.setattr(gc_hold, "idle_collection", True)
    monkeypatch.setattr(gc_hold, "_young_at_last", gc.get_stats()[0]["collections"])
    gc.unfreeze()
    try:
        assert gc_hold.collect_when_idle(60) is False, "not due yet"
        monkeypatch.setattr(gc_hold, "_young_at_last", -gc_hold.IDLE_COLLECTION_AFTER)
        owner = object()
        gc_hold.hold(owner)
        assert gc_hold.collect_when_idle(60) is False, "a lab plays"
        gc_hold.release(owner)
        assert gc.get_freeze_count() > 0, "kept frozen until the idle collection"
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        gc.freeze()  # a reference cycle among the frozen objects, garbage once deleted...
        del cycle
        full = gc.get_stats()[2]["collections"]
        assert gc_hold.collect_when_idle(gc_hold.QUIET_BEFORE_COLLECTING - 0.5) is False, (
            "not while the student may be about to press a key")
        assert gc_hold.collect_when_idle(gc_hold.QUIET_BEFORE_COLLECTING) is True
        assert gc.get_stats()[2]["collections"] == full + 1
        assert gone() is None, "...is collected"
        assert gc.get_freeze_count() > 0, "and the survivors are frozen"
        assert gc_hold.collect_when_idle(60) is False, "not due again at once"
    finally:
        gc.unfreeze()
