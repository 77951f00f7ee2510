"""The Gridworld lab's state without Textual: the editable grid, its sweeps or Q-learning walks
with a step history, and each cell's Bellman backup written out with numbers."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.rl import (
    Gridworld,
    QLearner,
    greedy_actions,
    policy_iteration_steps,
    q_function,
    value_iteration,
)
from core.rl.planning import bellman_sweep, policy_evaluation_sweep
from tutor.history import History, HistoryModel
from tutor.labs.gridworld.params import MAX_SIDE, MODES
from tutor.labs.gridworld.presets import Cell, GridSpec, preset

#: Sweeps stop when no value moves by more than this.
TOL = 1e-10
#: Sweeps stop (reporting non-convergence) after this many.
MAX_SWEEPS = 1000
#: Longest Q-learning episode (then the walk is cut and a new one starts).
MAX_EPISODE_STEPS = 500
#: Transitions listed in the agent-environment loop panel.
LOG_LENGTH = 6


@dataclass(frozen=True)
class SweepState:
    """V_k after sweep k (k = 0: all zeros); `delta` = max |V_k − V_{k−1}| (NaN at k = 0)."""

    k: int
    V: np.ndarray
    delta: float


@dataclass(frozen=True)
class LearnState:
    """A Q-learning snapshot: enough to resume the learner exactly (Q, RNG, walk under way)."""

    k: int
    Q: np.ndarray
    rng: dict
    n_returns: int
    position: int | None
    walk: tuple
    log: tuple  # the last transitions (s, a, r, s', Q before, target, Q after)


@dataclass(frozen=True)
class Outcome:
    prob: float
    cell: Cell
    value: float


@dataclass(frozen=True)
class ActionTerm:
    """One action's part of a backup: reward + γ Σ prob · V(next) = q."""

    action: int
    reward: float
    outcomes: tuple[Outcome, ...]
    q: float


@dataclass(frozen=True)
class Backup:
    """The Bellman backup of one cell at the current step; `kind` is "max" (value iteration),
    "mean" (random policy), or "absorbing" (terminal or wall: nothing to back up)."""

    cell: Cell
    kind: str
    terms: tuple[ActionTerm, ...]
    value: float  # V_k(s), the value now
    next_value: float  # V_{k+1}(s) the backup gives


