"""Gridworld (notes 8.2.2): an MDP whose states are the cells of a grid and actions the 4 moves."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from core.rl.mdp import MDP, check_unit

#: Action indices: 0 up, 1 down, 2 left, 3 right.
ACTIONS = ("up", "down", "left", "right")
ARROWS = ("↑", "↓", "←", "→")
#: (row, col) offset of each action.
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)
#: The two perpendicular actions of each action (where a slip sends the agent).
PERPENDICULAR = ((2, 3), (2, 3), (0, 1), (0, 1))
#: Most cells a Gridworld may have.
MAX_CELLS = 4_000_000

Cell = tuple[int, int]


class Gridworld(MDP):
    """A rows x cols grid as an MDP: state = row * cols + col, actions up, down, left, right.

    - A move off the grid or into a wall leaves the agent where it is.
    - With probability `slip` the agent moves in one of the two perpendicular directions instead
      (slip / 2 each); the intended move happens with probability 1 - slip.
    - Entering a cell earns that cell's reward: `rewards[(r, c)]` if given, else `step_reward`.
      Staying put (bumping) earns `step_reward`.
    - Terminal cells absorb with reward 0 (the episode is over); walls are unreachable states
      that also absorb, so their value is 0.
    - `teleports = {(r, c): ((r2, c2), reward)}`: every action from (r, c) jumps to (r2, c2)
      and earns `reward` (the +10 / +5 cells of Sutton and Barto's example 3.5).

    Transitions are stored sparsely (three successors per state and action), so a 300 x 300
    grid takes a few tens of MB; `.P` and `.R` are dense for small grids.
    """

    def __init__(
        self,
        rows: int,
        cols: int,
        terminals: Iterable[Cell] = (),
        walls: Iterable[Cell] = (),
        step_reward: float = -1.0,
        slip: float = 0.0,
        rewards: Mapping[Cell, float] | None = None,
        teleports: Mapping[Cell, tuple[Cell, float]] | None = None,
    ) -> None:
        for name, n in (("rows", rows), ("cols", cols)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {n!r}")
        rows, cols = int(rows), int(cols)
        if rows * cols > MAX_CELLS:
            raise ValueError(f"a grid of {rows} x {cols} exceeds {MAX_CELLS:,} cells")
        self.rows, self.cols = rows, cols
        self.step_reward = _finite("step_reward", step_reward)
        self.slip = check_unit("slip", slip)
        self.terminals = frozenset(self._cell(c, "terminal") for c in terminals)
        self.walls = frozenset(self._cell(c, "wall") for c in walls)
        both = self.terminals & self.walls
        if both:
            raise ValueError(f"cell {sorted(both)[0]} cannot be both a wall and a terminal")
        self.cell_rewards = np.full((rows, cols), self.step_reward)
        for cell, value in (rewards or {}).items():
            r, c = self._cell(cell, "reward")
            self.cell_rewards[r, c] = _finite(f"reward of cell {(r, c)}", value)
        self.teleports: dict[Cell, tuple[Cell, float]] = {}
        for src, spec in (teleports or {}).items():
            src = self._cell(src, "teleport source")
            try:
                dst, value = spec
            except (TypeError, ValueError):
                raise ValueError(f"teleport {src} must map to ((row, col), reward)") from None
            dst = self._cell(dst, "teleport destination")
            if src in self.walls or src in self.terminals:
                raise ValueError(f"teleport source {src} cannot be a wall or terminal")
            if dst in self.walls:
                raise ValueError(f"teleport destination {dst} is a wall")
            self.teleports[src] = (dst, _finite(f"teleport reward of {src}", value))
        self._set(*self._transitions())
        # the fast sweep's view: each move's target cell, and the states it must treat generally
        self.neighbours = np.ascontiguousarray(self.next_states[:, :, 0])
        self.special = self.absorbing.copy()
        for r, c in self.teleports:
            self.special[r * cols + c] = True

    # --- cells and states ---------------------------------------------------------------
    def state(self, row: int, col: int) -> int:
        """The state index of cell (row, col)."""
        row, col = self._cell((row, col), "cell")
        return row * self.cols + col

    def cell(self, state: int) -> Cell:
        """The (row, col) of a state index."""
        if not 0 <= state < self.n_states:
            raise ValueError(f"state must be in [0, {self.n_states - 1}], got {state}")
        return divmod(int(state), self.cols)

    def kind_grid(self) -> np.ndarray:
        """(rows, cols) uint8: 0 free, 1 wall, 2 terminal, 3 teleport source."""
        kinds = np.zeros((self.rows, self.cols), dtype=np.uint8)
        for r, c in self.walls:
            kinds[r, c] = 1
        for r, c in self.terminals:
            kinds[r, c] = 2
        for r, c in self.teleports:
            kinds[r, c] = 3
        return kinds

    def _cell(self, cell, what: str) -> Cell:
        try:
            r, c = cell
            if isinstance(r, bool) or isinstance(c, bool):
                raise TypeError
            r, c = int(r), int(c)
            if r != cell[0] or c != cell[1]:
                raise TypeError
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be a (row, col) pair of ints, got {cell!r}") from None
        if not (0 <= r < self.rows and 0 <= c < self.cols):
            raise ValueError(f"{what} {(r, c)} is outside the {self.rows} x {self.cols} grid")
        return r, c

    # --- transitions ------------------------------------------------------------------------
    def _transitions(self):
        rows, cols = self.rows, self.cols
        S = rows * cols
        blocked = np.zeros((rows, cols), dtype=bool)
        for r, c in self.walls:
            blocked[r, c] = True
        rr, cc = np.divmod(np.arange(S, dtype=np.int64), cols)
        # target[a] (S,): the state a deterministic move `a` leads to
        target = np.empty((4, S), dtype=np.int64)
        for a, (dr, dc) in enumerate(MOVES):
            r2, c2 = rr + dr, cc + dc
            inside = (r2 >= 0) & (r2 < rows) & (c2 >= 0) & (c2 < cols)
            r2c, c2c = np.where(inside, r2, rr), np.where(inside, c2, cc)
            ok = inside & ~blocked[r2c, c2c]
            target[a] = np.where(ok, r2c * cols + c2c, np.arange(S))
        nxt = np.empty((S, 4, 3), dtype=np.int64)
        probs = np.empty((S, 4, 3))
        for a in range(4):
            p1, p2 = PERPENDICULAR[a]
            nxt[:, a, 0], nxt[:, a, 1], nxt[:, a, 2] = target[a], target[p1], target[p2]
            probs[:, a] = (1.0 - self.slip, self.slip / 2, self.slip / 2)
        here = np.arange(S)[:, None, None]
        enter = self.cell_rewards.reshape(-1)[nxt]
        rewards = np.where(nxt == here, self.step_reward, enter)
        # absorbing cells: terminals and walls keep the agent with reward 0
        for r, c in self.terminals | self.walls:
            s = r * cols + c
            nxt[s], probs[s], rewards[s] = s, (1.0, 0.0, 0.0), 0.0
        for (r, c), ((r2, c2), value) in self.teleports.items():
            s = r * cols + c
            nxt[s], probs[s], rewards[s] = r2 * cols + c2, (1.0, 0.0, 0.0), value
        return nxt, probs, rewards

    def __repr__(self) -> str:
        return (f"Gridworld({self.rows}, {self.cols}, terminals={sorted(self.terminals)}, "
                f"walls={len(self.walls)}, step_reward={self.step_reward}, slip={self.slip})")


def _finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v
