"""How dl-tutor patches Textual: once, and only against the Textual it was written for.

`tutor/paint.py`, `strips.py`, `relayout.py` and `widget_classes.py` each replace a piece of
Textual 8.2. Each states what it expects of Textual (`expected_api`: the source it replaces,
read with `inspect`) and what it changes (`apply`); `checked_patch` makes of them the
`install()` that `GuardedApp` calls: the change is applied the first time, only when Textual
imports and is as expected, and otherwise Textual is left as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


def checked_patch(expected_api: Callable[[], bool] | None = None):
    """Decorate `apply` (a function that patches Textual) into an idempotent
    `install() -> bool`: True when the patch is in place, False when Textual is missing or
    not what `expected_api()` expects (nothing is changed then)."""

    def decorate(apply: Callable[[], None]) -> Callable[[], bool]:
        installed = False

        @functools.wraps(apply)
        def install() -> bool:
            nonlocal installed
            if installed:
                return True
            try:
                if expected_api is not None and not expected_api():
                    return False
            except ImportError:
                return False
            apply()
            installed = True
            return True

        return install

    return decorate
