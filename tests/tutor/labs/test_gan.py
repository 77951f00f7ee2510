"""The GAN lab: the model protocol, the numbers the lessons quote, the widget, snapshots."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

from core.generative import bilinear_game
from tests.playahead import play_a_frame_and_compute_ahead
from tutor.labdemo import LabApp
from tutor.labs import lab_core_packages, validate_lab
from tutor.labs.gan.model import LOG4, GanModel, gan_picture
from tutor.labs.gan.widget import GanLab
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput


def _model(**params) -> GanModel:
    return GanModel(validate_lab("gan", params))


def _lab(app) -> GanLab:
    return app.query_one(GanLab)


# --- model -----------------------------------------------------------------------------------
def test_steps_back_and_reset_return_exactly_to_the_start_and_replay_the_same_numbers():
    m = _model(n_points=128)
    start = m.gan.G.theta.copy(), m.gan.D.theta.copy()
    assert m.advance(5) == 5 and m.status().startswith("round 5")
    after5 = m.gan.G.theta.copy(), m.state.d_loss
    for _ in range(5):
        assert m.back()
    assert not m.back()
    np.testing.assert_array_equal(m.gan.G.theta, start[0])
    np.testing.assert_array_equal(m.gan.D.theta, start[1])
    m.advance(5)                                   # replayed from the history
    np.testing.assert_array_equal(m.gan.G.theta, after5[0])
    m.reset()
    assert m.index == 0 and len(m.states) == 1
    m.advance(5)                                   # recomputed: the same numbers (seeded)
    np.testing.assert_array_equal(m.gan.G.theta, after5[0])
    assert m.state.d_loss == after5[1]


def test_d_and_g_steps_branch_the_history():
    m = _model(n_points=128)
    m.advance(2)
    m.back()
    assert m.act("d")                              # not the stored round: a new future
    c = m.state.checkpoint
    assert (c.d_steps, c.g_steps) == (2, 1) and len(m.states) == 3
    assert m.act("g") and m.state.checkpoint.g_steps == 2
    x, d, g = m.curves()
    assert len(x) == 3 and np.isfinite(d).all()


def test_k_discriminator_steps_per_round_and_max_steps():
    m = _model(k=3, max_steps=2, n_points=64)
    assert m.advance(5) == 2
    assert m.state.checkpoint.d_steps == 6 and "max_steps" in m.message


def test_apply_rebuilds_and_keeps_the_last_good_state_on_bad_input():
    m = _model(n_points=64)
    m.advance(3)
    assert "at least" in m.apply("g_lr", -1.0)
    assert "whole numbers" in m.apply("g_hidden", "16, x")
    assert m.apply("g_hidden", [0.0]) is not None
    assert m.apply("dataset", "spiral") is not None
    assert m.apply("colour", 1) is not None
    assert m.index == 3
    assert m.apply("g_hidden", "8") is None and m.gan.G.sizes == (2, 8, 2)
    assert m.index == 0
    assert m.apply("g_loss", "minimax") is None and m.gan.g_loss == "minimax"


def test_bilinear_view_follows_the_closed_form():
    m = _model(view="bilinear")
    g = m.game
    assert m.advance(10) == 10 and g.t == 10
    assert g.radius("simultaneous") == pytest.approx(math.sqrt(2) * 1.04**5, rel=1e-12)
    np.testing.assert_array_equal(g.sim, bilinear_game(1.0, 1.0, 0.2, 100))
    assert g.invariant() == pytest.approx(1.8)
    assert g.predicted_radius() == pytest.approx(1.7206, abs=1e-4)
    m.reset()
    assert g.t == 0 and m.advance(1000) == 100 and not m.step()


def test_pytorch_code_is_valid_python_for_each_view_and_loss():
    for view in ("gan", "bilinear"):
        for g_loss in ("minimax", "nonsaturating"):
            for dataset in ("ring", "moons", "line", "custom"):
                code = _model(view=view, g_loss=g_loss, dataset=dataset).pytorch_code()
                ast.parse(code)
    code = _model(g_lr=0.01, k=3).pytorch_code()
    assert "lr=0.01" in code and "k = 64, 2, 64, 3" not in code and "betas=(0.5, 0.999)" in code


def test_pictures_have_the_requested_size():
    m = _model(n_points=64)
    assert m.heat_pixels(30, 20).shape == (20, 30, 3)
    x, v = m.arrows()
    assert x.shape == v.shape == (256, 2)
    lo, hi = m.bounds
    assert np.linalg.norm(v, axis=1).max() <= 0.12 * np.max(hi - lo) + 1e-12


def test_rounds_computed_ahead_are_the_rounds_a_step_computes_and_their_pictures_too():
    m = _model(n_points=64)
    m.step()
    tail = m.ahead_tail()
    states, pictures = m.compute_ahead(tail, 5, 1, 2, (30, 10, True))
    assert m.add_ahead(tail, states, pictures) and len(m.states) == 7 and m.index == 1
    assert [id(s) for s, _ in pictures] == [id(states[1]), id(states[3])]  # those drawn
    ref = _model(n_points=64)
    ref.advance(6)
    while m.step():
        picture = m.picture(30, 10, True)
        live = gan_picture(m.gan, m.z_shown, m.real_shown, m.bounds, 30, 10, True)
        np.testing.assert_array_equal(picture.pixels, live.pixels)
        assert picture.overlay == live.overlay and picture.grad_norm == m.mean_grad_norm()
        if m.index == 6:
            break
    np.testing.assert_array_equal(m.gan.D.theta, ref.gan.D.theta)
    assert m.state.d_loss == ref.state.d_loss and m.status() == ref.status()
    m.act("d")                                  # a D step replaces the future: nothing ahead
    assert m.ahead_tail() is m.state
    assert not m.add_ahead(tail, states, [])    # a result for an older tail is dropped


# --- numbers the lessons quote ------------------------------------------------------------
def test_lesson_numbers():
    assert LOG4 == pytest.approx(1.386, abs=5e-4)
    game = _model(view="bilinear").game        # lesson 10.5: the defaults x0 = y0 = 1, η = 0.2
    assert game.predicted_radius() == pytest.approx(1.721, abs=5e-4)
    assert math.sqrt(1 + 0.2**2) == pytest.approx(1.0198, abs=5e-5)
    assert game.invariant() == pytest.approx(1.8)
    assert math.hypot(*bilinear_game(1, 1, 0.2, 100)[-1]) == pytest.approx(10.05, abs=5e-3)
    assert math.sqrt(1 - 0.2**2 + 0.2**4) == pytest.approx(0.9806, abs=5e-5)
    game.t = 100
    assert game.radius("extragradient") == pytest.approx(0.1996, abs=5e-5)
    # lesson 10.4: a generator ten times faster than D covers at most 1 of the 8 modes
    m = _model(g_lr=0.01, d_lr=0.001)
    m.advance(600)
    assert m.state.modes <= 1
    # ... while the default settings cover all 8 after 2000 rounds
    m = _model()
    m.advance(2000)
    assert m.state.modes == 8


def test_lesson_10_2_numbers_minimax_saturates():
    grads = {}
    for g_loss in ("minimax", "nonsaturating"):
        m = _model(g_loss=g_loss, k=5, d_lr=0.005)
        m.advance(20)
        assert m.state.d_fake == pytest.approx(0.04, abs=0.006)
        grads[g_loss] = m.mean_grad_norm()
    assert grads["minimax"] == pytest.approx(0.1, abs=0.02)
    assert grads["nonsaturating"] == pytest.approx(2.5, abs=0.1)
    assert 20 <= grads["nonsaturating"] / grads["minimax"] <= 30


def test_lessons_quote_these_numbers():
    from pathlib import Path

    lessons = Path(__file__).parents[3] / "lessons"
    text = {p.name[:7]: p.read_text("utf-8") for p in lessons.glob("ch10_*.md")}
    assert "1.386" in text["ch10_01"] and "after 2000 rounds" in text["ch10_01"]
    assert "2-16-16-2" in text["ch10_01"]
    assert "about 0.04" in text["ch10_02"] and "about 2.5" in text["ch10_02"]
    assert "after 600 rounds" in text["ch10_04"] and "answer = 1\n" in text["ch10_04"]
    for quoted in ("1.0198", "1.721", "10.05", "answer = 1.8", "0.9806", "0.1996"):
        assert quoted in text["ch10_05"]


def test_core_packages_are_declared():
    assert lab_core_packages("gan") == ("optim", "nn", "generative")


# --- widget ----------------------------------------------------------------------------------
async def test_keys_step_the_networks_and_switch_views(lab_app):
    async with lab_app("gan", n_points=128).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "x", "g")
        await pilot.pause()
        c = lab.model.state.checkpoint
        assert (c.d_steps, c.g_steps) == (3, 3)
        assert "round 3 · D steps 3" in str(lab.query_one("#gan-stats").render())
        await pilot.press("b", "b")
        assert lab.model.state.checkpoint.d_steps == 2
        await pilot.press("m")
        await pilot.pause()
        assert lab.params["g_loss"] == "minimax" and lab.model.index == 0
        await pilot.press("v", "n", "n")
        await pilot.pause()
        assert lab.model.view == "bilinear" and lab.model.game.t == 2
        assert "simultaneous r = " in str(lab.query_one("#gan-stats").render())
        await pilot.press("x")                       # GAN-only keys say so in the game view
        assert lab.model.game.t == 2


async def test_jump_trains_in_a_worker(lab_app):
    async with lab_app("gan", n_points=128, steps=30).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.state.round == 30 and not lab.busy
        expected = _model(n_points=128)
        expected.advance(30)
        np.testing.assert_array_equal(lab.model.gan.G.theta, expected.gan.G.theta)
        await pilot.press("j")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.state.round == 230
        await pilot.press("b")
        assert lab.model.state.round == 229


async def test_prediction_first_in_both_views(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        predict = lab.query_one(PredictInput)
        assert predict.key == "log4" and predict.state == "asking"
        await pilot.press("i", "1", ".", "3", "9", "enter")
        await pilot.pause()
        assert predict.state == "right" and "log4" in lab.answered
        await pilot.press("v")
        await pilot.pause()
        assert predict.state == "asking" and predict.answer == pytest.approx(1.7206, abs=1e-4)
        await pilot.press("n")
        await pilot.pause()
        assert predict.state == "revealed"         # stepped without an answer
        await pilot.press("r", "plus")             # not asked again: + is the speed key
        await pilot.pause()
        assert predict.state == "revealed" and lab.fps > 5


async def test_bad_settings_are_refused_with_a_message(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        field = lab.query_one("#gan-g_hidden")
        field.value = "16, banana"
        await field.action_submit()
        await pilot.pause()
        assert "whole numbers" in str(lab.query_one("#gan-message").render())
        assert lab.params["g_hidden"] == [16, 16]
        box = next(b for b in lab.query(ParamInput) if b.param_name == "k")
        box.post_message(ParamInput.Changed(box, "k", 3))
        await pilot.pause()
        assert lab.model.params["k"] == 3


async def test_custom_points_by_clicking_and_show_pytorch(lab_app):
    async with lab_app("gan", dataset="custom").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        n = len(lab.model.data)
        await pilot.click("#gan-map", offset=(5, 3))
        await pilot.pause()
        assert len(lab.model.data) == n + 1
        assert "torch.tensor([[" in lab.pytorch_code()
        await pilot.press("y")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "CodeDialog"


async def test_tiny_terminals_do_not_crash(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(60, 16)) as pilot:
        await pilot.press("n", "v", "n", "b", "v")
        await pilot.pause()
        assert _lab(pilot.app).model.index == 1
        await pilot.resize_terminal(24, 6)
        await pilot.press("n", "v", "n")
        await pilot.pause()


def test_snapshot_ring_after_300_rounds(snap_compare):
    async def run_before(pilot):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

    app = LabApp("gan", {"steps": 300})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_snapshot_bilinear_game(snap_compare):
    async def run_before(pilot):
        lab = _lab(pilot.app)
        await pilot.pause()  # the first frame asks the question, then 25 steps pass it
        lab.model.advance(24)
        await pilot.press("n")
        await pilot.pause()

    app = LabApp("gan", {"view": "bilinear", "eta": 0.3})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


async def test_playing_shows_rounds_computed_ahead_in_a_worker(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        await play_a_frame_and_compute_ahead(pilot, lab)
        m = lab.model
        assert len(m.states) > m.index + 1 >= 2  # rounds ahead of what is shown
        ref = _model(n_points=64)
        ref.advance(len(m.states) - 1)
        np.testing.assert_array_equal(m.states[-1].checkpoint.theta_g, ref.gan.G.theta)
        lab.step_forward()           # a frame only draws: the round and its picture are ready
        assert id(m.state) in m.pictures
        await pilot.pause()
        assert f"round {m.index} · D steps {m.index}" in str(lab.query_one("#gan-stats").render())
        live = gan_picture(m.gan, m.z_shown, m.real_shown, m.bounds,
                           *lab._map_size(), lab.show_arrows)
        np.testing.assert_array_equal(lab.query_one("#gan-map").pixels, live.pixels)


async def test_a_failed_worker_computing_ahead_leaves_playback_stepping(lab_app, monkeypatch):
    from textual.worker import WorkerFailed

    monkeypatch.delenv("DL_TUTOR_STRICT")

    def broken(*args, **kwargs):
        raise RuntimeError("kaboom ahead")

    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        monkeypatch.setattr(lab.model, "compute_ahead", broken)
        lab.fps = 1.0
        lab.playing = True
        lab._tick()                  # a round, and the worker starts (and fails)
        lab.keep_ahead()            # (after the frame's paint)
        with pytest.raises(WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab._ahead_worker is None and not lab.playing  # reported: playback stopped
        index = lab.model.index
        lab.playing = True
        lab._tick()                  # the next frame steps, not waiting for a dead worker
        assert lab.model.index == index + 1
        lab.playing = False


async def test_a_step_does_not_relayout_the_screen(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        await pilot.pause()

        def layouts():
            return sum(widget._layout_updates for widget in lab.query("*"))

        before = layouts()
        lab.step_forward()
        await pilot.pause()
        assert layouts() == before


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.apply_param("k", 2)
        lab.model.advance(4)
        lab.answered.add("log4")
        saved = lab.save_state()
        theta = lab.model.gan.G.theta.copy()
    import json

    saved = json.loads(json.dumps(saved))            # as the progress file keeps it
    async with lab_app("gan", n_points=64).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.restore_state(saved)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.params["k"] == 2 and lab.model.state.round == 4 and "log4" in lab.answered
        np.testing.assert_array_equal(lab.model.gan.G.theta, theta)
        with pytest.raises(ValueError):
            lab.restore_state({**saved, "rounds": -1})
        assert lab.model.state.round == 4


async def test_a_lesson_with_impossible_settings_falls_back_to_the_defaults(lab_app):
    app = lab_app("gan", dataset="custom", points=[[100.0, 0.0], [0.0, 1.0]], g_hidden=[500.0])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert lab.params["dataset"] == "ring" and "default settings" in lab.note
        assert "default settings" in str(lab.query_one("#gan-message").render())


async def test_the_title_is_whole_beside_a_lesson(lab_app):
    from tests.screen import screen_text

    async with lab_app("gan", n_points=64, g_loss="minimax").run_test(size=(80, 34)) as pilot:
        await pilot.pause()
        assert "D 2-16-16-1 · minimax" in screen_text(pilot.app)  # which loss G descends
        await pilot.press("v")
        await pilot.pause()
        assert "green EG" in screen_text(pilot.app)  # the legend of the three paths


async def test_the_map_is_redrawn_when_the_title_wraps(lab_app):
    async with lab_app("gan", n_points=64).run_test(size=(80, 34)) as pilot:
        lab = _lab(pilot.app)

        async def fits():  # the picture has the box's height, once the layout has settled
            for _ in range(10):
                await pilot.pause()
                box = lab.query_one("#gan-map-box").size
                if lab.query_one("#gan-map")._pixels.shape[0] == 2 * box.height:
                    return True
            return False

        assert await fits() and lab.query_one("#gan-title").size.height == 2  # '… nonsaturating'
        await pilot.press("m")  # minimax: a one-row title, a taller map
        assert await fits() and lab.query_one("#gan-title").size.height == 1
