"""Lab parameter validation: kinds, bounds, choices, unknown names, defaults."""

import pytest

from tutor.labs import ParamError, lab_names, lab_params
from tutor.labs.params import Param, validate

SPECS = {
    "lr": Param("float", 0.1, min=0.0, max=1.0),
    "steps": Param("int", 10, min=1),
    "kernel": Param("str", "sobel_x", choices=("sobel_x", "blur")),
    "opts": Param("list[str]", ["sgd"], choices=("sgd", "adam")),
    "show": Param("bool", False),
    "grid": Param("list[list[float]]", [[0.0]]),
    "xs": Param("list[float]", [1.0]),
}


def test_defaults_are_filled_and_values_converted():
    out = validate("demo", SPECS, {"lr": 1, "grid": [[1, 2], [3, 4]]})
    assert out["lr"] == 1.0 and isinstance(out["lr"], float)
    assert out["grid"] == [[1.0, 2.0], [3.0, 4.0]]
    assert out["steps"] == 10 and out["opts"] == ["sgd"]


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"nope": 1}, "has no parameter 'nope'"),
        ({"lr": 2.0}, "at most 1.0"),
        ({"lr": -1}, "at least 0.0"),
        ({"lr": float("nan")}, "finite"),
        ({"lr": "fast"}, "must be a number"),
        ({"lr": True}, "must be a number"),
        ({"steps": 1.5}, "whole number"),
        ({"steps": 0}, "at least 1"),
        ({"kernel": "gauss"}, "one of sobel_x, blur"),
        ({"opts": ["sgd", "lion"]}, "one of sgd, adam"),
        ({"opts": "sgd"}, "list of strings"),
        ({"show": 1}, "true or false"),
        ({"grid": [1, 2]}, "rows of numbers"),
        ({"xs": ["a"]}, "must be a number"),
    ],
)
def test_bad_values_say_what_is_wrong(given, fragment):
    with pytest.raises(ParamError, match=fragment):
        validate("demo", SPECS, given)


def test_unknown_lab():
    with pytest.raises(ParamError, match="there is no lab"):
        lab_params("no-such-lab")


def test_every_lab_declares_valid_defaults():
    for name in lab_names():
        specs = lab_params(name)
        assert specs, f"lab {name} declares no parameters"
        for key, spec in specs.items():
            assert spec.check(key, spec.default) == spec.default, (name, key)
