"""The lesson screen: the lesson's text and quizzes beside its lab (or at full width without one)."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Header, Markdown, ProgressBar, Static
from textual.widgets.markdown import MarkdownFence

from tutor.widgets.focus import RestyleSelfOnFocus
from tutor.widgets.footer import KeyFooter
from tutor.screens.base import TutorScreen
from tutor.content import Catalog, Lesson, Quiz
from tutor.screens.catalog import TOO_SMALL, TooSmall
from tutor.widgets.quiz import QuizView


MOUNT_HOLD_AT_MOST = 2.0
"""Seconds the screen's layout may be held while a lab mounts (it takes 0.1-0.3 s)."""


class LabPane(Container):
    """Holds the lesson's lab; says "preparing" until the kernels are ready, then mounts it."""

    DEFAULT_CSS = """
    LabPane { width: 1fr; height: 1fr; }
    LabPane #preparing { padding: 1 2; height: auto; }
    LabPane ProgressBar { margin: 0 2; }
    LabPane .lab-error { color: $error; padding: 1 2; }
    """

    def __init__(self, lesson: Lesson) -> None:
        super().__init__(id="lab-pane")
        from tutor.labs import lab_core_packages

        assert lesson.lab is not None
        self.lesson = lesson
        self.lab = None
        self.needs = set(lab_core_packages(lesson.lab.name))
        self._fresh: dict | None = None  # the lab's state as the lesson builds it
        self._focus_when_built = False
        self._mounting: asyncio.Task | None = None  # the lab being mounted (`_when_mounted`)

    def compose(self) -> ComposeResult:
        # The lab is built a moment after the lesson's text (`build_lab`), once its kernels are
        # ready: the text shows without waiting for it.
        if not self.needs <= getattr(self.app, "ready_packages", frozenset()):
            yield Static("Preparing the lab's kernels (compiled once, then cached)…", id="preparing")
            yield ProgressBar(total=None, show_eta=False)

    def on_mount(self) -> None:
        want = getattr(self.app, "want_packages", None)
        if want is not None:
            want(self.needs)
        self.watch(self.app, "ready_packages", self._maybe_mount, init=False)
        if self.screen is not self.app.screen:
            # Built ahead: the lab just after the text (two shorter waits for the keys).
            self.call_later(self.build_lab)
        # Else the screen calls `build_lab` right after its first paint.

    def build_lab(self) -> None:
        """Build and mount the lab, if its kernels are ready (else it comes when they are)."""
        self._maybe_mount(getattr(self.app, "ready_packages", frozenset()))

    def _new_lab(self):
        from tutor.labs import lab_class

        assert self.lesson.lab is not None
        lab = lab_class(self.lesson.lab.name)(self.lesson.lab.params, id="lab")
        _footer_room(lab)
        return lab

    def _maybe_mount(self, ready: frozenset) -> None:
        if not self.needs <= ready or self.lab is not None or not self.is_attached:
            return
        self.query("#preparing, ProgressBar").remove()
        held = ExitStack()
        try:
            shown = self.screen is self.app.screen
        except Exception:  # no screen on the stack (the app is closing): nothing to hold
            shown = False
        if shown:
            # Textual lays the screen out again as each level of the lab's widgets mounts
            # (4-5 passes of the whole screen, 15-50 ms each): hold layout and paint until
            # the whole lab is mounted, then lay it out once.
            held.enter_context(self.app.batch_update())
        try:
            self.lab = self._new_lab()
            mounting = self.mount(self.lab)
        except Exception as exc:  # a lab that fails to build must not take the app down
            held.close()
            self._failed(exc)
            return
        self._mounting = asyncio.create_task(self._when_mounted(mounting, held))

    async def _when_mounted(self, mounting, held: ExitStack) -> None:
        """End the hold once the lab and all its widgets are mounted (at the latest after
        `MOUNT_HOLD_AT_MOST` seconds: the screen never stays frozen), then finish the build."""

        async def mounted() -> None:
            await mounting

        try:
            await asyncio.wait_for(asyncio.shield(mounted()), MOUNT_HOLD_AT_MOST)
        except asyncio.TimeoutError:
            pass
        finally:
            held.close()
            # A task keeps the context it was made in, which holds the screen shown then (the
            # lesson left): kept once done, it kept every lesson ever opened alive, each
            # through the next one's pane.
            self._mounting = None
        if self.lab and self.is_attached:
            self._lab_mounted()

    def _lab_mounted(self) -> None:
        """Note the lab's fresh state, and put back the student's (after its first layout)."""
        from tutor.labs import gc_hold

        if self._focus_when_built:
            self._focus_when_built = False
            self.call_after_refresh(self.focus_lab)
        self._fresh = None
        self.call_after_refresh(self._remember_fresh, self.lab)
        state = self.app.progress.lab_state(self.lesson.id)
        if state and not getattr(self, "_rebuilds", 0):
            self.call_after_refresh(self._restore, self.lab, state)
        self.app.call_after_refresh(gc_hold.settled)  # the lesson is built

    def _remember_fresh(self, lab) -> None:
        """The state of the lab as the lesson builds it: a state equal to it is not saved, so
        a lesson only visited keeps following its lesson file (whose settings may change)."""
        if lab is not self.lab or not lab.is_attached:
            return
        try:
            self._fresh = lab.save_state()
        except Exception:  # save_lab_state reports a lab that cannot save
            self._fresh = None

    def _restore(self, lab, state: dict) -> None:
        """The lab as the student left it (saved by `save_lab_state`)."""
        if lab is not self.lab or not lab.is_attached:
            return
        try:
            lab.restore_state(state)
        except Exception as exc:  # an old or damaged state: start from the lesson's parameters
            from tutor.errors import log_error, one_line

            log_error(exc, f"restoring the {lab.lab_name} lab")
            self.app.progress.set_lab_state(self.lesson.id, None)
            self.app.notify(f"The lab could not be put back as you left it ({one_line(exc)}); "
                            "it starts from the lesson's settings.", severity="warning",
                            markup=False)
            try:
                lab.reset_lab()
            except Exception:
                pass

    def save_lab_state(self) -> None:
        """Keep the lab's state in progress (called when the lesson is left and on quit)."""
        if not self.lab:
            return
        self.lab.playing = False  # a lesson left keeps its lab, paused
        try:
            state = self.lab.save_state()
        except Exception as exc:
            from tutor.errors import log_error

            log_error(exc, f"saving the {self.lab.lab_name} lab's state")
            return
        if state is not None and state == self._fresh:
            state = None  # as the lesson builds it: nothing of the student's to keep
        if state is not None or self.app.progress.lab_state(self.lesson.id) is not None:
            self.app.progress.set_lab_state(self.lesson.id, state)

    def _failed(self, exc: Exception) -> None:
        from tutor.errors import log_error, one_line

        self.lab = False
        path = log_error(exc, f"building the {self.lesson.lab.name} lab")
        where = f" Details: {path}" if path else ""
        self.mount(Static(f"The lab could not start: {one_line(exc)}.{where}", classes="lab-error",
                          markup=False))
        self.app.notify(f"Lab {self.lesson.lab.name!r} failed: {one_line(exc)}", severity="error",
                        markup=False)

    async def rebuild_lab(self, broken) -> None:
        """A widget of the lab died on an error: start the lab again with the lesson's
        parameters (twice at most; then the pane says the lab could not go on)."""
        if broken is not self.lab or not self.is_attached:
            return
        self._rebuilds = getattr(self, "_rebuilds", 0) + 1
        focused = self.screen.focused
        had_focus = focused is not None and broken in focused.ancestors_with_self
        self.lab = None
        await broken.remove()
        if self._rebuilds > 2:
            self._failed(RuntimeError("the lab failed three times"))
            return
        self._maybe_mount(self.app.ready_packages)
        if had_focus and self.lab:
            self.call_after_refresh(self.focus_lab)

    def focus_lab(self) -> None:
        """Give the focus to the lab; asked before the lab is built (ctrl+o just after `]`),
        it goes to the lab once it is."""
        if self.lab:
            self.lab.focus()
        elif self.lab is None:
            self._focus_when_built = True


