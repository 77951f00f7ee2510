"""The robustness lab's saved state: the view and every setting (attack, norm, ε, α, PGD steps,
the point or digit attacked, zoom, adversarial training, spectral normalization, λ, dropout,
patience, power iterations…) and the step shown, as small plain JSON.

What comes back: all of it. The networks are trained again from the seed in the lab's worker
(as when the lesson opens: the same weights, a fraction of a second to a few seconds, shared
with other lessons through the lab's cache), then the view steps to where the student was.
Not kept: a prediction answered at step 0 (the question is asked again there).
"""

from __future__ import annotations

from tutor.labs import saved

KEYS = ("params", "k")
MAX_STEP = 100_000


def save(params: dict, k: int) -> dict:
    return {"params": dict(params), "k": int(k)}


def parse(state) -> tuple[dict, int]:
    """(validated settings, step) of `state`: TypeError, ValueError or KeyError on anything
    unexpected (the lab is not touched here)."""
    state = saved.mapping(state, KEYS)
    params = saved.lab_params("robustness", state["params"])
    return params, saved.whole(state["k"], "k", 0, MAX_STEP)
