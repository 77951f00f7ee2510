"""Tensors, layers, losses and training of multi-layer perceptrons (notes 1.3, 2.4.4, 3.2).

>>> from core.nn import MLP, make_dataset, train
>>> X, y = make_dataset("xor", n=200, noise=0.05, seed=0)
>>> model = MLP([2, 16, 16, 2], activation="tanh", seed=0)
>>> losses = train(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, steps=200)
"""

from __future__ import annotations

from core.nn.data import (
    DATASETS,
    CsvError,
    load_csv,
    make_blobs,
    make_circles,
    make_dataset,
    make_moons,
    make_spirals,
    make_xor,
    parse_csv,
    train_test_split,
)
from core.nn.layers import (
    ACTIVATIONS,
    activation,
    activation_backward,
    linear,
    linear_backward,
    relu,
    sigmoid,
    tanh,
)
from core.nn.losses import (
    LOSSES,
    cross_entropy,
    cross_entropy_and_grad,
    mse_loss,
    mse_loss_and_grad,
)
from core.nn.mlp import MLP, value_and_grad
from core.nn.training import OPTIMIZERS, Checkpoint, Trainer, default_hyper, train


def accuracy(model: MLP, X, y) -> float:
    """The fraction of rows whose highest output is the label (one output: output > 0.5)."""
    import numpy as np

    out = model(X)
    labels = np.asarray(y)
    if labels.shape != (out.shape[0],):
        raise ValueError(f"y must have shape ({out.shape[0]},), got {labels.shape}")
    pred = (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 else np.argmax(out, axis=1)
    return float(np.mean(pred == labels)) if labels.size else 0.0


__all__ = [
    "ACTIVATIONS", "DATASETS", "LOSSES", "OPTIMIZERS",
    "MLP", "Trainer", "Checkpoint", "CsvError",
    "accuracy", "activation", "activation_backward", "cross_entropy", "cross_entropy_and_grad",
    "default_hyper", "linear", "linear_backward", "load_csv", "make_blobs", "make_circles",
    "make_dataset", "make_moons", "make_spirals", "make_xor", "mse_loss", "mse_loss_and_grad",
    "parse_csv", "relu", "sigmoid", "tanh", "train", "train_test_split", "value_and_grad",
]
