"""The flow lab: the model protocol, the numbers the lessons quote, the widget, snapshots."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from core.generative import log_density_2d, modes_covered, ring_mode_counts, sample_2d
from tests.playahead import play_a_frame_and_compute_ahead
from tutor.labdemo import LabApp
from tutor.labs import lab_core_packages, validate_lab
from tutor.labs.flow.model import FlowModel, flow_picture
from tutor.labs.flow.widget import FlowLab
from tutor.widgets.predict import PredictInput


def _model(**params) -> FlowModel:
    return FlowModel(validate_lab("flow", params))


def _lab(app) -> FlowLab:
    return app.query_one(FlowLab)


# --- model -----------------------------------------------------------------------------------
def test_1d_morph_steps_back_and_resets():
    m = _model()
    c = m.cov
    assert m.advance(20) == 10 and c.t == 1.0 and not m.step()
    v = c.at_point()
    h = 1e-6
    assert v["det"] == pytest.approx((c.f(0.5 + h) - c.f(0.5 - h)) / (2 * h), rel=1e-6)
    assert v["p_x"] == pytest.approx(v["p_z"] / v["det"])
    z, pz, x, px = c.curves(4001)
    assert np.trapezoid(px, x) == pytest.approx(1.0, abs=2e-3)   # still a density
    for _ in range(10):
        assert m.back()
    assert not m.back() and c.at_point()["det"] == 1.0
    m.advance(3)
    m.reset()
    assert c.k == 0


def test_2d_training_history_replays_the_same_numbers():
    m = _model(view="2d", n_points=256)
    theta0 = m.training.flow.theta.copy()
    m.advance(5)
    after = m.training.flow.theta.copy(), m.training.state.eval_loss
    for _ in range(5):
        m.back()
    np.testing.assert_array_equal(m.training.flow.theta, theta0)
    m.advance(5)
    np.testing.assert_array_equal(m.training.flow.theta, after[0])
    m.reset()
    m.advance(5)
    assert m.training.state.eval_loss == after[1]
    assert m.status().startswith("step 5 · −log p")
    states = m.training.run(3)                      # a worker's copy continues the same way
    m.advance(3)
    assert [s.eval_loss for s in states] == [s.eval_loss for s in m.training.states[6:9]]


def test_2d_steps_computed_ahead_are_the_steps_a_step_computes_and_their_pictures_too():
    tr = _model(view="2d", n_points=256, batch_size=32).training
    tr.step()
    tail = tr.ahead_tail()
    states, pictures = tr.compute_ahead(tail, 4, 0, 2, (30, 10, False, 2))
    assert tr.add_ahead(tail, states, pictures) and tr.steps_ahead() == 4 and tr.index == 1
    assert [id(s) for s, _ in pictures] == [id(states[0]), id(states[2])]  # those drawn
    ref = _model(view="2d", n_points=256, batch_size=32).training
    ref.step()
    for _ in range(4):
        tr.step()
        ref.step()
        assert tr.state.eval_loss == ref.state.eval_loss and tr.state.loss == ref.state.loss
        np.testing.assert_array_equal(tr.flow.theta, ref.flow.theta)
        picture, live = tr.picture(30, 10, False, 2), flow_picture(ref, 30, 10, False, 2)
        np.testing.assert_array_equal(picture.pixels, live.pixels)
        assert picture.overlay == live.overlay
    assert not tr.add_ahead(tail, states, [])     # a result for an older tail is dropped


def test_apply_refuses_bad_values_and_keeps_the_state():
    m = _model(view="2d", n_points=256)
    m.advance(2)
    assert m.apply("lr", -1.0) is not None
    assert m.apply("hidden", "4, x") is not None
    assert "planar" in m.apply("flow", "planar")    # moons has no closed-form density
    assert m.training.index == 2
    assert m.apply("dataset", "ring") is None and m.training.index == 0
    assert m.apply("flow", "planar") is None and m.training.planar
    assert m.apply("layer", 2) is None and m.layer == 2
    assert m.apply("z0", 9.0) is not None


def test_warped_grid_and_pictures():
    m = _model(view="2d", n_points=256)
    lines, samples = m.training.warped(0)
    assert len(lines) == 26 and samples.shape == (400, 2)
    np.testing.assert_array_equal(samples, m.training.z_shown)
    lines4, samples4 = m.training.warped(4)
    np.testing.assert_allclose(samples4, m.training.samples())
    assert m.training.density_values(20, 10).shape == (10, 20)


def test_pytorch_code_is_valid_python():
    for params in ({}, {"view": "2d"}, {"view": "2d", "flow": "planar", "dataset": "banana"}):
        for transform in ("affine", "exp", "sinh", "split"):
            ast.parse(_model(transform=transform, **params).pytorch_code())
    assert "AffineCoupling" in _model(view="2d").pytorch_code()
    assert "log_target" in _model(view="2d", flow="planar", dataset="ring").pytorch_code()


def test_core_packages_are_declared():
    assert lab_core_packages("flow") == ("optim", "nn", "generative")


# --- numbers the lessons quote ---------------------------------------------------------------
def test_lesson_numbers():
    c = _model().cov                                   # 11.1: split, a = 1.5, z₀ = 0.5
    fin = c.final()
    assert fin["det"] == pytest.approx(1.813, abs=5e-4)
    assert c.at_point()["p_z"] == pytest.approx(0.3521, abs=5e-5)
    assert fin["p_x"] == pytest.approx(0.1942, abs=5e-5)
    assert math.log(2 * math.pi) == pytest.approx(1.838, abs=5e-4)
    m = _model(view="2d")                              # 11.2 / 11.4: coupling × 4 on moons
    data = m.training.eval_data
    assert float(0.5 * (data**2).sum(axis=1).mean()) == pytest.approx(1.102, abs=5e-4)
    assert m.training.state.eval_loss == pytest.approx(2.95, abs=5e-3)
    m.advance(600)
    assert m.training.state.eval_loss == pytest.approx(1.78, abs=0.01)
    assert sum(m.training.state.log_dets) == pytest.approx(-1.20, abs=0.01)
    m = _model(view="2d", flow="planar", dataset="ring", layers=8, lr=0.01)   # 11.3
    m.advance(600)
    assert m.training.state.eval_loss == pytest.approx(1.90, abs=0.01)
    assert modes_covered(m.training.samples()) == 2
    x = sample_2d("ring", 100_000, 1)                  # 11.5: the ring's own −E log p
    assert -log_density_2d("ring", x).mean() == pytest.approx(1.70, abs=0.01)
    m = _model(view="2d", dataset="ring")
    m.advance(600)
    assert m.training.state.eval_loss == pytest.approx(2.28, abs=0.01)
    samples = m.training.samples()
    assert modes_covered(samples) == 8
    assert 0.15 <= 1 - ring_mode_counts(samples).sum() / len(samples) <= 0.25


def test_lessons_quote_these_numbers():
    lessons = Path(__file__).parents[3] / "lessons"
    text = {p.name[:7]: p.read_text("utf-8") for p in lessons.glob("ch11_*.md")}
    for quoted in ("1.813", "0.3521", "0.1942"):
        assert quoted in text["ch11_01"]
    assert "1.102" in text["ch11_02"] and "2.95" in text["ch11_02"]
    assert "1.90" in text["ch11_03"] and "2 of the 8" in text["ch11_03"]
    assert "1.78" in text["ch11_04"] and "−1.20" in text["ch11_04"]
    assert "1.70" in text["ch11_05"] and "about 2.28" in text["ch11_05"]
    assert "all 8 modes" in text["ch11_05"] and "a fifth" in text["ch11_05"]


# --- widget ----------------------------------------------------------------------------------
async def test_1d_view_keys_and_prediction(lab_app):
    async with lab_app("flow").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        predict = lab.query_one(PredictInput)
        assert predict.state == "asking" and predict.answer == pytest.approx(0.1942, abs=1e-4)
        await pilot.press("i", "0", ".", "1", "9", "4", "enter")
        await pilot.pause()
        assert predict.state == "right"
        await pilot.press("n", "n", "full_stop")
        await pilot.pause()
        assert lab.model.cov.z0 == 0.75 and lab.model.cov.k == 0   # a new z₀ restarts t
        await pilot.press("n")
        await pilot.pause()
        assert "t = 0.10" in str(lab.query_one("#flow-stats").render())


async def test_2d_view_trains_in_a_worker_and_shows_the_grid(lab_app):
    async with lab_app("flow", view="2d", n_points=256, steps=20).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.training.state.step == 20 and not lab.busy
        await pilot.press("n", "b", "b")
        assert lab.model.training.state.step == 19
        await pilot.press("w", "comma")
        await pilot.pause()
        assert lab.show_grid and lab.model.layer == 3
        assert "grid after layer 3/4" in str(lab.query_one("#flow-title").render())
        await pilot.press("v")
        await pilot.pause()
        assert lab.model.view == "1d"


async def test_the_first_nll_stays_hidden_until_the_student_predicts_it(lab_app):
    async with lab_app("flow", view="2d", n_points=256).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        predict = lab.query_one(PredictInput)
        start = lab.model.training.states[0].eval_loss
        assert predict.state == "asking" and predict.answer == start
        stats = str(lab.query_one("#flow-stats").render())
        assert f"{start:.3f}" not in stats and "predict first" in stats
        assert not any(len(s.y) for s in lab.query_one("#flow-chart").series)  # no point to read
        await pilot.press("i", *f"{start:.2f}", "enter")
        await pilot.pause()
        assert predict.state == "right"
        assert f"{start:.3f}" in str(lab.query_one("#flow-stats").render())
        assert any(len(s.y) for s in lab.query_one("#flow-chart").series)


async def test_bad_settings_are_refused_with_a_message(lab_app):
    async with lab_app("flow", view="2d", n_points=256).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        field = lab.query_one("#flow-hidden")
        field.value = "0"
        await field.action_submit()
        await pilot.pause()
        assert "width" in str(lab.query_one("#flow-message").render())
        assert lab.apply_param("flow", "planar") is not None      # moons: no closed-form density
        assert "ring or banana" in lab.note
        await pilot.press("y")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "CodeDialog"


async def test_tiny_terminals_do_not_crash(lab_app):
    async with lab_app("flow", n_points=256).run_test(size=(60, 16)) as pilot:
        await pilot.press("n", "v", "n", "w", "b", "v")
        await pilot.pause()
        await pilot.resize_terminal(24, 6)
        await pilot.press("n", "v", "n")
        await pilot.pause()


async def test_playing_the_2d_view_shows_steps_computed_ahead_in_a_worker(lab_app):
    async with lab_app("flow", view="2d", n_points=256, batch_size=32).run_test(
            size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        await play_a_frame_and_compute_ahead(pilot, lab)
        tr = lab.model.training
        assert tr.steps_ahead() >= 1
        lab.step_forward()           # a frame only draws: the step and its picture are ready
        assert id(tr.state) in tr.pictures
        await pilot.pause()
        ref = _model(view="2d", n_points=256, batch_size=32).training
        for _ in range(tr.state.step):
            ref.step()
        np.testing.assert_array_equal(tr.flow.theta, ref.flow.theta)
        assert f"step {tr.state.step} · coupling" in str(lab.query_one("#flow-stats").render())
        live = flow_picture(ref, *lab._map_size(), False, lab.model.layer)
        np.testing.assert_array_equal(lab.query_one("#flow-map").pixels, live.pixels)


def test_snapshot_1d_halfway(snap_compare):
    async def run_before(pilot):
        _lab(pilot.app).model.advance(4)
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(LabApp("flow", {}), terminal_size=(120, 36), run_before=run_before)


def test_snapshot_2d_moons_after_300_steps(snap_compare):
    async def run_before(pilot):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

    app = LabApp("flow", {"view": "2d", "steps": 300})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    import json

    async with lab_app("flow", view="2d", n_points=256).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.model.advance(3)
        await pilot.press("w", "comma")
        saved = json.loads(json.dumps(lab.save_state()))
        theta = lab.model.training.flow.theta.copy()
    async with lab_app("flow", n_points=256).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.restore_state(saved)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.view == "2d" and lab.show_grid and lab.model.layer == 3
        assert lab.model.training.state.step == 3
        np.testing.assert_array_equal(lab.model.training.flow.theta, theta)
        with pytest.raises(ValueError):
            lab.restore_state({**saved, "layer": 99})


async def test_a_lesson_with_impossible_settings_falls_back_to_the_defaults(lab_app):
    app = lab_app("flow", view="2d", flow="planar", dataset="moons", hidden=[0.0])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert lab.params["flow"] == "coupling" and lab.model.view == "2d"
        assert "default settings" in str(lab.query_one("#flow-message").render())


async def test_the_title_is_whole_beside_a_lesson(lab_app):
    from tests.screen import screen_text

    params = dict(view="2d", flow="planar", dataset="banana", layers=16, n_points=256)
    async with lab_app("flow", **params).run_test(size=(80, 34)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert "planar × 16 · banana · target p, samples of q" in screen_text(pilot.app)
        await pilot.press("w")
        await pilot.pause()
        assert lab.show_grid and "planar × 16 · grid after layer 16/16 (w , .)" in screen_text(pilot.app)
