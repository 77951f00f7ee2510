"""Tabular Q-learning with ε-greedy exploration (the notes' closing point of 8.2.5): learn q*
from sampled transitions instead of sweeping the whole model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.rl.kernels import _q_episode
from core.rl.mdp import MDP, check_gamma, check_mdp, check_positive, check_unit


@dataclass(frozen=True)
class Episode:
    """One walk: `states` (T + 1,) visited, `actions` (T,), `rewards` (T,), the discounted
    `ret` = Σ γᵗ r_{t+1}, and whether it ended in an absorbing (terminal) state."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    ret: float
    terminated: bool

    @property
    def length(self) -> int:
        return len(self.actions)


class QLearner:
    """Q-learning on an MDP whose model the agent only samples.

    Q(s, a) ← Q(s, a) + α [r + γ maxₐ' Q(s', a') − Q(s, a)], actions ε-greedy in Q.
    `alpha` and `epsilon` may change between calls (the lab's sliders). Episodes start at
    `start` (a state index) or, when None, at a random non-absorbing state (exploring starts,
    so every state's values get learned). Deterministic for a given `seed`.
    """

    def __init__(
        self,
        mdp: MDP,
        gamma: float,
        alpha: float = 0.1,
        epsilon: float = 0.1,
        start: int | None = None,
        max_steps: int = 1_000,
        seed: int = 0,
        Q0=None,
    ) -> None:
        self.mdp = check_mdp(mdp)
        self.gamma = check_gamma(gamma)
        self.alpha = alpha
        self.epsilon = epsilon
        self.max_steps = check_positive("max_steps", max_steps, integer=True)
        self._starts = np.flatnonzero(~mdp.absorbing)
        if len(self._starts) == 0:
            raise ValueError("every state is absorbing: there is nothing to learn")
        if start is not None:
            if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
                raise ValueError(f"start must be a state index, got {start!r}")
            if not 0 <= start < mdp.n_states:
                raise ValueError(f"start must be in [0, {mdp.n_states - 1}], got {start}")
            if mdp.absorbing[start]:
                raise ValueError(f"start state {start} is absorbing (a terminal or a wall)")
        self.start = start
        self.rng = np.random.default_rng(seed)
        S, A = mdp.n_states, mdp.n_actions
        if Q0 is None:
            self.Q = np.zeros((S, A))
        else:
            Q0 = np.array(Q0, dtype=np.float64)
            if Q0.shape != (S, A) or not np.all(np.isfinite(Q0)):
                raise ValueError(f"Q0 must be a finite ({S}, {A}) array, got shape {Q0.shape}")
            self.Q = np.ascontiguousarray(Q0)
        self.episodes = 0
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.state: int | None = None  # where a step-by-step walk stands (None: not started)
        self._walk: list[tuple[int, int, float]] = []

    @property
    def walk(self) -> list[tuple[int, int, float]]:
        """The (state, action, reward) moves of the episode under way (empty between episodes)."""
        return self._walk

    @walk.setter
    def walk(self, moves: list[tuple[int, int, float]]) -> None:
        self._walk = list(moves)

    @property
    def alpha(self) -> float:
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        self._alpha = check_unit("alpha", value)

    @property
    def epsilon(self) -> float:
        return self._epsilon

    @epsilon.setter
    def epsilon(self, value: float) -> None:
        self._epsilon = check_unit("epsilon", value)

    def _start_state(self) -> int:
        if self.start is not None:
            return int(self.start)
        return int(self._starts[self.rng.integers(len(self._starts))])

    def _walk_kernel(self, start: int, steps: int):
        uniforms = self.rng.random((steps, 3))
        path = np.zeros(steps + 1, dtype=np.int64)
        actions = np.zeros(steps, dtype=np.int64)
        rewards = np.zeros(steps)
        m = self.mdp
        t, ret = _q_episode(
            m.next_states, m.probs, m.rewards, m.absorbing, self.Q, start, self.gamma,
            self._alpha, self._epsilon, uniforms, path, actions, rewards,
        )
        return int(t), float(ret), path[: t + 1], actions[:t], rewards[:t]

    def episode(self) -> Episode:
        """Run one whole episode (up to `max_steps`), learning as it goes."""
        self.state, self._walk = None, []
        t, ret, path, actions, rewards = self._walk_kernel(self._start_state(), self.max_steps)
        ended = bool(self.mdp.absorbing[path[-1]])
        return self._finish(Episode(path, actions, rewards, ret, ended))

    def run(self, episodes: int) -> list[Episode]:
        """Run `episodes` episodes; returns them."""
        episodes = check_positive("episodes", episodes, integer=True)
        return [self.episode() for _ in range(episodes)]

    def step(self) -> tuple[int, int, float, Episode | None]:
        """One transition of a step-by-step walk: returns (s, a, r, finished episode or None).

        The walk starts a new episode when none is under way; it ends at an absorbing state or
        after `max_steps` transitions, and the finished `Episode` is returned with that step.
        """
        if self.state is None:
            self.state = self._start_state()
            self._walk = []
        s = self.state
        _, _, path, actions, rewards = self._walk_kernel(s, 1)
        a, r, s2 = int(actions[0]), float(rewards[0]), int(path[1])
        self._walk.append((s, a, r))
        self.state = s2
        if self.mdp.absorbing[s2] or len(self._walk) >= self.max_steps:
            states = np.array([w[0] for w in self._walk] + [s2], dtype=np.int64)
            acts = np.array([w[1] for w in self._walk], dtype=np.int64)
            rews = np.array([w[2] for w in self._walk])
            ret = float(np.sum(rews * self.gamma ** np.arange(len(rews))))
            ep = self._finish(Episode(states, acts, rews, ret, bool(self.mdp.absorbing[s2])))
            self.state, self._walk = None, []
            return s, a, r, ep
        return s, a, r, None

    def _finish(self, ep: Episode) -> Episode:
        self.episodes += 1
        self.returns.append(ep.ret)
        self.lengths.append(ep.length)
        return ep

    @property
    def policy(self) -> np.ndarray:
        """The greedy policy of the learned Q: (S,) action indices."""
        return np.argmax(self.Q, axis=1).astype(np.int64)

    @property
    def V(self) -> np.ndarray:
        """maxₐ Q(s, a): (S,) the values the learned Q implies."""
        return self.Q.max(axis=1)


def q_learning(
    mdp: MDP,
    gamma: float,
    episodes: int,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    start: int | None = None,
    max_steps: int = 1_000,
    seed: int = 0,
) -> QLearner:
    """Run `episodes` episodes of tabular Q-learning; returns the learner (`.Q`, `.returns`,
    `.lengths`, `.policy`)."""
    learner = QLearner(mdp, gamma, alpha, epsilon, start, max_steps, seed)
    learner.run(episodes)
    return learner
