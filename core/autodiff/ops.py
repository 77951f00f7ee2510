"""The op table: every scalar op's forward value and local derivatives, side by side.

`apply_op` is the compiled table the tape kernels call; `OPS` is the same table for people and
for the UI: the op's name, arity, how it is written, and each local derivative as a formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core._jit import jit

# Op codes (int64 in the tape). INPUT and CONST are leaves; the others have 1 or 2 inputs.
INPUT, CONST, ADD, SUB, MUL, DIV, NEG, POW = 0, 1, 2, 3, 4, 5, 6, 7
EXP, LOG, SQRT, ABS, SIN, COS, TANH, SIGMOID, RELU = 8, 9, 10, 11, 12, 13, 14, 15, 16


@jit(error_model="numpy")
def apply_op(code, a, b, p):
    """(v, ∂v/∂a, ∂v/∂b) for op `code` on inputs a, b and constant p (POW's exponent).

    One line per op: the forward value, then the local gradient on each in-edge. IEEE
    arithmetic throughout (1/0 = inf, log(-1) = nan), never an exception.
    """
    if code == ADD:
        return a + b, 1.0, 1.0
    if code == SUB:
        return a - b, 1.0, -1.0
    if code == MUL:
        return a * b, b, a
    if code == DIV:
        return a / b, 1.0 / b, -a / (b * b)
    if code == NEG:
        return -a, -1.0, 0.0
    if code == POW:
        return a**p, (0.0 if p == 0.0 else p * a ** (p - 1.0)), 0.0
    if code == EXP:  # np.* rather than math.*: IEEE results even with NUMBA_DISABLE_JIT=1
        v = np.exp(a)
        return v, v, 0.0
    if code == LOG:
        return np.log(a) if a >= 0.0 else math.nan, 1.0 / a, 0.0
    if code == SQRT:
        v = np.sqrt(a) if a >= 0.0 else math.nan
        return v, 0.5 / v, 0.0
    if code == ABS:
        return abs(a), (1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0 * a)), 0.0
    if code == SIN:
        return np.sin(a), np.cos(a), 0.0
    if code == COS:
        return np.cos(a), -np.sin(a), 0.0
    if code == TANH:
        v = np.tanh(a)
        return v, 1.0 - v * v, 0.0
    if code == SIGMOID:  # one block with its hard-coded local gradient σ(1 - σ) (notes 2.4.5)
        if a >= 0.0:
            v = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            v = e / (1.0 + e)
        return v, v * (1.0 - v), 0.0
    if code == RELU:
        return (a if a > 0.0 else 0.0 * a), (1.0 if a > 0.0 else 0.0 * a), 0.0
    return math.nan, math.nan, math.nan


@dataclass(frozen=True)
class OpInfo:
    """How an op is named and written, and its local derivatives as formulas (a, b inputs)."""

    code: int
    name: str
    arity: int
    symbol: str  # the label of its box in a drawn graph
    local: tuple[str, ...]  # ∂v/∂a (and ∂v/∂b) in words


OPS: dict[str, OpInfo] = {
    info.name: info
    for info in [
        OpInfo(INPUT, "input", 0, "", ()),
        OpInfo(CONST, "const", 0, "", ()),
        OpInfo(ADD, "add", 2, "+", ("1", "1")),
        OpInfo(SUB, "sub", 2, "-", ("1", "-1")),
        OpInfo(MUL, "mul", 2, "×", ("b", "a")),
        OpInfo(DIV, "div", 2, "÷", ("1/b", "-a/b²")),
        OpInfo(NEG, "neg", 1, "neg", ("-1",)),
        OpInfo(POW, "pow", 1, "^", ("p·a^(p-1)",)),
        OpInfo(EXP, "exp", 1, "exp", ("exp(a)",)),
        OpInfo(LOG, "log", 1, "log", ("1/a",)),
        OpInfo(SQRT, "sqrt", 1, "sqrt", ("1/(2√a)",)),
        OpInfo(ABS, "abs", 1, "abs", ("sign(a)",)),
        OpInfo(SIN, "sin", 1, "sin", ("cos(a)",)),
        OpInfo(COS, "cos", 1, "cos", ("-sin(a)",)),
        OpInfo(TANH, "tanh", 1, "tanh", ("1 - tanh²(a)",)),
        OpInfo(SIGMOID, "sigmoid", 1, "σ", ("σ(a)(1 - σ(a))",)),
        OpInfo(RELU, "relu", 1, "relu", ("1 if a > 0 else 0",)),
    ]
}

#: op code -> OpInfo
BY_CODE: dict[int, OpInfo] = {info.code: info for info in OPS.values()}

#: The functions an expression may call (one argument each).
FUNCTIONS = ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu")
