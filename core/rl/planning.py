"""Dynamic programming on a known MDP (notes 8.2.3-8.2.5): value iteration, policy evaluation,
Q-functions, greedy policies and policy iteration.

The sweep loop is a Python generator (`value_iteration_sweeps`) around one numba kernel call
per sweep, so a UI can show every sweep and stop whenever it likes.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

import numpy as np

from core.rl.kernels import _bellman_sweep, _grid_sweep, _policy_eval_sweeps, _q_values
from core.rl.mdp import MDP, check_gamma, check_mdp, check_positive

#: Keep the per-sweep history of V by default only up to this many states.
HISTORY_STATES = 2_500


@dataclass(frozen=True)
class Sweep:
    """One value-iteration sweep k → k + 1.

    `Q` (S, A) and `policy` (S,) are the backup of the previous values V_k (Q_k(s, a) =
    R(s, a) + γ Σ P(s'|s, a) V_k(s')), `V` (S,) = maxₐ Q_k is V_{k+1}, and `delta` is
    max_s |V_{k+1}(s) − V_k(s)|.
    """

    iteration: int
    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    delta: float


@dataclass
class ValueIterationResult:
    """What `value_iteration` found.

    V (S,), Q (S, A) = the backup of V, policy (S,) greedy actions of Q, iterations (sweeps
    done), converged (max change fell below tol), deltas (iterations,) the max change of each
    sweep, and when kept: history (iterations + 1, S) the values V_0 .. V_k and policies
    (iterations + 1, S) the greedy policy of each V_k.
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int
    converged: bool
    deltas: np.ndarray
    history: np.ndarray | None = None
    policies: np.ndarray | None = None
    message: str = ""


@dataclass
class PolicyIterationResult:
    """What `policy_iteration` found: V, Q, policy, iterations (improvement steps), converged,
    and `policies` (iterations + 1, S) every policy it evaluated, from the first to the last."""

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int
    converged: bool
    policies: list[np.ndarray] = field(default_factory=list)


def _values(mdp: MDP, V, name: str = "V") -> np.ndarray:
    V = np.array(V, dtype=np.float64, copy=True)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"{name} must have shape ({mdp.n_states},), got {V.shape}")
    if not np.all(np.isfinite(V)):
        raise ValueError(f"{name} must be finite")
    return np.ascontiguousarray(V)


def bellman_sweep(mdp: MDP, gamma: float, V, V_out, Q_out, policy_out) -> float:
    """One sweep into preallocated arrays (no validation: callers check); returns the max change.

    A `Gridworld` uses the kernel that reads each cell's four neighbours once.
    """
    neighbours = getattr(mdp, "neighbours", None)
    if neighbours is not None:
        slip = mdp.slip
        return _grid_sweep(
            neighbours, mdp.special, mdp.next_states, mdp.probs, mdp.expected_rewards, gamma,
            1.0 - slip, slip / 2, V, V_out, Q_out, policy_out,
        )
    return _bellman_sweep(
        mdp.next_states, mdp.probs, mdp.expected_rewards, gamma, V, V_out, Q_out, policy_out
    )


def policy_evaluation_sweep(mdp: MDP, gamma: float, pi, V, V_out) -> float:
    """One sweep of policy evaluation into a preallocated array (no validation: callers check):
    V_out(s) = Σₐ π(a|s) [ℛ(s, a) + γ Σ_{s'} ℙ(s'|s, a) V(s')]; returns the max change.

    pi (S, A) probabilities; V and V_out (S,), distinct arrays.
    """
    V_out[:] = V
    _, delta = _policy_eval_sweeps(mdp.next_states, mdp.probs, mdp.expected_rewards, pi, gamma,
                                   V_out, np.empty_like(V_out), 1, 0.0)
    return float(delta)


