"""The lab registry: every subpackage of `tutor.labs` with a `params.py` is a lab.

`params.py` is plain Python (lesson validation imports it without Textual or numba);
`widget.py` defines `LAB_CLASS`, the Textual widget, imported only when a lesson opens.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from tutor.labs.params import Param, ParamError, validate

__all__ = [
    "Param", "ParamError", "lab_names", "lab_params", "lab_class", "lab_core_packages", "validate_lab",
]


@cache
def lab_names() -> tuple[str, ...]:
    """The names of the installed labs, sorted."""
    here = Path(__file__).parent
    return tuple(
        sorted(
            m.name
            for m in pkgutil.iter_modules([str(here)])
            if m.ispkg and (here / m.name / "params.py").exists()
        )
    )


def lab_params(name: str) -> dict[str, Param]:
    """The parameter declarations of lab `name` (ParamError when there is no such lab)."""
    if name not in lab_names():
        raise ParamError(f"there is no lab {name!r}; the labs are: {', '.join(lab_names())}")
    return importlib.import_module(f"tutor.labs.{name}.params").PARAMS


def lab_core_packages(name: str) -> tuple[str, ...]:
    """The core packages whose kernels lab `name` calls (`CORE_PACKAGES` in its params.py)."""
    lab_params(name)
    module = importlib.import_module(f"tutor.labs.{name}.params")
    import core  # cheap: numba is imported only by the subpackages

    return tuple(getattr(module, "CORE_PACKAGES", core.SUBPACKAGES))


def validate_lab(name: str, given: dict) -> dict:
    """Validate a lesson's lab block; return the full parameter set."""
    return validate(name, lab_params(name), given)


def lab_class(name: str):
    """The Textual widget class of lab `name` (imports Textual and the lab's core package)."""
    lab_params(name)
    return importlib.import_module(f"tutor.labs.{name}.widget").LAB_CLASS
