"""The RNN lab: the model protocol, the unrolled view's numbers, keys, predictions, a snapshot."""

from __future__ import annotations

import ast
import contextlib

import numpy as np
import pytest
from textual.widgets import Input
from textual.worker import WorkerCancelled

from tutor.labdemo import LabApp
from tutor.labs import validate_lab
from tutor.labs.base import Lab
from tutor.labs.rnn.model import RnnModel
from tutor.labs.rnn.params import PRESETS
from tutor.labs.rnn.widget import RnnLab
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput


def model(**params) -> RnnModel:
    return RnnModel(validate_lab("rnn", params))


# --- the model ------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", [p for p in PRESETS if p != "none"])
def test_step_back_reset_return_exactly(preset):
    m = model(preset=preset)
    start = m.status()
    taken = m.advance(5)
    assert taken == 5
    seventh = m.status()
    for _ in range(5):
        assert m.back()
    assert not m.back()
    assert m.status() == start
    m.advance(5)
    assert m.status() == seventh
    m.reset()
    assert m.status() == start


def test_unroll_runs_forward_then_backward_and_stops():
    m = model(preset="vanishing")
    v = m.view
    assert (v.forward_done, v.backward_done) == (0, 0)
    m.advance(v.T)
    assert (v.forward_done, v.backward_done) == (v.T, 0)
    assert m.advance(10_000) == v.T
    assert v.backward_done == v.T and not m.step()


def test_vanishing_preset_matches_the_closed_form():
    """Lesson 5.4 quotes ρ^(T−1) = 0.5^19 ≈ 1.91e-06 for the vanishing preset."""
    v = model(preset="vanishing").view
    assert v.closed_form() == pytest.approx(0.5 ** 19)
    np.testing.assert_allclose(v.dh_norms, 0.5 ** (v.T - np.arange(1, v.T + 1)), rtol=1e-10)
    assert f"{v.dh_norms[0]:.2e}" == "1.91e-06"


def test_exploding_preset_and_clipping():
    v = model(preset="exploding").view
    np.testing.assert_allclose(v.dh_norms[0], 1.5 ** 19, rtol=1e-10)
    assert v.grad_norm > 1e3
    assert v.clipped_norm() == 1.0
    assert "clipped to 1" in v.gradient_line()
    small = model(preset="exploding", rho=0.5, clip_norm=100.0).view
    assert small.clipped_norm() == small.grad_norm < 100
    assert "clipping leaves it" in small.gradient_line()


def test_open_forget_gate_keeps_the_gradient():
    """Lesson 5.5: the same LSTM with forget-gate bias 3 keeps orders of magnitude more."""
    closed = model(preset="lstm").view.dh_norms[0]
    opened = model(preset="lstm_open").view.dh_norms[0]
    assert closed < 1e-4 and opened > 1e-2


def test_explicit_parameters_win_over_the_preset():
    m = model(preset="vanishing", rho=0.7)
    assert m.params["rho"] == 0.7 and m.params["activation"] == "linear"


def test_apply_rebuilds_and_keeps_the_last_good_state():
    m = model(preset="vanishing")
    m.advance(5)
    assert m.apply("T", 1) is not None  # below the minimum
    assert m.params["T"] == 20 and m.view.k == 5
    assert m.apply("cell", "transformer") is not None
    assert m.apply("rho", float("nan")) is not None
    assert m.apply("nonsense", 1) is not None
    assert m.apply("cell", "gru") is None
    assert m.params["cell"] == "gru" and m.view.k == 0


@pytest.mark.parametrize("preset", ["vanishing", "exploding", "lstm_open", "gru"])
def test_pytorch_code_parses_and_carries_the_settings(preset):
    m = model(preset=preset)
    text = m.pytorch_code()
    ast.parse(text)
    assert f"T, D, H, rho = {m.params['T']}, 4, {m.params['hidden']}, {m.params['rho']:g}" in text
    assert ("clip_grad_norm_" in text) == m.params["clip"]


# --- the widget -----------------------------------------------------------------------------
def _lab(app) -> RnnLab:
    return app.query_one("#lab")


