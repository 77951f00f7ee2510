"""Parameters of the MLP lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (the lesson mounts the lab once they are warm).
CORE_PACKAGES = ("nn", "optim")

DATASETS = ("circles", "xor", "moons", "spirals", "blobs", "csv")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "newton")
VIEWS = ("weights", "settings")

#: Most hidden layers and most units per layer the lab accepts (it stays responsive).
MAX_HIDDEN_LAYERS = 4
MAX_WIDTH = 64

PARAMS: dict[str, Param] = {
    "dataset": Param("str", "circles", "the 2-D points: a generator, or csv to load csv_path",
                     choices=DATASETS),
    "csv_path": Param("str", "", "a CSV file of x, y, label rows (with dataset = \"csv\")"),
    "n_points": Param("int", 200, "how many points the generator draws", min=10, max=2000),
    "noise": Param("float", 0.1, "standard deviation of the jitter added to the points",
                   min=0.0, max=1.0),
    "classes": Param("int", 3, "number of classes (spirals and blobs only)", min=2, max=8),
    "test_fraction": Param("float", 0.25, "share of the points held out as the test set",
                           min=0.05, max=0.9),
    "data_seed": Param("int", 0, "seed of the data set and of the train/test split", min=0),
    "hidden": Param("list[float]", [8, 8],
                    f"units in each hidden layer (whole numbers 1..{MAX_WIDTH}, at most "
                    f"{MAX_HIDDEN_LAYERS} layers; [] is a linear model)"),
    "activation": Param("str", "relu", "non-linearity after each hidden layer",
                        choices=ACTIVATIONS),
    "loss": Param("str", "cross_entropy", "training loss (mse uses one-hot targets)",
                  choices=LOSSES),
    "optimizer": Param("str", "adam", "the update rule (core.optim)", choices=OPTIMIZERS),
    "lr": Param("float", 0.02, "learning rate η", min=1e-6, max=10.0),
    "gamma": Param("float", 0.9, "γ of momentum, Nesterov and RMSProp", min=0.0, max=0.999),
    "beta1": Param("float", 0.9, "β₁ of Adam and AMSGrad", min=0.0, max=0.999),
    "beta2": Param("float", 0.999, "β₂ of Adam and AMSGrad", min=0.0, max=0.99999),
    "batch_size": Param("int", 32, "points per mini-batch (≥ the data: full batch)",
                        min=1, max=2000),
    "seed": Param("int", 0, "seed of the initial weights and of the batch order", min=0),
    "max_steps": Param("int", 3000, "training stops after this many steps", min=1,
                       max=100_000),
    "layer": Param("int", 1, "which layer's weights and gradients the side view shows", min=1),
    "view": Param("str", "weights", "what the side panel starts on", choices=VIEWS),
    "steps": Param("int", 0, "steps to train before the lab is shown (a lesson's head start)",
                   min=0, max=5000),
}
