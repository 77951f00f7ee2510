"""Answers as a student types them: signs, decimals and exponents in predictions; quiz retries."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tutor.labs.base import Lab
from tutor.widgets.predict import PredictInput

SIZE = (120, 36)


@pytest.mark.parametrize("lab, params, keys", [
    ("convolution", dict(view="slide", image="digit7", size=12, col=4, row=3), ()),
    ("gridworld", dict(preset="notes"), ("down",)),
])
async def test_minus_one_typed_on_the_lab_is_an_answer_not_slower(lab_app, lab, params, keys):
    """Typing -1 made - "slower" and recorded 1 as a wrong answer."""
    async with lab_app(lab, **params).run_test(size=SIZE) as pilot:
        widget = pilot.app.query_one(Lab)
        widget.focus()
        await pilot.press(*keys)
        await pilot.pause()
        predict = widget.query_one(PredictInput)
        assert predict.state == "asking"
        answers = []
        widget.post_message = lambda m, _post=widget.post_message: (answers.append(m), _post(m))[1]
        fps = widget.fps
        await pilot.press("minus", "1", "enter")
        await pilot.pause()
        assert widget.fps == fps, "- started the answer"
        assert predict.query_one(Input).value == "-1"
        checked = [m for m in answers if isinstance(m, Lab.Answered)]
        assert len(checked) == 1
        assert predict.state in ("right", "wrong")
        assert widget.has_focus


async def test_a_prediction_takes_an_exponent(lab_app):
    async with lab_app("convolution", view="slide", image="digit7", size=12, col=4, row=3).run_test(size=SIZE) as pilot:
        widget = pilot.app.query_one(Lab)
        widget.focus()
        await pilot.pause()
        predict = widget.query_one(PredictInput)
        assert predict.state == "asking"
        await pilot.press("1", "e", "minus", "3", "enter")
        await pilot.pause()
        assert predict.query_one(Input).value == "1e-3" and predict.state in ("right", "wrong")


async def test_a_quiz_gives_the_hint_first_then_the_answer_and_records_the_first_try():
    from textual.widgets import Static

    from tutor.app import DlTutorApp
    from tutor.content import load_catalog
    from tutor.widgets.quiz import QuizView

    lesson = load_catalog().get("training-objective")
    app = DlTutorApp(warm=False, resume=False)
    async with app.run_test(size=SIZE) as pilot:
        app.open_lesson(lesson.id)
        await pilot.pause()
        view = next(v for v in app.screen.query(QuizView) if not v.quiz.is_choice)
        quiz = view.quiz
        feedback = view.query_one(".quiz-feedback", Static)
        field = view.query_one(Input)
        field.focus()
        wrong = f"{quiz.answer + 1000:g}"
        field.value = wrong
        await pilot.press("enter")
        await pilot.pause()
        first = str(feedback.render())
        assert "Try again" in first and f"{quiz.answer:g}" not in first.replace(wrong, "")
        if quiz.hint:
            assert quiz.hint[:20] in first
        field.value = wrong
        await pilot.press("enter")
        await pilot.pause()
        assert f"the answer is {quiz.answer:g}" in str(feedback.render())
        field.value = f"{quiz.answer}"
        await pilot.press("enter")
        await pilot.pause()
        record = app.progress.quiz_record(lesson.id, quiz.id)
        assert record["first_try"] is False and record["correct"] is True and record["attempts"] == 3
        view.show_answer()
        await pilot.pause()
        assert f"The answer is {quiz.answer:g}" in str(feedback.render())


async def test_a_lab_key_typed_in_a_prediction_goes_to_the_lab(lab_app):
    """After - started an answer, y (PyTorch) or n was typed into the field."""
    from tutor.screens.code_dialog import CodeDialog

    async with lab_app("gridworld", preset="notes").run_test(size=SIZE) as pilot:
        widget = pilot.app.query_one(Lab)
        widget.focus()
        await pilot.press("down")
        await pilot.pause()
        predict = widget.query_one(PredictInput)
        await pilot.press("minus", "n")
        await pilot.pause()
        assert widget.model.k == 1 and predict.query_one(Input).value == ""
        assert widget.has_focus, pilot.app.focused
        await pilot.press("1", "y")
        await pilot.pause()
        assert isinstance(pilot.app.screen, CodeDialog)
        assert predict.query_one(Input).value == "1", "a number typed so far is kept"


async def test_no_stale_prompt_after_a_mode_change(lab_app):
    """Gridworld's "Predict V₆(2,2)" stayed after m."""
    async with lab_app("gridworld", preset="notes").run_test(size=SIZE) as pilot:
        widget = pilot.app.query_one(Lab)
        widget.focus()
        await pilot.press("down", "n", "n")
        await pilot.pause()
        predict = widget.query_one(PredictInput)
        old = predict.prompt
        assert widget.model.k == 2 and old.startswith("Predict V") and predict.state == "asking"
        for mode in ("random_policy", "q_learning", "value_iteration"):
            await pilot.press("m")
            await pilot.pause()
            assert widget.model.mode == mode and widget.model.k == 0
            assert predict.state == "idle" or predict.prompt != old, (mode, predict.prompt)
