"""The dl-tutor Textual app: catalog and lesson screens, progress, kernel warm-up, themes."""

from __future__ import annotations

import threading
from functools import partial
from time import monotonic

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.reactive import reactive

from tutor.content import Catalog, load_catalog
from tutor.guard import GuardedApp
from tutor.labs import gc_hold
from tutor.progress import Progress
from tutor.screens.catalog import CatalogScreen

class _WarmupCancelled(Exception):
    """Raised inside the warm-up's progress callback to stop it when the app quits."""


KEPT_LESSONS = 3
"""How many lesson screens stay built after they are left (a return to one is instant)."""

AHEAD_AFTER = 0.6
"""Seconds without a key or click, with no lab playing, before the app does work a key would
otherwise wait for: building the next lesson ahead (`]` then only shows it), a full garbage
collection."""

IDLE_EVERY = 0.3
"""How often (seconds) the dl-tutor command looks whether the student is idle."""


def _screen_name(lesson) -> str:
    """The name a lesson's screen is installed under."""
    return f"lesson:{lesson.id}"


THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "tokyo-night", "monokai")


class LessonCommands(Provider):
    """Command palette entries "Go to lesson: …" for every lesson, found by title, chapter,
    section number (8.2.5), lab name, or words of the lesson's text."""

    def _commands(self):
        app = self.app
        for lesson in app.catalog.lessons:
            where = [f"ch. {lesson.chapter}"]
            if lesson.sections:
                where.append("§ " + ", ".join(lesson.sections))
            if lesson.lab is not None:
                where.append(f"lab {lesson.lab.name}")
            text = f"Go to lesson: {lesson.title} ({' · '.join(where)})"
            yield lesson, text, partial(app.open_lesson, lesson.id)

    async def discover(self) -> Hits:
        for _lesson, text, callback in self._commands():
            yield DiscoveryHit(text, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        words = [w for w in query.lower().split() if len(w) > 1]
        for lesson, text, callback in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback)
            elif words and _all_words_in(words, lesson.text.lower()):
                snippet = _snippet(lesson.text, words[0])
                yield Hit(0.2, f"{text} — “{snippet}”", callback)


def _all_words_in(words: list[str], text: str) -> bool:
    return all(w in text for w in words)


