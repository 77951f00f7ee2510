"""Generative models (chapters 9, 10, 11): autoencoders and VAEs, GANs, normalizing flows.

>>> import numpy as np
>>> from core.generative import gaussian_kl
>>> gaussian_kl(np.zeros((1, 2)), np.zeros((1, 2)))
array([0.])
"""

# One line per module: each engineer adds the lines of their own modules.
from core.generative.vae import bernoulli_log_likelihood, elbo, gaussian_kl, reparameterize
from core.generative.linear_ae import (
    linear_autoencoder_steps, principal_angles, principal_subspace, train_linear_autoencoder)
from core.generative.autoencoder import DigitAutoencoder
from core.generative.datasets import (DATASETS_2D, grad_log_density_2d, log_density_2d,
                                      modes_covered, ring_mode_counts, sample_2d)
from core.generative.flows import (MONOTONE_1D, AffineCoupling, Flow, FlowTrainer,
                                   Monotone1D, PlanarFlow)
from core.generative.gan import (GAN, bilinear_game, discriminator_loss, gan_value,
                                 generator_loss, js_divergence, optimal_discriminator)

__all__ = [
    "DATASETS_2D", "GAN", "MONOTONE_1D", "AffineCoupling", "Flow", "FlowTrainer", "Monotone1D",
    "PlanarFlow", "bilinear_game", "discriminator_loss", "gan_value", "generator_loss",
    "grad_log_density_2d", "js_divergence", "log_density_2d", "modes_covered",
    "optimal_discriminator", "ring_mode_counts", "sample_2d",
    "DigitAutoencoder",
    "bernoulli_log_likelihood",
    "elbo",
    "gaussian_kl",
    "linear_autoencoder_steps",
    "principal_angles",
    "principal_subspace",
    "reparameterize",
    "train_linear_autoencoder",
]
