"""Textual's inputs and buttons built with the classes they would add once mounted.

An `Input` adds `-valid` when it is mounted (its value checked), a `Button` `-style-default`
(it is not flat). A class added to a widget on screen restyles it: a dozen or more restyles for
a lab's fields and buttons, each lab opened (a convolution kernel alone has nine inputs). `install()` adds those classes when such a widget is built, before it is
styled: when it is mounted the class is already there and nothing changes. A widget whose
state differs (an invalid value, a flat button) changes its class as before.
Only public API is used (`add_class(..., update=False)` on a widget not yet mounted).
"""

from __future__ import annotations

import functools

from tutor.textual_patch import checked_patch


def _classes() -> dict:
    """Widget class: (the class it adds once mounted, the class of its other state)."""
    from textual.widgets import Button, Input

    return {Input: ("-valid", "-invalid"), Button: ("-style-default", "-style-flat")}


@checked_patch()
def install() -> None:
    """Wrap the constructors (once: `install()` is idempotent)."""
    for widget_class, (name, other) in _classes().items():
        init = widget_class.__init__

        @functools.wraps(init)
        def __init__(self, *args, _init=init, _name=name, _other=other, **kwargs) -> None:
            _init(self, *args, **kwargs)
            if not self.has_class(_other):  # not already in the other state
                self.add_class(_name, update=False)

        widget_class.__init__ = __init__
