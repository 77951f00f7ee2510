"""The normalization lab's 4.5.4 view: the CNN race's model, its predict-first flow, and the lesson's numbers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from core.data import digits
from core.vision import train_small_cnn
from tests.answers import spy_answers
from tutor.labs import validate_lab
from tutor.labs.normalization.race import CHUNK, RaceModel
from tutor.widgets.param_input import ParamInput

LESSON = Path(__file__).parents[3] / "lessons" / "ch4_10_batch_norm_training.md"


def race(**params) -> RaceModel:
    return RaceModel(validate_lab("normalization", {"view": "training", **params}))


@pytest.fixture(scope="module")
def full_race() -> RaceModel:
    """The lab's default race, run to the end once (about 1200 SGD steps in all)."""
    m = race()
    m.advance(m.total_chunks)
    return m


def test_the_race_follows_the_kit_protocol_and_apply_keeps_the_last_good_race():
    from tutor.labs.kit import LabModel

    m = race(cnn_steps=20)
    assert isinstance(m, LabModel) and m.total_chunks == 2
    assert "lr_low < lr_high" in m.apply("lr_low", 1.0) and m.runs[0].lr == 0.05
    fresh = m.with_setting("cnn_steps", 40)
    assert fresh is not m and fresh.total_chunks == 4 and m.total_chunks == 2
    assert m.apply("cnn_steps", 30) is None and m.total_chunks == 3 and m.index == 0
    with pytest.raises(ValueError, match="unknown setting"):
        m.with_setting("colour", 1)


def test_runs_match_train_small_cnn():
    m = race(cnn_steps=20)
    m.advance(2)
    X, y = digits()
    for i, run in enumerate(m.runs):
        if i in (1, 2):
            continue  # runs 1 and 4 cover both kinds and both rates
        ref = train_small_cnn(X, y, batch_norm=run.batch_norm, lr=run.lr, steps=20, batch_size=64, seed=0)
        np.testing.assert_array_equal(m.losses()[i], ref.losses)
        assert m.accuracy()[i] == ref.accuracy


def test_step_back_reset_and_replay_give_the_same_numbers():
    m = race(cnn_steps=30)
    assert m.losses().shape == (4, 0) and np.isnan(m.accuracy()).all()
    assert m.step() and m.step() and m.step() and not m.step()
    assert m.finished and m.status() == "step 30 / 30"
    before = m.losses().copy()
    assert m.back() and m.back() and m.losses().shape == (4, CHUNK)
    m.reset()
    assert not m.back() and m.index == 0 and m.losses().shape == (4, 0)
    assert m.advance(5) == 3
    np.testing.assert_array_equal(m.losses(), before)


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="lr_low < lr_high"):
        race(lr_low=0.5, lr_high=0.1)


def test_default_race_numbers_quoted_by_the_lesson(full_race):
    """The lesson quotes these; they come from the lab's own defaults."""
    m = full_race
    assert [r.label for r in m.runs] == ["1 plain η=0.05", "2 BN η=0.05", "3 plain η=0.5", "4 BN η=0.5"]
    assert m.first_below() == [94, 15, 22, None]
    assert m.winner() == 2
    np.testing.assert_allclose(m.accuracy(), [0.855, 0.96, 0.97, 0.075])
    no_eval = m.no_eval_accuracy()
    assert np.isnan(no_eval[[0, 2]]).all() and no_eval[1] == pytest.approx(0.925)
    final = m.losses()[:, -CHUNK:].mean(axis=1)
    assert final[3] > 2.2  # run 4 sits at log 10 ≈ 2.30: its network predicts one class
    text = LESSON.read_text("utf-8")
    for quoted in ("step 15", "step 94", "step 22", "85.5 %", "96 %", "97 %", "7.5 %", "92.5 %"):
        assert quoted in text, quoted
    answers = dict(re.findall(r'question = "(.*?)"\nanswer = ([\d.]+)', text))
    assert float(answers[next(q for q in answers if "plain network at η = 0.05" in q)]) == 94
    assert float(answers[next(q for q in answers if "held-out" in q)]) == 7.5


