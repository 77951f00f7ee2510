"""The Gridworld lab's side-panel text: a cell's Bellman backup and the agent-environment loop."""

from __future__ import annotations

from tutor.labs.gridworld.gridview import fmt
from tutor.labs.gridworld.model import Backup, GridModel

ARROWS = "↑↓←→"
#: Characters per line of the side panel (34 columns less its padding and scrollbar).
PANEL_WIDTH = 32
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _num(value: float, width: int = 7) -> str:
    text = fmt(value, width)
    return f"({text})" if text.startswith("-") else text


def backup_text(model: GridModel, backup: Backup, revealed: bool) -> str:
    """The backup of one cell with the current numbers; the results only when `revealed`."""
    r, c = backup.cell
    k = model.k
    now, nxt = str(k).translate(SUB), str(k + 1).translate(SUB)
    kinds = model.grid.kind_grid()
    if backup.kind == "absorbing":
        what = "a wall: the agent never gets here" if kinds[r, c] == 1 else (
            "terminal: the episode ends here, so its value stays 0")
        return f"Cell ({r},{c}) is {what}."
    gamma = model.spec.gamma
    head = "maxₐ" if backup.kind == "max" else "¼ Σₐ"
    lines = [f"Backup of ({r},{c}), sweep {k} → {k + 1}",
             f"V(s) ← {head} [r + γ Σ p·V(s')]",
             f"γ = {gamma:g}, V{now}({r},{c}) = {fmt(backup.value, 8)}"]
    for term in backup.terms:
        head = f"{ARROWS[term.action]} {fmt(term.reward, 7)} + {gamma:g}·"
        tail = f" = {fmt(term.q, 7)}" if revealed else ""
        if len(term.outcomes) == 1:
            lines += _pack(head, [_num(term.outcomes[0].value)], tail)
        else:  # with slip: one product per place the move can land, wrapped under the "("
            parts = [f"{o.prob:g}·{_num(o.value)}" for o in term.outcomes]
            lines += _pack(head + "(", parts, ")" + tail, indent=len(head) - 1)
    op = "max" if backup.kind == "max" else "mean"
    if revealed:
        qs = [fmt(t.q, 6) for t in backup.terms]
        lines += _pack(f"V{nxt}({r},{c}) = {op}(", qs, f") = {fmt(backup.next_value, 8)}",
                       sep=", ", indent=len(f"V{nxt}({r},{c}) = "))
    else:
        lines.append(f"V{nxt}({r},{c}) = {op}(…) = ?")
    if model.converged and model.mode == "value_iteration":
        lines.append(f"Converged in {k} sweeps; "
                     f"{model.comparison or 'policy iteration: computing…'}.")
    return "\n".join(lines)


def _pack(head: str, parts: list[str], tail: str, sep: str = " + ", indent: int = 2,
          width: int = PANEL_WIDTH) -> list[str]:
    """`head` + `parts` joined by `sep` + `tail` as lines of at most `width` characters where
    possible, continuation lines indented (`sep` starting them): the panel wraps nothing."""
    lines, line = [], head + parts[0]
    lead = sep.strip()
    for i, part in enumerate(parts[1:], 2):
        room = width - (len(lead) if lead != "+" and i < len(parts) else 0)  # a trailing ","
        if len(line) + len(sep) + len(part) > room:
            lines.append(line + ("" if lead == "+" else lead))
            line = " " * indent + (f"{lead} " if lead == "+" else "") + part
        else:
            line += sep + part
    if len(line) + len(tail) > width and tail.startswith((" =", ") =")):
        close = tail[: tail.index("=") - 1]  # ")" or ""
        lines += [line + close, " " * indent + tail[len(close):].lstrip(" ")]
    else:
        lines.append(line + tail)
    return lines


def _cell(grid, state: int) -> str:
    r, c = grid.cell(state)
    return f"({r},{c})"


def loop_text(model: GridModel) -> str:
    """The Q-learning panel: settings, the update rule, the last transitions with numbers (lines
    of at most 32 characters: the side panel's width)."""
    learner = model.learner
    if learner is None:
        return "Every cell is terminal: there is no state to start an episode from."
    grid = model.grid
    start = "in a random cell" if learner.start is None else f"at {_cell(grid, learner.start)}"
    lines = ["Agent–environment loop",
             f"ε {model.epsilon:g} · α {model.alpha:g} · γ {model.spec.gamma:g}",
             f"episodes start {start}",
             "Q(S,A) ← Q(S,A) + α·[T − Q(S,A)]",
             "T = R + γ maxₐ' Q(S',a')"]
    log = model.log
    if model.episodes == 0:
        if not log:
            lines.append("Press n: the agent makes one move.")
        for s, a, r, s2, *_ in log:
            lines.append(f"S {_cell(grid, s)} A {ARROWS[a]} R {fmt(r, 6)} S' {_cell(grid, s2)}")
        if log:
            s, a, r, s2, q_old, target, q_new = log[-1]
            gamma = model.spec.gamma
            if grid.absorbing[s2]:
                lines.append(f"T = R = {fmt(target, 5)} (the episode ends)")
            else:
                best = (target - r) / gamma if gamma else 0.0
                lines.append(f"T = {fmt(r, 5)} + {gamma:g}·{_num(best, 5)} = {fmt(target, 5)}")
            lines += [f"Q({_cell(grid, s)},{ARROWS[a]}) ← Q + α·(T − Q)",
                      f"= {fmt(q_old, 5)} + {model.alpha:g}·({fmt(target, 5)} − {_num(q_old, 5)})",
                      f"= {fmt(q_new, 5)}"]
    else:
        returns = model.episode_returns
        lines.append(f"{len(returns)} episodes ({model.episodes} per step)")
        if len(returns):
            lines.append(f"last return {fmt(returns[-1], 7)}, best {fmt(returns.max(), 7)}")
    ref = model.reference()
    if ref.converged:
        good, total = model.policy_match()
        lines += ["Against value iteration:",
                  f" greedy move optimal {good}/{total}",
                  f" max |Q − q*| {fmt(model.q_error(), 6)}"]
        if learner.start is not None:
            s = learner.start
            lines.append(f" start: maxₐ Q {fmt(model.Q[s].max(), 7)}, v* {fmt(ref.V[s], 7)}")
    return "\n".join(lines)
