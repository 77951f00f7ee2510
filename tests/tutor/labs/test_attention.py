"""The attention lab in the app: keys, predictions, masks, the training worker, tiny sizes,
snapshots."""

from __future__ import annotations

import pytest

from tests.answers import spy_answers
from tutor.widgets.predict import PredictInput


def _lab(app):
    return app.query_one("#lab")


async def _settle(pilot):
    await pilot.pause()
    await pilot.pause()


async def test_steps_predict_mask_and_views(lab_app):
    async with lab_app("attention").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "n")
        await _settle(pilot)
        predict = lab.query_one(PredictInput)
        assert predict.state == "asking" and predict.key == "attn-score"
        a, i = lab.model.view.att, lab.model.view.query
        answer = f"{a.S[i, i]:.3f}"
        assert answer.startswith("-")  # a minus typed on the lab starts the answer
        await pilot.press(*answer, "enter")
        await _settle(pilot)
        assert predict.state == "right"
        await pilot.press("n", "n")  # stage 5: the masked scores, a weight is asked
        assert lab.model.view.stage == 5 and predict.key == "attn-weight"
        await pilot.press("c")  # causal mask on: same stage, −∞ above the diagonal
        await _settle(pilot)
        assert lab.model.params["causal"] and lab.model.view.stage == 5
        shown = lab.query_one("#att-matrices").plain
        assert "−∞" in shown and "S + M" in shown
        assert "mask: causal" in str(lab.query_one("#att-title").render())
        await pilot.press("p")
        assert lab.model.params["pad"] == 1
        await pilot.press("v")
        assert lab.model.kind == "scaling"
        await pilot.press("n", "n")
        await _settle(pilot)
        assert "d = 4" in lab.query_one("#att-bars").plain
        assert "largest |∂pᵢ/∂sⱼ|" in lab.query_one("#att-bars").plain
        await pilot.press("y")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "CodeDialog"


async def test_answer_is_posted_to_the_lesson(lab_app):
    async with lab_app("attention", view="positions").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        got = []
        spy_answers(lab, lambda message: got.append((message.key, message.correct)))
        await _settle(pilot)
        await pilot.press("0", ".", "8", "4", "enter")  # sin(1) = 0.841
        await _settle(pilot)
        assert got == [("pe-value", True)]


