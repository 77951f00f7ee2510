"""core.rl against hand-solvable MDPs, a plain NumPy reference, and published Gridworld values."""

from __future__ import annotations

import numpy as np
import pytest

from core.rl import (
    MDP,
    Gridworld,
    QLearner,
    as_stochastic,
    greedy_actions,
    greedy_policy,
    policy_evaluation,
    policy_evaluation_sweeps,
    policy_iteration,
    policy_iteration_steps,
    q_function,
    q_learning,
    value_iteration,
    value_iteration_sweeps,
)

# --- plain NumPy references ------------------------------------------------------------------


def numpy_value_iteration(P, R, gamma, tol=1e-12, max_iter=100_000):
    """Dense value iteration: V ← max_a (R + γ P V)."""
    V = np.zeros(P.shape[0])
    for _ in range(max_iter):
        V_new = (R + gamma * P @ V).max(axis=1)
        if np.abs(V_new - V).max() < tol:
            return V_new
        V = V_new
    raise AssertionError("reference did not converge")


def numpy_policy_values(P, R, pi, gamma):
    """Exact v_π = (I − γ P_π)⁻¹ R_π."""
    P_pi = np.einsum("sa,sat->st", pi, P)
    R_pi = (pi * R).sum(axis=1)
    return np.linalg.solve(np.eye(P.shape[0]) - gamma * P_pi, R_pi)


def random_mdp(seed, S=6, A=3, sparse=False):
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S))
    if sparse:
        P *= rng.random((S, A, S)) < 0.4
        P[..., 0] += 0.1
    P /= P.sum(axis=-1, keepdims=True)
    R = rng.normal(size=(S, A))
    return P, R


# --- hand-solvable MDPs ------------------------------------------------------------------------


def two_state_loop():
    """One action: 0 → 1 with reward 1, 1 → 0 with reward 2."""
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    return MDP(P, np.array([[1.0], [2.0]]))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_two_state_loop_closed_form(gamma):
    mdp = two_state_loop()
    expected = np.array([1 + 2 * gamma, 2 + gamma]) / (1 - gamma**2)
    np.testing.assert_allclose(value_iteration(mdp, gamma, tol=1e-12).V, expected, rtol=1e-9)
    np.testing.assert_allclose(policy_evaluation(mdp, np.ones((2, 1)), gamma), expected, rtol=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 1.0])
def test_chain_to_terminal(gamma):
    """States 0..4 in a line, one action 'right' with reward -1, state 4 absorbing."""
    n = 5
    P = np.zeros((n, 1, n))
    for s in range(n - 1):
        P[s, 0, s + 1] = 1.0
    P[n - 1, 0, n - 1] = 1.0
    R = np.full((n, 1), -1.0)
    R[n - 1] = 0.0
    mdp = MDP(P, R)
    d = n - 1 - np.arange(n)
    expected = -d if gamma == 1 else -(1 - gamma**d) / (1 - gamma)
    result = value_iteration(mdp, gamma)
    assert result.converged
    np.testing.assert_allclose(result.V, expected, atol=1e-9)
    assert mdp.absorbing.tolist() == [False] * (n - 1) + [True]


