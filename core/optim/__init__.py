"""First-order optimizers, Newton's method and loss surfaces (notes 2.2, 3.3-3.6)."""

from __future__ import annotations

from core.optim.steps import DEFAULTS, FIRST_ORDER, OPTIMIZER_CODES, apply_step, make_hyper

__all__ = ["DEFAULTS", "FIRST_ORDER", "OPTIMIZER_CODES", "apply_step", "make_hyper"]
