"""Lay a computational graph out in character cells: inputs left, output right, boxes and edges.

A small layered (Sugiyama-style) layout in plain Python: each op node sits one layer right of
its deepest input, leaves sit just left of their first consumer, longer edges get dummy slots
in the layers they cross, barycenter sweeps order each layer, and edges bend once in the gap
between two layers, each source in a lane of its own. `render_graph` fills the layout with the
current values and gradients, as rows of (text, style) runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

BOX_W = 10  # outer width of a node box
BOX_H = 4  # outer height: top border, value row, gradient row, bottom border
SLOT_H = BOX_H + 1
GAP_MIN = 4
#: The compact layout, for graphs wider than the view: narrower boxes without the v / ∂
#: marks (the value row stays on top of the gradient row) and tighter gaps between layers.
COMPACT_BOX_W = 8
COMPACT_GAP_MIN = 2
#: Beyond these sizes the graph is listed as a table instead (drawing cost grows with the area).
MAX_NODES = 120
MAX_DUMMIES = 400

# direction bits of an edge cell
N, S, E, W = 1, 2, 4, 8
_LINES = {
    E | W: "─", N | S: "│", S | E: "┌", S | W: "┐", N | E: "└", N | W: "┘",
    N | S | E: "├", N | S | W: "┤", E | W | S: "┬", E | W | N: "┴", N | S | E | W: "┼",
    E: "─", W: "─", N: "│", S: "│",
}

Structure = tuple[tuple[str, tuple[int, ...]], ...]  # (label, inputs) per node


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    boxes: tuple[tuple[int, int], ...]  # top-left (x, y) of each node's box
    edges: tuple[tuple[int, int, tuple[tuple[int, int, int], ...]], ...]  # (src, dst, cells)
    box_w: int = BOX_W  # outer width of every box (COMPACT_BOX_W in the compact layout)


def _layers(inputs: list[tuple[int, ...]]) -> list[int]:
    n = len(inputs)
    layer = [0] * n
    for p in range(n):  # topological order: inputs come first
        if inputs[p]:
            layer[p] = 1 + max(layer[q] for q in inputs[p])
    consumers: list[list[int]] = [[] for _ in range(n)]
    for p in range(n):
        for q in inputs[p]:
            consumers[q].append(p)
    for p in range(n):
        if not inputs[p] and consumers[p]:
            layer[p] = max(0, min(layer[c] for c in consumers[p]) - 1)
    return layer


def drawable(structure: Structure) -> bool:
    """Whether the graph is small enough to draw as boxes and edges (else: a table)."""
    if len(structure) > MAX_NODES:
        return False
    layer = _layers([ins for _, ins in structure])
    dummies = sum(max(0, layer[p] - layer[q] - 1)
                  for p, (_, ins) in enumerate(structure) for q in ins)
    return dummies <= MAX_DUMMIES


@lru_cache(maxsize=64)
def compute_layout(structure: Structure, compact: bool = False) -> Layout:
    """Positions of boxes and the cells of every edge, for a graph given by its structure.

    `compact`: narrower boxes and gaps (the sigmoid neuron's 8 layers fit in 80 columns).
    """
    box_w = COMPACT_BOX_W if compact else BOX_W
    # gap = lanes + lane_pad columns; lanes start lane_off columns after the source box
    gap_min, lane_pad, lane_off = (COMPACT_GAP_MIN, 1, 0) if compact else (GAP_MIN, 3, 1)
    inputs = [ins for _, ins in structure]
    n = len(inputs)
    layer = _layers(inputs)
    depth = max(layer) + 1 if n else 1
    # items per layer: ("n", p) for nodes, ("d", edge_id) for dummy slots of long edges
    items: list[list[tuple]] = [[] for _ in range(depth)]
    for p in range(n):
        items[layer[p]].append(("n", p))
    edges = [(q, p, k) for p in range(n) for k, q in enumerate(inputs[p])]
    chains = []  # per edge: the items it passes through, from source to target
    for e, (q, p, _) in enumerate(edges):
        chain = [("n", q)]
        for lay in range(layer[q] + 1, layer[p]):
            item = ("d", e, lay)
            items[lay].append(item)
            chain.append(item)
        chain.append(("n", p))
        chains.append(chain)
    preds: dict[tuple, list[tuple]] = {}
    succs: dict[tuple, list[tuple]] = {}
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            preds.setdefault(b, []).append(a)
            succs.setdefault(a, []).append(b)
    _order(items, preds, succs)
    y = _rows(items, preds, succs)
    # x of each layer: gaps wide enough for one lane per source that bends
    segments = [(a, b, e) for e, chain in enumerate(chains) for a, b in zip(chain, chain[1:])]
    entry = {}
    for a, b, e in segments:
        entry[(a, b, e)] = y[b] + 1 + (edges[e][2] if b[0] == "n" else 0)
    # one vertical lane per bending source; sources whose vertical spans do not overlap share
    # a lane (interval colouring), which keeps the gaps, and so the whole graph, narrow
    spans: list[dict[tuple, list[int]]] = [{} for _ in range(depth)]
    for a, b, e in segments:
        ys, yt = y[a] + 1, entry[(a, b, e)]
        if yt != ys:
            span = spans[_layer_of(a, layer)].setdefault(a, [ys, ys])
            span[0], span[1] = min(span[0], yt), max(span[1], yt)
    # A source must bend left of every edge that enters a box on the row it leaves from: its
    # exit run (left part of the gap) and that edge's entry run (right part) share the row.
    entries: dict[tuple, set[int]] = {}
    for a, b, e in segments:
        if entry[(a, b, e)] != y[a] + 1:
            entries.setdefault(a, set()).add(entry[(a, b, e)])
    lanes: list[dict[tuple, int]] = [{} for _ in range(depth)]
    n_lanes = [0] * depth
    for lay in range(depth):
        todo = sorted(spans[lay], key=lambda a: (spans[lay][a][0], y[a]))
        left_of = {a: [o for o in todo if o != a and y[o] + 1 in entries[a]] for a in todo}
        used: list[list[tuple[int, int]]] = []  # the row spans in each lane
        while todo:
            ready = [a for a in todo if all(o in lanes[lay] for o in left_of[a])]
            a = ready[0] if ready else todo[0]  # a cycle of constraints: ignore it
            todo.remove(a)
            lo, hi = spans[lay][a]
            first = 1 + max((lanes[lay][o] for o in left_of[a] if o in lanes[lay]), default=-1)
            lane = first
            while lane < len(used) and any(not (e < lo or s > hi) for s, e in used[lane]):
                lane += 1
            while lane >= len(used):
                used.append([])
            used[lane].append((lo, hi))
            lanes[lay][a] = lane
        n_lanes[lay] = len(used)
    xs = [0] * depth
    for lay in range(1, depth):
        xs[lay] = xs[lay - 1] + box_w + max(gap_min, n_lanes[lay - 1] + lane_pad)
    cells_by_edge: dict[int, list[tuple[int, int, int]]] = {e: [] for e in range(len(edges))}
    for a, b, e in segments:
        lay = _layer_of(a, layer)
        x0 = xs[lay] + box_w  # first gap column
        x1 = xs[lay + 1] - 1  # last gap column
        ys, yt = y[a] + 1, entry[(a, b, e)]
        cells = cells_by_edge[e]
        if a[0] == "d":  # a dummy slot: a straight line through it
            cells += [(xs[lay] + i, ys, E | W) for i in range(box_w)]
        if ys == yt:
            cells += [(x, ys, E | W) for x in range(x0, x1 + 1)]
        else:
            lane = x0 + lane_off + lanes[lay][a]
            down = yt > ys
            cells += [(x, ys, E | W) for x in range(x0, lane)]
            cells.append((lane, ys, W | (S if down else N)))
            step = 1 if down else -1
            cells += [(lane, r, N | S) for r in range(ys + step, yt, step)]
            cells.append((lane, yt, (N if down else S) | E))
            cells += [(x, yt, E | W) for x in range(lane + 1, x1 + 1)]
    boxes = tuple((xs[layer[p]], y[("n", p)]) for p in range(n))
    height = max((y[it] for lay in items for it in lay), default=0) + BOX_H
    width = xs[-1] + box_w
    edge_cells = tuple((q, p, tuple(cells_by_edge[e])) for e, (q, p, _) in enumerate(edges))
    return Layout(width, height, boxes, edge_cells, box_w)


def _layer_of(item: tuple, layer: list[int]) -> int:
    return layer[item[1]] if item[0] == "n" else item[2]


def _order(items, preds, succs) -> None:
    """Barycenter sweeps: order each layer by the mean position of its neighbours."""
    for _ in range(3):
        for lay in range(1, len(items)):
            _sort_by(items[lay], items[lay - 1], preds)
        for lay in range(len(items) - 2, -1, -1):
            _sort_by(items[lay], items[lay + 1], succs)


def _sort_by(layer_items, other_items, neighbours) -> None:
    index = {it: i for i, it in enumerate(other_items)}
    current = {it: i for i, it in enumerate(layer_items)}

    def key(it):
        near = [index[o] for o in neighbours.get(it, []) if o in index]
        return (sum(near) / len(near) if near else current[it] * len(other_items) / max(
            1, len(layer_items)), current[it])

    layer_items.sort(key=key)


def _rows(items, preds, succs) -> dict[tuple, int]:
    """Top row of every item: aligned with its inputs where order and spacing allow."""
    y: dict[tuple, int] = {}
    for lay, layer_items in enumerate(items):
        bottom = 0
        for it in layer_items:
            near = [y[o] for o in preds.get(it, []) if o in y]
            want = round(sum(near) / len(near)) if near else bottom
            y[it] = max(bottom, want)
            bottom = y[it] + SLOT_H
    # pull items without inputs (leaves) toward their consumers, keeping order and spacing
    for lay in range(len(items) - 2, -1, -1):
        layer_items = items[lay]
        for i in range(len(layer_items) - 1, -1, -1):
            it = layer_items[i]
            if preds.get(it):
                continue
            near = [y[o] for o in succs.get(it, [])]
            if not near:
                continue
            low = y[layer_items[i - 1]] + SLOT_H if i > 0 else 0
            high = y[layer_items[i + 1]] - SLOT_H if i + 1 < len(layer_items) else 10**9
            y[it] = min(high, max(low, round(sum(near) / len(near))))
    return y


# --- filling the layout with the current state ----------------------------------------------
def render_graph(view, number=None, compact: bool = False) -> list[list[tuple[str, str]]]:
    """Rows of (text, style) runs for a `model.View`. Styles: box, focus, hot, done, edge,
    edge-hot, label, value, grad, partial, bad, muted. `compact`: see `compute_layout`."""
    from tutor.labs.backprop.model import fmt

    number = number or fmt
    structure = tuple((b.label, b.inputs) for b in view.boxes)
    if not drawable(structure):
        return render_table(view, number)
    lay = compute_layout(structure, compact)
    grid = [[" "] * lay.width for _ in range(lay.height)]
    style = [["muted"] * lay.width for _ in range(lay.height)]
    hot_pairs = set()
    focus = view.focus
    if focus is not None:
        if view.phase == "forward":
            hot_pairs = {(q, focus) for q in view.boxes[focus].inputs}
        elif view.phase in ("backward", "done"):
            hot_pairs = {(q, focus) for q in view.boxes[focus].inputs}
    dirs: dict[tuple[int, int], int] = {}
    hot_cells = set()
    for src, dst, cells in lay.edges:
        for x, y, d in cells:
            dirs[(x, y)] = dirs.get((x, y), 0) | d
            if (src, dst) in hot_pairs:
                hot_cells.add((x, y))
    for (x, y), d in dirs.items():
        grid[y][x] = _LINES.get(d, "┼")
        style[y][x] = "edge-hot" if (x, y) in hot_cells else "edge"
    for src, dst, cells in lay.edges:  # arrow heads into the target box
        x, y, _ = cells[-1]
        grid[y][x] = "▶"
    for p, box in enumerate(view.boxes):
        _draw_box(grid, style, lay.boxes[p], box, number, lay.box_w)
    return [_runs(row, srow) for row, srow in zip(grid, style)]


def render_table(view, number) -> list[list[tuple[str, str]]]:
    """A large graph as one line per node: number, op, inputs, value, gradient."""
    rows = [[(f"{len(view.boxes)} nodes: too many to draw, listed in topological order", "label")]]
    for p, box in enumerate(view.boxes):
        ins = ", ".join(f"#{q}" for q in box.inputs)
        value = "·" if box.value is None else number(box.value, 10)
        grad = "·" if box.grad is None else number(box.grad, 10)
        head = "focus" if box.focus else "hot" if box.hot else "box"
        kind = "partial" if box.grad is not None and not box.grad_complete else "grad"
        rows.append([(f"#{p:<4} {box.label[:8]:8} {ins:14}", head), (f" v {value:>10}", "value"),
                     (f"  ∂ {grad:>10}", kind if box.grad is not None else "muted")])
    return rows


def _draw_box(grid, style, at, box, number, box_w: int = BOX_W) -> None:
    x, y = at
    inner = box_w - 2
    marks = box_w >= BOX_W  # room for the v / ∂ marks in front of the numbers
    border = "focus" if box.focus else "hot" if box.hot else "done" if box.grad_complete else "box"
    label = box.label[: inner - 2]
    tag = box.tag if len(box.tag) <= inner - len(label) - 2 else ""  # whole or not at all
    top = "┌ " + label + " " + "─" * (inner - len(label) - 2 - len(tag)) + tag + "┐"
    rows = [top, None, None, "└" + "─" * inner + "┘"]
    digits = inner - 2 if marks else inner
    value = "" if box.value is None else number(box.value, digits)
    grad = "" if box.grad is None else number(box.grad, digits)
    for i, ch in enumerate(top):
        grid[y][x + i] = ch
        style[y][x + i] = "label" if 2 <= i < 2 + len(label) else border
    for i, ch in enumerate(rows[3]):
        grid[y + 3][x + i] = ch
        style[y + 3][x + i] = border
    for r, (mark, text, kind) in enumerate((("v", value, "value"), ("∂", grad, "grad"))):
        row = y + 1 + r
        grid[row][x] = grid[row][x + box_w - 1] = "│"
        style[row][x] = style[row][x + box_w - 1] = border
        if not marks:
            mark = ""
        width = inner - len(mark)
        line = mark + (text.rjust(width) if text else "·".rjust(width))
        if kind == "grad" and box.grad is not None and not box.grad_complete:
            kind = "partial"
        if text in ("nan", "inf", "-inf"):
            kind = "bad"
        for i, ch in enumerate(line):
            grid[row][x + 1 + i] = ch
            style[row][x + 1 + i] = "muted" if (i < len(mark) or not text) else kind


def _runs(row: list[str], srow: list[str]) -> list[tuple[str, str]]:
    runs: list[tuple[str, str]] = []
    start = 0
    for i in range(1, len(row) + 1):
        if i == len(row) or srow[i] != srow[start]:
            runs.append(("".join(row[start:i]), srow[start]))
            start = i
    return runs


def plain_text(rows: list[list[tuple[str, str]]]) -> str:
    """The rendered graph without styles (for tests and logs)."""
    return "\n".join("".join(text for text, _ in row).rstrip() for row in rows)
