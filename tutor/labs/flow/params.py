"""Parameters of the flow lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (the flows' networks, core.optim's update).
CORE_PACKAGES = ("optim", "nn", "generative")

VIEWS = ("1d", "2d")
TRANSFORMS = ("affine", "exp", "sinh", "split")
FLOWS = ("coupling", "planar")
DATASETS = ("moons", "ring", "banana", "line")
#: The data sets a planar flow can target: their density is known in closed form.
TARGETS = ("ring", "banana")

PARAMS: dict[str, Param] = {
    "view": Param("str", "1d", "1d: a monotone map of a Gaussian; 2d: a flow trained on 2-D "
                  "points", choices=VIEWS),
    "transform": Param("str", "split", "1d: x = f(z): a z + 1, exp(a z), sinh(a z) or "
                       "z + a tanh(3z)", choices=TRANSFORMS),
    "a": Param("float", 1.5, "1d: the strength a of the transform", min=0.05, max=5.0),
    "z0": Param("float", 0.5, "1d: the point z₀ whose |det| is shown", min=-3.0, max=3.0),
    "morph_steps": Param("int", 10, "1d: steps from the identity (t = 0) to f (t = 1)",
                         min=1, max=100),
    "flow": Param("str", "coupling", "2d: affine coupling layers (maximum likelihood on data) "
                  "or planar flows (reverse KL to a known density)", choices=FLOWS),
    "dataset": Param("str", "moons", "2d: the data set (planar flows: ring or banana)",
                     choices=DATASETS),
    "layers": Param("int", 4, "2d: number of flow layers", min=1, max=16),
    "hidden": Param("list[float]", [16, 16], "2d: hidden widths of each coupling layer's s, t "
                    "network (1..64, at most 3 layers)"),
    "lr": Param("float", 5e-3, "2d: Adam's learning rate", min=1e-5, max=0.5),
    "batch_size": Param("int", 128, "2d: points per step", min=8, max=1024),
    "n_points": Param("int", 1024, "2d: size of the data set", min=64, max=8192),
    "seed": Param("int", 0, "2d: seed of the data, weights and batches", min=0),
    "max_steps": Param("int", 5000, "2d: training stops after this many steps", min=1,
                       max=50_000),
    "steps": Param("int", 0, "2d: steps trained before the lab is shown (a head start)",
                   min=0, max=5000),
    "layer": Param("int", -1, "2d: the layer whose output the grid view shows (-1: the last)",
                   min=-1, max=16),
}
