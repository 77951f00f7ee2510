"""A step history every lab reuses: step forward (computing or replaying), step back, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

S = TypeVar("S")


class History(Generic[S]):
    """The states a lab has visited, so the student can step back as well as forward.

    `step_fn(state) -> next state or None` computes the next state (None: nothing more to do).
    Stepping back keeps the later states, so stepping forward again replays them; changing the
    present (`replace_future`) drops them. At most `max_len` states are kept (oldest dropped).
    States should be immutable (or copied by `step_fn`): the history keeps references.
    """

    def __init__(self, initial: S, step_fn: Callable[[S], S | None], max_len: int = 10_000):
        if max_len < 2:
            raise ValueError(f"max_len must be at least 2, got {max_len}")
        self._step_fn = step_fn
        self._max_len = max_len
        self._states: list[S] = [initial]
        self._index = 0
        self._dropped = 0  # how many early states were dropped to respect max_len

    @property
    def current(self) -> S:
        """The state shown now."""
        return self._states[self._index]

    @property
    def index(self) -> int:
        """The step number of the current state (0 is the initial state, even after drops)."""
        return self._index + self._dropped

    @property
    def can_back(self) -> bool:
        return self._index > 0

    @property
    def states(self) -> list[S]:
        """The kept states up to and including the current one."""
        return self._states[: self._index + 1]

    def __len__(self) -> int:
        return len(self._states)

    def step(self) -> bool:
        """Move one step forward; False (and no move) when `step_fn` has nothing more."""
        if self._index + 1 < len(self._states):
            self._index += 1
            return True
        nxt = self._step_fn(self.current)
        if nxt is None:
            return False
        self._states.append(nxt)
        self._index += 1
        if len(self._states) > self._max_len:
            self._states.pop(0)
            self._index -= 1
            self._dropped += 1
        return True

    def advance(self, n: int) -> int:
        """Step up to `n` times; return how many steps were taken."""
        taken = 0
        while taken < n and self.step():
            taken += 1
        return taken

    def back(self) -> bool:
        """Move one step back; False at the oldest kept state."""
        if self._index == 0:
            return False
        self._index -= 1
        return True

    def reset(self, initial: S | None = None) -> None:
        """Back to the first state (or a new initial state), forgetting every later one."""
        first = self._states[0] if initial is None else initial
        self._states = [first]
        self._index = 0
        self._dropped = 0

    def replace_future(self, state: S) -> None:
        """Replace the current state (the student edited something) and drop later ones."""
        del self._states[self._index + 1 :]
        self._states[self._index] = state


class HistoryModel:
    """A lab model whose stepping is its `self.history` (a `History`), set by the subclass.

    `step/back/reset/advance` delegate to the history, so a model that only walks its history
    inherits them instead of repeating them; it still writes `status()` and `apply()` (and
    `pytorch_code()` when it has code to show), as `tutor.labs.kit.LabModel` documents.
    """

    history: History

    def step(self) -> bool:
        return self.history.step()

    def back(self) -> bool:
        return self.history.back()

    def reset(self) -> None:
        self.history.reset()

    def advance(self, n: int) -> int:
        return self.history.advance(n)

    def status(self) -> str:
        """One line for the step controls."""
        raise NotImplementedError

    def pytorch_code(self) -> str | None:
        """Runnable PyTorch for what is on screen; None when there is none."""
        return None

    def apply(self, name: str, value) -> str | None:
        """Change one setting: None when applied, else why the value was refused."""
        raise NotImplementedError


class ComputedSteps:
    """Stepping over results a worker computes one at a time, shown up to `self.index`.

    The subclass keeps `index` (how many results are shown), `computed` (how many exist) and
    `compute_next()` / `append(result)` (compute the next one, keep it). Stepping forward shows a
    kept result or computes the next; back and reset only move `index`, so replaying shows the
    very same numbers.
    """

    index: int
    computed: int

    def compute_next(self):
        """The next result, or None when there is nothing more."""
        raise NotImplementedError

    def append(self, result) -> bool:
        """Keep `result` if it is the next one; False otherwise."""
        raise NotImplementedError

    def step(self) -> bool:
        if self.index < self.computed:
            self.index += 1
            return True
        result = self.compute_next()
        if result is None:
            return False
        self.append(result)
        self.index += 1
        return True

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def reset(self) -> None:
        """Back to step 0 (kept results stay: replaying them gives the same numbers)."""
        self.index = 0

    def advance(self, n: int) -> int:
        taken = 0
        while taken < n and self.step():
            taken += 1
        return taken


class CheckpointHistory:
    """A history of states that each keep a checkpoint of a network in training (`states`, the
    one shown at `index`, `message` for the status): back and reset move to an earlier state
    and load its checkpoint; `extend` appends states a worker computed on its own copy.

    The subclass sets `states`, `index` and `message`, loads a checkpoint into the live network
    in `restore_checkpoint`, and computes new states itself (a step, or a worker's run).
    """

    states: list
    index: int
    message: str

    @property
    def state(self):
        """The state shown now."""
        return self.states[self.index]

    def restore_checkpoint(self, checkpoint) -> None:
        raise NotImplementedError

    def _sync(self) -> None:
        self.restore_checkpoint(self.state.checkpoint)

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.index -= 1
        self.message = ""
        self._sync()
        return True

    def reset(self) -> None:
        """Back to the first state, forgetting every later one."""
        self.index = 0
        del self.states[1:]
        self.message = ""
        self._sync()

    def extend(self, states: list) -> None:
        """Append states computed elsewhere (a worker) after the current one."""
        del self.states[self.index + 1:]
        self.states.extend(states)
        self.index = len(self.states) - 1
        self._sync()


class PicturesAhead:
    """A `CheckpointHistory` (mixed in before it) to which a worker appends states computed
    after the last one, with the pictures a playing lab draws of them (the kit's `PlayAhead`:
    the GAN and flow labs). The subclass sets `pictures = {}` and gives each picture a `key`
    (the size and options it was drawn for)."""

    pictures: dict
    """id(state) -> (state, picture), for the states from the one shown on."""

    def steps_ahead(self) -> int:
        """States after the current one (computed ahead or stepped back over)."""
        return len(self.states) - 1 - self.index

    def add_ahead(self, tail, states: list, pictures: list) -> bool:
        """Append states computed after `tail` and their (state, picture) pairs, if `tail` is
        still the last state (else nothing, False); pictures of states passed are dropped."""
        if self.states[-1] is not tail:
            return False
        self.states.extend(states)
        ahead = {id(s) for s in self.states[self.index:]}
        self.pictures = {k: v for k, v in self.pictures.items() if k in ahead}
        self.pictures.update((id(state), (state, picture)) for state, picture in pictures)
        return True

    def picture_ahead(self, key):
        """The picture computed ahead of the state shown, drawn for `key`, or None."""
        kept = self.pictures.get(id(self.state))
        if kept is not None and kept[0] is self.state and kept[1].key == key:
            return kept[1]
        return None
