"""The Gridworld lab's dqn mode: the model's snapshots, the lesson's numbers, the predict flow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from core.nn import MLP
from core.rl import DQN, Gridworld, value_iteration
from tests.answers import spy_answers
from tutor.labs import validate_lab
from tutor.labs.gridworld.dqn_model import EPISODES_PER_STEP, TOTAL_EPISODES, DqnModel
from tutor.widgets.predict import PredictInput

LESSON = Path(__file__).parents[3] / "lessons" / "ch8_07_deep_q_learning.md"


def model(**params) -> DqnModel:
    return DqnModel(validate_lab("gridworld", {"mode": "dqn", **params}))


@pytest.fixture(scope="module")
def trained() -> DqnModel:
    m = model()
    m.advance(m.total_steps)
    return m


def test_snapshots_follow_core_dqn():
    m = model()
    m.advance(2)
    grid = Gridworld(5, 5, terminals=[(0, 0), (4, 4)], step_reward=-1.0)
    agent = DQN(grid, gamma=0.9, seed=0)
    agent.run(2 * EPISODES_PER_STEP)
    np.testing.assert_array_equal(m.snap.Q, agent.q())
    assert m.snap.updates == agent.updates and m.snap.buffer_len == agent.buffer_len
    assert m.snap.recent == tuple(agent.recent(4)) and m.snap.since_sync == agent.since_sync


def test_step_back_reset_replay():
    m = model()
    first = m.snap
    assert m.step() and m.step() and m.step()
    q3 = m.snap.Q.copy()
    assert m.back() and m.back() and m.back() and not m.back()
    assert m.snap is first
    m.advance(3)
    np.testing.assert_array_equal(m.snap.Q, q3)
    m.reset()
    assert m.index == 0 and m.snap is first and m.status() == "episode 0 / 300 · 0 updates"


def test_the_model_follows_the_lab_protocol():
    from tutor.labs.kit import LabModel

    m = model()
    assert isinstance(m, LabModel)
    assert "no setting 'seed'" in m.apply("seed", 3) and m.seed == 0 and m.index == 0


def test_lesson_numbers_come_from_the_lab(trained):
    m = trained
    assert m.finished and m.snap.episode == TOTAL_EPISODES
    assert m.first_optimal() == 35
    assert m.snap.error < 1e-4 and m.snap.optimal == 23
    assert (m.snap.updates, m.snap.syncs) == (1897, 37)
    assert m.question == (2, 2) and m.q_star[12, 0] == pytest.approx(-3.439)
    q_star = value_iteration(m.grid, gamma=0.9).Q
    assert q_star[m.grid.state(1, 1), 0] == pytest.approx(-1.9)
    assert m.grid.state(2, 3) == 13
    assert MLP([25, 32, 4]).n_parameters == 964
    text = LESSON.read_text("utf-8")
    for quoted in ("episode 35", "1897 updates", "37 copies", "below 1e-4", "(here the last 1000)",
                   "C = 50", "ε = 0.5", "32 ReLU"):
        assert quoted in text, quoted
    answers = [float(a) for a in re.findall(r"\nanswer = (-?[\d.]+)", text)]
    assert answers == [-1.9, 13, 964]


def test_pytorch_code_is_a_runnable_dqn_of_the_grid():
    code = model().pytorch_code()
    ast.parse(code)
    for part in ("nn.Linear(S, 32)", "torch.optim.Adam(q_net.parameters(), lr=0.01)", "batch_size, target_update, epsilon = [], 1000, 32, 50, 0.5",
                 "rows, cols, gamma, slip, step_reward = 5, 5, 0.9",
                 "buffer.append", "target_net.load_state_dict"):
        assert part in code, part


async def test_predict_then_watch(lab_app):
    answers = []
    async with lab_app("gridworld", mode="dqn").run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one("#lab")
        spy_answers(lab, answers.append)
        await pilot.pause()
        predict = lab.query_one(PredictInput)
        assert predict.state == "asking" and "Q((2,2), ↑)" in predict.prompt
        await pilot.press("i", "minus", "3", ".", "4", "enter")
        assert predict.state == "right" and [(a.key, a.correct) for a in answers] == [("dqn-target", True)]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.computed == lab.model.total_steps  # trained ahead in the worker
        await pilot.press("n", "n", "n")
        assert lab.model.index == 3
        stats = str(lab.query_one("#dqn-stats").render())
        assert "replay buffer" in stats and "target net θ⁻" in stats and "episode 15" in stats
        await pilot.press("b", "v")
        assert lab.model.index == 2 and lab.show_q
        assert lab.save_state() == {"view": "dqn", "step": 2, "predicted": True, "show_q": True}


async def test_the_lab_comes_back_as_left(lab_app):
    """After a restart (or a lesson's lab built again) the view comes back at the episode the
    student left, trained again in the worker, with the prediction not asked again (it was: a
    restart showed episode 0 and 'Predict first' after the student had answered and trained)."""
    answers = []
    async with lab_app("gridworld", mode="dqn").run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one("#lab")
        spy_answers(lab, answers.append)
        await pilot.pause()
        predict = lab.query_one(PredictInput)
        for damaged in ({"view": "dqn", "step": -1, "predicted": False, "show_q": False},
                        {"view": "dqn", "step": 2, "predicted": "yes", "show_q": False},
                        {"spec": {}, "mode": "value_iteration", "k": 3}):
            with pytest.raises((ValueError, TypeError, KeyError)):
                lab.restore_state(damaged)
        assert lab.model.index == 0 and predict.state == "asking" and not lab.show_q
        lab.restore_state({"view": "dqn", "step": 3, "predicted": True, "show_q": True})
        assert lab.save_state()["step"] == 3  # still waiting for the worker: kept
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.index == 3 and lab.show_q
        assert predict.state == "revealed" and answers == []  # shown, not scored again
        assert "episode 15" in str(lab.query_one("#dqn-stats").render())
        assert lab.save_state() == {"view": "dqn", "step": 3, "predicted": True, "show_q": True}


async def test_stepping_before_answering_reveals(lab_app):
    answers = []
    async with lab_app("gridworld", mode="dqn").run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one("#lab")
        spy_answers(lab, answers.append)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.press("n")
        assert lab.query_one(PredictInput).state == "revealed" and answers == []
        assert lab.model.index == 1


@pytest.mark.parametrize("size", [(20, 8), (60, 16)])
async def test_tiny_terminals_do_not_crash(lab_app, size):
    async with lab_app("gridworld", mode="dqn", preset="corners").run_test(size=size) as pilot:
        await pilot.press("n", "v", "b", "r", "i", "x", "enter")
        await pilot.pause()
        # cells too small for four numbers: v says so (it showed nothing and said nothing)
        assert any("Q-values need" in str(n.message) for n in pilot.app._notifications)


async def _after_four_steps(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    lab = pilot.app.query_one("#lab")
    lab.model.advance(4)
    lab.redraw()
    await pilot.pause()


def test_snapshot_dqn_after_twenty_episodes(snap_compare, lab_app):
    assert snap_compare(lab_app("gridworld", mode="dqn"), terminal_size=(120, 36), run_before=_after_four_steps)


@pytest.mark.parametrize("name", ["corners", "cliff", "maze", "teleport", "slippery", "open"])
def test_every_preset_trains(name):
    m = model(preset=name)
    assert m.step() and m.snap.episode == EPISODES_PER_STEP
    assert m.gamma == 0.9 and not m.grid.absorbing[m.grid.state(*m.question)]
    assert np.isfinite(m.snap.Q).all()
