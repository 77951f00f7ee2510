"""Parameters of the normalization lab (plain Python: lessons are validated without Textual)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels the lab calls (the lesson mounts it once they are warm).
CORE_PACKAGES = ("vision",)

PARAMS = {
    "kind": Param("str", "batch", "which normalization", choices=("batch", "layer", "instance")),
    "n": Param("int", 4, "N, samples in the batch", min=2, max=6),
    "c": Param("int", 3, "C, channels", min=1, max=6),
    "h": Param("int", 2, "H, rows of each map", min=1, max=4),
    "w": Param("int", 2, "W, columns of each map", min=1, max=4),
    "mode": Param("str", "train", "train (batch statistics) or eval (running ones)", choices=("train", "eval")),
    "momentum": Param("float", 0.1, "the running statistics' momentum", min=0.0, max=1.0),
    "eps": Param("float", 1e-5, "ε under the square root", min=0.0, max=1.0),
    "seed": Param("int", 0, "seed of the random batches", min=0, max=9999),
    "fold": Param("bool", False, "show BatchNorm folded into the preceding conv"),
    # The 4.5.4 experiment (view = "training"): a small CNN on the digits, with and without BN.
    "view": Param("str", "batch", "batch: one batch normalized; training: the 4.5.4 CNN race",
                  choices=("batch", "training")),
    "lr_low": Param("float", 0.05, "the smaller learning rate of the race", min=0.001, max=2.0),
    "lr_high": Param("float", 0.5, "the larger learning rate of the race", min=0.001, max=2.0),
    "cnn_steps": Param("int", 300, "SGD steps of each run in the race", min=20, max=1000),
    "threshold": Param("float", 1.0, "the race's finish line: training loss below it", min=0.01, max=2.3),
}
