"""History: step, replay after back, reset, max length, replace_future; HistoryModel."""

import pytest

from tutor.history import History, HistoryModel
from tutor.labs.kit import LabModel


def counter(limit):
    return lambda s: s + 1 if s < limit else None


def test_step_back_and_replay_without_recomputing():
    calls = []

    def step(s):
        calls.append(s)
        return s + 1

    h = History(0, step)
    assert h.advance(3) == 3 and h.current == 3 and h.index == 3
    assert h.back() and h.back() and h.current == 1
    assert h.step() and h.current == 2
    assert calls == [0, 1, 2], "stepping forward after back replays stored states"
    assert h.states == [0, 1, 2]


def test_end_of_steps_and_start():
    h = History(0, counter(2))
    assert h.advance(10) == 2 and h.current == 2
    assert not h.step()
    h.reset()
    assert h.current == 0 and not h.back() and not h.can_back


def test_max_len_drops_oldest_but_keeps_step_numbers():
    h = History(0, counter(100), max_len=3)
    h.advance(5)
    assert len(h) == 3 and h.current == 5 and h.index == 5
    assert h.back() and h.back() and not h.back()
    assert h.current == 3 and h.index == 3


def test_replace_future_drops_later_states():
    h = History(0, counter(1000))
    h.advance(4)
    h.back()
    h.back()
    h.replace_future(100)
    assert h.current == 100 and len(h) == 3
    assert h.step() and h.current == 101


def test_reset_with_new_initial_state_and_bad_max_len():
    h = History(0, counter(10))
    h.advance(2)
    h.reset(7)
    assert h.current == 7 and h.index == 0
    with pytest.raises(ValueError):
        History(0, counter(1), max_len=1)


class Counter(HistoryModel):
    """The smallest HistoryModel: counts to `limit`."""

    def __init__(self, limit):
        self.history = History(0, counter(limit))

    def status(self):
        return f"count {self.history.current}"


def test_history_model_delegates_to_its_history():
    m = Counter(3)
    assert isinstance(m, LabModel)
    assert m.advance(10) == 3 and m.history.current == 3 and not m.step()
    assert m.back() and m.back() and m.history.current == 1
    assert m.step() and m.history.current == 2
    m.reset()
    assert m.history.current == 0 and not m.back() and m.status() == "count 0"
    assert m.pytorch_code() is None


def test_history_model_leaves_status_and_apply_to_subclasses():
    class Bare(HistoryModel):
        def __init__(self):
            self.history = History(0, counter(1))

    m = Bare()
    assert m.step() and not m.step()
    with pytest.raises(NotImplementedError):
        m.status()
    with pytest.raises(NotImplementedError):
        m.apply("x", 1)


def test_computed_steps_show_kept_results_and_compute_only_the_next():
    from tutor.history import ComputedSteps

    class Squares(ComputedSteps):
        def __init__(self, limit: int) -> None:
            self.index, self.results, self.limit, self.calls = 0, [0], limit, 0

        @property
        def computed(self) -> int:
            return len(self.results) - 1

        def compute_next(self):
            n = len(self.results)
            if n > self.limit:
                return None
            self.calls += 1
            return n * n

        def append(self, result) -> bool:
            self.results.append(result)
            return True

    m = Squares(3)
    assert not m.back() and m.advance(10) == 3 and m.results == [0, 1, 4, 9] and m.calls == 3
    assert m.back() and m.back() and m.index == 1
    assert m.step() and m.index == 2 and m.calls == 3  # a kept result: nothing recomputed
    m.reset()
    assert m.index == 0 and m.advance(3) == 3 and m.calls == 3 and not m.step()


def test_checkpoint_history_loads_the_checkpoint_of_the_state_shown():
    from collections import namedtuple

    from tutor.history import CheckpointHistory

    State = namedtuple("State", "checkpoint")

    class Net(CheckpointHistory):
        def __init__(self):
            self.states, self.index, self.message, self.loaded = [State(0)], 0, "", None

        def restore_checkpoint(self, checkpoint):
            self.loaded = checkpoint

    net = Net()
    assert not net.back() and net.state == State(0)
    net.extend([State(1), State(2)])
    assert net.index == 2 and net.loaded == 2
    net.message = "diverged"
    assert net.back() and net.loaded == 1 and net.message == ""
    net.extend([State(5)])  # a worker's states replace the future after the one shown
    assert [s.checkpoint for s in net.states] == [0, 1, 5] and net.loaded == 5
    net.reset()
    assert net.states == [State(0)] and net.index == 0 and net.loaded == 0