def test_pytorch_code_parses_and_names_the_network():
    code = race().pytorch_code()
    ast.parse(code)
    for part in ("nn.Conv2d(1, 8, kernel_size=3, padding=1)", "nn.BatchNorm2d(8)", "nn.MaxPool2d(2)",
                 "nn.Linear(8 * 8 * 8, 10)", "torch.optim.SGD", "for lr in (0.05, 0.5)", "model.eval()"):
        assert part in code, part


async def test_predict_first_then_train_in_the_worker(lab_app):
    from tests.relab import remount, round_trip

    answers = []
    async with lab_app("normalization", view="training", cnn_steps=30).run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one("#lab")
        spy_answers(lab, answers.append)
        await pilot.press("n")
        assert lab.model.index == 0 and "Predict first" in lab.note
        await pilot.press("i", "7", "enter")
        assert lab.guess is None and "not a run" in lab.note
        lab.query_one("#race-guess").value = ""  # the field keeps the focus after a bad entry
        await pilot.press("2", "enter")
        assert lab.guess == 2 and lab.has_focus
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.computed == 3  # trained in the worker
        await pilot.press("n", "n", "n")
        assert lab.model.index == 3
        feedback = str(lab.query_one("#race-feedback").render())
        assert "✓ Right" in feedback and "step 15" in feedback
        assert [(a.key, a.correct) for a in answers] == [("bn-race", True)]
        stats = str(lab.query_one("#race-stats").render())
        assert "2 BN η=0.05" in stats and "15" in stats
        await pilot.press("b")
        assert lab.model.index == 2
        saved = round_trip(lab.save_state())
        # the lesson left and opened again: the runs train again up to the step shown, and
        # the verdict is shown without being recorded a second time
        lab = await remount(pilot)
        spy_answers(lab, answers.append)
        lab.restore_state(saved)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.save_state() == saved and lab.model.index == 2 and lab.guess == 2
        assert "✓ Right" in str(lab.query_one("#race-feedback").render())
        assert next(f for f in lab.query(ParamInput) if f.param_name == "cnn_steps").value == 30
        assert len(answers) == 1


def test_a_damaged_race_state_is_refused():
    from tutor.labs.normalization.state import restore_race, save_race

    saved = save_race(validate_lab("normalization", {"view": "training"}), 2, 3, False)
    assert restore_race(saved)[1:] == (2, 3, False)
    for bad, error in (({**saved, "guess": 5}, ValueError), ({**saved, "index": 99}, ValueError),
                       ({**saved, "guess": None}, ValueError), ({**saved, "revealed": "yes"}, TypeError),
                       ({**saved, "params": {**saved["params"], "lr_low": 1.0}}, ValueError),
                       ({**saved, "params": {**saved["params"], "view": "batch"}}, ValueError)):
        with pytest.raises(error):
            restore_race(bad)


async def test_bad_settings_keep_the_last_good_race(lab_app):
    async with lab_app("normalization", view="training", cnn_steps=20).run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one("#lab")
        field = next(f for f in lab.query(ParamInput) if f.param_name == "lr_low")
        lab.post_message(ParamInput.Changed(field, "lr_low", 1.0))
        await pilot.pause()
        assert lab.model.runs[0].lr == 0.05 and "kept the previous settings" in lab.note
        lab.post_message(ParamInput.Changed(field, "lr_low", 0.1))
        await pilot.pause()
        assert lab.model.runs[0].lr == 0.1 and lab.guess is None
        lab.focus()
        await pilot.press("3")
        assert lab.guess == 3 and "Your pick: 3" in str(lab.query_one("#race-prompt").render())


@pytest.mark.parametrize("size", [(20, 8), (60, 16)])
async def test_tiny_terminals_do_not_crash(lab_app, size):
    async with lab_app("normalization", view="training", cnn_steps=20).run_test(size=size) as pilot:
        await pilot.press("n", "b", "r", "i", "9", "enter")
        await pilot.pause()


def _advance_three(pilot):
    async def run(pilot):
        lab = pilot.app.query_one("#lab")
        lab.guess = 2
        lab.model.advance(3)
        lab.redraw()
        await pilot.pause()
        await pilot.pause()

    return run


def test_snapshot_race_after_thirty_steps(snap_compare, lab_app):
    app = lab_app("normalization", view="training", cnn_steps=100)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_advance_three(None))
