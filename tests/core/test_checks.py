"""core._checks: the validation the subpackages share."""

import numpy as np
import pytest

from core._checks import as_int
from core.robust import _checks as robust_checks
from core.vision import _checks as vision_checks


def test_as_int_accepts_integers_at_least_the_minimum():
    assert as_int(3, "n", 1) == 3 and type(as_int(np.int64(2), "n", 0)) is int


@pytest.mark.parametrize("bad", [True, 2.0, "3", None, 0])
def test_as_int_refuses_bools_floats_and_small_values(bad):
    with pytest.raises(ValueError, match="n must be"):
        as_int(bad, "n", 1)


def test_the_subpackages_use_the_shared_check():
    assert robust_checks.as_int is as_int and vision_checks.as_int is as_int
