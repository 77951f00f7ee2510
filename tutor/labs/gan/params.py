"""Parameters of the GAN lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (core.optim's update, the bilinear game).
CORE_PACKAGES = ("optim", "nn", "generative")

VIEWS = ("gan", "bilinear")
DATASETS = ("ring", "moons", "line", "custom")
G_LOSSES = ("nonsaturating", "minimax")
OPTIMIZERS = ("adam", "sgd")
ACTIVATIONS = ("relu", "tanh", "leaky_relu")

#: The points of the custom data set until the student clicks their own (a small cross).
CUSTOM_POINTS = [[-1.5, 0.0], [-0.75, 0.0], [0.75, 0.0], [1.5, 0.0], [0.0, -1.5], [0.0, -0.75],
                 [0.0, 0.75], [0.0, 1.5]]

PARAMS: dict[str, Param] = {
    "view": Param("str", "gan", "gan: the two networks on 2-D data; bilinear: gradient "
                  "descent-ascent on min_x max_y x·y", choices=VIEWS),
    "dataset": Param("str", "ring", "the real data: a ring of 8 Gaussians, two moons, a line, "
                     "or custom points (click the map to add)", choices=DATASETS),
    "points": Param("list[list[float]]", CUSTOM_POINTS, "the custom data set's points [x, y]"),
    "n_points": Param("int", 512, "how many real points are drawn", min=8, max=4096),
    "g_loss": Param("str", "nonsaturating", "the generator's loss: −log D(G(z)) "
                    "(non-saturating) or log(1 − D(G(z))) (minimax)", choices=G_LOSSES),
    "k": Param("int", 1, "discriminator steps per generator step", min=1, max=20),
    "g_lr": Param("float", 1e-3, "the generator's learning rate", min=1e-6, max=1.0),
    "d_lr": Param("float", 1e-3, "the discriminator's learning rate", min=1e-6, max=1.0),
    "optimizer": Param("str", "adam", "both networks' optimizer (Adam with β₁ = 0.5)",
                       choices=OPTIMIZERS),
    "g_hidden": Param("list[float]", [16, 16], "the generator's hidden widths (1..64, at most 3)"),
    "d_hidden": Param("list[float]", [16, 16], "the discriminator's hidden widths"),
    "activation": Param("str", "relu", "hidden activation of both networks", choices=ACTIVATIONS),
    "latent": Param("int", 2, "dimension of the noise z ~ N(0, I)", min=1, max=8),
    "batch_size": Param("int", 64, "real and fake points per step", min=1, max=1024),
    "seed": Param("int", 0, "seed of the weights, batches and noise", min=0),
    "max_steps": Param("int", 5000, "training stops after this many rounds", min=1, max=50_000),
    "steps": Param("int", 0, "rounds trained before the lab is shown (a lesson's head start)",
                   min=0, max=5000),
    "arrows": Param("bool", True, "draw each generated point's gradient as an arrow"),
    "x0": Param("float", 1.0, "bilinear game: the start x", min=-10.0, max=10.0),
    "y0": Param("float", 1.0, "bilinear game: the start y", min=-10.0, max=10.0),
    "eta": Param("float", 0.2, "bilinear game: the step size η", min=1e-4, max=1.9),
    "game_steps": Param("int", 100, "bilinear game: how many steps can be taken", min=1,
                        max=2000),
    "predict_at": Param("int", 10, "bilinear game: the step whose distance to (0, 0) the "
                        "student predicts", min=1, max=2000),
}
