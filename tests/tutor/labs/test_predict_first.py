"""Predict first in the losses, normalization and MLP labs (issue 12): the question each lab
asks before the first step, its answer from the lab's own model, and the student's answer
posted as Lab.Answered; an unanswered question is revealed once the student steps."""

from __future__ import annotations

from pathlib import Path

from tests.answers import spy_answers
from tests.screen import screen_text
from tutor.content import parse_lesson
from tutor.labs import validate_lab
from tutor.labs.base import Lab

LESSONS = Path(__file__).parents[3] / "lessons"


def lesson_lab(name: str) -> dict:
    lesson = parse_lesson((LESSONS / name).read_text("utf-8"), name)
    return dict(lesson.lab.params)


async def _answer(app, pilot, digit: str) -> list:
    await pilot.pause()
    lab = app.query_one(Lab)
    lab.focus()
    received = []
    spy_answers(lab, received.append)
    await pilot.press(digit, "enter")
    await pilot.pause()
    return received


# --- losses --------------------------------------------------------------------------
def test_losses_questions_from_the_lessons_labs():
    from tutor.labs.losses.model import LossesModel

    compare = LossesModel(validate_lab("losses", lesson_lab("ch3_01_tensors.md")))
    key, prompt, answer, _ = compare.question()
    assert (key, answer) == ("ce-direction", 1) and "s = 1.25" in prompt  # confidently right: down
    stability = LossesModel(validate_lab("losses", lesson_lab("ch3_02_loss_functions.md")))
    key, prompt, answer, _ = stability.question()
    assert (key, answer) == ("naive-after-step", 2) and "s = 450" in prompt  # +inf, not NaN
    far = LossesModel(validate_lab("losses", {**lesson_lab("ch3_02_loss_functions.md"), "scale": 500.0}))
    assert far.question()[2] == 3  # s = 750: exp(s) overflows too, NaN
    near = LossesModel(validate_lab("losses", {**lesson_lab("ch3_02_loss_functions.md"), "scale": 100.0}))
    assert near.question()[2] == 1


async def test_losses_lab_takes_the_answer_and_reveals_on_step(lab_app):
    app = lab_app("losses", **lesson_lab("ch3_02_loss_functions.md"))
    async with app.run_test(size=(120, 36)) as pilot:
        received = await _answer(app, pilot, "2")
        assert [(a.lab, a.key, a.correct) for a in received] == [("losses", "naive-after-step", True)]
        assert "✓ Right: 2." in screen_text(app)
    app = lab_app("losses", **lesson_lab("ch3_01_tensors.md"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.query_one(Lab).focus()
        await pilot.press("n")
        await pilot.pause()
        assert "The answer is 1." in screen_text(app)


# --- MLP -----------------------------------------------------------------------------
def test_mlp_question_is_the_steps_per_epoch_of_the_lessons_lab():
    from tutor.labs.mlp.model import MlpModel

    m = MlpModel(validate_lab("mlp", {**lesson_lab("ch1_09_mlp_experiments.md"), "steps": 0}))
    key, prompt, answer, explanation = m.question()
    assert len(m.y_train) == 225 and m.trainer.batch_size == 32
    assert (key, answer) == ("steps-per-epoch", 8) and "225 points, batches of 32" in prompt
    assert "the last holds 1" in explanation  # 225 = 7 · 32 + 1
    m.advance(8)
    assert m.epoch == 1.0


async def test_mlp_lab_asks_at_its_head_start_and_keeps_its_layer_keys(lab_app):
    app = lab_app("mlp", **lesson_lab("ch1_09_mlp_experiments.md"))  # 300 steps of head start
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        lab = app.query_one(Lab)
        assert lab.model.state.step == 300 and "steps per epoch?" in screen_text(app)
        lab.focus()
        await pilot.press("full_stop")  # still the next layer's weights, not an answer
        assert lab.weight_layer == 2
        received = []
        spy_answers(lab, received.append)
        await pilot.press("8", "enter")
        await pilot.pause()
        assert [(a.lab, a.key, a.correct) for a in received] == [("mlp", "steps-per-epoch", True)]
        await pilot.press("n")
        await pilot.pause()
        assert "✓ Right: 8." in screen_text(app)  # an answered question stays answered


# --- normalization -------------------------------------------------------------------
def test_normalization_questions_from_the_lessons_labs():
    from tutor.labs.normalization.model import NormModel

    m = NormModel(validate_lab("normalization", lesson_lab("ch4_08_batch_norm.md")))
    key, _, answer, tolerance, _ = m.question()
    mu = m.groups()[0][1]
    assert key == "running-mean" and answer == 0.1 * mu and tolerance < 0.02
    assert m.history.step() and m.state.running_mean[0] == answer  # what n then shows
    ev = NormModel(validate_lab("normalization", {**lesson_lab("ch4_08_batch_norm.md"), "mode": "eval"}))
    assert ev.question()[2] == 0.0  # eval never updates the running statistics
    ln = NormModel(validate_lab("normalization", lesson_lab("ch4_09_layer_instance_norm.md")))
    assert ln.question()[:3] == ("group-mean", "Predict: the mean of y over the lit group (C, H, W)?", 0.0)
    assert abs(ln.output()[ln.group_mask()].mean()) < 1e-12


async def test_normalization_lab_takes_the_answer(lab_app):
    from tutor.labs.normalization.model import NormModel

    params = lesson_lab("ch4_08_batch_norm.md")
    answer = NormModel(validate_lab("normalization", params)).question()[2]
    app = lab_app("normalization", **params)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        lab = app.query_one(Lab)
        lab.focus()
        received = []
        spy_answers(lab, received.append)
        await pilot.press(*f"{answer:.3f}", "enter")
        await pilot.pause()
        assert [(a.lab, a.key, a.correct) for a in received] == [("normalization", "running-mean", True)]
        await pilot.press("n")
        await pilot.pause()
        assert f"running μ  {answer:.2f}" in screen_text(app)


async def test_plus_and_minus_stay_speed_keys_where_answers_are_whole_numbers(lab_app):
    from tutor.widgets.predict import PredictInput

    for lab_name, params in (("losses", lesson_lab("ch3_02_loss_functions.md")),
                             ("mlp", lesson_lab("ch1_08_training_objective_mlp.md")),
                             ("optimizer", lesson_lab("ch3_07_adaptive_methods.md"))):
        app = lab_app(lab_name, **params)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            lab = app.query_one(Lab)
            lab.focus()
            assert app.query_one(PredictInput).state == "asking", lab_name
            fps = lab.fps
            await pilot.press("plus")
            assert lab.fps == fps * 1.5 and app.focused is lab, lab_name
            await pilot.press("minus")
            assert lab.fps == fps, lab_name
