"""Markov decision processes (notes 8.2.1): the validated, sparse transition model core.rl uses.

An MDP is the 5-tuple (𝒮, 𝒜, ℛ, ℙ, γ); γ belongs to the algorithms, so `MDP` holds the rest:
ℙ(s' | s, a) and ℛ(s, a) = E[R_{t+1} | S_t = s, A_t = a].
"""

from __future__ import annotations

import math

import numpy as np

#: Tolerance on Σ_{s'} ℙ(s' | s, a) = 1.
PROB_ATOL = 1e-8
#: Largest dense (S, A, S) array `.P` builds (entries), about 128 MB of float64.
DENSE_LIMIT = 16_000_000


class MDP:
    """A finite MDP with S states and A actions, validated on construction.

    `MDP(P, R)`: P (S, A, S) transition probabilities ℙ(s' | s, a), non-negative, each (s, a)
    row summing to 1; R (S, A) finite expected rewards. Internally the transitions are sparse:
    `next_states` (S, A, K) int64, `probs` (S, A, K) and per-transition `rewards` (S, A, K)
    (K = the most successors any (s, a) has), so large MDPs such as a 300 x 300 `Gridworld`
    fit in memory. `.P` and `.R` give the dense arrays back.
    """

    def __init__(self, P, R) -> None:
        P = _finite_array("P", P, ndim=3)
        R = _finite_array("R", R, ndim=2)
        S, A, S2 = P.shape
        if S == 0 or A == 0:
            raise ValueError(f"P must have at least one state and one action, got shape {P.shape}")
        if S2 != S:
            raise ValueError(f"P must have shape (S, A, S), got {P.shape} (last axis {S2} != {S})")
        if R.shape != (S, A):
            raise ValueError(f"R must have shape (S, A) = {(S, A)} to match P, got {R.shape}")
        _check_probabilities("P", P)
        nonzero = P > 0
        K = max(1, int(nonzero.sum(axis=-1).max()))
        order = np.argsort(~nonzero, axis=-1, kind="stable")[..., :K]
        probs = np.take_along_axis(P, order, axis=-1)
        rewards = np.repeat(R[:, :, None], K, axis=2)
        self._set(order.astype(np.int64), probs, rewards)

    @classmethod
    def from_sparse(cls, next_states, probs, rewards) -> MDP:
        """Build from the sparse layout: next_states (S, A, K) ints, probs and rewards (S, A, K).

        `rewards[s, a, k]` is the reward of the transition to `next_states[s, a, k]`.
        """
        mdp = cls.__new__(cls)
        mdp._init_sparse(next_states, probs, rewards)
        return mdp

    def _init_sparse(self, next_states, probs, rewards) -> None:
        nxt = np.asarray(next_states)
        if nxt.ndim != 3 or not np.issubdtype(nxt.dtype, np.integer):
            raise ValueError(f"next_states must be an (S, A, K) integer array, got {nxt.dtype} "
                             f"of shape {nxt.shape}")
        S, A, K = nxt.shape
        if S == 0 or A == 0 or K == 0:
            raise ValueError(f"next_states must not be empty, got shape {nxt.shape}")
        probs = _finite_array("probs", probs, ndim=3)
        rewards = _finite_array("rewards", rewards, ndim=3)
        if probs.shape != nxt.shape or rewards.shape != nxt.shape:
            raise ValueError(f"next_states, probs and rewards must share a shape; got "
                             f"{nxt.shape}, {probs.shape}, {rewards.shape}")
        if nxt.min() < 0 or nxt.max() >= S:
            raise ValueError(f"next_states must be state indices in [0, {S - 1}]")
        _check_probabilities("probs", probs)
        self._set(nxt.astype(np.int64), probs, rewards)

    def _set(self, nxt: np.ndarray, probs: np.ndarray, rewards: np.ndarray) -> None:
        self.next_states = np.ascontiguousarray(nxt, dtype=np.int64)
        self.probs = np.ascontiguousarray(probs, dtype=np.float64)
        self.rewards = np.ascontiguousarray(rewards, dtype=np.float64)
        self.expected_rewards = np.ascontiguousarray((self.probs * self.rewards).sum(axis=-1))
        S, A, _ = self.next_states.shape
        idx = np.arange(S)[:, None, None]
        stays = (self.next_states == idx) | (self.probs == 0.0)
        still = (self.rewards == 0.0) | (self.probs == 0.0)
        #: (S,) bool: states every action keeps with probability 1 and reward 0 (episode ends).
        self.absorbing = np.ascontiguousarray(np.all(stays & still, axis=(1, 2)))

    @property
    def n_states(self) -> int:
        return self.next_states.shape[0]

    # --- sampling: what an agent that does not know ℙ and ℛ sees (8.2.5, deep Q-learning) ------
    def reset(self, rng: np.random.Generator, start: int | None = None) -> int:
        """A start state: `start` if given, else a uniformly random non-absorbing state."""
        if start is not None:
            return self._check_state(start)
        free = np.flatnonzero(~self.absorbing)
        if free.size == 0:
            raise ValueError("every state is absorbing: there is nowhere to start")
        return int(free[rng.integers(free.size)])

    def step(self, state: int, action: int, rng: np.random.Generator) -> tuple[int, float, bool]:
        """Sample one transition from (state, action): (next state, reward, whether it is
        absorbing, i.e. the episode is over). Drawn from the sparse ℙ(· | s, a) with `rng`."""
        s = self._check_state(state)
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or not 0 <= action < self.n_actions:
            raise ValueError(f"action must be an integer in [0, {self.n_actions - 1}], got {action!r}")
        cum = np.cumsum(self.probs[s, action])
        k = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), cum.size - 1)
        s2 = int(self.next_states[s, action, k])
        return s2, float(self.rewards[s, action, k]), bool(self.absorbing[s2])

    def _check_state(self, state) -> int:
        if isinstance(state, bool) or not isinstance(state, (int, np.integer)) or not 0 <= state < self.n_states:
            raise ValueError(f"state must be an integer in [0, {self.n_states - 1}], got {state!r}")
        return int(state)

    @property
    def n_actions(self) -> int:
        return self.next_states.shape[1]

    @property
    def P(self) -> np.ndarray:
        """Dense transition probabilities (S, A, S); ValueError when that would be too large."""
        S, A, K = self.next_states.shape
        if S * A * S > DENSE_LIMIT:
            raise ValueError(f"a dense P of shape ({S}, {A}, {S}) would hold {S * A * S:,} "
                             f"entries (limit {DENSE_LIMIT:,}); use next_states/probs instead")
        P = np.zeros((S, A, S))
        s_idx = np.broadcast_to(np.arange(S)[:, None, None], (S, A, K))
        a_idx = np.broadcast_to(np.arange(A)[None, :, None], (S, A, K))
        np.add.at(P, (s_idx, a_idx, self.next_states), self.probs)
        return P

    @property
    def R(self) -> np.ndarray:
        """Expected rewards ℛ(s, a) (S, A)."""
        return self.expected_rewards.copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(states={self.n_states}, actions={self.n_actions})"


def _finite_array(name: str, value, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers: {exc}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return arr


def _check_probabilities(name: str, P: np.ndarray) -> None:
    if np.any(P < 0):
        raise ValueError(f"{name} must hold probabilities >= 0, found {P.min()}")
    sums = P.sum(axis=-1)
    bad = np.abs(sums - 1.0) > PROB_ATOL
    if np.any(bad):
        s, a = np.argwhere(bad)[0][:2]
        raise ValueError(f"{name}[{s}, {a}] must sum to 1 over next states, sums to {sums[s, a]}")


def check_gamma(gamma) -> float:
    """γ as a float in [0, 1], or ValueError."""
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}") from None
    if not (0.0 <= g <= 1.0) or math.isnan(g):
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    return g


def check_mdp(mdp) -> MDP:
    if not isinstance(mdp, MDP):
        raise ValueError(f"expected an MDP (core.rl.MDP or Gridworld), got {type(mdp).__name__}")
    return mdp


def check_positive(name: str, value, integer: bool = False):
    if integer:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        return int(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not (v > 0) or not math.isfinite(v):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def check_unit(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v
