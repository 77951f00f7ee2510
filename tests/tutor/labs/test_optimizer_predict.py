"""The optimizer race asks first (issue 12): at step 0, which optimizer gets halfway down
first, answered by its place in the legend; playing on reveals an unanswered question."""

from __future__ import annotations

from tests.screen import screen_text
from tutor.labs import validate_lab
from tutor.labs.base import Lab
from tutor.labs.optimizer.model import RaceModel

PLATEAU = dict(surface="plateau", optimizers=["sgd", "adagrad", "rmsprop", "adam", "amsgrad"],
               lr=[0.1, 0.1, 0.01, 0.01, 0.003], steps=400, focus="adam")  # lesson 3.7's lab


def test_plateau_race_answer_is_adagrad_second_in_the_legend():
    m = RaceModel(validate_lab("optimizer", PLATEAU))
    place, name, step = m.halfway_first()
    assert (place, name) == (2, "adagrad") and m.selected[place - 1] == "adagrad"
    assert 0 < step < 50


def _spy(lab, record) -> None:
    post = lab.post_message

    def spy(message):
        if isinstance(message, Lab.Answered):
            record(message)
        return post(message)

    lab.post_message = spy


async def test_the_student_types_the_place_before_playing(lab_app):
    app = lab_app("optimizer", **PLATEAU)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        lab = app.query_one(Lab)
        lab.focus()
        await pilot.pause()
        screen = screen_text(app)
        assert "halfway" in screen and "1 sgd" in screen, screen
        received = []
        _spy(lab, received.append)
        await pilot.press("2", "enter")
        await pilot.pause()
        assert [(a.key, a.correct) for a in received] == [("first-halfway", True)]
        assert "✓ Right" in screen_text(app)


async def test_stepping_without_an_answer_reveals_it(lab_app):
    app = lab_app("optimizer", **PLATEAU)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        lab = app.query_one(Lab)
        lab.focus()
        await pilot.press("n")
        await pilot.pause()
        assert "The answer is 2." in screen_text(app)


async def test_no_question_when_everyone_halves_the_loss_at_once(lab_app):
    app = lab_app("optimizer")  # Rosenbrock: every run halves its loss gap in its first steps
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "halfway" not in screen_text(app)
