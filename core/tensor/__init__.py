"""core.tensor: reverse-mode autodiff over float64 NumPy arrays, named like PyTorch (chapters 5-11).

A `Tensor` records the op that made it (its parents and a backward closure); `backward()`
orders the graph by creation, walks it once without recursion, and accumulates ∂ℒ/∂leaf into
the `.grad` of leaves that require grad. `functional` (F), `nn` and `optim` mirror their
torch namesakes.
"""

from __future__ import annotations

from core.tensor._tensor import (
    ShapeError,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    ones,
    randn,
    tensor,
    unbroadcast,
    zeros,
)
from core.tensor.check import GradcheckError, gradcheck
from core.tensor.ops import cat, concat, getitem, matmul, stack, where
from core.tensor import functional, nn, optim  # noqa: E402  (subpackages as attributes)

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "randn", "no_grad", "enable_grad", "is_grad_enabled",
    "matmul", "concat", "cat", "stack", "where", "getitem", "unbroadcast", "gradcheck",
    "GradcheckError", "ShapeError", "functional", "nn", "optim",
]