def value_iteration_sweeps(mdp: MDP, gamma: float, V0=None) -> Iterator[Sweep]:
    """Yield the sweeps of value iteration forever (the caller decides when to stop).

    V_{k+1}(s) = maxₐ [ℛ(s, a) + γ Σ_{s'} ℙ(s' | s, a) V_k(s')], from V_0 = V0 (default zeros).
    Each yielded `Sweep` owns its arrays.
    """
    mdp = check_mdp(mdp)
    gamma = check_gamma(gamma)
    V = np.zeros(mdp.n_states) if V0 is None else _values(mdp, V0, "V0")
    k = 0
    while True:
        V_new = np.empty_like(V)
        Q = np.empty((mdp.n_states, mdp.n_actions))
        policy = np.empty(mdp.n_states, dtype=np.int64)
        delta = bellman_sweep(mdp, gamma, V, V_new, Q, policy)
        k += 1
        yield Sweep(k, V_new, Q, policy, float(delta))
        V = V_new


MAX_SWEEPS = 100_000
"""The largest `max_iter` of value iteration and policy evaluation (10⁹ sweeps at γ = 1 hung,
the history growing)."""


def _check_max_iter(max_iter) -> int:
    max_iter = check_positive("max_iter", max_iter, integer=True)
    if max_iter > MAX_SWEEPS:
        raise ValueError(f"max_iter must be at most MAX_SWEEPS = {MAX_SWEEPS:,}, got {max_iter:,}")
    return max_iter


def value_iteration(
    mdp: MDP,
    gamma: float,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    V0=None,
    history: bool | None = None,
) -> ValueIterationResult:
    """Value iteration (notes 8.2.5) until max |V_{k+1} − V_k| < tol or `max_iter` sweeps.

    With γ = 1 and no reachable terminal the values never settle: the run stops at `max_iter`
    with `converged=False` and a message saying so (likewise if values overflow).
    `history` keeps every V_k and its greedy policy (default: only for at most 2 500 states).
    """
    mdp = check_mdp(mdp)
    gamma = check_gamma(gamma)
    tol = check_positive("tol", tol)
    max_iter = _check_max_iter(max_iter)
    keep = mdp.n_states <= HISTORY_STATES if history is None else bool(history)
    V = np.zeros(mdp.n_states) if V0 is None else _values(mdp, V0, "V0")
    values, policies, deltas = [V.copy()], [], []
    converged, message = False, ""
    S, A = mdp.n_states, mdp.n_actions
    V_new, Q, policy = np.empty(S), np.empty((S, A)), np.empty(S, dtype=np.int64)
    for k in range(1, max_iter + 1):
        delta = float(bellman_sweep(mdp, gamma, V, V_new, Q, policy))
        V, V_new = V_new, V  # reuse the two buffers: no allocation per sweep
        deltas.append(delta)
        if keep:
            values.append(V.copy())
            policies.append(policy.copy())
        if not np.isfinite(delta):
            message = f"values overflowed after {k} sweeps; did not converge"
            break
        if delta < tol:
            converged = True
            message = f"converged after {k} sweeps (max change {delta:.3g})"
            break
    else:
        message = (f"did not converge: max change still {deltas[-1]:.3g} after "
                   f"{max_iter} sweeps" + (" (γ = 1 without terminals?)" if gamma == 1 else ""))
    Q = q_function(mdp, V, gamma) if np.all(np.isfinite(V)) else np.full(
        (mdp.n_states, mdp.n_actions), np.nan)
    policy = greedy_policy(Q)
    hist = pols = None
    if keep:
        hist = np.array(values)
        pols = np.array(policies + [policy], dtype=np.int64)
    return ValueIterationResult(
        V, Q, policy, len(deltas), converged, np.array(deltas), hist, pols, message
    )


def q_function(mdp: MDP, V, gamma: float) -> np.ndarray:
    """Q(s, a) = ℛ(s, a) + γ Σ_{s'} ℙ(s' | s, a) V(s'): (S, A) from V (S,)."""
    mdp = check_mdp(mdp)
    gamma = check_gamma(gamma)
    V = _values(mdp, V)
    Q = np.empty((mdp.n_states, mdp.n_actions))
    _q_values(mdp.next_states, mdp.probs, mdp.expected_rewards, gamma, V, Q)
    return Q


