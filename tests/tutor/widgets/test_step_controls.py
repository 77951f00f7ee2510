"""StepControls: every button posts its action; the lab base class plays, pauses and steps."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tutor.labs.base import Lab
from tutor.widgets.step_controls import ACTIONS, StepControls


class ControlsApp(App):
    """Records every `StepControls.Pressed`."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []

    def compose(self) -> ComposeResult:
        yield StepControls("step 0", id="controls")

    def on_step_controls_pressed(self, message: StepControls.Pressed) -> None:
        self.actions.append(message.action)


class CountingLab(Lab):
    """A lab whose state is one counter, for checking the button-to-action mapping."""

    lab_name = "counting"

    def __init__(self) -> None:
        super().__init__({})
        self.count = 0

    def compose(self) -> ComposeResult:
        yield StepControls()

    def step_forward(self) -> bool:
        self.count += 1
        return True

    def step_back(self) -> bool:
        self.count -= 1
        return True

    def reset_lab(self) -> None:
        self.count = 0


class LabApp(App):
    def compose(self) -> ComposeResult:
        yield CountingLab()


async def _click(pilot, action: str, controls: StepControls | None = None) -> None:
    controls = controls or pilot.app.query_one(StepControls)
    region = controls.button_region(action)
    await pilot.click(controls, offset=(region.x + region.width // 2, 0))


def _drawn(controls: StepControls) -> str:
    return controls.render().plain


async def test_each_button_posts_its_action():
    app = ControlsApp()
    async with app.run_test(size=(80, 5)) as pilot:
        for action in ACTIONS:
            await _click(pilot, action)
            await pilot.pause()
        assert app.actions == list(ACTIONS)
        await pilot.click(StepControls, offset=(79, 0))  # the status: no button
        await pilot.pause()
        assert app.actions == list(ACTIONS)


async def test_buttons_are_drawn_where_they_are_clicked():
    app = ControlsApp()
    async with app.run_test(size=(100, 5)):
        controls = app.query_one(StepControls)
        line = _drawn(controls).split("\n")[0]
        for action in ACTIONS:
            region = controls.button_region(action)
            assert line[region.x:region.right].strip() == controls.label(action)
        assert line.startswith(" ↺ reset   ◀ back   ▶ play    step ▶   −   +   paused · 5 fps")


async def test_hovering_a_button_highlights_it_and_shows_its_key():
    app = ControlsApp()
    async with app.run_test(size=(80, 5)) as pilot:
        controls = app.query_one(StepControls)
        region = controls.button_region("step")
        plain = controls.render()
        await pilot.hover(StepControls, offset=(region.x + 1, 0))
        await pilot.pause()
        assert controls.tooltip == "One step forward (n)"
        hovered = controls.render()
        assert hovered.plain == plain.plain and hovered.spans != plain.spans


async def test_fits_in_one_row_and_shows_status():
    app = ControlsApp()
    async with app.run_test(size=(100, 5)) as pilot:
        controls = app.query_one(StepControls)
        assert controls.size.height == 1
        assert "step 0" in _drawn(controls)
        controls.status = "loss 0.5"
        controls.fps = 7.5
        await pilot.pause()
        text = _drawn(controls)
        assert "loss 0.5" in text and "7.5 fps" in text


async def test_play_label_follows_playing():
    app = ControlsApp()
    async with app.run_test(size=(80, 5)) as pilot:
        controls = app.query_one(StepControls)
        assert controls.label("toggle_play") == "▶ play" and "▶ play" in _drawn(controls)
        paused = controls.render().spans
        controls.playing = True
        await pilot.pause()
        assert controls.label("toggle_play") == "⏸ pause" and "⏸ pause" in _drawn(controls)
        assert controls.render().spans != paused  # drawn on the "playing" background


async def test_lab_maps_buttons_to_actions():
    app = LabApp()
    async with app.run_test(size=(80, 5)) as pilot:
        lab = app.query_one(CountingLab)
        controls = lab.query_one(StepControls)
        await _click(pilot, "step", controls)
        await _click(pilot, "step", controls)
        await _click(pilot, "back", controls)
        await pilot.pause()
        assert lab.count == 1
        await _click(pilot, "faster", controls)
        await pilot.pause()
        assert lab.fps == pytest.approx(7.5)
        assert controls.fps == pytest.approx(7.5)
        await _click(pilot, "toggle_play", controls)
        await pilot.pause()
        assert lab.playing and controls.playing
        await _click(pilot, "toggle_play", controls)
        await pilot.pause()
        assert not lab.playing and not controls.playing
        await _click(pilot, "reset", controls)
        await pilot.pause()
        assert lab.count == 0


async def test_tiny_terminal_does_not_raise():
    app = ControlsApp()
    async with app.run_test(size=(10, 3)) as pilot:
        await pilot.pause()
        assert app.query_one(StepControls).is_mounted


async def test_narrow_bar_shows_symbols_only():
    app = ControlsApp()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        controls = app.query_one(StepControls)
        labels = [controls.label(action) for action in ACTIONS]
        assert labels == ["↺", "◀", "▶", "▶|", "−", "+"]
        assert max(controls.button_region(a).right for a in ACTIONS) <= 40
        controls.playing = True
        await pilot.pause()
        assert controls.label("toggle_play") == "⏸"
        await pilot.resize_terminal(100, 5)
        await pilot.pause()
        assert controls.label("toggle_play") == "⏸ pause" and controls.label("reset") == "↺ reset"
        assert "⏸ pause" in _drawn(controls)


async def test_buttons_widen_again_beside_a_lesson_after_a_small_terminal():
    """Regression: back from a terminal too small for the lesson (60x16), the buttons kept
    their narrow width with their full labels: "↺   ◀   ▶ play    st"."""
    from tests.screen import screen_text
    from tutor.app import DlTutorApp

    app = DlTutorApp(warm=False, resume=False)
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("first-order-methods")
        await pilot.pause()
        for size in [(60, 16), (120, 36)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
        assert "↺ reset   ◀ back" in screen_text(app)


async def test_status_updates_skip_the_layout_unless_the_text_wraps(monkeypatch):
    app = ControlsApp()
    async with app.run_test(size=(100, 6)) as pilot:
        await pilot.pause()
        controls = app.query_one(StepControls)
        calls: list[bool] = []
        original = controls.refresh

        def refresh(*regions, **kwargs):
            calls.append(bool(kwargs.get("layout", False)))
            return original(*regions, **kwargs)

        monkeypatch.setattr(controls, "refresh", refresh)
        controls.status = "step 1"
        assert calls and not any(calls)  # repainted, no layout pass
        await pilot.pause()
        assert "step 1" in _drawn(controls)
        calls.clear()
        controls.status = "step 1"  # unchanged: nothing at all
        controls.fps = controls.fps
        assert calls == []
        controls.status = "a long status " * 12  # wraps onto more lines: layout needed
        assert True in calls
        await pilot.pause()
        assert controls.size.height > 1
        rows = _drawn(controls).split("\n")
        assert len(rows) == controls.size.height and rows[1].startswith(" " * 30)
        calls.clear()
        controls.status = "step 2"  # back to one line: layout again
        assert True in calls
        await pilot.pause()
        assert controls.size.height == 1
