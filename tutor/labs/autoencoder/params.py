"""Parameters of the autoencoder lab that lessons may set (plain Python: no Textual, numba or core)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels this lab calls (the lesson mounts the lab once they are warm).
CORE_PACKAGES = ("generative", "data", "nn", "optim")

VIEWS = ("pca", "ae", "denoise", "vae")
CLOUDS = ("2d", "3d")
#: What the image panel of the digit views shows (p cycles through those of the view).
PAGES = ("recon", "denoise", "interp", "grid", "samples", "reparam")
VIEW_PAGES = {
    "ae": ("recon", "interp", "grid"),
    "denoise": ("denoise", "recon", "interp"),
    "vae": ("recon", "reparam", "grid", "samples", "interp"),
}

PARAMS: dict[str, Param] = {
    "view": Param("str", "pca", "pca: linear AE vs PCA on points; ae, denoise, vae: the digits",
                  choices=VIEWS),
    "page": Param("str", "", "image panel of a digit view (empty: the view's first); "
                  "recon, denoise, interp, grid, samples or reparam", choices=("",) + PAGES),
    # linear autoencoder vs PCA
    "cloud": Param("str", "2d", "the point cloud of the pca view", choices=CLOUDS),
    "k": Param("int", 1, "code size of the linear autoencoder (1 or 2; 2 needs the 3-D cloud)",
               min=1, max=2),
    "lr_linear": Param("float", 0.1, "gradient-descent step of the linear autoencoder",
                       min=1e-4, max=2.0),
    "azimuth": Param("float", 30.0, "viewing angle of the 3-D cloud in degrees", min=-360.0,
                     max=360.0),
    # digit autoencoders
    "hidden": Param("int", 32, "units of the hidden layers fc1 and fc4", min=4, max=128),
    "latent": Param("int", 2, "code size of the digit networks (the scatter shows the first "
                    "two numbers)", min=2, max=16),
    "lr": Param("float", 0.005, "Adam's learning rate for the digit networks", min=1e-5, max=0.1),
    "batch_size": Param("int", 64, "digits per mini-batch", min=4, max=1000),
    "batches": Param("int", 10, "mini-batches per lab step (one n)", min=1, max=100),
    "noise": Param("float", 0.3, "standard deviation of the noise on the denoising AE's input",
                   min=0.0, max=1.0),
    "beta": Param("float", 1.0, "weight β of the KL term of the VAE (β = 1: the true ELBO)",
                  min=0.0, max=20.0),
    "n_per_class": Param("int", 100, "digits per class in the data set", min=10, max=300),
    "seed": Param("int", 0, "seed of the weights, the data, the batches and the noise", min=0),
    "max_steps": Param("int", 600, "the lab stops after this many steps", min=1, max=5000),
    "steps": Param("int", 0, "steps trained before the lab is shown (a lesson's head start)",
                   min=0, max=1000),
}
