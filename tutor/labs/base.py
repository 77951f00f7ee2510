"""The base class of every lab: shared playback keys, timer, and the messages labs send up."""

from __future__ import annotations

from inspect import isawaitable
from time import monotonic

from textual.worker import WorkerState

from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tutor.labs import gc_hold
from tutor.widgets.focus import RestyleSelfOnFocus


ANSWER_START = "0123456789.-"
"""Keys that start typing a prediction's answer when one is asked."""


class Lab(RestyleSelfOnFocus, Widget, can_focus=True):
    """A lab beside a lesson: steps forward and back, plays at a speed, resets.

    Subclasses implement `step_forward`, `step_back`, `reset_lab` (and optionally
    `pytorch_code`), and compose their own layout (usually with a `StepControls`). The base class
    owns the play/pause timer and the keys, so every lab answers the same keys.
    """

    DEFAULT_CSS = """
    Lab {
        height: 1fr;
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("n", "step", "Step"),
        Binding("b", "back", "Back"),
        Binding("r", "reset", "Reset"),
        Binding("plus,equals_sign", "faster", "Faster", show=False),
        Binding("minus", "slower", "Slower", show=False),
        Binding("y", "show_pytorch", "PyTorch"),
    ]

    #: Name used in progress records and messages; subclasses set it (e.g. "backprop").
    lab_name: str = "lab"

    playing: reactive[bool] = reactive(False, repaint=False)
    """Whether the playback timer is stepping the lab."""

    fps: reactive[float] = reactive(5.0, repaint=False)
    """Playback speed in steps per second (1 to 60)."""

    class Answered(Message):
        """The student answered a predict-then-reveal question inside a lab."""

        def __init__(self, lab: str, key: str, correct: bool) -> None:
            super().__init__()
            self.lab = lab
            self.key = key
            self.correct = correct

    class ShowCode(Message):
        """The student asked for the PyTorch code of the lab; the app shows it in a dialog."""

        def __init__(self, title: str, code: str) -> None:
            super().__init__()
            self.title = title
            self.code = code

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.params = dict(params)
        self._timer = None

    # --- to implement ---------------------------------------------------------------
    def step_forward(self) -> bool:
        """Advance one step; return False when there is nothing more (playback stops)."""
        raise NotImplementedError

    def step_back(self) -> bool:
        """Go back one step; return False at the start."""
        raise NotImplementedError

    def reset_lab(self) -> None:
        """Return to the initial state of the current settings."""
        raise NotImplementedError

    def pytorch_code(self) -> str | None:
        """The PyTorch code for what is on screen, or None when the lab has none."""
        return None

    def save_state(self) -> dict | None:
        """What the student made of the lab (parameters, step, mode, edited grid or kernel) as
        a small JSON-able dict, kept per lesson in the progress file and handed to
        `restore_state` when the lesson is opened again, also after a restart. The default,
        None, keeps nothing: labs opt in."""
        return None

    def restore_state(self, state: dict) -> None:
        """Bring the lab back to a dict `save_state` returned, possibly by an older dl-tutor:
        raise (ValueError, KeyError, TypeError...) on anything unexpected and the lab starts
        from the lesson's parameters instead."""

    def on_lab_error(self, error: Exception) -> None:
        """Called after an uncaught error in the lab was logged and reported: a lab may bring
        its widgets back in line with its model here (the model keeps its last good state)."""

    # --- errors: reported in the lab, logged, never a traceback ---------------------------
    def report_error(self, error: Exception) -> None:
        """An error escaped one of the lab's handlers, actions, timers or workers: stop
        playing, log it with its traceback, say what went wrong, and carry on."""
        from tutor.errors import report_error

        self.playing = False
        report_error(self.app, error, f"the {self.lab_name} lab", "It keeps its last state.")
        try:
            self.on_lab_error(error)
        except Exception as again:  # the hook itself failed: logged, not repeated
            from tutor.errors import log_error

            log_error(again, f"{self.lab_name}.on_lab_error")

    async def _dispatch_message(self, message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            from tutor.errors import strict

            if strict():
                raise
            self.report_error(error)

    def call_after_refresh(self, callback, *args, **kwargs) -> bool:
        """As Textual's, but the screen runs the callback, not the lab's message loop: so here
        a callback for a lab that is gone by then (its lesson was left) is dropped, and an
        error in it is reported like any other of the lab's instead of ending the app."""
        return super().call_after_refresh(self._guarded(callback, args, kwargs))

    def _guarded(self, callback, args, kwargs):
        async def guarded() -> None:
            if not self.is_attached:
                return
            try:
                result = callback(*args, **kwargs)
                if isawaitable(result):
                    await result
            except Exception as error:
                from tutor.errors import strict

                if strict():
                    raise
                self.report_error(error)

        return guarded

    def on_worker_state_changed(self, event) -> None:
        if event.state == WorkerState.ERROR and event.worker.node is self:
            from tutor.errors import strict

            if strict():
                raise event.worker.error
            self.report_error(event.worker.error)

    # --- shared behaviour -------------------------------------------------------------
    def on_key(self, event) -> None:
        """While a prediction is asked, a digit, a sign or a decimal point typed in the lab
        starts the answer (so "-1" is minus one, not "slower" then 1)."""
        char = event.character
        if not char or char not in ANSWER_START or not self.has_focus:
            return
        from tutor.widgets.predict import PredictInput

        for predict in self.query(PredictInput):
            if predict.start_answer(char):
                event.stop()
                event.prevent_default()
                return

    def on_mount(self) -> None:
        # One timer at the highest speed, paused unless playing; `_frame` decides when a step
        # is due, so changing the speed never recreates the timer. Textual calls every class's
        # on_mount, and subclasses may also call super(): only the first call makes the timer
        # (a replaced timer's task would be dropped while still pending).
        if self._timer is not None:
            return
        self._timer = self.set_interval(1 / 60, self._frame, pause=True)
        self._next_tick = 0.0

    def _frame(self) -> None:
        now = monotonic()
        if now + 0.002 < self._next_tick:
            return
        # Due again one period later; after a stall, start afresh rather than catch up.
        self._next_tick = max(self._next_tick + 1 / self.fps, now)
        try:
            self._tick()
        except Exception as error:  # a timer's error would end the app
            from tutor.errors import strict

            if strict():
                raise
            self.report_error(error)

    def _tick(self) -> None:
        """One playback step (called `fps` times a second while playing)."""
        if not self.step_forward():
            self.playing = False

    def _sync_controls(self) -> None:
        """Show the playback state on every `StepControls` inside the lab."""
        from tutor.widgets.step_controls import StepControls

        for controls in self.query(StepControls):
            controls.playing = self.playing
            controls.fps = self.fps

    def watch_playing(self, playing: bool) -> None:
        if self._timer is None:
            return
        self._sync_controls()
        if playing:
            self._next_tick = monotonic()
            self._timer.resume()
            gc_hold.hold(self)
        else:
            self._timer.pause()
            gc_hold.release(self)

    def on_unmount(self) -> None:
        gc_hold.release(self)  # a lab removed while playing

    def watch_fps(self, fps: float) -> None:
        self._sync_controls()

    def validate_fps(self, fps: float) -> float:
        return min(60.0, max(1.0, float(fps)))

    def action_toggle_play(self) -> None:
        self.playing = not self.playing

    def action_step(self) -> None:
        self.playing = False
        self.step_forward()

    def action_back(self) -> None:
        self.playing = False
        self.step_back()

    def action_reset(self) -> None:
        self.playing = False
        self.reset_lab()

    def action_faster(self) -> None:
        self.fps = self.fps * 1.5

    def action_slower(self) -> None:
        self.fps = self.fps / 1.5

    def action_show_pytorch(self) -> None:
        code = self.pytorch_code()
        if code is None:
            self.notify("This lab has no PyTorch view.", severity="warning")
            return
        self.post_message(self.ShowCode(f"PyTorch: {self.lab_name}", code))

    def on_step_controls_pressed(self, message) -> None:
        """Buttons of a `StepControls` inside the lab map onto the same actions as the keys."""
        message.stop()
        action = getattr(self, f"action_{message.action}", None)
        if action is not None:
            action()