class GridModel(HistoryModel):
    """The grid being edited, and the history of what the chosen method did on it.

    The lab's model (`tutor.labs.kit.LabModel`): `step/back/advance` walk the history, `reset`
    starts the method again, `apply(name, value)` changes one setting (γ, slip, size, mode, a
    preset, Q-learning's ε, α and episodes per step). Edits validate by building the
    `Gridworld`; a bad edit raises ValueError (`apply` returns its message) and changes
    nothing. Every edit of the grid or of γ restarts the method from V₀ = 0 (or Q = 0).
    """

    #: The settings `apply` changes.
    SETTINGS = ("preset", "mode", "gamma", "slip", "step_reward", "rows", "cols", "epsilon",
                "alpha", "episodes")

    def __init__(self, spec: GridSpec, mode: str = "value_iteration", epsilon: float = 0.2,
                 alpha: float = 0.5, episodes: int = 1, seed: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.epsilon, self.alpha, self.episodes, self.seed = epsilon, alpha, episodes, seed
        self.returns: list[float] = []
        self._apply(spec)

    # --- building ------------------------------------------------------------------------
    def _apply(self, spec: GridSpec) -> None:
        grid = Gridworld(**spec.kwargs())  # raises ValueError on a bad edit: nothing changed
        if not 0.0 <= spec.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {spec.gamma}")
        self.spec, self.grid = spec, grid
        self._reference = None
        self._comparison: str | None = None
        self._q_cache: tuple | None = None
        self._stuck: np.ndarray | None = None
        self.reset()

    def load(self, spec: GridSpec, mode: str, epsilon: float, alpha: float,
             episodes: int) -> None:
        """Replace the grid and the method's settings at once (a restored lab), at step 0;
        ValueError on a bad grid or mode, with nothing changed."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        before = self.mode, self.epsilon, self.alpha, self.episodes
        self.mode, self.epsilon, self.alpha = mode, float(epsilon), float(alpha)
        self.episodes = int(episodes)
        try:
            self._apply(spec)
        except ValueError:
            self.mode, self.epsilon, self.alpha, self.episodes = before
            raise

    def reset(self) -> None:
        """Back to V₀ = 0 (or a fresh learner) on the current grid."""
        S = self.grid.n_states
        self.returns = []
        if self.mode == "q_learning":
            self.learner = QLearner(self.grid, self.spec.gamma, self.alpha, self.epsilon,
                                    start=self._start_state(), max_steps=MAX_EPISODE_STEPS,
                                    seed=self.seed) if np.any(~self.grid.absorbing) else None
            rng = self.learner.rng.bit_generator.state if self.learner else {}
            first = LearnState(0, np.zeros((S, 4)), rng, 0, None, (), ())
            self.history: History = History(first, self._learn_step, max_len=2_000)
        else:
            self.learner = None
            first = SweepState(0, np.zeros(S), float("nan"))
            self.history = History(first, self._sweep_step, max_len=MAX_SWEEPS + 1)

    def _start_state(self) -> int | None:
        start = self.spec.start
        if start is None:
            return None
        s = self.grid.state(*start)
        return None if self.grid.absorbing[s] else s

    # --- stepping ------------------------------------------------------------------------
    def _sweep_step(self, state: SweepState) -> SweepState | None:
        if state.k >= MAX_SWEEPS or (state.k > 0 and not state.delta >= TOL):
            return None
        S = self.grid.n_states
        V_new = np.empty(S)
        if self.mode == "random_policy":
            delta = policy_evaluation_sweep(self.grid, self.spec.gamma, np.full((S, 4), 0.25),
                                            state.V, V_new)
        else:
            delta = bellman_sweep(self.grid, self.spec.gamma, state.V, V_new,
                                  np.empty((S, 4)), np.empty(S, np.int64))
        return SweepState(state.k + 1, V_new, float(delta))

    def _learn_step(self, state: LearnState) -> LearnState | None:
        learner = self.learner
        if learner is None:
            return None
        learner.Q = state.Q.copy()
        learner.rng.bit_generator.state = state.rng
        learner.alpha, learner.epsilon = self.alpha, self.epsilon
        learner.state, learner.walk = state.position, list(state.walk)
        del self.returns[state.n_returns:]
        log = list(state.log)
        if self.episodes == 0:
            s, a, r, finished = learner.step()
            s2 = learner.state if finished is None else int(finished.states[-1])
            q_old = state.Q[s, a]
            target = r if self.grid.absorbing[s2] else r + self.spec.gamma * state.Q[s2].max()
            log.append((s, a, r, s2, q_old, target, learner.Q[s, a]))
            if finished is not None:
                self.returns.append(finished.ret)
        else:
            for _ in range(self.episodes):
                self.returns.append(learner.episode().ret)
            log = []
        return LearnState(state.k + 1, learner.Q.copy(), learner.rng.bit_generator.state,
                          len(self.returns), learner.state, tuple(learner.walk),
                          tuple(log[-LOG_LENGTH:]))

    @property
    def k(self) -> int:
        return self.history.current.k

    @property
    def finished(self) -> bool:
        """True when sweeping has stopped (converged or gave up); never for Q-learning."""
        state = self.history.current
        if self.mode == "q_learning":
            return self.learner is None
        return state.k >= MAX_SWEEPS or (state.k > 0 and not state.delta >= TOL)

    @property
    def converged(self) -> bool:
        state = self.history.current
        return self.mode != "q_learning" and state.k > 0 and state.delta < TOL

    # --- what the view shows ----------------------------------------------------------------
    @property
    def V(self) -> np.ndarray:
        """(S,) the values drawn: V_k, or maxₐ Q of the learner."""
        state = self.history.current
        return state.V if isinstance(state, SweepState) else state.Q.max(axis=1)

    @property
    def Q(self) -> np.ndarray:
        """(S, 4): the backup of V_k (Q_k = ℛ + γ ℙ V_k), or the learner's table."""
        state = self.history.current
        if isinstance(state, LearnState):
            return state.Q
        key = (id(self.grid), self.spec.gamma, state.k, id(state.V))
        if self._q_cache is None or self._q_cache[0] != key:
            self._q_cache = (key, q_function(self.grid, state.V, self.spec.gamma))
        return self._q_cache[1]

    def arrows(self) -> np.ndarray:
        """(S, 4) bool: the greedy moves in each state (none where all moves tie or absorb)."""
        Q = self.Q
        best = Q.max(axis=1, keepdims=True)
        mask = greedy_actions(Q, atol=1e-9) if np.all(np.isfinite(Q)) else np.zeros(Q.shape, bool)
        mask &= Q >= best - 1e-9 * (1.0 + np.abs(best))
        mask[mask.all(axis=1)] = False
        mask[self.grid.absorbing] = False
        return mask

    @property
    def deltas(self) -> np.ndarray:
        """max |V_k − V_{k−1}| of each sweep so far."""
        return np.array([s.delta for s in self.history.states[1:]
                         if isinstance(s, SweepState)], dtype=float)

    @property
    def episode_returns(self) -> np.ndarray:
        state = self.history.current
        n = state.n_returns if isinstance(state, LearnState) else 0
        return np.array(self.returns[:n], dtype=float)

    @property
    def episode_start(self) -> int | None:
        """The state Q-learning's episodes start from (None: a random free cell, or no
        learner)."""
        return self.learner.start if self.learner is not None else None

    @property
    def agent(self) -> int | None:
        state = self.history.current
        return state.position if isinstance(state, LearnState) else None

    @property
    def log(self) -> tuple:
        state = self.history.current
        return state.log if isinstance(state, LearnState) else ()

    def reference(self):
        """Value iteration's answer on the current grid (cached): the target of Q-learning."""
        if self._reference is None:
            self._reference = value_iteration(self.grid, self.spec.gamma, max_iter=5_000,
                                              history=False)
        return self._reference

    @property
    def comparison(self) -> str | None:
        """The policy-iteration line for the current grid, once `compare()` has computed it."""
        return self._comparison

    def compare(self, cancelled=lambda: False) -> str | None:
        """Run policy iteration on the current grid (seconds on a large γ = 1 grid: call it from
        a worker thread) and keep one line comparing it with value iteration. Between chunks
        of its sweeps it stops (None, nothing kept) when `cancelled()` or the grid changed."""
        grid, gamma = self.grid, self.spec.gamma
        steps = policy_iteration_steps(grid, gamma, max_iter=200)
        try:
            while True:
                next(steps)
                if cancelled() or grid is not self.grid:
                    return None
        except StopIteration as end:
            result = end.value
            gap = float(np.abs(result.V - self.reference().V).max())
            line = (f"policy iteration: {result.iterations} improvement(s), "
                    f"max |V − V_VI| {gap:.1g}")
        except ValueError:
            line = "policy iteration: its random first policy never finishes"
        if grid is self.grid:  # the student may have edited the grid since the last chunk
            self._comparison = line
        return line

    def q_error(self) -> float:
        """max |Q − q*| over the (state, action) pairs of non-absorbing states."""
        ref = self.reference()
        free = ~self.grid.absorbing
        if not ref.converged or not np.any(free):
            return float("nan")
        return float(np.abs(self.Q[free] - ref.Q[free]).max())

    def stuck_cells(self) -> np.ndarray:
        """(S,) bool: free cells from which no sequence of moves can reach a terminal (cached).

        With γ = 1 and a reward of one sign on every move out of them, their values grow
        without bound: value iteration (and the random policy's evaluation) cannot converge.
        """
        if self._stuck is None:
            grid = self.grid
            reach = np.zeros(grid.n_states, bool)
            for cell in self.spec.terminals:
                reach[grid.state(*cell)] = True
            live = grid.probs > 0
            while True:  # backwards: a state reaches a terminal if one of its moves can
                more = reach | np.any(live & reach[grid.next_states], axis=(1, 2))
                if np.array_equal(more, reach):
                    break
                reach = more
            self._stuck = ~reach & ~grid.absorbing
        return self._stuck

    def diverges(self) -> bool:
        """True when sweeping can never converge: γ = 1 and stuck cells (see `stuck_cells`)
        whose every move earns a reward of the same sign."""
        if self.spec.gamma < 1.0 or self.mode == "q_learning":
            return False
        stuck = self.stuck_cells()
        if not stuck.any():
            return False
        R = self.grid.expected_rewards[stuck]
        return bool(np.all(R < 0) or np.all(R > 0))

    def policy_match(self) -> tuple[int, int]:
        """(cells whose greedy moves under Q are all optimal under q*, non-absorbing cells): the
        learner's policy can be right long before every Q-value is."""
        ref = self.reference()
        free = ~self.grid.absorbing
        if not ref.converged:
            return 0, int(free.sum())
        Q = self.Q[free]
        mine = greedy_actions(Q, atol=1e-9 * (1.0 + np.abs(Q).max(initial=0.0)))
        best = greedy_actions(ref.Q[free], atol=1e-6)
        return int(np.all(~mine | best, axis=1).sum()), int(free.sum())

    def backup(self, cell: Cell) -> Backup:
        """The Bellman backup of `cell` from the current values V_k."""
        grid = self.grid
        s = grid.state(*cell)
        V = self.V
        if grid.absorbing[s]:
            return Backup(cell, "absorbing", (), float(V[s]), float(V[s]))
        terms = []
        for a in range(4):
            merged: dict[int, float] = {}
            for k in range(grid.next_states.shape[2]):
                p = grid.probs[s, a, k]
                if p > 0:
                    merged[int(grid.next_states[s, a, k])] = merged.get(
                        int(grid.next_states[s, a, k]), 0.0) + p
            outcomes = tuple(Outcome(p, grid.cell(t), float(V[t])) for t, p in merged.items())
            reward = float(grid.expected_rewards[s, a])
            q = reward + self.spec.gamma * sum(o.prob * o.value for o in outcomes)
            terms.append(ActionTerm(a, reward, outcomes, q))
        qs = [t.q for t in terms]
        kind = "mean" if self.mode == "random_policy" else "max"
        nxt = float(np.mean(qs)) if kind == "mean" else float(max(qs))
        return Backup(cell, kind, tuple(terms), float(V[s]), nxt)

    # --- edits -----------------------------------------------------------------------------
    def _edit(self, **changes) -> None:
        self._apply(replace(self.spec, **changes))

    def toggle_wall(self, cell: Cell) -> None:
        cell = self._check_cell(cell)
        walls, terminals = set(self.spec.walls), set(self.spec.terminals)
        if cell in walls:
            walls.discard(cell)
        else:
            walls.add(cell)
            terminals.discard(cell)
        teleports = tuple(t for t in self.spec.teleports if cell not in (t[0], t[1]))
        start = None if self.spec.start == cell else self.spec.start
        self._edit(walls=frozenset(walls), terminals=frozenset(terminals), teleports=teleports,
                   start=start)

    def toggle_terminal(self, cell: Cell) -> None:
        cell = self._check_cell(cell)
        walls, terminals = set(self.spec.walls), set(self.spec.terminals)
        if cell in terminals:
            terminals.discard(cell)
        else:
            terminals.add(cell)
            walls.discard(cell)
        teleports = tuple(t for t in self.spec.teleports if t[0] != cell)
        start = None if self.spec.start == cell else self.spec.start
        self._edit(walls=frozenset(walls), terminals=frozenset(terminals), teleports=teleports,
                   start=start)

    def set_cell_reward(self, cell: Cell, value: float | None) -> None:
        """The reward for entering `cell` (None: back to the step reward)."""
        cell = self._check_cell(cell)
        rewards = dict(self.spec.rewards)
        if value is None:
            rewards.pop(cell, None)
        else:
            rewards[cell] = float(value)
        self._edit(rewards=tuple(sorted(rewards.items())))

    def set_gamma(self, gamma: float) -> None:
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        self._edit(gamma=float(gamma))

    def set_slip(self, slip: float) -> None:
        self._edit(slip=float(slip))

    def set_step_reward(self, value: float) -> None:
        self._edit(step_reward=float(value))

    def resize(self, rows: int, cols: int) -> None:
        if not (1 <= rows <= MAX_SIDE and 1 <= cols <= MAX_SIDE):
            raise ValueError(f"rows and cols must be between 1 and {MAX_SIDE}")
        self._apply(self.spec.resized(rows, cols))

    def load_preset(self, name: str) -> None:
        self._apply(preset(name))

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.reset()

    def set_learning(self, epsilon: float | None = None, alpha: float | None = None,
                     episodes: int | None = None) -> None:
        """Change Q-learning's settings live: Q is kept, later (replayable) steps are dropped."""
        if epsilon is not None:
            self.epsilon = float(epsilon)
        if alpha is not None:
            self.alpha = float(alpha)
        if episodes is not None:
            self.episodes = int(episodes)
        self.history.replace_future(self.history.current)

    def apply(self, name: str, value) -> str | None:
        """Change one setting (see `SETTINGS`): None when applied, else why the value was
        refused (the grid and its history are kept as they were)."""
        try:
            if name == "preset":
                self.load_preset(value)
            elif name == "mode":
                self.set_mode(value)
            elif name == "gamma":
                self.set_gamma(value)
            elif name == "slip":
                self.set_slip(value)
            elif name == "step_reward":
                self.set_step_reward(value)
            elif name in ("rows", "cols"):
                rows = value if name == "rows" else self.spec.rows
                cols = value if name == "cols" else self.spec.cols
                self.resize(rows, cols)
            elif name in ("epsilon", "alpha", "episodes"):
                self.set_learning(**{name: value})
            else:
                return f"the gridworld lab has no setting {name!r}"
        except ValueError as exc:
            return str(exc)
        return None

    def _check_cell(self, cell: Cell) -> Cell:
        r, c = cell
        if not (0 <= r < self.spec.rows and 0 <= c < self.spec.cols):
            raise ValueError(f"cell {cell} is outside the {self.spec.rows} x {self.spec.cols} grid")
        return int(r), int(c)

    # --- text --------------------------------------------------------------------------------
    def pytorch_code(self) -> str:
        """Runnable PyTorch of the method on the grid on screen."""
        from tutor.labs.gridworld.code import pytorch_code

        return pytorch_code(self.spec, self.mode)

    def status(self, short: bool = False) -> str:
        """The line beside the playback buttons; `short` fits a lab beside a lesson (about 12
        characters: the details are in the side panel and the chart)."""
        state = self.history.current
        if self.mode == "q_learning":
            if self.learner is None:
                return "nothing to learn" if short else "every cell is terminal: nothing to learn"
            n = len(self.episode_returns)
            if short:
                return f"{n} episodes"
            return f"{n} episodes" + (f", last G {self.returns[n - 1]:.3g}" if n else "")
        if state.k == 0:
            return "V₀ = 0" if short else "sweep 0: V₀ = 0"
        if short:
            mark = " ✓" if self.converged else " ✗" if state.k >= MAX_SWEEPS else ""
            return f"sweep {state.k}{mark}"
        text = f"sweep {state.k}, Δ {state.delta:.3g}"
        if self.converged:
            text += ", converged"
        elif state.k >= MAX_SWEEPS:
            text += ": did not converge"
            if self.spec.gamma == 1.0:
                text += " (γ = 1, no terminal?)"
        return text