async def test_keys_step_through_forward_and_bptt(lab_app):
    async with lab_app("rnn", preset="vanishing").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "n")
        assert lab.model.view.forward_done == 3
        await pilot.press("b")
        assert lab.model.view.forward_done == 2
        lab.model.advance(100)
        lab.redraw()
        await pilot.pause()
        figures = str(lab.query_one("#rnn-figures").render())
        assert "‖∂ℒ/∂h₁‖ = 1.91e-06" in figures
        await pilot.press("r")
        assert lab.model.view.k == 0
        assert "‖∂ℒ/∂h₁‖ = ?" in str(lab.query_one("#rnn-figures").render())


async def test_prediction_is_checked_and_reported(lab_app):
    async with lab_app("rnn", preset="vanishing").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert lab.query_one("#rnn-predict", PredictInput).state == "idle"  # asked after the forward pass
        lab.advance(20)
        await pilot.pause()
        answered = []
        original = lab.post_message
        lab.post_message = lambda m: (answered.append(m), original(m))[1]
        predict = lab.query_one("#rnn-predict", PredictInput)
        assert predict.state == "asking" and predict.answer == pytest.approx(0.5 ** 19)
        await pilot.press("i")
        field = predict.query_one(Input)
        assert field.has_focus
        field.value = "1.9e-6"
        await pilot.press("enter")
        await pilot.pause()
        assert predict.state == "right"
        assert any(isinstance(m, Lab.Answered) and m.correct for m in answered)
        assert lab.has_focus  # the keys are the lab's again


async def test_bad_value_in_a_field_keeps_the_last_good_one(lab_app):
    async with lab_app("rnn").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = next(f for f in lab.query(ParamInput) if f.param_name == "T")
        box = field.query_one(Input)
        box.focus()
        box.value = "1000"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.params["T"] == 20
        assert field.has_class("-invalid")


def test_snapshot_vanishing_mid_bptt(snap_compare):
    def run_before(pilot):
        lab = pilot.app.query_one("#lab")
        lab.model.advance(30)
        lab.redraw()

    assert snap_compare(LabApp("rnn", {"preset": "vanishing"}), terminal_size=(120, 36),
                        run_before=run_before)


# --- the training views -----------------------------------------------------------------------
def test_memory_race_gru_learns_while_the_rnn_stays_at_chance():
    """Lesson 5.6 quotes: chance ln 4 ≈ 1.386 (25%); by step 150 the GRU recalls x₁ every time
    while the vanilla RNN is still guessing."""
    m = model(preset="memory")
    assert m.view.chance_loss() == pytest.approx(1.386, abs=5e-4)
    m.advance(150)
    _, loss, acc = m.view.curves()
    rnn, lstm, gru = acc[-1]
    assert gru >= 0.99 and rnn < 0.35
    assert loss[-1, 0] > 1.3  # the RNN's loss is still near ln 4
    assert m.view.state.reach[0] < 1e-4 < m.view.state.reach[2]


def test_text_model_learns_and_temperature_keeps_the_training():
    m = model(preset="text")
    assert m.view.chance_loss() == pytest.approx(np.log(m.view.corpus.vocab))
    m.advance(40)
    steps, loss = m.view.curve()
    assert loss[-1] < loss[0] - 0.3
    cold = m.view.sample_text()
    assert m.apply("temperature", 0.2) is None
    assert m.view.k == 40  # only the sampling changed
    warm = m.view.sample_text()
    assert len(cold) == len(warm) and cold != warm


def test_switching_view_fills_in_that_views_preset():
    m = model()
    assert m.apply("view", "memory") is None
    assert m.params["gate_bias"] == 5.0 and m.params["lr"] == 0.02 and m.training
    assert m.apply("view", "text") is None
    assert m.params["cell"] == "lstm"


@pytest.mark.parametrize("preset", ["memory", "text"])
def test_training_pytorch_code_parses(preset):
    text = model(preset=preset).pytorch_code()
    ast.parse(text)
    assert "clip_grad_norm_" in text and "loss.backward()" in text


async def test_training_worker_trains_and_posts(lab_app):
    async with lab_app("rnn", preset="memory", steps=3).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.view.k == 3 and not lab._working
        await pilot.press("n")
        assert lab.model.view.k == 4
        assert "step 4/400" in str(lab.query_one("#rnn-controls").status)
        await pilot.press("b", "b")
        assert lab.model.view.k == 2


