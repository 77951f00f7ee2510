"""core.rl.dqn: sampling from an MDP, the replay buffer, the target network, one update by hand,
and the optimal policy of the notes' 5 x 5 Gridworld."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from core.rl import DQN, Gridworld, dqn, value_iteration


def notes_grid() -> Gridworld:
    return Gridworld(5, 5, terminals=[(0, 0), (4, 4)], step_reward=-1.0)


def optimal_actions(grid, gamma=0.9):
    Q = value_iteration(grid, gamma=gamma).Q
    return Q, np.isclose(Q, Q.max(axis=1, keepdims=True), atol=1e-9)


def test_step_and_reset_sample_the_sparse_transitions():
    grid = notes_grid()
    rng = np.random.default_rng(0)
    assert grid.step(grid.state(2, 2), 0, rng) == (grid.state(1, 2), -1.0, False)  # up
    assert grid.step(grid.state(0, 1), 2, rng) == (grid.state(0, 0), -1.0, True)  # into a terminal
    assert grid.step(grid.state(0, 3), 0, rng) == (grid.state(0, 3), -1.0, False)  # off the grid
    starts = {grid.reset(rng) for _ in range(500)}
    assert starts == set(np.flatnonzero(~grid.absorbing))
    assert grid.reset(rng, start=7) == 7
    slippery = Gridworld(3, 3, slip=0.4)
    ends = [slippery.step(4, 3, rng)[0] for _ in range(4000)]
    freq = np.bincount(ends, minlength=9)[[5, 1, 7]] / len(ends)
    np.testing.assert_allclose(freq, [0.6, 0.2, 0.2], atol=0.03)
    for bad in ((25, 0), (-1, 0), (3, 4), (3, True), (2.0, 1)):
        with pytest.raises(ValueError):
            grid.step(*bad, rng)


class _NoModel(Gridworld):
    """A Gridworld whose model (P, R) cannot be read: the agent must learn from samples."""

    @property
    def P(self):
        raise AssertionError("DQN read P")

    @property
    def R(self):
        raise AssertionError("DQN read R")


def test_dqn_finds_the_optimal_policy_of_the_notes_grid():
    grid = _NoModel(5, 5, terminals=[(0, 0), (4, 4)], step_reward=-1.0)
    agent = dqn(grid, seed=0)  # the defaults: 300 episodes, about a second
    Q, best = optimal_actions(notes_grid())
    free = np.flatnonzero(~grid.absorbing)
    assert best[free, agent.policy[free]].all()
    assert np.abs(agent.q() - Q)[free].max() < 0.01
    assert len(agent.returns) == len(agent.lengths) == 300
    assert agent.q([0, 24]).shape == (2, 4)


def test_steps_are_reproducible_and_the_generator_yields_episodes():
    grid = notes_grid()
    a, b = DQN(grid, seed=3), DQN(grid, seed=3)
    eps = list(a.episodes(5))
    b.run(5)
    assert [e.ret for e in eps] == b.returns and a.updates == b.updates
    np.testing.assert_array_equal(a.net.theta, b.net.theta)
    assert eps[-1].updates == a.updates and all(e.length >= 1 for e in eps)


def test_replay_buffer_and_target_network_lag():
    grid = notes_grid()
    agent = DQN(grid, buffer_size=40, batch_size=8, target_update=5, seed=1)
    agent.run(30)
    assert agent.buffer_len == 40 and agent.transitions > 40
    recent = agent.recent(3)
    assert len(recent) == 3
    newest = recent[0]
    s2, r, done = grid.step(newest.state, newest.action, np.random.default_rng(0))  # deterministic grid
    assert (newest.next_state, newest.reward, newest.done) == (s2, r, done)
    assert agent.syncs == agent.updates // 5 and agent.since_sync == agent.updates % 5
    lagged = agent.target.theta.copy()
    while agent.since_sync:
        agent.update()
    np.testing.assert_array_equal(agent.target.theta, agent.net.theta)
    assert not np.array_equal(lagged, agent.net.theta)


def _forward(theta, sizes, x):
    a, off = x, 0
    for i, (d_in, d_out) in enumerate(zip(sizes, sizes[1:])):
        w = theta[off : off + d_in * d_out].reshape(d_out, d_in)
        off += d_in * d_out
        b = theta[off : off + d_out]
        off += d_out
        a = a @ w.T + b
        if i < len(sizes) - 2:
            a = np.maximum(a, 0)
    return a


def test_one_update_by_hand():
    """y = r + γ(1 − done) max Q(s′; θ⁻), loss on the chosen actions, one Adam step (lr·g/|g|)."""
    grid = notes_grid()
    agent = DQN(grid, hidden=(6,), lr=0.01, batch_size=4, buffer_size=50, seed=2)
    agent.run(3)
    agent.target.theta[:] += 0.1  # a target network that differs from the online one
    rng = copy.deepcopy(agent.rng)
    idx = rng.integers(agent.buffer_len, size=4)
    s, a, r, s2, done = (agent._s[idx], agent._a[idx], agent._r[idx], agent._s2[idx], agent._done[idx])
    eye, sizes = np.eye(25), agent.net.sizes
    y = r + 0.9 * (1 - done) * _forward(agent.target.theta, sizes, eye[s2]).max(axis=1)

    def loss(theta):
        q = _forward(theta, sizes, eye[s])
        return ((q[np.arange(4), a] - y) ** 2).sum() / (4 * 4)

    theta = agent.net.theta.copy()
    g = np.array([(loss(theta + h) - loss(theta - h)) / 2e-6 for h in np.eye(theta.size) * 1e-6])
    fresh = DQN(grid, hidden=(6,), lr=0.01, batch_size=4, buffer_size=50, seed=2)
    fresh.run(3)  # the same agent again, to replay its first update from the same state
    fresh.target.theta[:] += 0.1
    fresh._opt_state[:] = 0.0
    fresh.updates = 0
    before = fresh.net.theta.copy()
    assert fresh.update() == pytest.approx(loss(before), rel=1e-9)
    step = before - fresh.net.theta
    big = np.abs(g) > 1e-4
    np.testing.assert_allclose(step[big], 0.01 * np.sign(g[big]), rtol=1e-3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gamma": 1.5},
        {"hidden": (0,)},
        {"hidden": (3.5,)},
        {"lr": 0.0},
        {"lr": float("nan")},
        {"epsilon": -0.1},
        {"buffer_size": 0},
        {"batch_size": 100, "buffer_size": 50},
        {"target_update": 0},
        {"episodes": 0},
        {"seed": -1},
    ],
)
def test_hostile_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        dqn(notes_grid(), **kwargs)
    with pytest.raises(ValueError):
        dqn("not an MDP")
