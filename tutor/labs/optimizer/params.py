"""Parameters of the optimizer lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels the lab calls (the lesson mounts it once they are warm).
CORE_PACKAGES = ("optim",)

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "newton")
SURFACES = ("quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "plateau", "least_squares")
MODES = ("race", "convergence")
CHARTS = ("loss", "distance")

PARAMS: dict[str, Param] = {
    "mode": Param("str", "race", "race: optimizers on a map; convergence: SGD with a fixed vs "
                  "a decreasing step size (notes 3.4)", choices=MODES),
    "surface": Param("str", "rosenbrock", "the loss surface", choices=SURFACES),
    "optimizers": Param("list[str]", ["sgd", "momentum", "adam"],
                        "the optimizers in the race", choices=OPTIMIZERS),
    "focus": Param("str", "", "the optimizer whose state and equation are shown (default: the "
                   "last of `optimizers`)", choices=("",) + OPTIMIZERS),
    "lr": Param("list[float]", [], "η for each optimizer of `optimizers`, in order (empty or "
                "missing: a value that suits the surface)"),
    "gamma": Param("float", 0.9, "γ of momentum, Nesterov and RMSProp", min=0.0, max=0.999),
    "beta1": Param("float", 0.9, "β₁ of Adam and AMSGrad", min=0.0, max=0.999),
    "beta2": Param("float", 0.999, "β₂ of Adam and AMSGrad", min=0.0, max=0.99999),
    "eps": Param("float", 1e-8, "ε of AdaGrad, RMSProp, Adam and AMSGrad", min=0.0, max=1.0),
    "start": Param("list[float]", [], "the start point [x, y] (empty: the surface's own)"),
    "steps": Param("int", 400, "how many steps the race runs", min=1, max=5000),
    "batch_size": Param("int", 1, "samples per gradient on least_squares (100 = the full "
                        "batch, exact gradient)", min=1, max=100),
    "noise": Param("float", 0.5, "noise of the least-squares data", min=0.0, max=3.0),
    "seed": Param("int", 0, "seed of the least-squares data and batches", min=0),
    "chart": Param("str", "loss", "the curve beneath the map: L(θ) − L(θ*) or ‖θ − θ*‖",
                   choices=CHARTS),
    "at": Param("int", 0, "the step shown when the lab opens", min=0),
}
