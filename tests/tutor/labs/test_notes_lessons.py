"""Every number the lessons of chapters 1-4 and 8 quote from a lab or compute from the notes,
checked against the lab's own defaults and models (issue 12): parameter counts, the noise floor,
the plateau race, gradient noise, the naive cross-entropy's inf/NaN, finite-difference digits."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from core.optim.convergence import noise_floor
from tutor.content import parse_lesson
from tutor.labs import validate_lab

LESSONS = Path(__file__).parents[3] / "lessons"


def text(name: str) -> str:
    return (LESSONS / name).read_text("utf-8")


def flat(name: str) -> str:
    """The lesson with line breaks as spaces, to find a sentence wrapped over lines."""
    return re.sub(r"\s+", " ", text(name))


def lab_params(name: str, **changes) -> dict:
    lesson = parse_lesson(text(name), name)
    return validate_lab(lesson.lab.name, {**lesson.lab.params, **changes})


def mlp_count(sizes) -> int:
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def race(name: str, **changes):
    from tutor.labs.optimizer.model import RaceModel

    params = lab_params(name, **changes)
    model = RaceModel(params)
    model.lesson_params = params
    return model


# --- chapter 1 -----------------------------------------------------------------------
def test_1_6_parameter_counts_use_the_spirals_default_of_three_classes():
    from tutor.labs.mlp.model import MlpModel

    p = lab_params("ch1_06_depth_and_nonlinearity.md", dataset="spirals", steps=0)
    wide = MlpModel({**p, "hidden": [64]})
    deep = MlpModel({**p, "hidden": [16, 16]})
    assert wide.n_classes == deep.n_classes == 3
    assert wide.net.n_parameters == mlp_count(wide.sizes) == 3 * 64 + 65 * 3 == 387
    assert deep.net.n_parameters == 48 + 272 + 51 == 371
    lesson = flat("ch1_06_depth_and_nonlinearity.md")
    assert "3·64 + 65·3 = 387 parameters" in lesson and "48 + 272 + 51 = 371 parameters" in lesson
    assert "354" not in lesson and "322" not in lesson


def test_1_5_1_7_1_9_counts_and_the_test_split():
    from tutor.labs.mlp.model import MlpModel

    assert mlp_count([2, 16, 16, 2]) == 354 and "total           354" in text("ch1_05_mlp_definition.md")
    assert mlp_count([2, 32, 3]) == 195  # 1.7's quiz, no longer a repeat of 1.5's 354
    assert "answer = 195" in text("ch1_07_mlp_pytorch.md")
    p = lab_params("ch1_09_mlp_experiments.md", n_points=60, noise=0.2, steps=0)
    m = MlpModel(p)
    assert p["test_fraction"] == 0.25 and len(m.y_train) == 45 and len(m.y_test) == 15
    assert m.net.n_parameters == 1251 and "1 251 parameters" in text("ch1_09_mlp_experiments.md")
    assert "`test_fraction` is 0.25" in flat("ch1_09_mlp_experiments.md")


# --- chapter 2 -----------------------------------------------------------------------
def test_2_2_newton_with_one_example_lands_on_the_minimum_plus_noise():
    m = race("ch2_02_optimization_methods.md", steps=20)
    s = m.surface
    star = np.array(s.minima[0])
    theta = m.runs["newton"].thetas
    H = s.hessian(theta[0])
    xs, ys = s.data
    for t in range(3):  # θ − H⁻¹gₙ = ★ + H⁻¹(∇J − gₙ), and one example's Hessian is singular
        g = s.grad(theta[t])
        offset = theta[t + 1] - star
        gn = g - H @ offset
        r = xs * theta[t][0] + theta[t][1] - ys
        per = 2 * r[:, None] * np.stack([xs, np.ones_like(xs)], axis=1)
        assert np.min(np.linalg.norm(per - gn, axis=1)) < 1e-9  # it was one example's gradient
        assert np.linalg.norm(offset) > 1e-3  # and it did not land on ★
    one = 2 * np.outer([xs[0], 1.0], [xs[0], 1.0])
    assert np.linalg.matrix_rank(one) == 1
    assert "each Newton step lands on ★ plus a random offset" in flat("ch2_02_optimization_methods.md")
    assert "each example's own minimum" not in text("ch2_02_optimization_methods.md")


def test_2_3_forward_difference_keeps_half_the_digits_central_about_eleven():
    x = 1.0
    exact = np.cos(x)
    fwd = abs((np.sin(x + 1e-8) - np.sin(x)) / 1e-8 - exact) / exact
    cen = abs((np.sin(x + 1e-5) - np.sin(x - 1e-5)) / 2e-5 - exact) / exact
    assert 7 <= -np.log10(fwd) <= 9.5
    assert 10 <= -np.log10(cen) <= 12.5
    lesson = flat("ch2_03_computing_gradients.md")
    assert "only about half of the 16 digits are right" in lesson and "keeps about 11 digits" in lesson


# --- chapter 3 -----------------------------------------------------------------------
def test_3_2_naive_cross_entropy_is_inf_then_nan():
    from tutor.labs.losses.model import naive_cross_entropy, stable_cross_entropy

    p = lab_params("ch3_02_loss_functions.md")
    base, y = np.array(p["logits"]), p["label"]
    assert p["scale"] == 300.0 and 1.5 * p["scale"] == 450
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = {s: naive_cross_entropy(base * s, y)[0] for s in (354, 355, 450, 709, 710, 1000)}
    assert np.isfinite(values[354]) and values[355] == values[450] == values[709] == np.inf
    assert np.isnan(values[710]) and np.isnan(values[1000])
    assert np.log(np.finfo(float).max) == pytest.approx(709.78, abs=0.01)
    assert stable_cross_entropy(base * 1000, y)[0] == pytest.approx(1000)
    lesson = flat("ch3_02_loss_functions.md")
    assert "Just above s = 354" in lesson and "Above s ≈ 709.8" in lesson


def test_3_4_gradient_noise_at_the_start():
    m = race("ch3_04_gradient_approximations.md")
    s, start = m.surface, np.array(m.start)
    assert s.n == 100 and tuple(start) == (-1.0, 2.0)
    from core.optim.surfaces import least_squares

    var = {b: least_squares(n=s.n, noise=m.lesson_params["noise"], batch_size=b,
                            seed=m.lesson_params["seed"]).noise_variance(start) for b in (1, 10, 100)}
    assert f"{np.linalg.norm(s.grad(start)):.2f}" == "5.08"
    assert (f"{var[1]:.1f}", f"{np.sqrt(var[1]):.1f}") == ("88.3", "9.4")
    assert (f"{var[10]:.2f}", f"{np.sqrt(var[10]):.1f}", var[100]) == ("8.03", "2.8", 0.0)
    assert var[1] / var[10] == pytest.approx(11.0)  # the first quiz: 10 · 99 / 90
    g = np.linalg.norm(s.grad(start))
    assert min(b for b in range(1, 101) if var[1] / b < g * g) == 4  # the third quiz
    lesson = flat("ch3_04_gradient_approximations.md")
    for quoted in ("‖∇ℒ(θ₀)‖ ≈ 5.08", "σ₁² ≈ 88.3", "√88.3 ≈ 9.4", "variance to 8.03", "of 2.8"):
        assert quoted in lesson


def test_2_2_and_3_4_no_longer_share_quizzes():
    def questions(name):
        return {q.question for q in parse_lesson(text(name), name).quizzes}

    assert not questions("ch2_02_optimization_methods.md") & questions("ch3_04_gradient_approximations.md")
    assert "answer = 20" not in text("ch3_04_gradient_approximations.md")


def test_3_5_noise_floor_is_sigma_sqrt_eta_beta():
    from tutor.labs.optimizer.model import RaceModel

    m = RaceModel(lab_params("ch3_05_convergence.md"))
    c = m.convergence
    sigma = np.sqrt(c.sigma2)
    assert c.floor == pytest.approx(sigma * np.sqrt(0.05 * c.beta))
    assert noise_floor(0.05, c.beta, 4 * sigma) == pytest.approx(4 * c.floor)  # the quiz's 4
    lesson = text("ch3_05_convergence.md")
    assert lesson.count("√(ηβσ)") == 3  # only where the typo is named and refuted
    assert "has a typo" in lesson and "σ√(ηβ)" in lesson


def test_3_7_plateau_start_rates_and_the_race():
    m = race("ch3_07_adaptive_methods.md")
    s = m.surface
    start = np.array(m.start)
    assert tuple(start) == (2.5, 2.0) and s.formula == "L(x, y) = 1 − exp(−(x² + y²) / s²)"
    g = np.linalg.norm(s.grad(start))
    assert f"{g:.1e}" == "2.3e-04" and f"{0.1 * g:.1e}" == "2.3e-05"
    assert f"{np.linalg.norm(start):.1f}" == "3.2"
    lrs = dict(zip(m.lesson_params["optimizers"], m.lesson_params["lr"]))
    assert lrs == {"sgd": 0.1, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.01, "amsgrad": 0.003}
    assert m.lesson_params["steps"] == 400

    steps = m.finish_steps()  # the race's finish line: ℒ − ℒ* below a tenth of its start
    assert m.FINISH == 0.1 and "sgd" not in steps
    assert m.first_down()[1] == "adagrad"  # the race's answer
    slow = {}
    for name, lr in (("adagrad", 0.01), ("rmsprop", 0.001), ("adam", 0.001)):
        slow.update(race("ch3_07_adaptive_methods.md", optimizers=[name], lr=[lr],
                         steps=5000, focus="").finish_steps())
    assert slow == {"adam": 1017, "rmsprop": 2111, "adagrad": 3263}
    lesson = flat("ch3_07_adaptive_methods.md")
    assert "ℒ(x, y) = 1 − exp(−(x² + y²) / s²), s = 1," in lesson
    assert "≈ 2.3 · 10⁻⁴" in lesson and "2.3 · 10⁻⁵ per step" in lesson
    assert "Adam needs 1017 steps to get 90 % of the way down (ℒ < 0.1), RMSProp 2111 and AdaGrad 3263" in lesson
    assert "AdaGrad 0.1 (the notes say 0.01)" in lesson and "The notes' defaults are η = 0.01" in lesson


# --- chapter 4 -----------------------------------------------------------------------
def test_4_7_lenet_counts_and_the_36_pixel_quiz():
    from core.vision import LeNet5

    assert sum(p.size for p in LeNet5().parameters()) == 61706
    assert 16 * (6 * 25 + 1) == 2416 and 16 * 6 * 6 == 576
    side = 36
    for shrink in ("conv", "pool", "conv", "pool"):
        side = side - 4 if shrink == "conv" else side // 2
    assert 16 * side * side == 576
    # the 1998 C3: 60 connections of 5 × 5 weights plus 16 biases
    assert 60 * 25 + 16 == 1516
    lesson = flat("ch4_07_lenet5.md")
    assert "1,516 parameters instead of 2,416" in lesson and "answer = 576" in text("ch4_07_lenet5.md")
    assert "16 × 10 × 10)?" not in lesson


def test_4_2_sobel_quiz_is_a_cross_correlation():
    sx = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float)
    patch = np.ones((3, 3))
    patch[:, 0] = 0
    assert (sx * patch).sum() == -4 and (sx[::-1, ::-1] * patch).sum() == 4
    assert "applied as a cross-correlation" in text("ch4_02_kernels.md")


# --- chapter 8 -----------------------------------------------------------------------
def test_8_rewards_are_r_t_plus_1_throughout():
    for name in sorted(p.name for p in LESSONS.glob("ch8_*.md")):
        body = text(name).replace("write it Rₜ in some places", "").replace(
            "The notes write this reward Rₜ here", "").replace("computes Rₜ = ℛ(Sₜ, Aₜ)", "")
        assert not re.search(r"Rₜ(?![₊\w])", body), name


def test_gamma_changes_meaning_with_a_warning_where_it_does():
    assert "Same letter, three meanings" in flat("ch2_02_optimization_methods.md")
    assert "in chapter 2 γ was the learning rate" in flat("ch3_06_momentum.md")
    assert "here γ discounts rewards" in flat("ch8_02_mdp.md")


def test_chapter_1_headings_and_the_added_paragraphs_have_text():
    reading = parse_lesson(text("ch1_04_timeline_applications_skills.md"))
    assert reading.sections == ("1.1.2", "1.1.3", "1.1.5") and reading.lab is None
    assert "top-5 error of about 15 %, against about 26 %" in flat("ch1_04_timeline_applications_skills.md")
    assert "`y = x.detach()`" in text("ch3_01_tensors.md") and "`x.grad`" in text("ch3_01_tensors.md")
    assert "ℓ(x, q) = −Σₖ qₖ log pₖ" in text("ch3_02_loss_functions.md")
    assert "Polyak-Łojasiewicz" in text("ch3_05_convergence.md")
    q = np.array([0.9, 0.1])
    assert -(q * np.log([0.5, 0.5])).sum() == pytest.approx(0.6931, abs=1e-3)


def test_mlp_lessons_quote_their_labs_epoch_question():
    from tutor.labs.mlp.model import MlpModel

    m8 = MlpModel(lab_params("ch1_08_training_objective_mlp.md"))
    assert (len(m8.y_train), m8.trainer.batch_size, m8.question()[2]) == (150, 16, 10)
    assert "here 150 training points in mini-batches of 16" in flat("ch1_08_training_objective_mlp.md")
    m9 = MlpModel(lab_params("ch1_09_mlp_experiments.md", steps=0))
    assert (len(m9.y_train), m9.trainer.batch_size, m9.question()[2]) == (225, 32, 8)
    assert "its 225 training points in batches of 32" in flat("ch1_09_mlp_experiments.md")
    for name in ("ch1_05_mlp_definition.md", "ch1_06_depth_and_nonlinearity.md",
                 "ch1_07_mlp_pytorch.md"):
        assert "how many steps make one epoch" in flat(name)


def test_race_questions_of_lessons_3_4_and_3_6():
    assert race("ch3_04_gradient_approximations.md").first_down() == (1, "sgd", 76)
    m = race("ch3_06_momentum.md")
    assert m.first_down() == (2, "momentum", 22)
    assert m.finish_steps() == {"sgd": 470, "momentum": 22, "nesterov": 38}
    assert "which of its three methods first gets 90 % of the way down" in flat("ch3_06_momentum.md")
    assert "which of SGD and Adam first gets 90 % of the way down" in flat("ch3_04_gradient_approximations.md")
    assert race("ch3_08_pytorch_optimizers.md").first_down() == (1, "sgd", 9)
    assert "gets 90 % of the way down first" in flat("ch3_08_pytorch_optimizers.md")


def test_the_five_repeated_quizzes_are_asked_once():
    from tutor.content import load_catalog

    quizzes = [(lesson.id, q) for lesson in load_catalog().lessons for q in lesson.quizzes]

    def asked(match) -> list[str]:
        return [lid for lid, q in quizzes if match(q)]

    assert len(asked(lambda q: "(1000, 0)" in q.question)) == 1
    assert len(asked(lambda q: "1000" in q.question and "50" in q.question and "epoch" in q.question)) == 1
    assert len(asked(lambda q: "exact" in q.question.lower() and q.is_choice and "gradient" in q.question)) == 1
    assert len(asked(lambda q: "zero_grad" in q.question)) == 1
    assert len(asked(lambda q: not q.is_choice and q.answer == 354)) == 0  # 1.5 shows 354 in its text
    texts = [" ".join(q.question.lower().split()) for _, q in quizzes]
    assert len(texts) == len(set(texts)), "no quiz question is asked twice in the course"
