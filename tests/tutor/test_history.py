"""History: step, replay after back, reset, max length, replace_future."""

import pytest

from tutor.history import History


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
