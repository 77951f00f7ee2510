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

__all__ = [
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