FOOTER_SHORT = {"toggle_play": "Play", "back": None, "reset": None}
"""Beside a lesson the footer has room for the lab's own keys at 120 columns: the shared
ones shorter, back and reset (the lab's buttons show them, F1 lists them) left out."""


def _footer_room(lab) -> None:
    """Shorten this lab's shared keys in the footer (its instance bindings only)."""
    from dataclasses import replace

    def shorter(binding):
        if binding.action not in FOOTER_SHORT or not binding.show:
            return binding
        short = FOOTER_SHORT[binding.action]
        return replace(binding, show=False) if short is None else replace(binding, description=short)

    # New lists: the instance's map is a shallow copy whose lists the class (every other
    # instance of the lab, e.g. in a harness without a lesson) shares.
    table = lab._bindings.key_to_bindings
    for key, bindings in list(table.items()):
        table[key] = [shorter(binding) for binding in bindings]


class FormulaBlock(MarkdownFence):
    """An indented block or a fence without a language: the lessons' formulas and tables in
    Unicode, shown as written. Textual guessed a language for such a block with Pygments
    (~25 ms each) when building it and again on every restyle of the text (every focus move):
    36 blocks in the course, up to five in one lesson."""

    def __init__(self, markdown: Markdown, token, code: str) -> None:
        if not token.info.strip():
            token.info = "text"
        super().__init__(markdown, token, code)


