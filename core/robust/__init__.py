"""Adversarial examples and Lipschitz bounds (chapter 7): FGSM, PGD, power iteration.

>>> from core.robust import fgsm, pgd, spectral_norm, lipschitz_upper_bound
>>> x_adv = fgsm(model, x, y, eps=0.1, clip=(0, 1))          # model: a core.tensor module
>>> x_pgd = pgd(model, x, y, eps=0.1, alpha=0.02, steps=20)
"""

from __future__ import annotations

from core.robust.attacks import (
    NORMS,
    ascent_direction,
    fgsm,
    input_gradient,
    logits_of,
    per_sample_losses,
    pgd,
    pgd_path,
    project,
    uniform_in_ball,
)
from core.robust.lipschitz import (
    ACTIVATION_LIPSCHITZ,
    certified_radius,
    jacobian,
    layer_lipschitz,
    layers_of,
    lipschitz_upper_bound,
    local_lipschitz,
    margins,
    power_iteration,
    spectral_norm,
)

__all__ = [
    "ACTIVATION_LIPSCHITZ", "NORMS", "ascent_direction", "certified_radius", "fgsm",
    "input_gradient", "jacobian", "layer_lipschitz", "layers_of", "lipschitz_upper_bound",
    "local_lipschitz", "logits_of", "margins", "per_sample_losses", "pgd", "pgd_path",
    "power_iteration", "project", "spectral_norm", "uniform_in_ball",
]
