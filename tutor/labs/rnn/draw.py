"""Pictures of the RNN lab as pixel arrays (NumPy only, no Textual): the unrolled states and
gates as heat-map columns, one per time step, and the BPTT gradient norms as bars."""

from __future__ import annotations

import math

import numpy as np

from tutor.widgets.colormap import colormap

BACKGROUND = np.array([24, 24, 28], dtype=np.uint8)
PENDING = np.array([44, 44, 52], dtype=np.uint8)  # a step not computed yet
LABEL_COLS = 6  # the left margin for labels (section names, decades)
LEVELS = 64  # values are rounded to 1/LEVELS before colouring (stable pictures)

#: How each section is coloured: gates in (0, 1) on viridis, signed values diverging.
SIGNED = {"h", "c", "g", "n", "a"}


def _resample(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(H, T) -> (rows, cols) by nearest neighbour (each step a block of columns)."""
    h, t = values.shape
    ri = np.minimum((np.arange(rows) * h) // max(rows, 1), h - 1)
    ci = np.minimum((np.arange(cols) * t) // max(cols, 1), t - 1)
    return values[np.ix_(ri, ci)]


def step_columns(steps: int, width: int) -> np.ndarray:
    """The time step (0-based) drawn in each of `width` columns."""
    return np.minimum((np.arange(width) * steps) // max(width, 1), steps - 1)


def section_pixels(name: str, values: np.ndarray, done: int, rows: int, cols: int) -> np.ndarray:
    """One (rows, cols, 3) heat map of values (H, T); steps ≥ `done` drawn as pending."""
    grid = _resample(values, rows, cols)
    if name in SIGNED:
        span = float(np.nanmax(np.abs(values))) if values.size else 1.0
        span = span if math.isfinite(span) and span > 0 else 1.0
        img = colormap(np.round(grid / span * LEVELS) / LEVELS, -1.0, 1.0, "diverging")
    else:
        img = colormap(np.round(grid * LEVELS) / LEVELS, 0.0, 1.0, "viridis")
    pending = step_columns(values.shape[1], cols) >= done
    img[:, pending] = PENDING
    return img


def decade_range(norms: np.ndarray) -> tuple[int, int]:
    """(lo, hi) powers of ten that hold the finite positive norms, and at least 10⁻⁴ … 10¹
    (so the scale does not give away the bars still hidden); at most 20 decades."""
    good = norms[np.isfinite(norms) & (norms > 0)]
    lo, hi = -4, 1
    if good.size:
        lo = min(lo, math.floor(math.log10(float(good.min()))))
        hi = max(hi, math.ceil(math.log10(float(good.max()))))
    return max(lo, hi - 20), hi


def bar_pixels(norms: np.ndarray, known_from: int, rows: int, cols: int,
               decades: tuple[int, int]) -> np.ndarray:
    """Bars of log10 ‖∂ℒ/∂hₜ‖ for t = 1..T (norms (T,)); only t ≥ known_from (0-based) drawn.

    Colour by size: blue below 1, white at 1, red above (a log scale centred on 1)."""
    lo, hi = decades
    img = np.empty((rows, cols, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    t_of_col = step_columns(len(norms), cols)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(norms)
    span = max(abs(lo), abs(hi), 1)
    for col, t in enumerate(t_of_col.tolist()):
        if t < known_from:
            img[rows - 1, col] = PENDING
            continue
        v = logs[t]
        if not math.isfinite(v):
            v = hi if (np.isnan(v) or v > 0) else lo
        height = int(round((v - lo) / (hi - lo) * rows)) if hi > lo else rows
        height = min(rows, max(1, height))
        colour = colormap(np.array([round(v * 8) / 8]), -span, span, "diverging")[0]
        img[rows - height:, col] = colour
    # separate neighbouring steps with a darker column when each step has ≥ 3 columns
    per_step = cols / max(len(norms), 1)
    if per_step >= 3:
        edges = np.flatnonzero(np.diff(t_of_col)) + 1
        img[:, edges] = (img[:, edges] * 0.55).astype(np.uint8)
    return img


def unroll_sections(run, activation: str, show_gates: bool) -> list[tuple[str, np.ndarray]]:
    """The (label, (H, T) values) heat maps of the unrolled view, top to bottom."""
    h = run.h[1:, 0, :].T
    if not show_gates:
        out = [("h", h)]
        if run.c is not None:
            out.append(("c", run.c[1:, 0, :].T))
        return out
    if run.cell == "rnn":
        a = run.gates["a"][:, 0, :].T
        if activation == "tanh":
            slope = 1.0 - np.tanh(a) ** 2
        elif activation == "relu":
            slope = (a > 0).astype(np.float64)
        else:
            slope = np.ones_like(a)
        return [("h", h), ("φ'", slope)]
    return [(g, run.gates[g][:, 0, :].T) for g in run.gates]


def unroll_picture(sections, norms: np.ndarray, forward_done: int, backward_done: int,
                   width: int, rows: int):
    """The whole unrolled view at `width` x `rows` cells.

    Returns (pixels (2·rows, width, 3) uint8, overlay {(row, col): (text, colour)})."""
    width, rows = max(width, LABEL_COLS + 2), max(rows, 4)
    cols = width - LABEL_COLS
    img = np.empty((2 * rows, width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    overlay: dict = {}
    steps = len(norms)
    axis_rows = 1
    bar_rows = max(2, int(round((rows - axis_rows) * 0.4)))
    avail = rows - axis_rows - bar_rows
    n = len(sections)
    each = max(1, avail // max(n, 1))
    top = 0
    for name, values in sections:
        if top + each > avail:
            break
        px = 2 * each - (1 if each > 1 else 0)  # a dark separator line under each section
        img[2 * top:2 * top + px, LABEL_COLS:] = section_pixels(name, values, forward_done, px, cols)
        overlay[(top, 0)] = (f"{name:>4}", "#c8c8d0")
        top += each
    # bars: ‖∂ℒ/∂hₜ‖, known from t = T - backward_done (0-based) on
    bar_top = rows - axis_rows - bar_rows
    known_from = steps - backward_done
    decades = decade_range(norms[known_from:])
    img[2 * bar_top:2 * (bar_top + bar_rows), LABEL_COLS:] = bar_pixels(
        norms, known_from, 2 * bar_rows, cols, decades)
    lo, hi = decades
    overlay[(bar_top, 0)] = (f"1e{hi:+03d}", "#c8c8d0")
    overlay[(bar_top + bar_rows - 1, 0)] = (f"1e{lo:+03d}", "#c8c8d0")
    if bar_rows >= 4:
        overlay[(bar_top + bar_rows // 2, 0)] = ("‖∂ℒ/∂", "#c8c8d0")
        overlay[(bar_top + bar_rows // 2 + 1, 0)] = ("  hₜ‖", "#c8c8d0")
    # time axis: t = 1 at the left, T at the right, and a marker at the current step
    axis = rows - 1
    overlay[(axis, 0)] = ("   t=", "#8a8a96")
    overlay[(axis, LABEL_COLS)] = ("1", "#c8c8d0")
    label = str(steps)
    overlay[(axis, width - len(label))] = (label, "#c8c8d0")
    cursor = forward_done if backward_done == 0 else steps - backward_done + 1
    if 1 <= cursor <= steps:
        cols_of = np.flatnonzero(step_columns(steps, cols) == cursor - 1)
        if cols_of.size:
            col = LABEL_COLS + int(cols_of[len(cols_of) // 2])
            overlay[(axis, col)] = ("▲", "#ffd75f")
    return img, overlay


def stack_picture(sections, done: int, width: int, rows: int, live=None):
    """Heat maps stacked top to bottom, one per (label, (H, T) values), steps ≥ `done` pending;
    `live` (n, T) of 0/1 dims the steps where a section's sequence has ended (padding).

    Returns (pixels (2·rows, width, 3) uint8, overlay)."""
    width, rows = max(width, LABEL_COLS + 2), max(rows, 2)
    cols = width - LABEL_COLS
    img = np.empty((2 * rows, width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    overlay: dict = {}
    each = max(1, rows // max(len(sections), 1))
    for i, (name, values) in enumerate(sections):
        top = i * each
        if top + each > rows:
            break
        px = 2 * each - (1 if each > 1 else 0)
        part = section_pixels("h", values, done, px, cols)
        if live is not None:
            dead = step_columns(values.shape[1], cols)
            dead = (live[i][dead] == 0) & (dead < done)
            part[:, dead] = (part[:, dead] * 0.3 + BACKGROUND * 0.7).astype(np.uint8)
        img[2 * top:2 * top + px, LABEL_COLS:] = part
        overlay[(top, 0)] = (f"{name[:LABEL_COLS - 1]:>{LABEL_COLS - 1}}", "#c8c8d0")
    return img, overlay
