"""Parameters of the robustness lab (chapter 7) that lessons may set (plain Python)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (the lesson mounts the lab once they are warm).
CORE_PACKAGES = ("nn", "optim", "data", "tensor", "robust")

VIEWS = ("plane", "digits", "lipschitz", "regularization")
ATTACKS = ("fgsm", "pgd")
NORMS = ("inf", "2")

PARAMS: dict[str, Param] = {
    "view": Param("str", "plane", "plane: a 2-D classifier under attack; digits: images; "
                  "lipschitz: power iteration and the bound; regularization: train/test curves",
                  choices=VIEWS),
    "attack": Param("str", "pgd", "fgsm: one signed step of size ε; pgd: projected steps of α",
                    choices=ATTACKS),
    "norm": Param("str", "inf", "the threat model: the L∞ ball (a square) or the L2 ball",
                  choices=NORMS),
    "eps": Param("float", 0.3, "radius ε of the ball the attacker may move the input in",
                 min=0.0, max=5.0),
    "alpha": Param("float", 0.06, "PGD step size α", min=1e-4, max=5.0),
    "pgd_steps": Param("int", 12, "PGD iterations", min=1, max=200),
    "point": Param("int", 0, "which test point (or test digit) is attacked", min=0),
    "zoom": Param("bool", False, "plane view: draw only the neighbourhood of the point"),
    "adv_train": Param("bool", False, "train on PGD examples of radius ε (Madry's min-max)"),
    "spectral": Param("bool", False, "train with spectral normalization W / σ(W) in every layer"),
    "weight_decay": Param("float", 0.01, "λ of the regularized run (regularization view)",
                          min=0.0, max=1.0),
    "dropout": Param("float", 0.3, "dropout probability p of the regularized run", min=0.0,
                     max=0.9),
    "patience": Param("int", 10, "early stopping: records without a better test loss",
                      min=1, max=100),
    "hidden": Param("int", 16, "units in each hidden layer", min=2, max=256),
    "train_steps": Param("int", 300, "Adam steps of training before the lab is shown", min=1,
                         max=5000),
    "lr": Param("float", 0.02, "Adam learning rate η", min=1e-5, max=1.0),
    "noise": Param("float", 0.15, "noise of the two-moons data", min=0.0, max=1.0),
    "n_points": Param("int", 200, "two-moons points (train and test together)", min=20,
                      max=2000),
    "power_iters": Param("int", 15, "power iterations the lipschitz view steps through",
                         min=1, max=200),
    "seed": Param("int", 0, "seed of the data, the weights and the batches", min=0),
}

#: Switching the view in the lab also sets these (each view's scale differs: digits live in
#: [0, 1]^256, the moons span about 3 units; the overfitting preset needs few points and a
#: wide network). Lessons set every parameter they rely on explicitly.
VIEW_DEFAULTS: dict[str, dict] = {
    "plane": {"eps": 0.3, "alpha": 0.06, "hidden": 16, "train_steps": 300, "lr": 0.02,
              "noise": 0.15, "n_points": 200},
    "digits": {"eps": 0.1, "alpha": 0.02, "hidden": 64, "train_steps": 300, "lr": 0.005},
    "lipschitz": {"hidden": 16, "train_steps": 300, "lr": 0.02, "noise": 0.15,
                  "n_points": 200},
    "regularization": {"hidden": 64, "train_steps": 1000, "lr": 0.003, "noise": 0.35,
                       "n_points": 60, "weight_decay": 0.01, "dropout": 0.3},
}