class LessonText(RestyleSelfOnFocus, VerticalScroll):
    """The lesson's title, text, quizzes and navigation, scrolled; focused, it is restyled alone
    (not its ~100 Markdown blocks)."""

    def show_and_focus(self) -> None:
        """Focus the text, shown again if `f` hid it (only then: setting `display`, even to
        its value, costs the screen a layout pass)."""
        if not self.display:
            self.display = True
        self.focus()


class LessonMarkdown(Markdown):
    """A lesson's Markdown, its unlabelled code blocks shown as plain text, built with the
    screen.

    Textual's Markdown mounts empty, then parses its text in a thread and mounts the blocks a
    few frames later: each part of a lesson then cost the screen another layout pass (up to
    six per lesson opened) and the text appeared in pieces. Here the blocks are composed with
    the lesson screen, in its one first layout."""

    BLOCKS = {**Markdown.BLOCKS, "fence": FormulaBlock, "code_block": FormulaBlock}

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self._markdown = markdown

    def compose(self) -> ComposeResult:
        yield from self._build_from_source(self._markdown)

    def _on_mount(self, event) -> None:
        # Markdown's own handler would parse the text again and replace the composed blocks:
        # skip it (and run what Widget does on mount).
        Widget._on_mount(self, event)
        event.prevent_default()


