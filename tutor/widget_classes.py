"""Textual's widgets built without restyles: with the classes they would add once mounted, and
no styling of a widget that is not in the DOM yet.

An `Input` adds `-valid` when it is mounted (its value checked), a `Button` `-style-default`
(it is not flat). A class added to a widget on screen restyles it: a dozen or more restyles for
a lab's fields and buttons, each lab opened (a convolution kernel alone has nine inputs). `install()` adds those classes when such a widget is built, before it is
styled: when it is mounted the class is already there and nothing changes. A widget whose
state differs (an invalid value, a flat button) changes its class as before.

A widget not yet in the DOM is not styled either: Textual restyled an `Input` as it was built
(its value is checked in `__init__`, which sets `-valid` with an update), although
`App._register` styles every widget when it joins the DOM, with its ancestors' rules. That
wasted restyle was a third of the cost of mounting an `Input` (2.7 → 1.8 ms each), and a
`Button` (1.5 → 1.1 ms).

Only public API is used: `add_class(..., update=False)` on a widget not yet mounted, and
`update_node_styles` (called by Textual when classes change) doing nothing for a widget with
no parent.
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
    """Wrap the constructors and `update_node_styles` (once: `install()` is idempotent)."""
    from textual.widget import Widget

    update_node_styles = Widget.update_node_styles

    @functools.wraps(update_node_styles)
    def update_styles_in_the_dom(self, animate: bool = True) -> None:
        if self.parent is None:  # not in the DOM: styled when it joins it
            return
        update_node_styles(self, animate)

    Widget.update_node_styles = update_styles_in_the_dom
    for widget_class, (name, other) in _classes().items():
        init = widget_class.__init__

        @functools.wraps(init)
        def __init__(self, *args, _init=init, _name=name, _other=other, **kwargs) -> None:
            _init(self, *args, **kwargs)
            if not self.has_class(_other):  # not already in the other state
                self.add_class(_name, update=False)

        widget_class.__init__ = __init__
