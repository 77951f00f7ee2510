"""Bars drawn by one widget whose parts answer the mouse: the key footer, the step controls."""

from __future__ import annotations

from typing import Any

from textual import events


class ClickableParts:
    """Mixed into a widget that draws several parts the mouse can press (a footer's keys, the
    step controls' buttons). `part_at(x, y)` says which part is at a point (None between
    them); the part under the mouse is `hovered` (the widget draws it highlighted) and its
    `part_tooltip` is shown; a click on a part calls `press_part`."""

    hovered: Any = None
    """The part under the mouse, or None."""

    def part_at(self, x: int, y: int) -> Any:
        """The part drawn at (x, y) of the widget, or None."""
        raise NotImplementedError

    def part_tooltip(self, part: Any) -> str | None:
        """The tooltip shown while `part` is hovered."""
        return None

    def press_part(self, part: Any) -> None:
        """`part` was clicked."""
        raise NotImplementedError

    def on_mouse_move(self, event: events.MouseMove) -> None:
        part = self.part_at(event.x, event.y)
        if part != self.hovered:
            self.hovered = part
            self.tooltip = None if part is None else self.part_tooltip(part)
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        part = self.part_at(event.x, event.y)
        if part is not None:
            event.stop()
            self.press_part(part)
