"""The gridworld lab's saved state: the edited grid, the method, its step, the selected cell.

Plain JSON for the progress file (`Lab.save_state` / `restore_state`); no Textual.
"""

from __future__ import annotations

from tutor.labs.gridworld.params import MAX_SIDE, MODES
from tutor.labs.gridworld.presets import GridSpec

MAX_RESTORED_STEPS = 5_000
"""Steps replayed when a lab comes back (a longer run starts over from its grid)."""


def _cell(value) -> tuple[int, int]:
    r, c = value
    if isinstance(r, bool) or isinstance(c, bool) or not (isinstance(r, int) and isinstance(c, int)):
        raise TypeError(f"a cell is two whole numbers, got {value!r}")
    return r, c


def spec_to_json(spec: GridSpec) -> dict:
    return {
        "rows": spec.rows, "cols": spec.cols,
        "terminals": [list(c) for c in sorted(spec.terminals)],
        "walls": [list(c) for c in sorted(spec.walls)],
        "rewards": [[list(cell), r] for cell, r in spec.rewards],
        "teleports": [[list(src), list(dst), r] for src, dst, r in spec.teleports],
        "step_reward": spec.step_reward, "slip": spec.slip, "gamma": spec.gamma,
        "start": list(spec.start) if spec.start is not None else None, "title": spec.title,
    }


def spec_from_json(data: dict) -> GridSpec:
    rows, cols = int(data["rows"]), int(data["cols"])
    if not (1 <= rows <= MAX_SIDE and 1 <= cols <= MAX_SIDE):
        raise ValueError(f"a saved grid of {rows} x {cols}")
    return GridSpec(
        rows=rows, cols=cols,
        terminals=frozenset(_cell(c) for c in data["terminals"]),
        walls=frozenset(_cell(c) for c in data["walls"]),
        rewards=tuple((_cell(c), float(r)) for c, r in data["rewards"]),
        teleports=tuple((_cell(s), _cell(d), float(r)) for s, d, r in data["teleports"]),
        step_reward=float(data["step_reward"]), slip=float(data["slip"]),
        gamma=float(data["gamma"]),
        start=_cell(data["start"]) if data.get("start") is not None else None,
        title=str(data.get("title", "")),
    )


def save(lab) -> dict:
    m = lab.model
    return {
        "spec": spec_to_json(m.spec), "mode": m.mode, "k": m.k,
        "epsilon": m.epsilon, "alpha": m.alpha, "episodes": m.episodes,
        "selected": list(lab.selected) if lab.selected else None, "show_q": lab.show_q,
    }


def restore(lab, state: dict) -> None:
    """Rebuild the model from `state` (ValueError/KeyError/TypeError on a damaged one, before
    anything changed)."""
    spec = spec_from_json(state["spec"])
    mode = state["mode"]
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    k = min(int(state["k"]), MAX_RESTORED_STEPS)
    selected = _cell(state["selected"]) if state.get("selected") else None
    if selected and not (0 <= selected[0] < spec.rows and 0 <= selected[1] < spec.cols):
        selected = None
    m = lab.model
    m.load(spec, mode, float(state["epsilon"]), float(state["alpha"]), int(state["episodes"]))
    m.advance(k)
    lab.selected = selected
    lab.show_q = bool(state.get("show_q"))