class LessonScreen(TutorScreen):
    """One lesson: text and quizzes on the left, its lab on the right."""

    BINDINGS = [
        Binding("escape", "catalog", "Catalog"),
        Binding("left_square_bracket", "previous", "Prev lesson"),
        Binding("right_square_bracket", "next", "Next lesson"),
        Binding("d", "toggle_done", "Done"),
        Binding("f", "toggle_wide", "Wide lab"),
        Binding("ctrl+o", "switch_pane", "Text/lab"),
    ]

    _lab_started = False

    AUTO_FOCUS = "#lesson-text"
    """Focused first (Textual's default, the first focusable widget, then a move to the text
    restyled the whole text twice on every lesson opened)."""

    def __init__(self, catalog: Catalog, lesson: Lesson) -> None:
        super().__init__()
        self.catalog = catalog
        self.lesson = lesson
        # The header's titles from the start: set on the first resume, they cost a layout pass.
        self.set_reactive(LessonScreen.title, "dl-tutor")
        self.set_reactive(LessonScreen.sub_title, lesson.title)

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        yield Header(icon="∂")
        with Horizontal(classes="screen-body", id="lesson-body"):
            with LessonText(id="lesson-text", classes="-full" if lesson.lab is None else ""):
                sections = f"  [dim]notes § {', '.join(lesson.sections)}[/dim]" if lesson.sections else ""
                yield Static(f"[b]{escape(lesson.title)}[/b]{sections}", id="lesson-title")
                for k, part in enumerate(lesson.parts):
                    if isinstance(part, Quiz):
                        record = self.app.progress.quiz_record(lesson.id, part.id)
                        yield QuizView(part, record, id=f"quiz-{k}")
                    else:
                        yield LessonMarkdown(part)
                yield Button(self._done_label(), id="done", compact=True)
                yield Static(self._nav_hint(), id="lesson-nav", markup=False)
            if lesson.lab is not None:
                yield LabPane(lesson)
        yield TooSmall(TOO_SMALL.format(w=self.app.MIN_SIZE[0], h=self.app.MIN_SIZE[1]))
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.lesson.lab is None:  # built (else once its lab is)
            from tutor.labs import gc_hold

            self.app.call_after_refresh(gc_hold.settled)

    def on_screen_resume(self) -> None:
        """Shown, first or again (the app keeps recent lessons built): record the visit.

        The first time, the lab of a lesson opened on a key is built right after the screen's
        first paint (this runs before Screen's own handler, which lays it out and paints it):
        the text shows without waiting for the lab."""
        if self.lesson.lab is not None and not self._lab_started:
            self._lab_started = True
            self.call_next(self.query_one(LabPane).build_lab)
        self.title = "dl-tutor"
        self.sub_title = self.lesson.title
        self.app.progress.open_lesson(self.lesson.id)
        self.app.save_progress()
        self.query_one("#done", Button).label = self._done_label()

    def lab_playing(self) -> bool:
        """Whether the lesson's lab is playing (no lesson is built ahead meanwhile)."""
        return any(pane.lab and pane.lab.playing for pane in self.query(LabPane))

    def lessons_ahead(self) -> list[Lesson]:
        """The lessons to build ahead while this one is read: the next, then the previous."""
        return [lesson for lesson in (self.catalog.neighbour(self.lesson.id, +1),
                                      self.catalog.neighbour(self.lesson.id, -1)) if lesson]

    def save_lab_state(self) -> None:
        """Keep the lab as it is for the next visit (nothing to do without a lab)."""
        for pane in self.query(LabPane):
            pane.save_lab_state()

    def _done_label(self) -> str:
        done = self.app.progress.status(self.lesson.id) == "done"
        return "✓ Done (d to undo)" if done else "Mark as done (d)"

    def _nav_hint(self) -> str:
        prev = self.catalog.neighbour(self.lesson.id, -1)
        nxt = self.catalog.neighbour(self.lesson.id, +1)
        parts = []
        if prev:
            parts.append(f"[ previous: {prev.title}")
        if nxt:
            parts.append(f"] next: {nxt.title}")
        return "   ".join(parts)

    def action_catalog(self) -> None:
        """Escape goes exactly one level up: a field → its lab (or the lesson text for a quiz's
        field), the lab → the lesson text, the lesson text → the catalog. So after enter in a
        field or an answer, one escape never leaves the lesson."""
        from tutor.labs.base import Lab

        focused = self.focused
        text = self.query_one("#lesson-text", LessonText)
        if focused is None or focused is text:
            self.app.show_catalog()
            return
        lab = next((a for a in focused.ancestors_with_self if isinstance(a, Lab)), None)
        if lab is not None and focused is not lab:
            lab.focus()
        elif lab is not None or text in focused.ancestors:
            text.show_and_focus()
        else:
            self.app.show_catalog()

    def _go(self, offset: int) -> None:
        target = self.catalog.neighbour(self.lesson.id, offset)
        if target is None:
            self.notify("This is the " + ("first" if offset < 0 else "last") + " lesson.")
            return
        self.app.open_lesson(target.id)

    def action_previous(self) -> None:
        self._go(-1)

    def action_next(self) -> None:
        self._go(+1)

    def action_toggle_done(self) -> None:
        progress = self.app.progress
        progress.set_done(self.lesson.id, progress.status(self.lesson.id) != "done")
        self.app.save_progress()
        self.query_one("#done", Button).label = self._done_label()

    def action_toggle_wide(self) -> None:
        if self.lesson.lab is None:
            self.notify("This lesson has no lab.")
            return
        text = self.query_one("#lesson-text")
        text.display = not text.display
        if not text.display:
            self.query_one(LabPane).focus_lab()

    def action_switch_pane(self) -> None:
        """Move the focus between the lesson text and the lab."""
        text = self.query_one("#lesson-text", LessonText)
        inside_text = self.focused is not None and (
            self.focused is text or text in self.focused.ancestors
        )
        if inside_text and self.lesson.lab is not None:
            self.query_one(LabPane).focus_lab()
        else:
            text.show_and_focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "done":
            self.action_toggle_done()

    def on_quiz_view_answered(self, event: QuizView.Answered) -> None:
        self.app.progress.record_quiz(self.lesson.id, event.quiz.id, event.response, event.correct)
        self.app.save_progress()

    def on_lab_answered(self, event) -> None:
        self.app.progress.record_lab_answer(event.lab, event.correct)
        self.app.save_progress()
