"""The Gridworld lab's "dqn" mode (no Textual): a deep Q-network learning q* from sampled moves.

One lab step is `EPISODES_PER_STEP` episodes of `core.rl.DQN`; after each step a snapshot keeps
what the lab draws (the network's Q table, the replay buffer's size and newest transitions, the
target network's lag, max |Q − q*| against value iteration). Snapshots are kept, so stepping
back and forward replays them; new ones are computed by the widget's worker (`compute_next`) or
directly by `step`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.rl import DQN, Gridworld, Transition, value_iteration
from tutor.history import ComputedSteps
from tutor.labs.gridworld.presets import GridSpec, preset

EPISODES_PER_STEP = 5
TOTAL_EPISODES = 300
#: γ when the lesson keeps the preset's (-1): DQN's default, as core.rl.dqn.
DEFAULT_GAMMA = 0.9
#: The network and its training, as core.rl.dqn's defaults.
HIDDEN = (32,)
LR = 0.01
EPSILON = 0.5
BUFFER = 1000
BATCH = 32
TARGET_UPDATE = 50


@dataclass(frozen=True)
class DqnSnap:
    """The agent after `episode` episodes."""

    episode: int
    updates: int
    transitions: int
    Q: np.ndarray  # (S, A) online network
    Q_target: np.ndarray  # (S, A) target network
    buffer_len: int
    recent: tuple[Transition, ...]
    since_sync: int
    syncs: int
    returns: tuple[float, ...]  # of the episodes of this step
    error: float  # max |Q − q*| over the non-absorbing states
    optimal: int  # non-absorbing states whose greedy action is optimal


def spec_for(params: dict) -> GridSpec:
    spec = preset(params["preset"])
    rows, cols = params.get("rows") or spec.rows, params.get("cols") or spec.cols
    if (rows, cols) != (spec.rows, spec.cols):
        spec = spec.resized(rows, cols)
    gamma = params.get("gamma", -1.0)
    spec = replace(spec, gamma=float(gamma) if gamma is not None and gamma >= 0 else DEFAULT_GAMMA)
    slip = params.get("slip", -1.0)
    if slip is not None and slip >= 0:
        spec = replace(spec, slip=float(slip))
    return spec


class DqnModel(ComputedSteps):
    """The DQN agent, its snapshots, and the value-iteration reference q*."""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.spec = spec_for(self.params)
        self.grid = Gridworld(**self.spec.kwargs())
        self.gamma = self.spec.gamma
        self.seed = int(self.params["seed"])
        self.agent = DQN(self.grid, gamma=self.gamma, hidden=HIDDEN, lr=LR, epsilon=EPSILON, buffer_size=BUFFER,
                         batch_size=BATCH, target_update=TARGET_UPDATE, seed=self.seed)  # fmt: skip
        self.reference = value_iteration(self.grid, gamma=self.gamma)
        self.q_star = self.reference.Q
        self.free = ~self.grid.absorbing
        self.best = np.isclose(self.q_star, self.q_star.max(axis=1, keepdims=True), atol=1e-9)
        self.total_steps = TOTAL_EPISODES // EPISODES_PER_STEP
        self.snaps: list[DqnSnap] = [self._snap(())]
        self.index = 0
        self.question = self._question_cell()

    def _question_cell(self) -> tuple[int, int]:
        """The cell the prediction asks about: `select`, else the centre, else the first free one."""
        rows, cols = self.spec.rows, self.spec.cols
        sel = self.params.get("select") or [rows // 2, cols // 2]
        r, c = int(sel[0]), int(sel[1])
        if not (0 <= r < rows and 0 <= c < cols) or not self.free[r * cols + c]:
            r, c = divmod(int(np.flatnonzero(self.free)[0]), cols)
        return r, c

    def _snap(self, returns: tuple[float, ...]) -> DqnSnap:
        a = self.agent
        Q = a.q()
        free = np.flatnonzero(self.free)
        greedy = np.argmax(Q, axis=1)
        return DqnSnap(
            episode=len(a.returns), updates=a.updates, transitions=a.transitions, Q=Q, Q_target=a.q_target(),
            buffer_len=a.buffer_len, recent=tuple(a.recent(4)), since_sync=a.since_sync, syncs=a.syncs,
            returns=returns, error=float(np.abs(Q - self.q_star)[free].max()),
            optimal=int(self.best[free, greedy[free]].sum()),
        )  # fmt: skip

    # --- computing -----------------------------------------------------------------------
    @property
    def computed(self) -> int:
        """Lab steps computed so far (snapshots after the first)."""
        return len(self.snaps) - 1

    def compute_next(self) -> DqnSnap | None:
        """Train `EPISODES_PER_STEP` more episodes and snapshot (call it from a worker; then
        `append` on the UI thread). None once `TOTAL_EPISODES` are done."""
        if len(self.agent.returns) >= TOTAL_EPISODES:
            return None
        eps = self.agent.run(EPISODES_PER_STEP)
        return self._snap(tuple(e.ret for e in eps))

    def append(self, snap: DqnSnap) -> bool:
        if snap.episode != self.snaps[-1].episode + EPISODES_PER_STEP:
            return False
        self.snaps.append(snap)
        return True

    @property
    def finished(self) -> bool:
        return self.index >= self.total_steps

    # --- what is shown -------------------------------------------------------------------
    @property
    def snap(self) -> DqnSnap:
        return self.snaps[self.index]

    def errors(self) -> tuple[np.ndarray, np.ndarray]:
        """(episodes, max |Q − q*|) of every snapshot shown so far."""
        shown = self.snaps[: self.index + 1]
        return np.array([s.episode for s in shown]), np.array([s.error for s in shown])

    def first_optimal(self) -> int | None:
        """The first episode count (among the snapshots shown) whose greedy policy is optimal everywhere."""
        n_free = int(self.free.sum())
        return next((s.episode for s in self.snaps[: self.index + 1] if s.optimal == n_free), None)

    def arrows(self) -> np.ndarray:
        """(S, 4) bool: the network's greedy move in each non-absorbing state."""
        Q = self.snap.Q
        mask = np.zeros(Q.shape, dtype=bool)
        mask[np.arange(len(Q)), np.argmax(Q, axis=1)] = True
        mask[~self.free] = False
        return mask

    def values(self) -> np.ndarray:
        """maxₐ Q(s, a) of the network, 0 on absorbing states (their value by definition)."""
        return np.where(self.free, self.snap.Q.max(axis=1), 0.0)

    def status(self) -> str:
        s = self.snap
        return f"episode {s.episode} / {TOTAL_EPISODES} · {s.updates} updates"

    def apply(self, name: str, value) -> str | None:
        """The view has no setting to change while it runs: the grid, γ and the seed are the
        lesson's (a refusal, the lab as it was)."""
        return f"the deep Q-learning view has no setting {name!r} to change"

    def pytorch_code(self) -> str:
        from tutor.labs.gridworld.code import dqn_code

        return dqn_code(self.spec, self.seed, hidden=HIDDEN[0], lr=LR, buffer=BUFFER, batch=BATCH,
                        target_update=TARGET_UPDATE, epsilon=EPSILON, episodes=TOTAL_EPISODES)