async def test_training_runs_in_a_worker_and_steps_back(lab_app):
    async with lab_app("attention", view="train", layers=1, d_model_train=8, chunk=3).run_test(
            size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await _settle(pilot)
        predict = lab.query_one(PredictInput)
        assert predict.state == "asking" and predict.key == "reverse-source"
        await pilot.press("n")
        await pilot.app.workers.wait_for_complete()
        await _settle(pilot)
        assert lab.model.view.state.step == 3
        assert "step 3" in lab.query_one("#att-controls").status
        await pilot.press("b")
        assert lab.model.view.state.step == 0
        assert predict.state != "asking"  # trained past step 0: + and - are speed keys again
        await pilot.press("c")  # a steps-view key: a note, nothing changes
        assert lab.model.kind == "train"


async def test_bad_setting_keeps_the_last_good(lab_app):
    async with lab_app("attention").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        assert not lab.apply("sentence", "x")
        await _settle(pilot)
        assert "kept sentence" in str(lab.query_one("#att-message").render())
        assert lab.model.view.words[1] == "cat"


@pytest.mark.parametrize("view", ["steps", "train"])
async def test_tiny_terminals_do_not_crash(lab_app, view):
    async with lab_app("attention", view=view, layers=1, d_model_train=8).run_test(size=(30, 10)) as pilot:
        await pilot.press("n", "v", "n", "v", "n")
        await pilot.app.workers.wait_for_complete()
        await _settle(pilot)


def test_snapshot_steps_causal_softmax(snap_compare, lab_app):
    app = lab_app("attention", causal=True)
    assert snap_compare(app, terminal_size=(120, 36), press=["n"] * 6, run_before=_settle)


def test_snapshot_positions(snap_compare, lab_app):
    app = lab_app("attention", view="positions", length=24, pe_dim=24)
    assert snap_compare(app, terminal_size=(120, 36), press=["n"] * 5, run_before=_settle)


def test_snapshot_training_view_at_step_0(snap_compare, lab_app):
    app = lab_app("attention", view="train", task="sort")
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


async def test_character_model_samples_as_it_trains(lab_app):
    params = dict(view="lm", layers=1, d_model_train=8, context=8, batch=4, chunk=2)
    async with lab_app("attention", **params).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await _settle(pilot)
        before = lab.model.view.state.prediction
        await pilot.press("n")
        await pilot.app.workers.wait_for_complete()
        await _settle(pilot)
        side = str(lab.query_one("#att-train-text").render())
        assert lab.model.view.state.step == 2 and "sample at τ = 0.8" in side
        assert lab.model.view.state.prediction != before
        assert lab.model.view.state.prediction[:21] in side  # the sample's first line is shown


async def test_the_stage_explanation_stays_on_screen_beside_a_lesson(lab_app):
    from tests.screen import screen_text

    async with lab_app("attention").run_test(size=(80, 34)) as pilot:  # the lab's share at 120x36
        await pilot.press("n", "n", "n", "n", "n")  # stage 5: the matrices scroll to S + M and A
        await _settle(pilot)
        shown = screen_text(pilot.app)
        assert "S + M: the mask sets forbidden scores" in shown
        assert "No mask: c turns on the causal mask" in shown
        assert "S + M" in shown and "A=softmax" in shown


@pytest.mark.parametrize("view", ["train", "lm"])
def test_the_training_titles_fit_beside_a_lesson(view):
    from tutor.labs import validate_lab
    from tutor.labs.attention.widget import AttentionLab

    # the largest settings: the title must still fit the lab's ~78 columns beside a lesson
    params = {"view": view, "layers": 3, "heads": 4, "d_model_train": 64, "seq_len": 10}
    lab = AttentionLab(validate_lab("attention", params))
    title = lab._title()
    assert len(title) <= 78 and title.endswith(" params"), title


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    """Keys change the steps view, a fresh lab restores it from JSON; then the training
    view's chunks come back, retrained in the worker to the same weights."""
    import numpy as np

    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    async with lab_app("attention").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "c", "o", "e")
        assert lab.model.view.stage == 2 and lab.model.view.query == 3
        state = round_trip(lab.save_state())
        lab = await remount(pilot)
        lab.restore_state(state)
        await _settle(pilot)
        assert lab.save_state() == state
        assert "mask: causal · positions on" in screen_text(pilot.app)
        assert "stage 2/7 K" in screen_text(pilot.app)
        for damaged in ({**state, "index": 8}, {**state, "index": 2.0}, {**state, "more": 1},
                        {**state, "params": {**state["params"], "pad": 6}}):
            with pytest.raises((TypeError, ValueError, KeyError)):
                lab.restore_state(damaged)
            assert lab.save_state() == state  # unchanged
        for name, value in (("view", "train"), ("layers", 1), ("d_model_train", 8), ("chunk", 3)):
            assert lab.apply(name, value)
        for _ in range(2):
            await pilot.press("n")
            await pilot.app.workers.wait_for_complete()
        weights = {k: w.copy() for k, w in lab.model.view.net.params.items()}
        state = round_trip(lab.save_state())
        assert state["index"] == 2
        lab = await remount(pilot)
        lab.restore_state(state)
        await pilot.app.workers.wait_for_complete()
        await _settle(pilot)
        assert lab.save_state() == state and lab.model.view.state.step == 6
        for key, w in weights.items():
            np.testing.assert_array_equal(lab.model.view.net.params[key], w)
        assert "step 6" in screen_text(pilot.app)


def test_a_damaged_or_long_saved_state():
    from tutor.labs import validate_lab
    from tutor.labs.attention import state as S
    from tutor.labs.attention.model import AttentionModel

    good = S.save(AttentionModel(validate_lab("attention", {"view": "lm"})), False)
    for damaged in (None, {**good, "index": -1}, {**good, "trained_past": "no"},
                    {k: v for k, v in good.items() if k != "index"},
                    {**good, "params": {**good["params"], "heads": 3}},  # 32 % 3: refused
                    {**good, "params": {**good["params"], "view": "film"}}):
        with pytest.raises((TypeError, ValueError, KeyError)):
            S.parse(damaged)
    restored = S.parse({**good, "index": 300})
    assert (restored.replay, restored.target) == (S.REPLAY_CHUNKS["lm"], 300)
    assert "first 100 of your 1500" in restored.note
    assert S.parse({**good, "index": 3}).note == ""
