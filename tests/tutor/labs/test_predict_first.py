"""Predict first in the losses, normalization and MLP labs (issue 12): the question each lab
asks before the first step, its answer from the lab's own model, and the student's answer
posted as Lab.Answered; an unanswered question is revealed once the student steps."""

from __future__ import annotations

from pathlib import Path

from tests.screen import screen_text
from tutor.content import parse_lesson
from tutor.labs import validate_lab
from tutor.labs.base import Lab

LESSONS = Path(__file__).parents[3] / "lessons"


def lesson_lab(name: str) -> dict:
    lesson = parse_lesson((LESSONS / name).read_text("utf-8"), name)
    return dict(lesson.lab.params)


def _spy(lab, record) -> None:
    post = lab.post_message

    def spy(message):
        if isinstance(message, Lab.Answered):
            record(message)
        return post(message)

    lab.post_message = spy


async def _answer(app, pilot, digit: str) -> list:
    await pilot.pause()
    lab = app.query_one(Lab)
    lab.focus()
    received = []
    _spy(lab, received.append)
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
