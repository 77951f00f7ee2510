"""One layout pass for new widgets that cannot scroll, not two.

After laying a screen out, Textual gives every widget whose size changed its new size and
"virtual" (scrollable) size. The virtual size is a reactive that asks for a layout of the
whole screen when it changes, and it changes for every widget laid out for the first time:
each lesson opened, and each lab mounted, was laid out a second time (20-40 ms on this
machine), and that pass found more new sizes, and so on, three to five passes in all.

The second pass is needed for a widget that can show scrollbars (its scrollbars, sized by
its virtual size, take room from what it holds). A widget whose overflow is hidden in both
directions shows none: nothing it holds depends on its virtual size, which `install()` then
records without asking for a layout. Widgets that scroll are laid out again as before.

`Widget._size_updated` is private: `install` checks that it is the one this was written
against (Textual 8.2) and otherwise leaves Textual as it is.
"""

from __future__ import annotations

import inspect

from tutor.textual_patch import checked_patch

SCROLLS = ("auto", "scroll")


def _expected_api() -> bool:
    from textual.widget import Widget

    try:
        params = list(inspect.signature(Widget._size_updated).parameters)
        source = inspect.getsource(Widget._size_updated)
    except (AttributeError, TypeError, ValueError, OSError):
        return False
    return (params == ["self", "size", "virtual_size", "container_size", "layout"]
            and "if layout:" in source
            and "self.virtual_size = virtual_size" in source
            and "self.set_reactive(Widget.virtual_size, virtual_size)" in source)


@checked_patch(_expected_api)
def install() -> None:
    """Patch `Widget._size_updated` (`install()` returns False when Textual's differs)."""
    from textual.widget import Widget

    size_updated = Widget._size_updated

    def _size_updated(self, size, virtual_size, container_size, layout: bool = True) -> bool:
        if layout:
            styles = self.styles
            if styles.overflow_x not in SCROLLS and styles.overflow_y not in SCROLLS:
                layout = False  # no scrollbars: its virtual size changes nothing laid out
        return size_updated(self, size, virtual_size, container_size, layout)

    _size_updated.__doc__ = size_updated.__doc__
    Widget._size_updated = _size_updated
