"""tutor.paint: a partial repaint draws only the widgets under the changed regions, and the
terminal ends up showing exactly what a full repaint shows. Also: a playing lab holds off
full garbage collections (tutor.labs.gc_hold)."""

from __future__ import annotations

import gc

from rich.console import Console
from rich.segment import ControlType
from textual._compositor import Compositor
from textual.app import App
from textual.containers import Grid
from textual.widgets import Label, Static

from tutor.labs import gc_hold
from tutor.paint import install


class Board(App):
    CSS = """
    #top { height: 3; }
    Grid { grid-size: 4; height: 1fr; }
    #bottom { dock: bottom; height: 1; }
    """

    def compose(self):
        yield Static("top 0", id="top")
        with Grid():
            for i in range(24):
                yield Label(f"setting {i}")
        yield Static("bottom 0", id="bottom")


def _cells(strips) -> list[list[tuple]]:
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


def _apply(grid: list[list[tuple]], update) -> None:
    """Write a ChopsUpdate into a grid of (character, style) cells, as a terminal would."""
    console = Console(width=len(grid[0]), height=len(grid), force_terminal=True)
    x = y = 0
    for segment in update.__rich_console__(console, console.options):
        if segment.control:
            for control in segment.control:
                if control[0] == ControlType.CURSOR_MOVE_TO:
                    x, y = control[1], control[2]
            continue
        for ch in segment.text:
            if ch == "\n":
                continue
            grid[y][x] = (ch, segment.style)
            x += 1


async def test_a_partial_repaint_draws_the_changed_widgets_and_shows_what_a_full_one_does(monkeypatch):
    assert install()
    app = Board()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        grid = _cells(compositor.render_strips())
        drawn, updates = [], []
        label_render_lines = Label.render_lines
        monkeypatch.setattr(Label, "render_lines",
                            lambda self, crop: drawn.append(self) or label_render_lines(self, crop))
        partial = Compositor.render_partial_update
        monkeypatch.setattr(Compositor, "render_partial_update",
                            lambda self: updates.append(partial(self)) or updates[-1])
        for step in range(1, 4):
            app.query_one("#top", Static).update(f"top {step}")
            app.query_one("#bottom", Static).update(f"bottom {step} " + "x" * step)
            await pilot.pause()
        assert [u for u in updates if u is not None], "the changes were painted as partial updates"
        assert drawn == [], "the settings between the two changed widgets were not drawn again"
        for update in updates:
            if update is not None:
                _apply(grid, update)
        assert grid == _cells(compositor.render_strips())


def test_playing_labs_hold_off_full_collections_until_the_last_one_stops(monkeypatch):
    monkeypatch.setattr(gc_hold, "_playing", set())  # no lab of another test counts here
    gc.unfreeze()
    first, second = object(), object()
    gc_hold.hold(first)
    gc_hold.hold(second)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc_hold.release(first)
    assert gc.get_freeze_count() >= frozen, "one lab still plays"
    gc_hold.release(second)
    assert gc.get_freeze_count() == 0
    gc_hold.release(second)  # releasing twice, or a lab that never played, changes nothing
    assert gc.get_freeze_count() == 0