def greedy_policy(Q) -> np.ndarray:
    """π(s) = argmaxₐ Q(s, a) (the first maximiser on ties): (S,) int64 from Q (S, A)."""
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[1] == 0:
        raise ValueError(f"Q must have shape (S, A) with A >= 1, got {Q.shape}")
    return np.argmax(Q, axis=1).astype(np.int64)


def greedy_actions(Q, atol: float = 1e-9) -> np.ndarray:
    """(S, A) bool: the actions within `atol` of the best in each state (all optimal moves)."""
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[1] == 0:
        raise ValueError(f"Q must have shape (S, A) with A >= 1, got {Q.shape}")
    return Q >= Q.max(axis=1, keepdims=True) - atol


def as_stochastic(mdp: MDP, policy) -> np.ndarray:
    """A policy as an (S, A) matrix π(a | s): from (S,) action indices or a validated (S, A)."""
    S, A = mdp.n_states, mdp.n_actions
    arr = np.asarray(policy)
    if arr.ndim == 1:
        if arr.shape != (S,) or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"a deterministic policy must be ({S},) action indices, got "
                             f"{arr.dtype} of shape {arr.shape}")
        if arr.min() < 0 or arr.max() >= A:
            raise ValueError(f"policy actions must be in [0, {A - 1}]")
        pi = np.zeros((S, A))
        pi[np.arange(S), arr] = 1.0
        return pi
    pi = np.asarray(policy, dtype=np.float64)
    if pi.shape != (S, A):
        raise ValueError(f"policy must have shape (S, A) = {(S, A)}, got {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0):
        raise ValueError("policy probabilities must be finite and >= 0")
    sums = pi.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > 1e-8):
        s = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(f"policy row {s} must sum to 1, sums to {sums[s]}")
    return np.ascontiguousarray(pi)


def policy_evaluation_sweeps(mdp: MDP, policy, gamma: float, V0=None) -> Iterator[Sweep]:
    """Yield the sweeps of iterative policy evaluation forever (the UI animates them):
    V_{k+1}(s) = Σₐ π(a|s) Q_k(s, a) with Q_k(s, a) = ℛ(s, a) + γ Σ ℙ(s'|s, a) V_k(s').
    `policy` is (S, A) probabilities or (S,) actions; `Sweep.policy` is greedy in Q_k.
    """
    mdp = check_mdp(mdp)
    gamma = check_gamma(gamma)
    pi = as_stochastic(mdp, policy)
    V = np.zeros(mdp.n_states) if V0 is None else _values(mdp, V0, "V0")
    k = 0
    while True:
        Q = q_function(mdp, V, gamma)
        V_new = V.copy()
        _, delta = _policy_eval_sweeps(
            mdp.next_states, mdp.probs, mdp.expected_rewards, pi, gamma, V_new,
            np.empty_like(V), 1, 0.0,
        )
        k += 1
        yield Sweep(k, V_new, Q, greedy_policy(Q), float(delta))
        V = V_new


def policy_evaluation(
    mdp: MDP, policy, gamma: float, tol: float = 1e-10, max_iter: int = 100_000, V0=None
) -> np.ndarray:
    """v_π (S,) for a stochastic policy π (S, A) (or (S,) action indices), by iterating
    V(s) ← Σₐ π(a|s) [ℛ(s, a) + γ Σ_{s'} ℙ(s'|s, a) V(s')] until the max change < tol.

    Raises ValueError when the values do not settle within `max_iter` sweeps (γ = 1 and a
    policy that never reaches a terminal has no finite value).
    """
    mdp = check_mdp(mdp)
    gamma = check_gamma(gamma)
    tol = check_positive("tol", tol)
    max_iter = _check_max_iter(max_iter)
    pi = as_stochastic(mdp, policy)
    V = np.zeros(mdp.n_states) if V0 is None else _values(mdp, V0, "V0")
    for _ in _evaluate_in_chunks(mdp, pi, gamma, tol, max_iter, V):
        pass
    return V