@pytest.mark.parametrize("gamma,choice", [(0.5, 1), (0.75, 1), (0.85, 0), (0.95, 0)])
def test_stay_or_cash_in(gamma, choice):
    """Action 0 stays with reward 1 (worth 1/(1−γ)); action 1 ends the episode with reward 5."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    R = np.array([[1.0, 5.0], [0.0, 0.0]])
    result = value_iteration(MDP(P, R), gamma, tol=1e-12)
    assert result.policy[0] == choice
    assert result.V[0] == pytest.approx(max(1 / (1 - gamma), 5.0), rel=1e-8)


# --- against the NumPy reference ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("gamma", [0.0, 0.6, 0.95])
def test_value_iteration_matches_numpy(seed, gamma):
    P, R = random_mdp(seed, sparse=seed % 2 == 1)
    mdp = MDP(P, R)
    result = value_iteration(mdp, gamma, tol=1e-12)
    V_ref = numpy_value_iteration(P, R, gamma)
    np.testing.assert_allclose(result.V, V_ref, atol=1e-9)
    np.testing.assert_allclose(result.Q, R + gamma * P @ result.V, atol=1e-12)
    np.testing.assert_array_equal(result.policy, np.argmax(result.Q, axis=1))
    np.testing.assert_allclose(mdp.P, P, atol=1e-15)
    np.testing.assert_allclose(mdp.R, R, atol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_policy_evaluation_matches_linear_solve(seed):
    P, R = random_mdp(seed + 100, S=7, A=4)
    pi = np.random.default_rng(seed).random((7, 4))
    pi /= pi.sum(axis=1, keepdims=True)
    V = policy_evaluation(MDP(P, R), pi, 0.9, tol=1e-13)
    np.testing.assert_allclose(V, numpy_policy_values(P, R, pi, 0.9), atol=1e-9)


def test_policy_evaluation_sweeps_reach_sutton_values():
    """Sutton & Barto figure 4.1, sweep by sweep: v₁ = -1 and v₂ = -1.75 next to a terminal."""
    grid = Gridworld(4, 4, terminals=[(0, 0), (3, 3)])
    sweeps = policy_evaluation_sweeps(grid, np.full((16, 4), 0.25), 1.0)
    first, second = next(sweeps), next(sweeps)
    assert first.V[1] == -1.0 and second.V[1] == -1.75 and second.V[5] == -2.0
    np.testing.assert_allclose(second.Q[1], [-2, -2, -1, -2])
    for sweep in sweeps:
        if sweep.delta < 1e-10:
            break
    np.testing.assert_allclose(sweep.V, policy_evaluation(grid, np.full((16, 4), 0.25), 1.0),
                               atol=1e-8)


def test_deterministic_policy_equals_one_hot():
    P, R = random_mdp(7)
    mdp = MDP(P, R)
    policy = np.array([0, 2, 1, 1, 0, 2])
    np.testing.assert_allclose(
        policy_evaluation(mdp, policy, 0.8), policy_evaluation(mdp, as_stochastic(mdp, policy), 0.8)
    )


@pytest.mark.parametrize("seed", range(4))
def test_greedy_policy_is_argmax_of_q(seed):
    P, R = random_mdp(seed + 50)
    mdp = MDP(P, R)
    V = np.random.default_rng(seed).normal(size=6)
    Q = q_function(mdp, V, 0.7)
    np.testing.assert_allclose(Q, R + 0.7 * P @ V, atol=1e-12)
    np.testing.assert_array_equal(greedy_policy(Q), Q.argmax(axis=1))
    mask = greedy_actions(Q)
    assert mask[np.arange(6), greedy_policy(Q)].all()
    # the optimal policy is greedy in its own Q and no other policy evaluates higher anywhere
    result = value_iteration(mdp, 0.7, tol=1e-12)
    v_star = policy_evaluation(mdp, result.policy, 0.7)
    np.testing.assert_allclose(v_star, result.V, atol=1e-8)
    for trial in range(5):
        other = np.random.default_rng(trial).integers(0, 3, size=6)
        assert np.all(policy_evaluation(mdp, other, 0.7) <= v_star + 1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_policy_iteration_agrees_with_value_iteration(seed):
    P, R = random_mdp(seed + 200, S=8, A=3)
    mdp = MDP(P, R)
    vi = value_iteration(mdp, 0.9, tol=1e-12)
    pi = policy_iteration(mdp, 0.9)
    assert pi.converged
    np.testing.assert_allclose(pi.V, vi.V, atol=1e-7)
    assert pi.iterations >= 1
    assert all(p.shape == (8, 3) for p in pi.policies)


def test_policy_iteration_steps_report_progress_can_stop_and_return_the_same_result():
    """The generator behind policy_iteration: the sweeps done so far, at most EVALUATION_CHUNK
    apart, then the same result; a caller that stops asking stops it (a UI's cancel)."""
    from core.rl.planning import EVALUATION_CHUNK

    grid = Gridworld(8, 8, terminals=[(0, 0)], slip=0.2)
    steps = policy_iteration_steps(grid, 1.0)
    seen = []
    while True:
        try:
            seen.append(next(steps))
        except StopIteration as end:
            result = end.value
            break
    assert len(seen) > 3 and seen == sorted(seen)
    assert all(b - a <= EVALUATION_CHUNK for a, b in zip([0] + seen, seen))
    whole = policy_iteration(grid, 1.0)
    np.testing.assert_array_equal(result.V, whole.V)
    np.testing.assert_array_equal(result.policy, whole.policy)
    assert result.iterations == whole.iterations and result.converged
    stopped = policy_iteration_steps(grid, 1.0)
    assert next(stopped) <= EVALUATION_CHUNK
    stopped.close()  # no more work is done
    with pytest.raises(StopIteration):
        next(stopped)
    with pytest.raises(ValueError, match="tol"):
        next(policy_iteration_steps(grid, 1.0, tol=0.0))


# --- Gridworld ---------------------------------------------------------------------------------


def test_notes_5x5_values_are_minus_distance():
    grid = Gridworld(5, 5, terminals=[(0, 0), (4, 4)], step_reward=-1.0)
    result = value_iteration(grid, 1.0)
    assert result.converged
    r, c = np.divmod(np.arange(25), 5)
    np.testing.assert_allclose(result.V, -np.minimum(r + c, 8 - r - c))


def test_sutton_4x4_random_policy_values():
    """Sutton & Barto figure 4.1: v_π of the equiprobable policy, γ = 1."""
    grid = Gridworld(4, 4, terminals=[(0, 0), (3, 3)])
    V = policy_evaluation(grid, np.full((16, 4), 0.25), 1.0, tol=1e-12)
    expected = [0, -14, -20, -22, -14, -18, -20, -20, -20, -20, -18, -14, -22, -20, -14, 0]
    np.testing.assert_allclose(V, expected, atol=1e-8)


def test_sutton_teleport_grid_optimal_values():
    """Sutton & Barto figure 3.5: the +10 / +5 teleport grid at γ = 0.9."""
    teleports = {(0, 1): ((4, 1), 10.0), (0, 3): ((2, 3), 5.0)}
    grid = Gridworld(5, 5, step_reward=0.0, teleports=teleports)
    V = value_iteration(grid, 0.9).V.reshape(5, 5)
    np.testing.assert_allclose(V[0], [22.0, 24.4, 22.0, 19.4, 17.5], atol=0.05)
    np.testing.assert_allclose(V[4], [14.4, 16.0, 14.4, 13.0, 11.7], atol=0.05)
    assert V[0, 1] == pytest.approx(10 + 0.9 * V[4, 1])


@pytest.mark.parametrize("slip", [0.0, 0.1, 0.3, 1.0])
def test_slip_probabilities(slip):
    grid = Gridworld(3, 4, terminals=[(0, 3)], walls=[(1, 1)], slip=slip)
    P = grid.P
    np.testing.assert_allclose(P.sum(axis=-1), 1.0)
    s = grid.state(2, 1)  # below the wall
    up, down, left, right = range(4)
    # intended up hits the wall (stays), perpendicular slips go left / right
    assert P[s, up, s] == pytest.approx(1 - slip)
    assert P[s, up, grid.state(2, 0)] == pytest.approx(slip / 2)
    assert P[s, up, grid.state(2, 2)] == pytest.approx(slip / 2)
    # in a corner: intended left stays, slipping down also stays, slipping up moves
    c = grid.state(2, 0)
    assert P[c, left, c] == pytest.approx(1 - slip / 2)
    assert P[c, left, grid.state(1, 0)] == pytest.approx(slip / 2)
    # absorbing cells
    for cell in [(0, 3), (1, 1)]:
        t = grid.state(*cell)
        assert np.all(P[t, :, t] == 1.0) and np.all(grid.R[t] == 0.0)
    assert grid.absorbing.sum() == 2


def test_cell_rewards_enter_and_bump():
    grid = Gridworld(1, 3, terminals=[(0, 2)], rewards={(0, 2): 10.0}, step_reward=-1.0)
    right, left = 3, 2
    assert grid.R[grid.state(0, 1), right] == 10.0  # entering the rewarded terminal
    assert grid.R[grid.state(0, 0), right] == -1.0  # an ordinary step
    assert grid.R[grid.state(0, 0), left] == -1.0  # bumping into the edge
    result = value_iteration(grid, 0.9)
    np.testing.assert_allclose(result.V, [-1 + 0.9 * 10, 10, 0])


@pytest.mark.parametrize("slip", [0.0, 0.2, 0.5])
def test_dense_round_trip_matches_gridworld(slip):
    """The Gridworld sweep kernel (four neighbours per cell) agrees with the general one."""
    grid = Gridworld(4, 5, terminals=[(3, 4)], walls=[(1, 1), (2, 3)], slip=slip,
                     rewards={(0, 4): -5.0}, teleports={(0, 0): ((2, 2), 3.0)})
    dense = MDP(grid.P, grid.R)
    a, b = value_iteration(dense, 0.95), value_iteration(grid, 0.95)
    np.testing.assert_allclose(a.V, b.V, atol=1e-9)
    np.testing.assert_allclose(a.Q, b.Q, atol=1e-9)
    np.testing.assert_allclose(a.history, b.history, atol=1e-9)
    np.testing.assert_allclose(b.V, numpy_value_iteration(grid.P, grid.R, 0.95), atol=1e-8)


def test_large_grid_is_sparse():
    grid = Gridworld(300, 300, terminals=[(0, 0)], slip=0.1)
    assert grid.n_states == 90_000
    total = grid.next_states.nbytes + grid.probs.nbytes + grid.rewards.nbytes
    assert total < 30e6
    with pytest.raises(ValueError, match="dense P"):
        grid.P
    assert grid.R.shape == (90_000, 4)
    sweeps = value_iteration_sweeps(grid, 0.99)
    first = next(sweeps)
    assert first.V.shape == (90_000,) and first.delta == pytest.approx(1.0)


def test_cells_and_states():
    grid = Gridworld(3, 4)
    assert grid.state(2, 1) == 9 and grid.cell(9) == (2, 1)
    with pytest.raises(ValueError):
        grid.state(3, 0)
    with pytest.raises(ValueError):
        grid.cell(12)
    kinds = Gridworld(2, 2, walls=[(0, 1)], terminals=[(1, 1)],
                      teleports={(1, 0): ((0, 0), 1.0)}).kind_grid()
    assert kinds.tolist() == [[0, 1], [3, 2]]


# --- convergence and history -----------------------------------------------------------------


def test_gamma_one_without_terminals_reports_non_convergence():
    result = value_iteration(Gridworld(3, 3, step_reward=-1.0), 1.0, max_iter=200)
    assert not result.converged
    assert result.iterations == 200
    assert "did not converge" in result.message
    np.testing.assert_allclose(result.deltas, 1.0)
    np.testing.assert_allclose(result.V, -200.0)


def test_policy_evaluation_without_terminal_raises():
    with pytest.raises(ValueError, match="did not converge"):
        policy_evaluation(Gridworld(2, 2), np.full((4, 4), 0.25), 1.0, max_iter=500)


def test_history_records_every_sweep():
    grid = Gridworld(5, 5, terminals=[(0, 0), (4, 4)])
    result = value_iteration(grid, 1.0)
    k = result.iterations
    assert result.history.shape == (k + 1, 25) and result.policies.shape == (k + 1, 25)
    np.testing.assert_array_equal(result.history[0], 0.0)
    np.testing.assert_array_equal(result.history[-1], result.V)
    np.testing.assert_allclose(result.deltas, np.abs(np.diff(result.history, axis=0)).max(axis=1))
    assert result.deltas[-1] < 1e-10
    # sweep k of the generator reproduces the history and owns its arrays
    sweeps = list(zip(range(k), value_iteration_sweeps(grid, 1.0)))
    for i, sweep in sweeps:
        np.testing.assert_array_equal(sweep.V, result.history[i + 1])
        np.testing.assert_array_equal(sweep.policy, result.policies[i])
    assert sweeps[0][1].V is not sweeps[1][1].V
    assert value_iteration(grid, 1.0, history=False).history is None


def test_contraction_bound():
    """For γ < 1 the max change shrinks at least by γ every sweep."""
    grid = Gridworld(6, 6, terminals=[(5, 5)], walls=[(2, 2), (3, 2)], slip=0.2,
                     rewards={(5, 5): 5.0})
    deltas = value_iteration(grid, 0.8).deltas
    assert np.all(deltas[1:] <= 0.8 * deltas[:-1] + 1e-12)


# --- Q-learning --------------------------------------------------------------------------------


def test_q_learning_converges_on_small_grid():
    grid = Gridworld(3, 4, terminals=[(0, 3)], walls=[(1, 1)], rewards={(0, 3): 1.0},
                     step_reward=-0.04)
    vi = value_iteration(grid, 0.9)
    learner = q_learning(grid, 0.9, episodes=3000, alpha=0.3, epsilon=0.3, seed=3)
    free = ~grid.absorbing
    np.testing.assert_allclose(learner.Q[free], vi.Q[free], atol=0.02)
    optimal = greedy_actions(vi.Q, atol=1e-9)  # ties: any optimal move counts
    assert optimal[np.arange(grid.n_states), learner.policy][free].all()
    assert learner.episodes == 3000 and len(learner.returns) == 3000


def test_q_learning_is_deterministic_for_a_seed():
    grid = Gridworld(4, 4, terminals=[(0, 0), (3, 3)], slip=0.2)
    a = q_learning(grid, 0.95, episodes=50, seed=11)
    b = q_learning(grid, 0.95, episodes=50, seed=11)
    c = q_learning(grid, 0.95, episodes=50, seed=12)
    np.testing.assert_array_equal(a.Q, b.Q)
    assert a.returns == b.returns
    assert not np.array_equal(a.Q, c.Q)


def test_q_learner_step_by_step_and_live_settings():
    grid = Gridworld(1, 4, terminals=[(0, 3)])
    learner = QLearner(grid, 1.0, alpha=1.0, epsilon=0.0, start=0, seed=0)
    finished = None
    for _ in range(50):
        s, a, r, finished = learner.step()
        assert r == -1.0
        if finished is not None:
            break
    assert finished is not None and finished.terminated
    assert finished.states[0] == 0 and finished.states[-1] == 3
    assert finished.ret == pytest.approx(-finished.length)
    learner.epsilon = 0.5
    learner.alpha = 0.2
    assert learner.epsilon == 0.5
    with pytest.raises(ValueError):
        learner.epsilon = 1.5
    with pytest.raises(ValueError):
        learner.alpha = -0.1
    ep = learner.episode()
    assert ep.states[0] == 0 and len(ep.rewards) == ep.length


# --- hostile input -----------------------------------------------------------------------------

GOOD_P = np.full((2, 2, 2), 0.5)
GOOD_R = np.zeros((2, 2))


@pytest.mark.parametrize(
    "P,R",
    [
        (np.full((2, 2), 0.5), GOOD_R),  # wrong rank
        (np.full((2, 2, 3), 1 / 3), GOOD_R),  # not square in states
        (GOOD_P, np.zeros((2, 3))),  # R mismatched
        (np.full((2, 2, 2), 0.6), GOOD_R),  # rows sum to 1.2
        (np.array([[[1.5, -0.5]] * 2] * 2), GOOD_R),  # negative probability
        (np.where(np.eye(2, dtype=bool)[None], np.nan, 0.5) * np.ones((2, 2, 2)), GOOD_R),
        (GOOD_P, np.array([[0.0, np.inf], [0.0, 0.0]])),  # infinite reward
        (np.zeros((0, 2, 0)), np.zeros((0, 2))),  # no states
        ([["a"]], GOOD_R),  # not numbers
    ],
)
def test_hostile_mdps_raise(P, R):
    with pytest.raises(ValueError):
        MDP(P, R)


@pytest.mark.parametrize("gamma", [-0.1, 1.01, float("nan"), "x", None])
def test_bad_gamma_raises(gamma):
    mdp = MDP(GOOD_P, GOOD_R)
    for call in (value_iteration, lambda m, g: policy_evaluation(m, np.full((2, 2), 0.5), g)):
        with pytest.raises(ValueError, match="gamma"):
            call(mdp, gamma)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rows": 0, "cols": 3},
        {"rows": 2.5, "cols": 3},
        {"rows": 3, "cols": 3, "slip": 1.5},
        {"rows": 3, "cols": 3, "slip": float("nan")},
        {"rows": 3, "cols": 3, "step_reward": float("inf")},
        {"rows": 3, "cols": 3, "terminals": [(3, 0)]},
        {"rows": 3, "cols": 3, "terminals": [(1, 1)], "walls": [(1, 1)]},
        {"rows": 3, "cols": 3, "walls": [(0, 1.5)]},
        {"rows": 3, "cols": 3, "rewards": {(0, 0): float("nan")}},
        {"rows": 3, "cols": 3, "walls": [(2, 2)], "teleports": {(0, 0): ((2, 2), 1.0)}},
        {"rows": 3, "cols": 3, "teleports": {(0, 0): (2, 2)}},
    ],
)
def test_hostile_gridworlds_raise(kwargs):
    with pytest.raises(ValueError):
        Gridworld(**kwargs)