def _snippet(text: str, word: str, width: int = 50) -> str:
    """A few words of `text` around the first `word`."""
    flat = " ".join(text.split())
    at = flat.lower().find(word)
    start = max(0, at - width // 2)
    piece = flat[start:start + width].strip()
    return ("…" if start else "") + piece + "…"


class DlTutorApp(GuardedApp):
    """dl-tutor: lessons beside live labs."""

    TITLE = "dl-tutor"
    SUB_TITLE = "deep learning, one step at a time"
    CSS_PATH = "tutor.tcss"
    COMMANDS = GuardedApp.COMMANDS | {LessonCommands}
    MIN_SIZE = (60, 16)
    HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (MIN_SIZE[0], "-narrow"), (100, "-wide-enough")]
    VERTICAL_BREAKPOINTS = [(0, "-too-short"), (MIN_SIZE[1], "-tall-enough")]

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("q", "quit", "Quit"),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+t", "next_theme", "Theme", show=False),
    ]

    kernels_ready: reactive[bool] = reactive(False)
    """True once every numba kernel is compiled or loaded from cache."""

    kernels_done: reactive[int] = reactive(0)
    """How many kernels are ready so far (of `kernels_total`)."""

    ready_packages: reactive[frozenset] = reactive(frozenset())
    """The core packages whose kernels are all ready (labs wait only for their own)."""

    def __init__(
        self,
        catalog: Catalog | None = None,
        progress: Progress | None = None,
        *,
        ascii_mode: bool = False,
        warm: bool = True,
        resume: bool = True,
        open_lesson: str | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog if catalog is not None else load_catalog()
        self.progress = progress if progress is not None else Progress.load()
        self.ascii_mode = ascii_mode
        self.kernels_total = 0
        self._warm = warm
        self._resume = resume
        self._open = open_lesson
        self._recent_lessons: dict[str, None] = {}  # installed lesson screens, oldest first
        self._wanted: set[str] = set()  # core packages an open lab needs in this process
        self._lab_kinds_loaded: set[str] = set()  # labs whose modules and kernels are loaded
        self._cached: set[str] = set()  # packages the compiling child has cached
        self._loaded: set[str] = set()  # packages loaded here
        self._load_lock = threading.Lock()
        self._done = 0
        self.fast_exit = False
        """Set by the `dl-tutor` command: quitting ends the process at once (not in tests)."""
        self.build_ahead = False
        """Set by the `dl-tutor` command: while the student reads a lesson, the next one is
        built (not in tests, where it would only cost time; its own tests turn it on)."""
        self._last_input = 0.0

    def on_mount(self) -> None:
        if self.build_ahead:
            self._last_input = monotonic()  # nothing is built ahead of the first paint
            gc_hold.idle_collection = True
            self.set_interval(IDLE_EVERY, self._when_idle)
        theme = self.progress.theme
        self.theme = theme if theme in self.available_themes else "textual-dark"
        self.push_screen(CatalogScreen(self.catalog))
        if self.progress.notice:
            self.notify(self.progress.notice, title="Progress", severity="warning", timeout=15)
        errors = self.catalog.errors
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self.notify(
                f"{first}{more}. They are listed at the end of the catalog.",
                title=f"{len(errors)} lesson file(s) skipped",
                severity="error",
                timeout=10,
            )
        if self._open:
            self.open_lesson(self._open)
        elif self._resume and self.catalog.get(self.progress.last_lesson or ""):
            self.open_lesson(self.progress.last_lesson)
        if self._warm:  # after the first paint: loading kernels competes for the GIL
            self.call_after_refresh(self.warm_kernels)
        else:
            import core

            self.ready_packages = frozenset(core.SUBPACKAGES)
            self.kernels_ready = True

    def _warmup_order(self) -> list[str]:
        """Core packages in warm-up order: the resumed lesson's lab's first."""
        import core

        first: tuple[str, ...] = ()
        lesson = self.catalog.get(self._open or self.progress.last_lesson or "")
        if (self._resume or self._open) and lesson is not None and lesson.lab is not None:
            from tutor.labs import lab_core_packages

            first = lab_core_packages(lesson.lab.name)
        return list(first) + [p for p in core.SUBPACKAGES if p not in first]

    class KernelsProgress(Message):
        """Posted by the warm-up worker: kernels done so far, a finished package, failures."""

        def __init__(self, done: int, package: str | None = None, failures=(), finished=False):
            super().__init__()
            self.done = done
            self.package = package
            self.failures = list(failures)
            self.finished = finished

    def warm_kernels(self) -> None:
        """Compile kernels in a child process (numba's on-disk cache); load into this process
        only the packages an open lab needs, once the child has cached them, in daemon threads
        that only post messages: the UI never waits on a compile (nor on loading kernels no
        lab uses), and quitting never waits on a thread."""
        from tutor.kernels import KernelCompiler

        order = self._warmup_order()
        self._compiler = KernelCompiler(order)
        threading.Thread(target=self._warm_thread, name="dl-tutor warm-up", daemon=True).start()
        threading.Thread(target=self._load_known_cached, args=(order,), name="dl-tutor load",
                         daemon=True).start()

    def _load_known_cached(self, packages: list[str]) -> None:
        """Packages the child noted as cached on an earlier run, from the same sources, are
        loaded now, while the child starts (any thread)."""
        from tutor.kernels import known_cached

        try:
            cached = known_cached(packages)
        except Exception:  # no note to read: the child confirms each package as before
            return
        if cached:
            self._cached |= cached
            self._load_wanted()

    def want_packages(self, packages) -> None:
        """A lab about to show needs these core packages: load them as soon as they are cached
        (at once when they already are)."""
        new = set(packages) - self._wanted
        if not new:
            return
        self._wanted |= new
        if self._warm and getattr(self, "_compiler", None) is not None:
            threading.Thread(target=self._load_wanted, name="dl-tutor load", daemon=True).start()

    def stop_kernels(self) -> None:
        """End the compiling child at once (quit)."""
        compiler = getattr(self, "_compiler", None)
        if compiler is not None:
            compiler.stop()

    def _load_wanted(self) -> None:
        """Load (from numba's cache) every wanted package the child has cached; any thread."""
        import core

        compiler = self._compiler

        def progress(d: int, total: int, name: str) -> None:
            if compiler._stopped:  # the app is quitting: stop after this kernel
                raise _WarmupCancelled

        with self._load_lock:
            for package in compiler.packages:
                if (package in self._wanted and package in self._cached
                        and package not in self._loaded):
                    if compiler._stopped:
                        return
                    try:
                        failures = core.warmup(progress, packages=[package])
                    except _WarmupCancelled:
                        return
                    self._loaded.add(package)
                    self.post_message(self.KernelsProgress(self._done, package, failures))

    def _warm_thread(self) -> None:
        compiler = self._compiler
        failures: list = []
        for line in compiler.lines():
            kind, _, rest = line.partition(" ")
            if kind == "kernel":
                done_s, total, _name = (rest.split(" ", 2) + ["", ""])[:3]
                self._done, self.kernels_total = int(done_s), int(total)
                self.post_message(self.KernelsProgress(self._done))
            elif kind == "failed":
                name, _, message = rest.partition(": ")
                failures.append((name, RuntimeError(message)))
            elif kind == "package" and rest in compiler.packages:
                self._cached.add(rest)
                self._load_wanted()
        if compiler._stopped:
            return
        # The child could not run (or died): what is left is compiled here, as before.
        missing = [p for p in compiler.packages if p not in self._cached]
        if missing:
            self._cached |= set(missing)
            self._wanted |= set(missing)
            self._load_wanted()
        if not self.kernels_total:
            import core

            self.kernels_total = self._done = len(core.kernel_names(self._cached))
        self.post_message(self.KernelsProgress(max(self._done, self.kernels_total),
                                               failures=failures, finished=True))

    def on_dl_tutor_app_kernels_progress(self, message: KernelsProgress) -> None:
        self.kernels_done = message.done
        if message.package:
            self.ready_packages = self.ready_packages | {message.package}
        for name, exc in message.failures:
            self.notify(f"{name}: {exc}", title="A kernel failed to compile", severity="error")
        if message.finished:
            self.kernels_ready = True

    # --- navigation ---------------------------------------------------------------------
    def on_lab_show_code(self, message) -> None:
        """A lab's `y`: its PyTorch code in a dialog."""
        from tutor.screens.code_dialog import CodeDialog

        self.push_screen(CodeDialog(message.title, message.code))

    def open_lesson(self, lesson_id: str) -> None:
        """Show lesson `lesson_id` above the catalog (in place of the lesson shown, if any)."""
        lesson = self.catalog.get(lesson_id)
        if lesson is None:
            self.notify(f"No lesson {lesson_id!r}.", severity="error")
            return
        from tutor.screens.lesson import LessonScreen  # not needed for the first paint

        current = self.screen if isinstance(self.screen, LessonScreen) else None
        if current is not None and current.lesson.id == lesson_id:
            return
        self._leave_lesson()
        # The last few lessons stay built (installed screens are kept when left), and the next
        # one is built ahead: going to one is a screen switch, not a compose of its text,
        # quizzes and lab.
        name = self._kept_lesson(lesson)
        if current is not None:
            self.switch_screen(name)
        else:
            self.push_screen(name)
        self._forget_old_lessons()

    # --- the next lesson, built while the student reads ---------------------------------
    async def on_event(self, event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = monotonic()
        await super().on_event(event)

    def _when_idle(self) -> None:
        """Every `IDLE_EVERY` s (the dl-tutor command): once the student has been quiet for
        `AHEAD_AFTER` s and no lab plays, build one lesson ahead, or when there is none to
        build, run Python's full garbage collection if one is due (`gc_hold`), or else load
        one more kind of lab (`_load_a_lab_kind`): the work a key would otherwise wait for is
        done while the student reads."""
        quiet = monotonic() - self._last_input
        if quiet < AHEAD_AFTER or not self.screen_stack:
            return  # keys come, or the app is closing
        if getattr(self.screen, "lab_playing", bool)():
            return
        if not self._build_ahead() and not gc_hold.collect_when_idle(quiet):
            self._load_a_lab_kind()

    def _load_a_lab_kind(self) -> bool:
        """Load what the first lesson of a kind of lab not opened yet would wait for (a jump
        from the palette, `]` pressed fast): its modules, imported here (a few tens of ms),
        and its core packages, read from numba's cache in the loading thread. One kind per
        call, in course order; False when every kind is loaded. The first lesson of a kind
        of lab took 1.0-1.8 s to show its lab, the next ones ~0.35 s."""
        from tutor.labs import lab_class, lab_core_packages

        for lesson in self.catalog.lessons:
            name = lesson.lab.name if lesson.lab is not None else None
            if name is None or name in self._lab_kinds_loaded:
                continue
            self._lab_kinds_loaded.add(name)
            try:
                self.want_packages(lab_core_packages(name))
                lab_class(name)
            except Exception:  # reported when a lesson of that lab opens, not here
                pass
            return True
        return False

    def _build_ahead(self) -> bool:
        """Build the screen of a lesson the student will likely open next (beside a lesson the
        next one, then the previous; in the catalog the highlighted one) off screen: composed,
        styled and mounted as `open_lesson` would, lab included, so that opening it is a
        screen switch (as a return to a kept lesson is). One lesson per call (a few tenths of
        a second of the event loop in all); False when there is none to build."""
        ahead = getattr(self.screen, "lessons_ahead", None)
        if ahead is None:
            return False
        lesson = next((x for x in ahead() if not self.is_screen_installed(_screen_name(x))), None)
        if lesson is None:
            return False
        self._get_screen(self._kept_lesson(lesson))  # registered: composed and mounted, not shown
        self._forget_old_lessons()
        return True

    def _kept_lesson(self, lesson) -> str:
        """The name of `lesson`'s screen, installed if it was not, and now the most recent of
        the lessons kept built."""
        from tutor.screens.lesson import LessonScreen  # not needed for the first paint

        name = _screen_name(lesson)
        if not self.is_screen_installed(name):
            self.install_screen(LessonScreen(self.catalog, lesson), name)
        self._recent_lessons.pop(name, None)
        self._recent_lessons[name] = None
        return name

    def _forget_old_lessons(self) -> None:
        """Keep at most `KEPT_LESSONS` lesson screens built; the oldest left ones go."""
        while len(self._recent_lessons) > KEPT_LESSONS:
            for name in list(self._recent_lessons)[:-1]:
                screen = self.get_screen(name)
                if screen not in self.screen_stack:
                    self.uninstall_screen(name)
                    del self._recent_lessons[name]
                    if screen.is_attached:
                        screen.remove()
                    gc_hold.dropped()
                    break
            else:
                return

    def _leave_lesson(self) -> None:
        """Keep the lab of the lesson being left as it is (saved with the progress)."""
        for screen in self.screen_stack:
            save = getattr(screen, "save_lab_state", None)  # lesson screens
            if save is not None:
                save()

    def show_catalog(self) -> None:
        self._leave_lesson()
        self.save_progress()
        while not isinstance(self.screen, CatalogScreen) and len(self.screen_stack) > 1:
            self.pop_screen()

    def save_progress(self) -> None:
        if not self.progress.save() and self.progress.save_error:
            self.notify(self.progress.save_error, title="Progress not saved", severity="error")

    # --- app-wide actions ---------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit at once: the compiling child ends now, progress is saved. The real command
        (`fast_exit`) then restores the terminal and leaves without tearing every widget
        down one by one (0.3 s on a busy machine)."""
        self.stop_kernels()
        self.before_quit()
        if self.fast_exit and self._driver is not None:
            import os
            import sys

            try:
                if hasattr(self._driver, "_key_thread"):
                    self._driver._key_thread = None  # not joined: it polls for up to 0.3 s
                self._driver.stop_application_mode()
                self._driver.close()  # drains the writer thread: the terminal is restored
            finally:
                sys.stdout.flush()
                os._exit(0)
        self.exit()

    def before_quit(self) -> None:
        """Save what must outlive the process: progress, and the open lab as it is."""
        self._leave_lesson()
        self.save_progress()

    def action_help(self) -> None:
        from tutor.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        from tutor.labs.base import Lab
        from tutor.screens.help import lab_keys

        labs = self.screen.query(Lab)
        lab = labs.first() if labs else None
        self.push_screen(HelpScreen(lab.lab_name if lab else None, lab_keys(lab) if lab else []))

    def action_next_theme(self) -> None:
        names = [t for t in THEMES if t in self.available_themes]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def watch_theme(self, theme: str) -> None:
        if self.progress.theme != theme:
            self.progress.theme = theme
            self.save_progress()

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Catalog", "Back to the list of lessons", self.show_catalog)
