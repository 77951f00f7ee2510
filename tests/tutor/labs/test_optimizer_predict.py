"""The optimizer race's question (issue 12): which optimizer gets halfway down first."""

from __future__ import annotations

from tutor.labs import validate_lab
from tutor.labs.optimizer.model import RaceModel

PLATEAU = dict(surface="plateau", optimizers=["sgd", "adagrad", "rmsprop", "adam", "amsgrad"],
               lr=[0.1, 0.1, 0.01, 0.01, 0.003], steps=400, focus="adam")  # lesson 3.7's lab


def test_plateau_race_answer_is_adagrad_second_in_the_legend():
    m = RaceModel(validate_lab("optimizer", PLATEAU))
    place, name, step = m.halfway_first()
    assert (place, name) == (2, "adagrad") and m.selected[place - 1] == "adagrad"
    assert 0 < step < 50