def test_bad_policies_and_options_raise():
    mdp = MDP(GOOD_P, GOOD_R)
    for policy in (np.full((2, 2), 0.6), np.array([0, 2]), np.array([0.5, 0.5]), np.ones((3, 2))):
        with pytest.raises(ValueError):
            policy_evaluation(mdp, policy, 0.5)
    for kwargs in ({"tol": 0}, {"tol": float("nan")}, {"max_iter": 0}, {"V0": np.zeros(3)}):
        with pytest.raises(ValueError):
            value_iteration(mdp, 0.5, **kwargs)
    with pytest.raises(ValueError):
        value_iteration("not an mdp", 0.5)
    with pytest.raises(ValueError):
        greedy_policy(np.zeros(3))
    with pytest.raises(ValueError):
        MDP.from_sparse(np.array([[[0, 2]]]), np.array([[[0.5, 0.5]]]), np.zeros((1, 1, 2)))
    with pytest.raises(ValueError):
        QLearner(Gridworld(1, 2, terminals=[(0, 0)]), 0.9, start=0)
    with pytest.raises(ValueError):
        QLearner(Gridworld(1, 1, terminals=[(0, 0)]), 0.9)


def test_russell_norvig_slippery_world():
    """Russell & Norvig's 4x3 world (slip 0.2, step -0.04, γ = 1): their utilities U(s) count the
    reward of s itself; ours count rewards on entering, so V(s) = U(s) + 0.04."""
    grid = Gridworld(3, 4, terminals=[(0, 3), (1, 3)], walls=[(1, 1)],
                     rewards={(0, 3): 1.0, (1, 3): -1.0}, step_reward=-0.04, slip=0.2)
    V = value_iteration(grid, 1.0, tol=1e-12).V.reshape(3, 4)
    U = np.array([[0.812, 0.868, 0.918], [0.762, np.nan, 0.660], [0.705, 0.655, 0.611]])
    free = ~np.isnan(U)
    np.testing.assert_allclose(V[:, :3][free], U[free] + 0.04, atol=1e-3)
    assert V[2, 3] == pytest.approx(0.388 + 0.04, abs=1e-3)
