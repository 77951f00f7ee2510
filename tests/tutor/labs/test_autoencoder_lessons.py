"""Every number the chapter 9 lessons quote from the autoencoder lab, computed from the lab's
own model at the lessons' settings (the lab's defaults plus their lab blocks)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from core.generative import gaussian_kl, reparameterize
from tutor.content import load_catalog
from tutor.labs import validate_lab
from tutor.labs.autoencoder.model import AutoencoderModel

LESSONS = Path(__file__).parents[3] / "lessons"


def _text(name: str) -> str:
    return (LESSONS / name).read_text("utf-8")


def _lab_of(lesson_id: str) -> dict:
    lesson = next(item for item in load_catalog().lessons if item.id == lesson_id)
    return validate_lab("autoencoder", dict(lesson.lab.params))


def _model(lesson_id: str, **extra) -> AutoencoderModel:
    params = {**_lab_of(lesson_id), **extra}
    model = AutoencoderModel(params)
    model.advance(int(params["steps"]))
    return model


def test_chapter_9_lessons_number_their_sections_and_the_first_says_so():
    text = _text("ch9_01_bottleneck.md")
    assert "The notes give chapter 9 its title only" in text and "own" in text
    for i, name in enumerate(sorted(p.name for p in LESSONS.glob("ch9_*.md")), start=1):
        assert f'sections = ["9.{i}"]' in _text(name), name


def test_bottleneck_numbers():
    m = _model("ae-bottleneck")
    first = m.current.state.recon
    assert 256 * math.log(2) == pytest.approx(177.4, abs=0.05)
    assert abs(first - 177.4) <= 8 and round(first, -1) == 180  # "about 180 at step 0"


def test_linear_ae_numbers():
    m = _model("ae-linear-pca")
    pm = m.current
    assert [round(v, 3) for v in pm.eigenvalues] == [3.837, 0.364]
    assert round(pm.floor, 3) == 0.182
    assert round(pm.state.angles[0], 1) == 26.7
    m.advance(10)
    assert round(pm.state.angles[0], 1) == 2.5
    m.advance(10)
    assert round(pm.state.angles[0], 1) == 0.7
    m.advance(200)
    assert pm.state.loss == pytest.approx(pm.floor, rel=1e-4)
    three = _model("ae-linear-pca", cloud="3d", k=2).current
    assert [round(v, 3) for v in three.eigenvalues] == [4.112, 0.997, 0.115]
    assert round(three.floor, 4) == 0.0384


def test_denoising_numbers():
    m = _model("ae-denoising")
    assert m.current.latent == 8 and m.current.noise == 0.3
    assert round(m.current.question()[2], 3) == 0.050
    rng = np.random.default_rng(0)
    n = 0.3 * rng.standard_normal(400_000)
    assert np.mean(np.clip(n, 0, 1) ** 2) == pytest.approx(0.045, abs=0.001)


def test_elbo_numbers():
    assert gaussian_kl(np.array([1.0, 0.0]), np.zeros(2)) == pytest.approx(0.5)
    assert gaussian_kl(np.zeros(1), np.ones(1)) == pytest.approx(0.359, abs=5e-4)
    m = _model("ae-elbo", n_per_class=100)
    assert m.current.state.kl < 0.2  # "at first the KL is nearly 0"
    m.advance(60)
    assert 1.0 < m.current.state.kl < 5.0  # "rises to a few nats"


def test_reparameterization_numbers():
    z = reparameterize(np.array([0.5]), np.array([-1.386]), np.array([-2.0]))
    assert z[0] == pytest.approx(-0.5, abs=0.01)
    assert -2.0 * math.exp(-1.386 / 2) / 2 == pytest.approx(-0.5, abs=0.01)
    m = _model("ae-reparameterization")
    dm = m.current
    assert m.params["page"] == "reparam" and dm.state.t == 200
    sigma = np.exp(dm.snapshot.logvar / 2)
    assert np.median(sigma) < 0.5 * dm.snapshot.codes.std(axis=0).min()  # "σ is small"


def test_sampling_numbers():
    p = math.erf(2 / math.sqrt(2))
    assert round(p, 3) == 0.954 and round(p * p, 3) == 0.911
    params = _lab_of("ae-sampling")  # "a VAE after 600 mini-batches" (not trained here)
    assert params["view"] == "vae" and params["steps"] * params["batches"] == 600


def test_blur_numbers():
    m = _model("ae-blur")
    dm = m.current
    X = dm.X_eval
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.nan_to_num(X * np.log(X)) + np.nan_to_num((1 - X) * np.log(1 - X)))
    assert round(h.sum(axis=1).mean()) == 46  # "about 46 nats per digit"
    grey = np.mean((X > 0.05) & (X < 0.95))
    assert 0.28 < grey < 0.38  # "about a third of the pixels are grey"
    assert dm.state.t == 600 and round(dm.state.recon) == 86
    assert -math.log(0.5) == pytest.approx(0.693, abs=5e-4)


@pytest.mark.parametrize("name", sorted(p.name for p in LESSONS.glob("ch9_*.md")))
def test_every_lesson_has_a_lab_a_prediction_and_quizzes(name):
    text = _text(name)
    assert 'name = "autoencoder"' in text
    assert re.search(r"[Pp]redict|answer the lab's question", text)
    assert 2 <= text.count("```quiz") <= 4
