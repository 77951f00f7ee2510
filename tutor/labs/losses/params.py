"""Parameters of the losses lab (notes 3.2) that lessons may set (plain Python)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The lab computes with NumPy only and calls no core kernel, so it mounts at once.
CORE_PACKAGES = ()

MODES = ("compare", "stability")

PARAMS: dict[str, Param] = {
    "mode": Param("str", "compare", "compare: MSE and cross-entropy on the same predictions; "
                  "stability: naive vs log-sum-exp cross-entropy", choices=MODES),
    "logits": Param("list[float]", [2.0, 1.0, -1.0], "the scores x of one sample, one per class"),
    "label": Param("int", 0, "the true class y (0-based)", min=0),
    "scale": Param("float", 1.0, "multiply the logits by this (large values overflow exp)",
                   min=-1000.0, max=1000.0),
}
