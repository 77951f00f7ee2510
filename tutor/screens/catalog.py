"""The catalog: the course's chapters in order, each lesson marked new / started / done."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from tutor.widgets.footer import KeyFooter
from tutor.screens.base import TutorScreen
from tutor.content import Catalog, Lesson

MARKS = {"new": "○", "started": "◐", "done": "●"}
TOO_SMALL = "Enlarge the terminal to at least {w} x {h} to use dl-tutor."


class TooSmall(Static):
    """The notice shown instead of a screen's body when the terminal is below the minimum size."""

    DEFAULT_CSS = """
    TooSmall { display: none; width: 1fr; height: 1fr; content-align: center middle; }
    """


class KernelBar(Horizontal):
    """A one-line progress bar shown while numba prepares (compiles or loads) the kernels."""

    DEFAULT_CSS = """
    KernelBar { height: 1; background: $panel; padding: 0 1; }
    KernelBar Static { width: auto; }
    KernelBar ProgressBar { width: 40; margin-left: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Preparing kernels…", id="kernel-label")
        yield ProgressBar(total=None, show_eta=False, id="kernel-progress")

    def on_mount(self) -> None:
        self.watch(self.app, "kernels_done", self._update)
        self.watch(self.app, "kernels_ready", self._ready)

    def _update(self, done: int) -> None:
        total = getattr(self.app, "kernels_total", 0)
        if total:
            self.query_one(ProgressBar).update(total=total, progress=done)
            self.query_one("#kernel-label", Static).update(f"Preparing kernels {done}/{total}")

    def _ready(self, ready: bool) -> None:
        self.display = not ready


class CatalogScreen(TutorScreen):
    """Lists the chapters and lessons; enter opens a lesson."""

    DEFAULT_CSS = """
    #catalog-continue { height: 1; padding: 0 1; color: $text-accent; }
    """

    BINDINGS = [Binding("enter", "open", "Open", show=False),
                Binding("c", "continue", "Continue")]

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog

    def compose(self) -> ComposeResult:
        yield Header(icon="∂")
        with Vertical(classes="screen-body"):
            with Horizontal(id="catalog-main"):
                with Vertical(id="catalog-left"):
                    yield Static("Chapters and lessons   ○ new  ◐ started  ● done", id="catalog-title")
                    yield Static("", id="catalog-continue", markup=False)
                    yield OptionList(id="lessons")
                yield Static(id="lesson-info", markup=False)
            yield KernelBar()
        yield TooSmall(TOO_SMALL.format(w=self.app.MIN_SIZE[0], h=self.app.MIN_SIZE[1]))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.rebuild()
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Refill the list with current progress marks, keeping the highlighted lesson."""
        options = self.query_one(OptionList)
        keep = options.highlighted_option.id if options.highlighted_option else None
        progress = self.app.progress
        items: list[Option] = []
        for chapter in self.catalog.chapters:
            heading = Text(f"{chapter.number}  {chapter.title}", style="bold")
            heading.append(f"   {self._overview(chapter.lessons)}", style="dim")
            items.append(Option(heading, disabled=True))
            for lesson in chapter.lessons:
                mark = MARKS[progress.status(lesson.id)]
                lab = f"  [{lesson.lab.name}]" if lesson.lab else ""
                items.append(Option(Text(f"   {mark} {lesson.title}{lab}"), id=lesson.id))
        if self.catalog.errors:
            items.append(Option(Text("!  Lessons that could not be loaded", style="bold"), disabled=True))
            for k, err in enumerate(self.catalog.errors):
                items.append(Option(Text(f"   ✗ {err.source}"), id=f"error:{k}"))
        options.clear_options()
        options.add_options(items)
        target = progress.last_lesson or keep  # back from a lesson: the lesson just left
        ids = [o.id for o in items]
        if target is not None and target in ids:
            options.highlighted = ids.index(target)
        else:
            options.highlighted = next((i for i, o in enumerate(items) if not o.disabled), None)
        current = options.highlighted_option
        self.query_one("#lesson-info", Static).update(self._describe(current.id if current else None))
        self.call_after_refresh(options.scroll_to_highlight)  # the new list's layout comes first
        nxt = self.next_lesson()
        self.query_one("#catalog-continue", Static).update(
            f"▶ c: continue with {nxt.title}" if nxt else "✓ Every lesson is done.")

    def _overview(self, lessons) -> str:
        """"2/5 done · quiz 3/8": lessons done, quizzes answered right at the first try."""
        progress = self.app.progress
        done = sum(progress.status(x.id) == "done" for x in lessons)
        total = sum(len(x.quizzes) for x in lessons)
        right = sum(
            1 for x in lessons for q in x.quizzes
            if (progress.quiz_record(x.id, q.id) or {}).get("first_try",
               (progress.quiz_record(x.id, q.id) or {}).get("correct")) is True)
        text = f"{done}/{len(lessons)} done"
        return text + (f" · quiz {right}/{total}" if total else "")

    def next_lesson(self) -> Lesson | None:
        """The first lesson not done after the last one opened (else the first not done)."""
        lessons = self.catalog.lessons
        ids = [x.id for x in lessons]
        last = self.app.progress.last_lesson
        start = ids.index(last) if last in ids else 0
        order = lessons[start:] + lessons[:start]
        return next((x for x in order if self.app.progress.status(x.id) != "done"), None)

    def action_continue(self) -> None:
        lesson = self.next_lesson()
        if lesson is None:
            self.notify("Every lesson is done.")
        else:
            self.app.open_lesson(lesson.id)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#lesson-info", Static).update(self._describe(event.option.id))

    def lessons_ahead(self) -> list[Lesson]:
        """The lesson to build ahead while the catalog is shown: the highlighted one."""
        option = self.query_one(OptionList).highlighted_option
        lesson = self.catalog.get(option.id) if option is not None and option.id else None
        return [lesson] if lesson else []

    def _describe(self, option_id: str | None) -> str:
        if option_id is None:
            return ""
        if option_id.startswith("error:"):
            err = self.catalog.errors[int(option_id.split(":")[1])]
            return f"This lesson file could not be loaded.\n\n{err.source}, line {err.line}:\n{err.message}"
        lesson: Lesson | None = self.catalog.get(option_id)
        if lesson is None:
            return ""
        status = self.app.progress.status(lesson.id)
        lines = [lesson.title, ""]
        if lesson.sections:
            lines.append(f"Notes sections: {', '.join(lesson.sections)}")
        lines.append(f"Lab: {lesson.lab.name}" if lesson.lab else "Reading only (no lab)")
        quizzes = lesson.quizzes
        if quizzes:
            right = sum(
                1
                for q in quizzes
                if (self.app.progress.quiz_record(lesson.id, q.id) or {}).get("correct")
            )
            lines.append(f"Quizzes: {right}/{len(quizzes)} answered correctly")
        preview = next((p for p in lesson.text.split("\n\n") if p.strip() and not p.startswith("#")), "")
        preview = " ".join(preview.replace("*", "").replace("`", "").split())
        if len(preview) > 320:
            preview = preview[:317].rsplit(" ", 1)[0] + "…"
        lines += ["", preview, "", f"Status: {status}    enter: open"]
        return "\n".join(lines)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def action_open(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None:
            self._open(option.id)

    def _open(self, option_id: str | None) -> None:
        if option_id is None:
            return
        if option_id.startswith("error:"):
            err = self.catalog.errors[int(option_id.split(":")[1])]
            self.notify(str(err), title="Broken lesson file", severity="error", timeout=8)
            return
        self.app.open_lesson(option_id)
