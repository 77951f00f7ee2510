"""The optimizer race asks first (issue 12): at step 0, which optimizer first gets 90 % of the
way down (its loss gap below a tenth of the start's), answered by its place in the legend;
playing on reveals an unanswered question."""

from __future__ import annotations

from tests.answers import spy_answers
from tests.screen import screen_text
from tutor.labs import validate_lab
from tutor.labs.base import Lab
from tutor.labs.optimizer.model import RaceModel

PLATEAU = dict(surface="plateau", optimizers=["sgd", "adagrad", "rmsprop", "adam", "amsgrad"],
               lr=[0.1, 0.1, 0.01, 0.01, 0.003], steps=400, focus="adam")  # lesson 3.7's lab


def test_plateau_race_answer_is_adagrad_second_in_the_legend():
    m = RaceModel(validate_lab("optimizer", PLATEAU))
    place, name, step = m.first_down()
    assert (place, name, step) == (2, "adagrad", 41) and m.selected[place - 1] == "adagrad"
    assert "sgd" not in m.finish_steps()  # SGD never leaves the plateau
    run = m.runs["adagrad"]
    assert run.losses[41] < 0.1 * run.losses[0] <= run.losses[40]


def test_a_tie_has_no_answer():
    m = RaceModel(validate_lab("optimizer", dict(surface="quadratic", optimizers=["sgd", "momentum"],
                                                 lr=[0.03, 0.03], gamma=0.0)))
    assert m.finish_steps()["sgd"] == m.finish_steps()["momentum"]  # γ = 0: the same method
    assert m.first_down() is None


async def test_the_student_types_the_place_before_playing(lab_app):
    app = lab_app("optimizer", **PLATEAU)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        lab = app.query_one(Lab)
        lab.focus()
        await pilot.pause()
        screen = screen_text(app)
        assert "90% of the way down" in screen and "1 sgd" in screen, screen
        received = []
        spy_answers(lab, received.append)
        await pilot.press("2", "enter")
        await pilot.pause()
        assert [(a.key, a.correct) for a in received] == [("first-down", True)]
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


async def test_no_question_when_the_first_step_already_wins(lab_app):
    # lesson 3.3: Newton lands on the quadratic's minimum in one step
    app = lab_app("optimizer", surface="quadratic", optimizers=["sgd", "newton"])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.query_one(Lab).model.first_down()[1:] == ("newton", 1)
        assert "way down" not in screen_text(app)