EVALUATION_CHUNK = 1000
"""Sweeps of policy evaluation per kernel call (a stop can come between two)."""

EVALUATION_MAX_SWEEPS = 100_000
"""Policy iteration's limit on the sweeps of one evaluation (policy_evaluation's default)."""


def _evaluate_in_chunks(mdp: MDP, pi, gamma: float, tol: float, max_iter: int,
                        V: np.ndarray) -> Iterator[int]:
    """Policy evaluation of π in place on V, `EVALUATION_CHUNK` sweeps per kernel call,
    yielding the sweeps done after each call; ValueError if V has not settled after
    `max_iter` sweeps."""
    scratch = np.empty_like(V)
    done, delta = 0, np.inf
    while done < max_iter:
        n, delta = _policy_eval_sweeps(
            mdp.next_states, mdp.probs, mdp.expected_rewards, pi, gamma, V, scratch,
            min(EVALUATION_CHUNK, max_iter - done), tol,
        )
        done += n
        yield done
        if delta < tol or not np.isfinite(delta):
            break
    if not delta < tol:
        raise ValueError(f"policy evaluation did not converge in {done} sweeps (max change "
                         f"{delta:.3g}); with gamma = 1 the policy must reach a terminal state")


def policy_iteration(
    mdp: MDP, gamma: float, policy0=None, max_iter: int = 1_000, tol: float = 1e-10
) -> PolicyIterationResult:
    """Policy iteration: evaluate π (to `tol`), make it greedy in q_π, repeat until the policy
    stops changing. `policy0` ((S,) actions or (S, A) probabilities) defaults to the uniform
    random policy; with γ = 1 it must reach a terminal from every state (else policy
    evaluation raises ValueError). `policies` holds every policy evaluated, as (S, A) arrays.
    """
    steps = policy_iteration_steps(mdp, gamma, policy0, max_iter, tol)
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


def policy_iteration_steps(
    mdp: MDP, gamma: float, policy0=None, max_iter: int = 1_000, tol: float = 1e-10
) -> Generator[int, None, PolicyIterationResult]:
    """`policy_iteration` as a generator, for a caller that shows progress or may stop: it
    yields the evaluation sweeps done so far, every `EVALUATION_CHUNK` sweeps at most (tens
    of milliseconds on a 30 x 30 grid), and returns the
    `PolicyIterationResult` (the value of its StopIteration). Stop by no longer asking.
    """
    mdp = check_mdp(mdp)
    gamma = check_gamma(gamma)
    max_iter = check_positive("max_iter", max_iter, integer=True)
    tol = check_positive("tol", tol)
    S, A = mdp.n_states, mdp.n_actions
    pi = np.full((S, A), 1.0 / A) if policy0 is None else as_stochastic(mdp, policy0)
    policies = [pi]
    converged = False
    V = np.zeros(S)
    sweeps = 0
    for done in _evaluate_in_chunks(mdp, pi, gamma, tol, EVALUATION_MAX_SWEEPS, V):
        yield sweeps + done
    sweeps += done
    for _ in range(max_iter):
        Q = q_function(mdp, V, gamma)
        best = Q.max(axis=1)
        current = (pi * Q).sum(axis=1)
        # keep the current policy where it is still (numerically) optimal: no ping-pong on ties
        stale = current < best - 1e-9 * (1.0 + np.abs(best))
        if not np.any(stale):
            converged = True
            break
        new = pi.copy()
        greedy = greedy_policy(Q)
        new[stale] = 0.0
        new[np.flatnonzero(stale), greedy[stale]] = 1.0
        pi = new
        policies.append(pi)
        for done in _evaluate_in_chunks(mdp, pi, gamma, tol, EVALUATION_MAX_SWEEPS, V):
            yield sweeps + done
        sweeps += done
    Q = q_function(mdp, V, gamma)
    policy = greedy_policy(Q)
    return PolicyIterationResult(V, Q, policy, len(policies) - 1, converged, policies)