def test_snapshot_memory_race_mid_training(snap_compare):
    def run_before(pilot):
        lab = pilot.app.query_one("#lab")
        lab.model.advance(20)
        lab.redraw()

    assert snap_compare(LabApp("rnn", {"preset": "memory"}), terminal_size=(120, 36),
                        run_before=run_before)


# --- the numbers the chapter 5 lessons quote ---------------------------------------------------
def test_numbers_quoted_by_the_lessons():
    counts = {cell: sum(w.size for w in model(preset="unroll", cell=cell).view.weights.values())
              for cell in ("rnn", "lstm", "gru")}
    assert counts == {"rnn": 112, "lstm": 448, "gru": 336}  # 5.1, 5.6, 5.7
    unroll = model(preset="unroll").view  # 5.3
    assert unroll.T == 12 and unroll.dh_norms[-1] == pytest.approx(1.0)
    assert round(np.log10(unroll.dh_norms[0])) == -2 and f"{unroll.dh_norms[0]:.2g}" == "0.0084"
    assert 0.9 ** 11 == pytest.approx(0.31, abs=0.005)
    exploding = model(preset="exploding").view  # 5.4, 5.5
    assert round(exploding.dh_norms[0]) == 2217
    assert f"{exploding.grad_norm:.1e}" == "1.9e+04" and exploding.clipped_norm() == 1.0
    closed, opened = model(preset="lstm").view, model(preset="lstm", gate_bias=3.0).view  # 5.6
    assert f"{closed.dh_norms[0]:.1e}" == "3.5e-05"
    assert round(np.log10(opened.dh_norms[0])) == -1 and f"{opened.dh_norms[0]:.2f}" == "0.10"
    text = model(preset="text").view  # 5.9
    assert text.corpus.vocab == 49 and f"{text.chance_loss():.3f}" == "3.892"
    assert TextLessonCheck.softmax0([2, 1, 0], 1.0) == pytest.approx(0.665, abs=5e-4)
    assert TextLessonCheck.softmax0([2, 1, 0], 2.0) == pytest.approx(0.506, abs=5e-4)


class TextLessonCheck:
    @staticmethod
    def softmax0(logits, temperature):
        z = np.exp(np.array(logits, dtype=float) / temperature)
        return float(z[0] / z.sum())


def test_padding_view_masks_the_state_like_packing():
    """Lesson 5.8 quotes: 15 real tokens of 24 slots, batch_sizes 4 3 3 2 2 1, last states
    exactly those of each word alone."""
    m = model(preset="padding")
    v = m.view
    assert v.real_tokens == 15 and v.T * len(v.words) == 24
    assert v.batch_sizes().tolist() == [4, 3, 3, 2, 2, 1]
    assert [v.words[b] for b in v.sorted_order()] == ["garden", "Peter", "pie", "a"]
    assert v.final_gap() == 0.0
    assert m.advance(10) == v.T
    ast.parse(m.pytorch_code())
    assert "pack_padded_sequence" in m.pytorch_code()


async def test_padding_view_question_and_grid(lab_app):
    async with lab_app("rnn", preset="padding").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        predict = lab.query_one("#rnn-predict", PredictInput)
        assert predict.state == "asking" and predict.answer == 2
        lab.advance(6)
        await pilot.pause()
        assert predict.state == "revealed"
        text = str(lab.query_one("#rnn-figures").render())
        assert "sizes        4 3 3 2 2 1" in text and "max |Δ| = 0.0e+00" in text


async def test_playing_a_training_view_trains_in_a_worker_and_a_setting_stops_it(lab_app):
    async with lab_app("rnn", preset="text").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.playing = True
        lab._tick()  # what the playback timer calls: starts the worker
        assert lab._working
        lab.change("lr", 0.005)  # a new setting cancels the worker and rebuilds
        assert not lab.playing and not lab._working
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert not lab._working and lab.model.params["lr"] == 0.005 and lab.model.view.k == 0
        lab.playing = True
        lab._tick()
        lab.playing = False  # the worker stops after its current step
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert not lab._working and lab.model.view.k >= 1


