"""Per-optimizer constants of the lab: colours, update equations, step sizes that suit each surface."""

from __future__ import annotations

from core.optim import USES
from tutor.widgets.palette import (BRIGHT_CYAN, BRIGHT_GREEN, BRIGHT_ORANGE, BRIGHT_PINK,
                                    BRIGHT_PURPLE, BRIGHT_RED, BRIGHT_WHITE, BRIGHT_YELLOW)

#: One bright colour per optimizer, readable over the darkened viridis map.
COLORS: dict[str, str] = {
    "sgd": BRIGHT_WHITE,
    "momentum": BRIGHT_RED,
    "nesterov": BRIGHT_ORANGE,
    "adagrad": BRIGHT_CYAN,
    "rmsprop": BRIGHT_GREEN,
    "adam": BRIGHT_PINK,
    "amsgrad": BRIGHT_YELLOW,
    "newton": BRIGHT_PURPLE,
}

#: The update each optimizer applies, as the notes write it (3.5; Newton 2.2.4).
EQUATIONS: dict[str, tuple[str, ...]] = {
    "sgd": ("θ ← θ − η g",),
    "momentum": ("v ← γ v + η g", "θ ← θ − v"),
    "nesterov": ("v ← γ v + η ∇L(θ − γ v)", "θ ← θ − v"),
    "adagrad": ("s ← s + g²", "θ ← θ − η g / √(s + ε)"),
    "rmsprop": ("s ← γ s + (1 − γ) g²", "θ ← θ − η g / √(s + ε)"),
    "adam": ("m ← β₁m + (1 − β₁) g", "v ← β₂v + (1 − β₂) g²",
             "m̂ = m/(1−β₁ᵗ)  v̂ = v/(1−β₂ᵗ)", "θ ← θ − η m̂ / (√v̂ + ε)"),
    "amsgrad": ("m ← β₁m + (1 − β₁) g", "v ← β₂v + (1 − β₂) g²",
                "v̂ ← max(v̂, v)", "θ ← θ − η m / (√v̂ + ε)"),
    "newton": ("θ ← θ − η H⁻¹ g",),
}

#: The hyperparameters each optimizer reads, in the order the lab shows them (core's table).
HYPER_USED: dict[str, tuple[str, ...]] = USES

_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "newton")


def _row(*values: float) -> dict[str, float]:
    return dict(zip(_ORDER, values))


#: Step sizes that make a good race on each surface (found by a sweep over 300-500 steps).
SURFACE_LR: dict[str, dict[str, float]] = {
    "quadratic": _row(0.03, 0.01, 0.01, 0.5, 0.01, 0.1, 0.05, 1.0),
    "rosenbrock": _row(0.001, 0.001, 0.001, 0.5, 0.01, 0.1, 0.1, 1.0),
    "beale": _row(0.01, 0.001, 0.001, 0.3, 0.01, 0.1, 0.1, 1.0),
    "himmelblau": _row(0.001, 0.001, 0.001, 0.3, 0.01, 0.05, 0.01, 1.0),
    "saddle": _row(0.03, 0.01, 0.01, 0.3, 0.01, 0.03, 0.01, 1.0),
    "plateau": _row(0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.003, 1.0),
    "least_squares": _row(0.02, 0.003, 0.003, 0.3, 0.03, 0.05, 0.03, 0.1),
}
