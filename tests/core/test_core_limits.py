"""Hostile numbers and sizes: eps = 0 never divides by zero, huge sizes are refused by name."""

from __future__ import annotations

import numpy as np
import pytest

import core.autodiff.symbolic as symbolic
import core.nn as nn
import core.optim as optim
import core.rl as rl
import core.vision as vision
from core.nn import data as nn_data
from core.vision import images


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adam", "amsgrad"])
def test_eps_zero_at_a_minimum_does_not_move(optimizer):
    """Started at the minimum every gradient is 0: the 0 / 0 update is taken as 0."""
    path = optim.run(optimizer, "quadratic", np.zeros(2), 5, eps=0.0)
    assert np.array_equal(path, np.zeros((6, 2)))
    moved = optim.run(optimizer, "quadratic", np.ones(2), 3, eps=0.0)
    assert np.all(np.isfinite(moved)) and not np.array_equal(moved[-1], moved[0])


def test_eps_zero_with_a_dead_unit_trains():
    X, y = nn.make_dataset("xor", n=40, seed=0)
    model = nn.MLP([2, 3, 2], seed=0)
    first = model._slices()[0]
    w = model.theta[first[0]].reshape(first[1])
    w[0] = 0.0  # unit 0 of the hidden layer: weights 0 and a negative bias, so ReLU is dead
    bias = model._slices()[1]
    model.theta[bias[0]][0] = -1.0
    for optimizer in ("adagrad", "rmsprop", "adam", "amsgrad"):
        losses = nn.train(model, X, y, optimizer=optimizer, steps=3, eps=0.0)
        assert np.all(np.isfinite(losses))


@pytest.mark.parametrize("norm", ["batch_norm", "layer_norm", "instance_norm"])
def test_eps_zero_on_a_constant_input_gives_nan_not_an_error(norm):
    x = np.ones((2, 3, 2, 2))
    out = getattr(vision, norm)(x, eps=0.0)
    assert np.all(np.isnan(out))
    dx, _, _ = getattr(vision, norm + "_backward")(np.ones_like(x), x, eps=0.0)
    assert np.all(np.isnan(dx))
    assert np.allclose(getattr(vision, norm)(x + np.arange(24).reshape(x.shape), eps=0.0).std(), 1,
                       atol=0.2)


@pytest.mark.parametrize("call, limit", [
    (lambda: optim.run("sgd", "quadratic", [1.0, 1.0], 10**9), "MAX_STEPS"),
    (lambda: nn.MLP([10**6, 10**6, 2]), "MAX_PARAMETERS"),
    (lambda: nn.MLP([2] * 5000), "MAX_LAYERS"),
    (lambda: nn.make_dataset("moons", n=10**10), "MAX_POINTS"),
    (lambda: symbolic.logistic_map(10**6), "MAX_MAP_STEPS"),
    (lambda: symbolic.growth(10**6), "MAX_GROWTH"),
    (lambda: rl.value_iteration(rl.Gridworld(2, 2), 1.0, max_iter=10**9), "MAX_SWEEPS"),
    (lambda: rl.policy_evaluation(rl.Gridworld(2, 2), np.zeros(4, dtype=int), 1.0,
                                  max_iter=10**9), "MAX_SWEEPS"),
])
def test_sizes_beyond_the_limits_are_refused_by_name(call, limit):
    with pytest.raises(ValueError, match=limit):
        call()


@pytest.mark.parametrize("load, limit, suffix", [
    (nn.load_csv, "MAX_CSV_BYTES", ".csv"), (vision.load_image, "MAX_FILE_BYTES", ".pgm")])
def test_data_files_refuse_devices_and_huge_files_unread(tmp_path, monkeypatch, load, limit, suffix):
    """A lesson's data path to /dev/zero, a folder or a sparse file one byte over the limit is
    refused by name, and never opened (a read of /dev/zero would not end)."""
    import core._files as files

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(files.os, "open", no_open)
    with pytest.raises(ValueError, match="not a regular file"):
        load("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        load(tmp_path)
    big = tmp_path / f"big{suffix}"
    with big.open("wb") as f:
        f.truncate(getattr(nn_data if limit == "MAX_CSV_BYTES" else images, limit) + 1)
    with pytest.raises(ValueError, match=f"larger than {limit} = "):
        load(big)


def test_a_file_growing_past_the_limit_is_read_no_further(tmp_path, monkeypatch):
    monkeypatch.setattr(nn_data, "MAX_CSV_BYTES", 100)
    small = tmp_path / "small.csv"
    small.write_text("0.0, 0.0, 0\n1.0, 1.0, 1\n")
    assert nn.load_csv(small)[0].shape == (2, 2)
    big = tmp_path / "big.csv"
    big.write_text("0.0, 0.0, 0\n" * 50)
    with pytest.raises(nn.CsvError, match="MAX_CSV_BYTES"):
        nn.load_csv(big)
    import core._files as files

    # Checked at 12 bytes, then read: what is over the limit is not read, and is refused.
    monkeypatch.setattr(files, "check_regular_file", lambda *args: 12)
    with pytest.raises(nn.CsvError, match="larger than MAX_CSV_BYTES"):
        nn.load_csv(big)


def test_downscale_of_a_long_thin_image_allocates_little():
    """4,000,000 x 1 passes the pixel limit; padding to f x f blocks wanted 931 GiB."""
    out = images.downscale(np.linspace(0, 1, 4_000_000).reshape(-1, 1), 128)
    assert out.shape == (128, 1) and abs(out.mean() - 0.5) < 1e-3
    square = images.downscale(np.ones((300, 300)), 128)
    assert square.shape == (100, 100)
