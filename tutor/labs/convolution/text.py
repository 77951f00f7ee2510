"""The convolution lab's text panels: kernel grids, sliding-window sums, formulas, tables."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from tutor.labs.convolution.model import ConvModel, Window


def cell(v: float, width: int = 6) -> str:
    """A number in `width` characters: integers plain, simple fractions as n/d, else 3 digits."""
    v = float(v)
    if v.is_integer() and abs(v) < 10**5:
        text = str(int(v))
    else:
        f = Fraction(v).limit_denominator(256)
        if abs(float(f) - v) < 1e-12 and len(str(f)) <= width - 1:
            text = str(f)
        else:
            text = f"{v:.2f}" if abs(v) < 100 else f"{v:.3g}"
    return text.rjust(width)[:width] if len(text) <= width else f"{v:.1e}"[:width]


def grid(a: np.ndarray, width: int = 6) -> list[str]:
    return ["".join(cell(v, width) for v in row) for row in a]


def slide_text(m: ConvModel, w: Window, revealed: bool) -> str:
    K = m.k
    width = 6 if K <= 4 else 5
    lines = [f"window at output ({w.i}, {w.j})", "patch x (padded input):"]
    lines += grid(w.patch, width)
    lines.append("x ⊙ w (products):")
    lines += grid(w.products, width)
    bias = f" + b ({w.bias:g})" if w.bias else ""
    if revealed:
        lines.append(f"Σ{bias} = {w.total:.4g}")
        if m.params["relu"]:
            lines.append(f"ReLU → y = {w.output:.4g}")
    else:
        lines.append(f"Σ{bias} = ?  (? reveals)")
    return "\n".join(lines)


def filter_text(m: ConvModel, out: np.ndarray) -> str:
    name = m.current_kernel_name()
    return (
        f"kernel {name} ({m.k}×{m.k})\n{m.formula()}\n"
        f"values {out.min():.3g} … {out.max():.3g}"
    )


def bank_text(m: ConvModel, bank) -> str:
    lines = [f"{len(bank)} kernels → {len(bank)} maps", "(maps: left→right, top→bottom)"]
    for name, maps in bank:
        lines.append(f" {name:<9} {maps.min():7.2f} … {maps.max():.2f}")
    oh, ow = bank[0][1].shape
    lines.append(f"output {len(bank)} × {oh} × {ow}")
    lines.append(f"parameters {len(bank)}·({m.k}·{m.k}+1) = {len(bank) * (m.k * m.k + 1)}")
    return "\n".join(lines)


def stack_text(m: ConvModel) -> str:
    side, r0, r1, c0, c1 = m.receptive()
    L, K = m.layers(), m.k
    r, c = m.focus
    return (
        f"{L} layers of {K}×{K} ({m.current_kernel_name()}),\nsame padding\n"
        f"receptive field 1 + L(K − 1)\n  = 1 + {L}·{K - 1} = {side}\n"
        f"output pixel ({r}, {c}) sees\n  rows {r0}…{r1 - 1}, cols {c0}…{c1 - 1}\n"
        "arrows move it · , . layers"
    )


def pool_text(m: ConvModel, d: dict) -> str:
    k, s = d["size"], d["shift"]
    h, w = d["map"].shape
    ph, pw = d["pooled"].shape
    return (
        f"{m.params['pool']} pooling {k}×{k}, stride {k}\n"
        f"map {h}×{w} → pooled {ph}×{pw}\n"
        f"input shifted right by {s} px\n"
        f"change Σ|after−before|\n         / Σ|before|\n"
        f"  feature map  {d['change_map']:6.0%}\n"
        f"  after pool   {d['change_pooled']:6.0%}"
    )


def lenet_text(m: ConvModel, scores: np.ndarray) -> str:
    lines = ["LeNet-5 on a 1×32×32 digit", f"{'':<4}{'output':>12}{'params':>9}"]
    for name, _kind, shape, params in m.lenet_table():
        lines.append(f"{name:<4}{shape.replace(' ', ''):>12}{params:>9}")
    lines.append(f"{'':<4}{'total':>12}{sum(int(r[3].replace(',', '')) for r in m.lenet_table()):>9,}")
    lines.append(f"digit {m.digit()}: top score class {int(np.argmax(scores))}")
    lines.append("(untrained weights)")
    return "\n".join(lines)
