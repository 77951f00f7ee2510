"""Deep Q-learning (8.2.5's "approximator of q"): a Q-network, experience replay, a target network."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.nn.losses import LOSSES
from core.nn.mlp import MLP, _mlp_value_and_grad
from core.optim.steps import OPTIMIZER_CODES, apply_step, make_hyper
from core.rl.mdp import check_gamma, check_mdp, check_positive, check_unit

MAX_EPISODES = 1_000_000
MAX_BUFFER = 1_000_000


@dataclass(frozen=True)
class Transition:
    """One sampled step (s, a, r, s′, done) as stored in the replay buffer."""

    state: int
    action: int
    reward: float
    next_state: int
    done: bool


@dataclass(frozen=True)
class DQNEpisode:
    """One episode: where it started, its discounted return Σ γᵗ rₜ₊₁, its length, the mean
    loss of the updates made during it (NaN if none), and the update count after it."""

    start: int
    ret: float
    length: int
    loss: float
    updates: int


class DQN:
    """A deep Q-learning agent on an MDP it only samples (`env.reset`, `env.step`).

    The network Q(s, ·; θ) is a `core.nn.MLP` [S, *hidden, A] (ReLU) whose input is the
    **one-hot** encoding of the state (S numbers, a 1 at the state's index). Each episode starts
    at a random non-absorbing state (exploring starts) and runs until an absorbing state or
    `max_steps`; actions are ε-greedy in Q. Every transition goes into a **replay buffer**
    (the last `buffer_size`); once it holds `batch_size`, every step also makes one gradient
    update on a uniformly sampled mini-batch:

        y = r + γ (1 − done) maxₐ′ Q(s′, a′; θ⁻)

        ℒ(θ) = (1 / (N·A)) Σᵢ (Q(sᵢ, aᵢ; θ) − yᵢ)²

    (core.nn's MSE over all N x A outputs, with the targets of the actions not taken set to
    the network's own outputs, so only the chosen actions count), minimised by Adam with
    learning rate `lr`. θ⁻ is the **target network**, a copy of θ refreshed every
    `target_update` updates (Mnih et al., 2015). Deterministic for a given `seed`.
    """

    def __init__(self, env, gamma: float = 0.9, hidden=(32,), lr: float = 0.01, epsilon: float = 0.5,
                 buffer_size: int = 1000, batch_size: int = 32, target_update: int = 50,
                 max_steps: int = 100, seed: int = 0) -> None:  # fmt: skip
        self.env = check_mdp(env)
        self.gamma = check_gamma(gamma)
        hidden = tuple(hidden)
        for h in hidden:
            if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 1 <= h <= 4096:
                raise ValueError(f"hidden must be layer widths from 1 to 4096, got {hidden}")
        self.hidden = tuple(int(h) for h in hidden)
        self.hyper = make_hyper("adam", lr=_positive_float("lr", lr))
        self.lr = float(lr)
        self.epsilon = check_unit("epsilon", epsilon)
        self.buffer_size = check_positive("buffer_size", buffer_size, integer=True)
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        if self.buffer_size > MAX_BUFFER:
            raise ValueError(f"buffer_size must be at most {MAX_BUFFER}, got {buffer_size}")
        if self.batch_size > self.buffer_size:
            raise ValueError(f"batch_size ({batch_size}) cannot exceed buffer_size ({buffer_size})")
        self.target_update = check_positive("target_update", target_update, integer=True)
        self.max_steps = check_positive("max_steps", max_steps, integer=True)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        self.seed = int(seed)
        if np.all(self.env.absorbing):
            raise ValueError("every state is absorbing: there is nothing to learn")
        S, A = self.env.n_states, self.env.n_actions
        self.n_states, self.n_actions = S, A
        self.rng = np.random.default_rng(self.seed)
        self.net = MLP([S, *self.hidden, A], activation="relu", seed=self.seed)
        self.target = self.net.copy()
        self._opt_state = np.zeros((3, self.net.theta.size))
        self._grad = np.empty_like(self.net.theta)
        self._eye = np.eye(S)
        # the replay buffer: a ring of the last `buffer_size` transitions
        B = self.buffer_size
        self._s = np.zeros(B, dtype=np.int64)
        self._a = np.zeros(B, dtype=np.int64)
        self._r = np.zeros(B)
        self._s2 = np.zeros(B, dtype=np.int64)
        self._done = np.zeros(B)
        self.buffer_len = 0
        self._pos = 0
        self.transitions = 0  # environment steps so far
        self.updates = 0  # gradient updates so far
        self.since_sync = 0  # updates since the target network was last copied (its lag)
        self.syncs = 0
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.losses: list[float] = []  # the loss of every update

    # --- the network -------------------------------------------------------------------------
    def encode(self, states) -> np.ndarray:
        """One-hot inputs (n, S) of state indices (n,)."""
        states = np.asarray(states, dtype=np.int64).reshape(-1)
        if states.size and (states.min() < 0 or states.max() >= self.n_states):
            raise ValueError(f"states must be indices in [0, {self.n_states - 1}]")
        return self._eye[states]

    def q(self, states=None) -> np.ndarray:
        """The online network's Q(s, ·) for state indices (n,) (default: every state) -> (n, A)."""
        states = np.arange(self.n_states) if states is None else states
        return self.net(self.encode(states))

    def q_target(self, states=None) -> np.ndarray:
        """The target network's Q(s, ·; θ⁻) -> (n, A)."""
        states = np.arange(self.n_states) if states is None else states
        return self.target(self.encode(states))

    @property
    def policy(self) -> np.ndarray:
        """The greedy actions argmaxₐ Q(s, a) of every state, (S,) int64."""
        return np.argmax(self.q(), axis=1).astype(np.int64)

    # --- acting and learning -------------------------------------------------------------------
    def act(self, state: int) -> int:
        """ε-greedy: a uniformly random action with probability ε, else the greedy one."""
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions))
        return int(np.argmax(self.net(self._eye[state : state + 1])[0]))

    def _remember(self, s: int, a: int, r: float, s2: int, done: bool) -> None:
        i = self._pos
        self._s[i], self._a[i], self._r[i], self._s2[i], self._done[i] = s, a, r, s2, float(done)
        self._pos = (i + 1) % self.buffer_size
        self.buffer_len = min(self.buffer_len + 1, self.buffer_size)

    def recent(self, k: int = 5) -> list[Transition]:
        """The last k transitions stored in the replay buffer, newest first."""
        out = []
        for j in range(min(k, self.buffer_len)):
            i = (self._pos - 1 - j) % self.buffer_size
            out.append(Transition(int(self._s[i]), int(self._a[i]), float(self._r[i]), int(self._s2[i]),
                                  bool(self._done[i])))  # fmt: skip
        return out

    def update(self) -> float:
        """One gradient step on a mini-batch sampled from the replay buffer; returns its loss."""
        idx = self.rng.integers(self.buffer_len, size=self.batch_size)
        s, a, r, s2, done = self._s[idx], self._a[idx], self._r[idx], self._s2[idx], self._done[idx]
        y = r + self.gamma * (1.0 - done) * self.target(self._eye[s2]).max(axis=1)
        x = self._eye[s]
        target = self.net(x)
        target[np.arange(idx.size), a] = y
        loss = _mlp_value_and_grad(self.net.theta, self.net._sizes, self.net._act, x, target,
                                   np.zeros(1, dtype=np.int64), LOSSES["mse"], self._grad)  # fmt: skip
        self.updates += 1
        apply_step(OPTIMIZER_CODES["adam"], self.net.theta, self._grad, self._opt_state, self.updates, self.hyper)
        self.since_sync += 1
        if self.since_sync >= self.target_update:
            self.target.theta[:] = self.net.theta
            self.since_sync = 0
            self.syncs += 1
        self.losses.append(float(loss))
        return float(loss)

    def episode(self) -> DQNEpisode:
        """Run one episode (acting, storing, learning at every step)."""
        s = start = self.env.reset(self.rng)
        ret, discount, losses, t = 0.0, 1.0, [], 0
        for t in range(1, self.max_steps + 1):
            a = self.act(s)
            s2, r, done = self.env.step(s, a, self.rng)
            self._remember(s, a, r, s2, done)
            self.transitions += 1
            ret += discount * r
            discount *= self.gamma
            if self.buffer_len >= self.batch_size:
                losses.append(self.update())
            s = s2
            if done:
                break
        self.returns.append(ret)
        self.lengths.append(t)
        return DQNEpisode(start, ret, t, float(np.mean(losses)) if losses else float("nan"), self.updates)

    def run(self, episodes: int) -> list[DQNEpisode]:
        """Run `episodes` more episodes; returns them."""
        episodes = check_positive("episodes", episodes, integer=True)
        return [self.episode() for _ in range(episodes)]

    def episodes(self, n: int | None = None) -> Iterator[DQNEpisode]:
        """A generator of episodes (forever, or `n` of them), for a lab to draw between them."""
        count = 0
        while n is None or count < n:
            yield self.episode()
            count += 1


def _positive_float(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def dqn(env, gamma: float = 0.9, episodes: int = 300, hidden=(32,), lr: float = 0.01, epsilon: float = 0.5,
        buffer_size: int = 1000, batch_size: int = 32, target_update: int = 50, max_steps: int = 100,
        seed: int = 0) -> DQN:  # fmt: skip
    """Train a `DQN` agent for `episodes` episodes and return it: `.q(states) -> (n, A)`,
    `.policy` (S,), `.returns` (the discounted return of every episode), `.lengths`, `.losses`.

    With the defaults and seed 0 it finds an optimal policy of the notes' 5 x 5 Gridworld
    (reward −1 a step, terminals at two opposite corners, γ = 0.9).
    """
    episodes = check_positive("episodes", episodes, integer=True)
    if episodes > MAX_EPISODES:
        raise ValueError(f"episodes must be at most {MAX_EPISODES}, got {episodes}")
    agent = DQN(env, gamma=gamma, hidden=hidden, lr=lr, epsilon=epsilon, buffer_size=buffer_size,
                batch_size=batch_size, target_update=target_update, max_steps=max_steps, seed=seed)  # fmt: skip
    agent.run(episodes)
    return agent
