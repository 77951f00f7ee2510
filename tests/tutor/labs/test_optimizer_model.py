"""The optimizer lab's model, drawing and PyTorch code (no Textual)."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from core.optim import run
from tutor.labs import validate_lab
from tutor.labs.optimizer.code import convergence_lines, pytorch_convergence, pytorch_race, state_lines
from tutor.labs.optimizer.model import RaceModel
from tutor.labs.optimizer.params import OPTIMIZERS, SURFACES
from tutor.labs.optimizer.presets import COLORS, EQUATIONS, HYPER_USED, SURFACE_LR
from tutor.labs.optimizer.render import (
    map_pixels,
    map_values,
    pixel_to_point,
    race_overlay,
    to_cell,
)

ALL = list(OPTIMIZERS)


def model(**given) -> RaceModel:
    return RaceModel(validate_lab("optimizer", given))


def test_every_optimizer_has_a_colour_an_equation_and_a_step_size_per_surface():
    for name in OPTIMIZERS:
        assert COLORS[name].startswith("#") and EQUATIONS[name] and HYPER_USED[name][0] == "lr"
    for surface in SURFACES:
        assert set(SURFACE_LR[surface]) == set(OPTIMIZERS)


def test_runs_follow_core_optim_and_step_by_step_playback():
    m = model(surface="beale", optimizers=["sgd", "adam"], lr=[0.01, 0.1], steps=50)
    np.testing.assert_allclose(m.runs["adam"].thetas, run("adam", "beale", (1.0, 1.4), 50, lr=0.1))
    assert m.t == 0
    m.history.advance(7)
    assert m.t == 7
    np.testing.assert_allclose(m.position("sgd"), m.runs["sgd"].thetas[7])
    assert len(m.curve("adam")) == 8
    m.history.advance(100)
    assert m.t == 50  # the race stops at `steps`


def test_editing_a_hyperparameter_reruns_only_that_optimizer_and_keeps_the_step():
    m = model(optimizers=["sgd", "adam"], at=10)
    before = m.runs["sgd"]
    m.set_hyper("adam", "beta1", 0.5)
    assert m.runs["sgd"] is before and m.runs["adam"].hyper["beta1"] == 0.5 and m.t == 10


def test_an_invalid_hyperparameter_keeps_the_last_good_value():
    m = model(optimizers=["momentum"])
    good = m.runs["momentum"]
    with pytest.raises(ValueError, match="gamma"):
        m.set_hyper("momentum", "gamma", 1.5)
    assert m.hyper["momentum"]["gamma"] == 0.9 and m.runs["momentum"] is good


def test_divergence_is_shown_from_its_step_on():
    m = model(surface="quadratic", optimizers=["sgd"], lr=[0.11], steps=200)
    at = m.runs["sgd"].diverged_at
    assert at is not None
    m.history.advance(at - 1)
    assert not m.has_diverged("sgd")
    m.history.step()
    assert m.has_diverged("sgd")
    assert any(f"diverged at step {at}" in line for line in state_lines(m))
    m.history.advance(20)
    assert len(m.curve("sgd")) == at  # the curve stops at the last finite iterate


def test_toggle_focus_surface_and_start():
    m = model(optimizers=["sgd", "adam"])
    assert m.focus == "adam"
    assert m.toggle("nesterov") and "nesterov" in m.runs
    assert not m.toggle("sgd") and "sgd" not in m.runs
    m.toggle("adam")
    m.toggle("nesterov")
    assert m.selected == ["nesterov"] or m.selected == ["adam"]  # one always stays
    assert m.cycle_focus() == "amsgrad"
    m.set_surface("himmelblau")
    assert m.start == (-0.5, -0.5) and m.hyper["sgd"]["lr"] == SURFACE_LR["himmelblau"]["sgd"]
    m.set_start(100.0, -100.0)
    assert m.start == (5.0, -5.0)  # clamped to the window
    m.nudge_start(-1, 1)
    assert m.start == (4.75, -4.75)


def test_distance_chart_measures_to_the_nearest_minimum():
    m = model(surface="himmelblau", optimizers=["adam"], chart="distance", at=30)
    d = m.curve("adam")
    theta = m.runs["adam"].thetas[30]
    expected = min(np.linalg.norm(theta - np.array(p)) for p in m.surface.minima)
    assert d[-1] == pytest.approx(expected)


def test_least_squares_batch_size_changes_the_gradient_noise():
    noisy = model(surface="least_squares", optimizers=["sgd"], batch_size=1, steps=300)
    exact = model(surface="least_squares", optimizers=["sgd"], batch_size=100, steps=300)
    # the exact gradient with a small step decreases the loss at every step; one sample does not
    assert np.all(np.diff(exact.runs["sgd"].losses) <= 1e-12)
    assert np.sum(np.diff(noisy.runs["sgd"].losses) > 0) > 50


def test_convergence_view_fixed_step_stalls_and_decreasing_step_does_not():
    m = model(mode="convergence", surface="least_squares", lr=[0.05], steps=3000)
    c = m.convergence
    assert c.fixed.hyper["lr"] == 0.05 and c.decreasing.schedule == "inv_sqrt"
    late_fixed = c.fixed.grad_norms[-1000:].mean()
    assert late_fixed > 0.3 * c.floor  # stays at the order of the noise floor
    assert c.decreasing.grad_norms[-1000:].mean() < 0.5 * late_fixed
    smooth = m.smoothed(c.fixed.grad_norms, 3000)
    assert smooth.shape == (3001,) and smooth[-1] == pytest.approx(c.fixed.grad_norms[-50:].mean())
    assert np.all(np.diff(m.min_grad_sq(c.fixed, 3000)) <= 0)
    m.history.advance(10)
    text = "\n".join(convergence_lines(m))
    assert "fixed: ηₜ = 0.05" in text and "bound at T=10" in text
    m.set_hyper("sgd", "lr", 0.02)
    assert m.convergence.fixed.hyper["lr"] == 0.02


def test_state_lines_show_the_focused_optimizer_state():
    m = model(surface="quadratic", optimizers=["adam"], lr=[0.1], eps=0.0, at=1)
    text = "\n".join(state_lines(m))
    assert "m̂ = m/(1−β₁ᵗ)" in text and "adam · step 1" in text
    g0 = m.surface.grad(np.array(m.start))
    m_hat, v_hat = m.runs["adam"].bias_corrected(1)
    np.testing.assert_allclose(m_hat, g0)  # Adam's first m-hat is the first gradient
    assert f"m̂ = ({m_hat[0]:+.3g}, {m_hat[1]:+.3g})" in text


@pytest.mark.parametrize("surface", SURFACES)
def test_pytorch_code_is_valid_python_naming_each_optimizer(surface):
    m = model(surface=surface, optimizers=ALL, batch_size=10)
    code = pytorch_race(m)
    ast.parse(code)
    for line in ("torch.optim.SGD([p], lr=", "nesterov=True", "torch.optim.Adagrad", "alpha=0.9",
                 "amsgrad=True", "optimizer.zero_grad()", "loss.backward()", "torch.linalg.solve"):
        assert line in code
    ast.parse(pytorch_convergence(model(mode="convergence")))


def test_map_is_darkest_at_the_minimum():
    m = model(surface="quadratic")
    rows, cols = 12, 40
    pix = map_pixels(m.surface, rows, cols)
    assert pix.shape == (24, 40, 3) and pix.dtype == np.uint8
    values = map_values(m.surface, rows, cols)
    r, c = np.unravel_index(np.argmin(values), values.shape)
    assert (r, c) in {(11, 19), (11, 20), (12, 19), (12, 20)}
    assert pix[r, c].sum() == pix.sum(axis=2).min()
    assert map_pixels(m.surface, 0, 5).shape == (0, 0, 3)


def test_click_and_cells_round_trip():
    m = model(surface="beale")
    rows, cols = 10, 30
    cell = to_cell(m.surface, (3.0, 0.5), rows, cols)
    x, y = pixel_to_point(m.surface, cell[1], 2 * cell[0], rows, cols)
    assert to_cell(m.surface, (x, y), rows, cols) == cell
    assert to_cell(m.surface, (100.0, 0.0), rows, cols) is None


def test_overlay_marks_minimum_start_and_every_optimizer():
    m = model(surface="himmelblau", optimizers=["sgd", "adam"], at=20)
    cells = race_overlay(m, 15, 40, COLORS)
    texts = [t for t, _ in cells.values()]
    assert texts.count("★") == 4 and texts.count("◆") == 1
    colours = {c for t, c in cells.values() if t == "●"}
    assert colours <= {COLORS["sgd"], COLORS["adam"]} and colours
    assert any(0x2800 <= ord(t) <= 0x28FF for t in texts)  # braille trajectories
    assert race_overlay(m, 0, 0, COLORS) == {}


def test_core_packages_names_optim():
    from tutor.labs import lab_core_packages

    assert lab_core_packages("optimizer") == ("optim",)


def _overlay_reference(m, rows, cols):
    """The overlay drawn the plain way: each whole trail with BrailleCanvas.polyline, cells
    merged in draw order (dots or-ed, the later colour wins), then the marks."""
    from tutor.labs.optimizer.render import to_dots
    from tutor.widgets.braille import BrailleCanvas

    names = sorted(m.runs, key=lambda n: n == m.focus)
    cells = {}
    for name in names:
        canvas = BrailleCanvas(cols, rows)
        dx, dy = to_dots(m.surface, m.runs[name].thetas[: m.index(name) + 1], rows, cols)
        canvas.polyline(np.round(dx), np.round(dy), COLORS[name])
        for cell, (char, color) in canvas.cells().items():
            old = cells.get(cell)
            if old is not None:
                char = chr(0x2800 | (ord(old[0]) - 0x2800) | (ord(char) - 0x2800))
            cells[cell] = (char, color)
    for point in m.surface.minima:
        if (cell := to_cell(m.surface, point, rows, cols)):
            cells[cell] = ("★", "#ffffff")
    if (cell := to_cell(m.surface, m.start, rows, cols)):
        cells[cell] = ("◆", "#ffffff")
    for name in names:
        if (cell := to_cell(m.surface, m.position(name), rows, cols)):
            cells[cell] = ("✗" if m.has_diverged(name) else "●", COLORS[name])
    return cells


@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau", "least_squares"])
def test_incremental_overlay_equals_drawing_every_trail_whole(surface):
    """Regression for the frame cost: the trails are now extended in one NumPy pass for all
    optimizers (~0.8 ms a frame for eight, was ~2-4 ms); the picture must not change, while
    playing forward, stepping back, jumping, refocusing and resizing."""
    from tutor.labs.optimizer.render import TrailCache

    m = model(surface=surface, optimizers=ALL, focus="adam", steps=120)
    cache = TrailCache()
    for t in [*range(0, 40), 39, 12, 13, 90, 120, 120, 5]:
        while m.t < t:
            m.history.step()
        while m.t > t:
            m.history.back()
        assert race_overlay(m, 21, 85, COLORS, cache) == _overlay_reference(m, 21, 85), t
    m.focus = "sgd"
    assert race_overlay(m, 21, 85, COLORS, cache) == _overlay_reference(m, 21, 85)
    assert race_overlay(m, 11, 40, COLORS, cache) == _overlay_reference(m, 11, 40)


def test_polyline_dots_are_the_dots_braille_canvas_draws():
    from tutor.labs.optimizer.render import polyline_dots
    from tutor.widgets.braille import BrailleCanvas

    rng = np.random.default_rng(3)
    for _ in range(20):
        x = np.round(rng.uniform(-30, 90, 25))
        y = np.round(rng.uniform(-30, 70, 25))
        x[rng.integers(25)] = np.nan
        ref = BrailleCanvas(30, 10)
        ref.polyline(x, y)
        got = BrailleCanvas(30, 10)
        px, py, source = polyline_dots(x, y, 60, 40)
        for a, b in zip(px.tolist(), py.tolist()):
            got.point(a, b)
        assert got.to_text() == ref.to_text()
        assert np.all((0 <= source) & (source < 25))


def test_the_convergence_view_and_back_keeps_the_race_start():
    """c twice on the Rosenbrock race (the momentum lesson) came back starting from the
    convergence view's least-squares point (-1, 2) instead of the race's (-1.2, 1)."""
    m = model(surface="rosenbrock", optimizers=["sgd", "momentum"], lr=[0.001, 0.001], steps=50)
    start, before = m.start, m.runs["momentum"].thetas.copy()
    assert m.apply("mode", "convergence") is None and m.start != start
    assert m.apply("mode", "race") is None
    assert m.start == start and np.array_equal(m.runs["momentum"].thetas, before)
    m.apply("mode", "convergence")
    m.apply("surface", "beale")  # a new surface meanwhile: its race starts from its own point
    m.apply("mode", "race")
    assert m.start == tuple(m.surface.start) == tuple(model(surface="beale").start)
