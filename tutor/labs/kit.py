"""The lab kit: the model protocol every lab model follows and `ModelLab`, the widget glue.

A lab is two halves. The *model* is plain Python (no Textual): it owns the state, a history to
step through, and the text of its PyTorch view. The *widget* only lays out and draws. With the
kit, a new lab's widget is its `compose` and its `redraw`; stepping, going back, resetting,
parameter changes and the PyTorch view are the same code for every lab.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from textual.message import Message

from tutor.labs.base import Lab
from tutor.labs.datafiles import cached_read


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