# --- the lab as the student left it -----------------------------------------------------------
async def test_the_lab_comes_back_as_the_student_left_it(lab_app, monkeypatch):
    """Keys (cell, ρ, clipping, gates, steps) and a field change the unrolled view, a fresh lab
    restores it from JSON; then the text view's training steps and temperature come back,
    retrained in the worker to the same weights."""
    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    async with lab_app("rnn", preset="unroll").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("c", "greater_than_sign", "k", "g", "n", "n", "n")
        assert lab.model.params["cell"] == "lstm" and lab.show_gates
        assert lab.model.params["rho"] == pytest.approx(1.0) and lab.model.params["clip"] is True
        assert lab.query_one("#rnn-pi-clip", ParamInput).value == "on"
        lab.query_one("#rnn-pi-T", ParamInput).query_one(Input).value = "9"
        lab.query_one("#rnn-pi-T", ParamInput).query_one(Input).focus()
        await pilot.press("enter", "escape", "n", "n")
        assert (lab.model.params["T"], lab.model.view.k) == (9, 2)
        state = round_trip(lab.save_state())
        lab = await remount(pilot)
        assert lab.model.params["cell"] == "rnn"
        lab.restore_state(state)
        await pilot.pause()
        assert lab.save_state() == state
        assert lab.show_gates and lab.model.view.k == 2
        assert lab.query_one("#rnn-pi-T", ParamInput).value == 9
        assert lab.query_one("#rnn-pi-clip", ParamInput).value == "on"
        assert "LSTM (φ fixed) · ρ=1 · T=9" in screen_text(pilot.app)
        for damaged in ({**state, "k": 19}, {**state, "k": "2"}, {**state, "extra": 1},
                        {**state, "params": {**state["params"], "rho": -1.0}}):
            with pytest.raises((TypeError, ValueError, KeyError)):
                lab.restore_state(damaged)
            assert lab.save_state() == state  # unchanged
        lab.change("view", "text")  # (what v does twice, without building the memory race)
        await pilot.press("n", "n")
        theta = lab.model.view.state.checkpoint.theta.copy()  # after two steps
        await pilot.press("n", "less_than_sign")  # a third training step, τ − 0.1
        assert lab.model.params["temperature"] == pytest.approx(0.7)
        await pilot.pause()
        figures = str(lab.query_one("#rnn-figures").render())
        assert figures.startswith("temperature 0.7") and "Peter " in figures
        state = round_trip(lab.save_state())
        assert state["k"] == 3 and state["params"]["view"] == "text"
        from tutor.labs.rnn import state as S

        monkeypatch.setitem(S.REPLAY_STEPS, "text", 2)  # a restore retrains 2 steps at most
        lab = await remount(pilot)
        lab.restore_state(state)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        np.testing.assert_array_equal(lab.model.view.state.checkpoint.theta, theta)
        text = screen_text(pilot.app)
        assert "step 2/1500" in text and "temperature 0.7" in text and "first 2 of" in text
        assert lab.save_state() == state  # not moved since: the 3 steps stay saved
        await pilot.press("n")
        assert lab.model.view.k == 3 and lab.save_state()["k"] == 3


def test_a_damaged_or_long_saved_state(monkeypatch):
    from tutor.labs.rnn import state as S

    good = S.save(model(preset="memory"), False, set(), set())
    for damaged in ([], {**good, "k": -1}, {**good, "k": 401}, {**good, "gates": 1},
                    {**good, "answered": "x"}, {k: v for k, v in good.items() if k != "k"},
                    {**good, "params": {**good["params"], "preset": "text"}},
                    {**good, "params": {**good["params"], "cell": "transformer"}}):
        with pytest.raises((TypeError, ValueError, KeyError)):
            S.parse(damaged)
    restored = S.parse({**good, "k": 400})  # longer than a restore replays: the start of it
    assert (restored.replay, restored.target) == (S.REPLAY_STEPS["memory"], 400)
    assert "first 150 of your 400" in restored.note
    assert S.parse({**good, "k": 400}, head_start=300).replay == 300  # the lesson's head start
    assert S.parse({**good, "k": 7}).replay == 7 and S.parse({**good, "k": 7}).note == ""
