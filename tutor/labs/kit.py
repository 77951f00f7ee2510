"""The lab kit: the model protocol every lab model follows and `ModelLab`, the widget glue.

A lab is two halves. The *model* is plain Python (no Textual): it owns the state, a history to
step through, and the text of its PyTorch view. The *widget* only lays out and draws. With the
kit, a new lab's widget is its `compose` and its `redraw`; stepping, going back, resetting,
parameter changes and the PyTorch view are the same code for every lab.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Protocol, runtime_checkable

from textual.message import Message
from textual.worker import WorkerState, get_current_worker

from tutor.labs.base import Lab
from tutor.labs.datafiles import cached_read
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput


@runtime_checkable
class LabModel(Protocol):
    """What a lab's model offers its widget (and the tests, without a terminal).

    - `step()` moves one step forward (computing it, or replaying one the student stepped back
      over); False when there is nothing more. `back()` is its inverse; False at the start.
    - `reset()` returns to the first state of the current settings; `advance(n)` steps up to
      n times and returns how many it took.
    - `status()` is one line for the step controls ("step 12 · loss 0.31").
    - `pytorch_code()` is runnable PyTorch for what is on screen, or None.
    - `apply(name, value)` changes one setting: it returns None when applied, or a message
      saying why the value was refused (the model keeps its last good state).

    Stepping k times, back k times, and `reset()` all give exactly the starting state, and the
    same steps replayed give the same numbers (models are seeded).
    """

    def step(self) -> bool: ...

    def back(self) -> bool: ...

    def reset(self) -> None: ...

    def advance(self, n: int) -> int: ...

    def status(self) -> str: ...

    def pytorch_code(self) -> str | None: ...

    def apply(self, name: str, value) -> str | None: ...


class ModelLab(Lab):
    """A `Lab` driven by a `LabModel`: subclasses build `self.model` and implement `redraw()`.

    Every change (a step, a reset, a new setting, a worker's result) calls `request_redraw()`;
    several requests within one frame are merged into one `redraw()` after the next refresh, so
    a burst of keys or messages paints once. `apply_param` is the one place settings change.
    """

    model: LabModel

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self._redraw_pending = False

    # --- to implement ------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the model's current state into the lab's widgets."""
        raise NotImplementedError

    # --- the glue ----------------------------------------------------------------------
    def on_mount(self) -> None:
        super().on_mount()
        self.request_redraw()

    def request_redraw(self) -> None:
        """Ask for one `redraw()` after the next refresh (requests in between are merged)."""
        if self._redraw_pending:
            return
        self._redraw_pending = True
        self.call_after_refresh(self._redraw_now)

    def _redraw_now(self) -> None:
        self._redraw_pending = False
        if self.is_mounted:
            self.redraw()

    def step_forward(self) -> bool:
        moved = self.model.step()
        if moved:
            self.request_redraw()
        return moved

    def step_back(self) -> bool:
        moved = self.model.back()
        if moved:
            self.request_redraw()
        return moved

    def reset_lab(self) -> None:
        self.model.reset()
        self.request_redraw()

    def advance(self, n: int) -> int:
        """Step up to `n` times at once (drawn once); returns how many steps were taken."""
        taken = self.model.advance(n)
        if taken:
            self.request_redraw()
        return taken

    def pytorch_code(self) -> str | None:
        return self.model.pytorch_code()

    def apply_param(self, name: str, value) -> str | None:
        """Change one setting through the model; a refusal is shown, the last good state kept."""
        message = self.model.apply(name, value)
        if message is not None:
            self.notify(message, title="Value not applied", severity="warning")
        self.request_redraw()
        return message


class FieldKeys:
    """Keys of a lab with fields (mixed in before `Lab`): escape leaves a field for the lab's
    keys (bind it: `Binding("escape", "focus_lab", ...)`; with the lab itself focused escape goes
    on to the screen), and `focus_predict` (bind it to i) moves into the prediction field while
    a question is asked."""

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "focus_lab":  # only from a field of this lab (not a dialog above it)
            focused = self.app.focused
            return focused is not None and focused is not self and self in focused.ancestors
        return super().check_action(action, parameters)

    def action_focus_lab(self) -> None:
        self.focus()

    def back_to_lab(self, field) -> None:
        """A value was entered in `field`: if the focus is still there (enter, not a tab or
        a click elsewhere), it goes back to the lab, whose keys then work at once."""
        focused = self.screen.focused
        if focused is not None and field in focused.ancestors_with_self:
            self.focus()

    def action_focus_predict(self) -> None:
        from textual.widgets import Input

        for predict in self.query(PredictInput):
            if predict.state == "asking":
                predict.query_one(Input).focus()
                return


class ComputeAhead:
    """A lab (mixed in before `Lab`) whose model, a `tutor.history.ComputedSteps`, has its
    steps computed ahead in a thread worker, each posted as soon as it is ready, so the lab's
    keys never wait for the computation (the gridworld DQN, the normalization race).

    `compute_ahead()` starts the worker on the current model; `stop_computing()` cancels it
    before the model is replaced (results of a replaced model are dropped by `generation`);
    `computed_ahead()`, the hook, shows a result the model has just kept.
    """

    generation: int = 0
    """Counts the models replaced: a worker's result for an older one is dropped."""

    class Computed(Message):
        """One more step's result, computed by the worker for the model of `generation`."""

        def __init__(self, generation: int, result) -> None:
            super().__init__()
            self.generation = generation
            self.result = result

    def computed_ahead(self) -> None:
        """Called after the model kept a new result (the lab may show it)."""

    @property
    def compute_group(self) -> str:
        return f"{self.lab_name}-compute"

    def compute_ahead(self) -> None:
        """Compute every remaining step of the current model in a thread worker."""
        self.run_worker(partial(self._compute_ahead, self.model, self.generation), thread=True,
                        exclusive=True, group=self.compute_group, exit_on_error=False)

    def _compute_ahead(self, model, generation: int) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled:
            result = model.compute_next()
            if result is None:
                return
            self.post_message(self.Computed(generation, result))

    def on_compute_ahead_computed(self, message: Computed) -> None:
        message.stop()
        if message.generation != self.generation:
            return  # a model replaced meanwhile
        self.model.append(message.result)
        self.computed_ahead()

    def stop_computing(self) -> None:
        """Cancel the worker before the model is replaced; its late results are dropped."""
        self.workers.cancel_group(self, self.compute_group)
        self.generation += 1


class TrainingLab(FieldKeys, ModelLab):
    """A `ModelLab` whose model also trains many steps at once in a thread worker (j, a
    lesson's head start, a restore). While the worker runs, the lab's stepping keys wait and
    say so; a new setting cancels the worker, is applied through the model, and training
    starts again from the seed (the flow and GAN labs).

    A subclass says what a worker trains: `training_source()` (what the states are computed
    from: a result for another source, after a change, is dropped), `train(source, n,
    cancelled)` (in the worker thread: up to n new states, stopping when `cancelled()`), and
    `add_trained(source, states)` (the default extends the source's history). It may word the
    note shown after a change in `applied_note`, and keeps `note` on show in its `redraw`.
    """

    busy: bool = False
    """Whether a training worker runs (the stepping keys wait for it)."""
    note: str = ""

    def __init__(self, params: dict, *, name=None, id=None, classes=None) -> None:
        super().__init__(params, name=name, id=id, classes=classes)
        self.answered: set[str] = set()
        """Keys of the questions answered or revealed (not asked again)."""

    def model_or_defaults(self, build: Callable[[dict], LabModel], specs: dict) -> LabModel:
        """`build(self.params)`; when the lesson's settings are refused, the model of the
        default settings (`specs`: the lab's PARAMS) in the same view, with a note saying why."""
        try:
            return build(self.params)
        except ValueError as exc:  # e.g. a lesson's custom points out of range
            self.note = f"{exc}; showing the default settings instead"
            self.params = {k: spec.default for k, spec in specs.items()} | {
                "view": self.params["view"]}
            return build(self.params)

    def adopt(self, params: dict, model: LabModel, answered) -> None:
        """Take a restored model (checked before: nothing may fail from here): the worker is
        cancelled, the fields show the settings; the lab then sets what is its own."""
        self.cancel_training()
        self.playing = False
        self.params, self.model, self.answered = dict(params), model, {str(k) for k in answered}
        for box in self.query(ParamInput):
            box.value = self.params[box.param_name]
        self.note = ""

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        """A prediction was checked: not asked again, and its answer recorded (per question
        kind: the key up to its first "-")."""
        message.stop()
        self.answered.add(message.key)
        self.post_message(Lab.Answered(self.lab_name, message.key.split("-")[0], message.correct))
        self.request_redraw()

    class Trained(Message):
        """A worker's states computed from `source` (stale if the lab's source changed)."""

        def __init__(self, source, states: list) -> None:
            super().__init__()
            self.source = source
            self.states = states

    # --- to implement --------------------------------------------------------------------
    def training_source(self):
        """What a training worker computes from (its result is dropped if this changed)."""
        return self.model

    def train(self, source, n: int, cancelled: Callable[[], bool]) -> list:
        """(Worker thread.) Up to `n` new states after `source`'s current one, on a copy."""
        raise NotImplementedError

    def add_trained(self, source, states: list) -> None:
        """Show the worker's states: by default `source.extend(states)`."""
        source.extend(states)

    def applied_note(self, name: str, before, value) -> str:
        """The note after setting `name` to `value` (it was `before`)."""
        return ""

    # --- the worker ----------------------------------------------------------------------
    @property
    def train_group(self) -> str:
        return f"{self.lab_name}-train"

    def start_training(self, n: int, note: str) -> None:
        """Train `n` steps in a thread worker (replacing one still running), showing `note`."""
        self.busy, self.note = True, note
        self.run_worker(partial(self._training, self.training_source(), n), thread=True,
                        exclusive=True, group=self.train_group, exit_on_error=False)

    def _training(self, source, n: int) -> None:
        worker = get_current_worker()
        states = self.train(source, n, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(self.Trained(source, states))

    def on_training_lab_trained(self, message: Trained) -> None:
        message.stop()
        if message.source is not self.training_source():
            return  # the settings changed meanwhile
        self.busy, self.note = False, ""
        self.add_trained(message.source, message.states)
        self.request_redraw()

    def cancel_training(self) -> None:
        self.workers.cancel_group(self, self.train_group)
        self.busy = False

    def waiting(self) -> bool:
        """True (and a notice saying why) while the worker trains."""
        if self.busy:
            self.notify(self.note or "training…", timeout=2)
        return self.busy

    # --- stepping waits for the worker ---------------------------------------------------
    def step_forward(self) -> bool:
        return False if self.waiting() else super().step_forward()

    def step_back(self) -> bool:
        return False if self.waiting() else super().step_back()

    def reset_lab(self) -> None:
        if not self.waiting():
            super().reset_lab()

    def _tick(self) -> None:
        """Playback: above 10 steps a second, several steps per drawn frame."""
        if self.waiting():
            self.playing = False
            return
        n = max(1, int(self.fps // 10))
        if self.advance(n) < n:
            self.playing = False

    # --- settings ------------------------------------------------------------------------
    def apply_param(self, name: str, value) -> str | None:
        """Cancel the worker, change one setting through the model; a refusal is shown in
        the note (the last good state kept) and returned."""
        if self.busy:
            self.cancel_training()
        self.playing = False
        before = self.model.params.get(name)
        refused = self.model.apply(name, value)
        if refused is not None:
            self.note = f"✗ {refused}; kept the previous value"
            self.request_redraw()
            return refused
        self.params = dict(self.model.params)
        self.note = self.applied_note(name, before, value)
        for box in self.query(ParamInput):
            if box.param_name == name and box.value != self.params[name]:
                box.value = self.params[name]
        self.request_redraw()
        return None

    def on_param_input_changed(self, event: ParamInput.Changed) -> None:
        event.stop()
        if self.apply_param(event.name, event.value) is not None:
            event.param_input.value = self.params[event.name]


class PlayAhead:
    """A `TrainingLab` (mixed in before it) whose playback shows states a thread worker
    computed ahead, with the pictures its frames draw, so a frame only draws (the GAN, flow
    and MLP labs). While the lab plays, 2-6 frames' worth is kept computed, the worker started
    after a frame's paint (not to compete with it for the CPU); a frame whose states are still
    being computed waits for them; a new setting or a restore drops them.

    The subclass says what is computed ahead: `ahead_source()`, the object keeping the states
    (None where nothing is computed ahead, e.g. another view), with `steps_ahead()` (states
    ready after the current one), `ahead_tail()` (the state to compute on from; None while
    stepping replays states stepped back over), `compute_ahead(tail, n, first, every, keys,
    cancelled)` (worker thread: up to n states after `tail` and the pictures `keys` of the
    states first, first + every, ... of them, as (states, pictures)) and `add_ahead(tail,
    states, pictures)` (False when `tail` is no longer where they continue); and
    `ahead_keys()`, the pictures a frame draws at the lab's present sizes.
    """

    _ahead_worker = None  # the Worker computing ahead, if any (its results carry it)
    _ahead_end = None  # the state after which nothing more could be computed

    class Ahead(Message):
        """States (and the pictures of those a playing lab draws) computed after `tail`."""

        def __init__(self, worker, source, tail, states: list, pictures, n: int) -> None:
            super().__init__()
            self.worker, self.source, self.tail = worker, source, tail
            self.states, self.pictures, self.n = states, pictures, n

    # --- to implement ----------------------------------------------------------------------
    def ahead_source(self):
        """What keeps the states computed ahead, or None (nothing is computed ahead now)."""
        return None

    def ahead_keys(self):
        """The pictures a frame draws at the lab's present sizes (None: none)."""
        return None

    # --- the worker ------------------------------------------------------------------------
    @property
    def ahead_group(self) -> str:
        return f"{self.lab_name}-ahead"

    def _per_tick(self) -> int:
        return max(1, int(self.fps // 10))  # TrainingLab._tick's steps per frame

    def _tick(self) -> None:
        source = self.ahead_source()
        if (source is not None and not self.busy and self._ahead_worker is not None
                and source.steps_ahead() < self._per_tick() and source.ahead_tail() is not None):
            return  # the worker is at this frame's states: the frame waits for them
        super()._tick()
        self.call_after_refresh(self._keep_ahead_after_paint)

    def _keep_ahead_after_paint(self) -> None:
        """(After the refresh that runs this frame's redraw.) `keep_ahead` after the next one,
        which paints it."""
        self.call_after_refresh(self.keep_ahead)

    def keep_ahead(self) -> None:
        """While the lab plays, keep its next states computed (a thread worker)."""
        source = self.ahead_source()
        if source is None or not self.playing or self.busy or self._ahead_worker is not None:
            return
        tail, n, ahead = source.ahead_tail(), self._per_tick(), source.steps_ahead()
        if tail is None or tail is self._ahead_end or ahead > 2 * n + 2:
            return
        count = 6 * n + 4 - ahead
        first = (-(ahead + 1)) % n  # the new states a frame will draw: every n-th from here
        work = partial(self._compute_ahead, source, tail, count, first, n, self.ahead_keys())
        # A description of its own: Textual's default, repr() of the call, would print the
        # state's arrays (10 ms).
        self._ahead_worker = self.run_worker(
            work, thread=True, exclusive=True, group=self.ahead_group, exit_on_error=False,
            description=f"{self.lab_name}: {count} steps ahead")

    def _compute_ahead(self, source, tail, n: int, first: int, every: int, keys) -> None:
        worker = get_current_worker()
        states, pictures = source.compute_ahead(tail, n, first, every, keys,
                                                lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(self.Ahead(worker, source, tail, states, pictures, n))

    def on_play_ahead_ahead(self, message: Ahead) -> None:
        message.stop()
        if message.worker is not self._ahead_worker:
            return  # a worker stopped meanwhile
        self._ahead_worker = None
        source = self.ahead_source()
        if message.source is source and source.add_ahead(message.tail, message.states,
                                                         message.pictures):
            if len(message.states) < message.n:  # the last step, or a diverged one
                self._ahead_end = source.ahead_tail()
            self.keep_ahead()

    def on_worker_state_changed(self, event) -> None:
        """A worker computing ahead that failed or was cancelled computes nothing more: the
        frames step on without it (the Lab base reports a failure)."""
        if event.worker is self._ahead_worker and event.state in (WorkerState.ERROR,
                                                                  WorkerState.CANCELLED):
            self._ahead_worker = None

    def stop_ahead(self) -> None:
        """Cancel the worker; its late result is dropped."""
        self.workers.cancel_group(self, self.ahead_group)
        self._ahead_worker = None

    def adopt(self, params: dict, model, answered) -> None:
        self.stop_ahead()
        super().adopt(params, model, answered)

    def apply_param(self, name: str, value) -> str | None:
        self.stop_ahead()
        return super().apply_param(name, value)


class DataFileRead(Message):
    """A data file a lab asked `read_data_file` for was read (`error` None) or refused
    (`error` says why: missing, a device, over the reader's byte limit, malformed)."""

    def __init__(self, path: str, error: str | None) -> None:
        super().__init__()
        self.path = path
        self.error = error


def read_data_file(lab: Lab, path: str, read: Callable, *args) -> None:
    """Read `path` with `read(path, *args)` in a thread worker, into `tutor.labs.datafiles`'
    cache, then post `DataFileRead` to the lab: a large file or a slow decode never blocks
    the lab, and the model the lab then builds finds the data in the cache. A newer read
    replaces one still running."""

    def work() -> None:
        try:
            cached_read(read, path, *args)
        except ValueError as exc:
            lab.post_message(DataFileRead(path, str(exc)))
            return
        lab.post_message(DataFileRead(path, None))

    lab.run_worker(work, thread=True, exclusive=True, group=f"{lab.lab_name}-data-file",
                   exit_on_error=False)
