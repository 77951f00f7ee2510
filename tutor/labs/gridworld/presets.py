"""The Gridworld lab's preset grids as plain data (no Textual, numba or core)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

Cell = tuple[int, int]


@dataclass(frozen=True)
class GridSpec:
    """Everything that defines a grid the student can edit; `core.rl.Gridworld(**spec.kwargs())`."""

    rows: int
    cols: int
    terminals: frozenset[Cell] = frozenset()
    walls: frozenset[Cell] = frozenset()
    rewards: tuple[tuple[Cell, float], ...] = ()
    teleports: tuple[tuple[Cell, Cell, float], ...] = ()
    step_reward: float = -1.0
    slip: float = 0.0
    gamma: float = 1.0
    start: Cell | None = None  # where Q-learning episodes start (None: a random free cell)
    title: str = ""
    notes: str = field(default="", compare=False)

    def kwargs(self) -> dict:
        return {
            "rows": self.rows,
            "cols": self.cols,
            "terminals": sorted(self.terminals),
            "walls": sorted(self.walls),
            "step_reward": self.step_reward,
            "slip": self.slip,
            "rewards": dict(self.rewards),
            "teleports": {src: (dst, r) for src, dst, r in self.teleports},
        }

    def reward_of(self, cell: Cell) -> float | None:
        """The reward for entering `cell` when it differs from the step reward, else None."""
        return dict(self.rewards).get(cell)

    def resized(self, rows: int, cols: int) -> GridSpec:
        """The same grid cropped or extended to rows x cols (cells outside are dropped)."""

        def inside(c: Cell) -> bool:
            return 0 <= c[0] < rows and 0 <= c[1] < cols

        start = self.start if self.start is not None and inside(self.start) else None
        return replace(
            self,
            rows=rows,
            cols=cols,
            terminals=frozenset(c for c in self.terminals if inside(c)),
            walls=frozenset(c for c in self.walls if inside(c)),
            rewards=tuple((c, r) for c, r in self.rewards if inside(c)),
            teleports=tuple(t for t in self.teleports if inside(t[0]) and inside(t[1])),
            start=start,
        )


MAZE = (
    "....#....",
    ".##.#.##.",
    ".#..#..#.",
    ".#.###.#.",
    ".#.....#.",
    ".#####.#G",
)


def _maze() -> GridSpec:
    walls = frozenset(
        (r, c) for r, line in enumerate(MAZE) for c, ch in enumerate(line) if ch == "#"
    )
    goal = (5, 8)
    return GridSpec(len(MAZE), len(MAZE[0]), terminals=frozenset([goal]), walls=walls,
                    rewards=((goal, 10.0),), step_reward=-1.0, gamma=0.95, start=(0, 0),
                    title="maze")


def preset(name: str) -> GridSpec:
    """The grid of preset `name` (see params.PRESETS)."""
    if name == "notes":
        return GridSpec(5, 5, terminals=frozenset([(0, 0), (4, 4)]), step_reward=-1.0,
                        gamma=1.0, title="the notes' 5x5, reward -1 per step")
    if name == "corners":
        return GridSpec(4, 4, terminals=frozenset([(0, 0), (3, 3)]), step_reward=-1.0,
                        gamma=1.0, title="4x4 with terminal corners")
    if name == "cliff":
        cliff = [(3, c) for c in range(1, 11)]
        return GridSpec(4, 12, terminals=frozenset(cliff + [(3, 11)]),
                        rewards=tuple((c, -100.0) for c in cliff), step_reward=-1.0,
                        gamma=1.0, start=(3, 0), title="the cliff: -100 for falling")
    if name == "maze":
        return _maze()
    if name == "teleport":
        return GridSpec(5, 5, teleports=(((0, 1), (4, 1), 10.0), ((0, 3), (2, 3), 5.0)),
                        step_reward=0.0, gamma=0.9,
                        title="teleports: A → A' +10, B → B' +5")
    if name == "slippery":
        return GridSpec(3, 4, terminals=frozenset([(0, 3), (1, 3)]), walls=frozenset([(1, 1)]),
                        rewards=(((0, 3), 1.0), ((1, 3), -1.0)), step_reward=-0.04, slip=0.2,
                        gamma=1.0, title="slippery 3x4: +1, -1, slip 0.2")
    if name == "open":
        return GridSpec(10, 10, terminals=frozenset([(0, 9)]), rewards=(((0, 9), 10.0),),
                        step_reward=-1.0, gamma=0.99, title="open grid")
    raise ValueError(f"unknown preset {name!r}")
