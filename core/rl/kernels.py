"""Numba kernels of core.rl: Bellman sweeps, policy evaluation sweeps, one Q-learning walk.

Every kernel works on the sparse transition layout of `core.rl.mdp.MDP`: for each state s and
action a, `K` successor slots `nxt[s, a, k]` with probabilities `prob[s, a, k]` (zero for unused
slots) and rewards `rew[s, a, k]`; `R[s, a] = Σₖ prob · rew` is the expected reward.
"""

from __future__ import annotations

import numpy as np

from core._jit import jit, kernel


def _tiny():
    """A two-state, two-action MDP in the sparse layout (every kernel's warm-up example)."""
    nxt = np.array([[[0, 1], [1, 0]], [[1, 1], [0, 1]]], dtype=np.int64)
    prob = np.array([[[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [0.5, 0.5]]])
    R = np.array([[1.0, 0.0], [0.0, 2.0]])
    return nxt, prob, R


@jit(inline="always")  # inlined in numba IR: a call per (s, a) cost 2-3x in the sweeps
def _expected_value(nxt, prob, V, s, a):
    """Σₖ prob[s, a, k] · V[nxt[s, a, k]] over the slots with nonzero probability."""
    acc = 0.0
    for k in range(nxt.shape[2]):
        p = prob[s, a, k]
        if p != 0.0:
            acc += p * V[nxt[s, a, k]]
    return acc


def _sweep_example():
    nxt, prob, R = _tiny()
    return (nxt, prob, R, 0.9, np.zeros(2), np.zeros(2), np.zeros((2, 2)), np.zeros(2, np.int64))


@kernel(example=_sweep_example)
def _bellman_sweep(nxt, prob, R, gamma, V, V_out, Q_out, policy_out):
    """One synchronous value-iteration sweep; returns max |V_out - V|.

    nxt (S, A, K) int64, prob (S, A, K), R (S, A), V (S,) -> V_out (S,), Q_out (S, A),
    policy_out (S,) int64, where Q(s, a) = R(s, a) + γ Σₖ prob · V(nxt) and
    V_out(s) = maxₐ Q(s, a), policy_out(s) = the first maximising action.
    """
    S, A, _ = nxt.shape
    delta = 0.0
    for s in range(S):
        best = -np.inf
        best_a = 0
        for a in range(A):
            q = R[s, a] + gamma * _expected_value(nxt, prob, V, s, a)
            Q_out[s, a] = q
            if q > best:
                best = q
                best_a = a
        V_out[s] = best
        policy_out[s] = best_a
        diff = abs(best - V[s])
        if diff > delta or diff != diff:  # NaN propagates as a non-finite change
            delta = diff
    return delta


def _grid_sweep_example():
    nxt, prob, R = _tiny()
    nxt3 = np.zeros((2, 4, 3), np.int64)
    prob3 = np.zeros((2, 4, 3))
    prob3[:, :, 0] = 1.0
    return (np.zeros((2, 4), np.int64), np.array([False, True]), nxt3, prob3, np.zeros((2, 4)),
            0.9, 0.8, 0.1, np.zeros(2), np.zeros(2), np.zeros((2, 4)), np.zeros(2, np.int64))


@kernel(example=_grid_sweep_example)
def _grid_sweep(nbr, special, nxt, prob, R, gamma, p_main, p_side, V, V_out, Q_out, policy_out):
    """`_bellman_sweep` specialised to a Gridworld: returns max |V_out - V|.

    nbr (S, 4) int64 is the cell each move (up, down, left, right) leads to; an ordinary cell's
    action a reaches nbr[s, a] with p_main and each perpendicular neighbour with p_side, so the
    four neighbour values are read once per state instead of twelve times. States flagged
    `special` (terminals, walls, teleports) use the general sparse rows nxt/prob (S, 4, 3).
    """
    S = nbr.shape[0]
    delta = 0.0
    for s in range(S):
        if special[s]:
            best = -np.inf
            best_a = 0
            for a in range(4):
                q = R[s, a] + gamma * _expected_value(nxt, prob, V, s, a)
                Q_out[s, a] = q
                if q > best:
                    best = q
                    best_a = a
        else:
            v0 = V[nbr[s, 0]]
            v1 = V[nbr[s, 1]]
            v2 = V[nbr[s, 2]]
            v3 = V[nbr[s, 3]]
            up_down = p_side * (v2 + v3)
            left_right = p_side * (v0 + v1)
            q0 = R[s, 0] + gamma * (p_main * v0 + up_down)
            q1 = R[s, 1] + gamma * (p_main * v1 + up_down)
            q2 = R[s, 2] + gamma * (p_main * v2 + left_right)
            q3 = R[s, 3] + gamma * (p_main * v3 + left_right)
            Q_out[s, 0] = q0
            Q_out[s, 1] = q1
            Q_out[s, 2] = q2
            Q_out[s, 3] = q3
            best = q0
            best_a = 0
            if q1 > best:
                best = q1
                best_a = 1
            if q2 > best:
                best = q2
                best_a = 2
            if q3 > best:
                best = q3
                best_a = 3
        V_out[s] = best
        policy_out[s] = best_a
        diff = abs(best - V[s])
        if diff > delta or diff != diff:
            delta = diff
    return delta


def _q_example():
    nxt, prob, R = _tiny()
    return (nxt, prob, R, 0.9, np.zeros(2), np.zeros((2, 2)))


@kernel(example=_q_example)
def _q_values(nxt, prob, R, gamma, V, Q_out):
    """Q_out(s, a) = R(s, a) + γ Σₖ prob[s, a, k] · V[nxt[s, a, k]]; shapes as `_bellman_sweep`."""
    S, A, _ = nxt.shape
    for s in range(S):
        for a in range(A):
            Q_out[s, a] = R[s, a] + gamma * _expected_value(nxt, prob, V, s, a)


def _eval_example():
    nxt, prob, R = _tiny()
    pi = np.full((2, 2), 0.5)
    return (nxt, prob, R, pi, 0.9, np.zeros(2), np.zeros(2), 3, 1e-10)


@kernel(example=_eval_example)
def _policy_eval_sweeps(nxt, prob, R, pi, gamma, V, V_tmp, n_sweeps, tol):
    """Up to `n_sweeps` synchronous sweeps of V(s) ← Σₐ π(a|s) [R(s, a) + γ Σₖ prob · V(nxt)].

    pi (S, A) stochastic policy; V (S,) is updated in place (V_tmp is scratch). Stops early when
    the max change falls below `tol`. Returns (sweeps done, last max change).
    """
    S, A, _ = nxt.shape
    delta = np.inf
    done = 0
    while done < n_sweeps:
        delta = 0.0
        for s in range(S):
            v = 0.0
            for a in range(A):
                w = pi[s, a]
                if w != 0.0:
                    v += w * (R[s, a] + gamma * _expected_value(nxt, prob, V, s, a))
            V_tmp[s] = v
            diff = abs(v - V[s])
            if diff > delta or diff != diff:
                delta = diff
        for s in range(S):
            V[s] = V_tmp[s]
        done += 1
        if delta < tol or delta != delta or delta == np.inf:
            break
    return done, delta


def _episode_example():
    nxt, prob, _ = _tiny()
    rew = np.zeros((2, 2, 2))
    absorbing = np.array([False, True])
    return (
        nxt, prob, rew, absorbing, np.zeros((2, 2)), 0, 0.9, 0.1, 0.1,
        np.full((4, 3), 0.5), np.zeros(5, np.int64), np.zeros(4, np.int64), np.zeros(4),
    )  # fmt: skip


@kernel(example=_episode_example)
def _q_episode(
    nxt, prob, rew, absorbing, Q, start, gamma, alpha, epsilon, uniforms, path, actions, rewards
):
    """Walk from `start` with ε-greedy actions, updating Q in place by Q-learning.

    Each step t uses three uniforms u = uniforms[t] in [0, 1): u₀ < ε explores (action
    ⌊u₁ A⌋), otherwise the greedy action (ties broken by u₁); u₂ samples the successor slot.
    Update: Q(s, a) ← Q(s, a) + α [r + γ maxₐ' Q(s', a') − Q(s, a)] (no bootstrap from an
    absorbing s'). Stops at an absorbing state or after len(uniforms) steps.
    Writes the visited states to path (T + 1,), actions and rewards (T,); returns
    (steps taken, discounted return Σ γᵗ rₜ).
    """
    S, A, K = nxt.shape
    T = uniforms.shape[0]
    s = start
    path[0] = s
    ret = 0.0
    disc = 1.0
    t = 0
    while t < T and not absorbing[s]:
        u0 = uniforms[t, 0]
        u1 = uniforms[t, 1]
        u2 = uniforms[t, 2]
        if u0 < epsilon:
            a = min(int(u1 * A), A - 1)
        else:
            best = Q[s, 0]
            count = 1
            for b in range(1, A):
                if Q[s, b] > best:
                    best = Q[s, b]
                    count = 1
                elif Q[s, b] == best:
                    count += 1
            pick = min(int(u1 * count), count - 1)
            a = 0
            for b in range(A):
                if Q[s, b] == best:
                    if pick == 0:
                        a = b
                        break
                    pick -= 1
        # sample the successor slot
        cum = 0.0
        slot = K - 1
        for k in range(K):
            cum += prob[s, a, k]
            if u2 < cum:
                slot = k
                break
        while prob[s, a, slot] == 0.0 and slot > 0:  # rounding left u2 past the last slot
            slot -= 1
        s2 = nxt[s, a, slot]
        r = rew[s, a, slot]
        target = r
        if not absorbing[s2]:
            m = Q[s2, 0]
            for b in range(1, A):
                if Q[s2, b] > m:
                    m = Q[s2, b]
            target += gamma * m
        Q[s, a] += alpha * (target - Q[s, a])
        actions[t] = a
        rewards[t] = r
        ret += disc * r
        disc *= gamma
        t += 1
        s = s2
        path[t] = s
    return t, ret
