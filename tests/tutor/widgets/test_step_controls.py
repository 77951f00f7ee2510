"""StepControls: every button posts its action; the lab base class plays, pauses and steps."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button, Static

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


@pytest.mark.parametrize("action", ACTIONS)
async def test_each_button_posts_its_action(action):
    app = ControlsApp()
    async with app.run_test(size=(80, 5)) as pilot:
        await pilot.click(f"#{action}")
        await pilot.pause()
        assert app.actions == [action]


async def test_fits_in_one_row_and_shows_status():
    app = ControlsApp()
    async with app.run_test(size=(100, 5)) as pilot:
        controls = app.query_one(StepControls)
        assert controls.size.height == 1
        status = controls.query_one(".step-controls--status", Static)
        assert "step 0" in str(status.render())
        controls.status = "loss 0.5"
        controls.fps = 7.5
        await pilot.pause()
        text = str(status.render())
        assert "loss 0.5" in text and "7.5 fps" in text


async def test_play_label_follows_playing():
    app = ControlsApp()
    async with app.run_test(size=(80, 5)) as pilot:
        controls = app.query_one(StepControls)
        button = controls.query_one("#toggle_play", Button)
        assert "play" in str(button.label)
        controls.playing = True
        await pilot.pause()
        assert "pause" in str(button.label)
        assert button.has_class("-playing")


async def test_lab_maps_buttons_to_actions():
    app = LabApp()
    async with app.run_test(size=(80, 5)) as pilot:
        lab = app.query_one(CountingLab)
        controls = lab.query_one(StepControls)
        await pilot.click("#step")
        await pilot.click("#step")
        await pilot.click("#back")
        await pilot.pause()
        assert lab.count == 1
        await pilot.click("#faster")
        await pilot.pause()
        assert lab.fps == pytest.approx(7.5)
        assert controls.fps == pytest.approx(7.5)
        await pilot.click("#toggle_play")
        await pilot.pause()
        assert lab.playing and controls.playing
        await pilot.click("#toggle_play")
        await pilot.pause()
        assert not lab.playing and not controls.playing
        await pilot.click("#reset")
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
        labels = [str(b.label) for b in controls.query(Button)]
        assert labels == ["↺", "◀", "▶", "▶|", "−", "+"]
        right = max(b.region.right for b in controls.query(Button))
        assert right <= 40
        controls.playing = True
        await pilot.pause()
        assert str(controls.query_one("#toggle_play", Button).label) == "⏸"
        await pilot.resize_terminal(100, 5)
        await pilot.pause()
        assert str(controls.query_one("#toggle_play", Button).label) == "⏸ pause"
        assert str(controls.query_one("#reset", Button).label) == "↺ reset"


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
        controls = app.screen.query_one(StepControls)
        for button in controls.query(Button):
            assert button.size.width >= len(str(button.label)), str(button.label)
        assert "↺ reset   ◀ back" in screen_text(app)


async def test_status_updates_skip_the_layout_unless_the_text_wraps(monkeypatch):
    app = ControlsApp()
    async with app.run_test(size=(100, 6)) as pilot:
        await pilot.pause()
        controls = app.query_one(StepControls)
        status = controls.query_one(".step-controls--status", Static)
        calls: list[bool] = []
        original = status.refresh

        def refresh(*regions, **kwargs):
            calls.append(bool(kwargs.get("layout", False)))
            return original(*regions, **kwargs)

        monkeypatch.setattr(status, "refresh", refresh)
        controls.status = "step 1"
        assert calls and not any(calls)  # repainted, no layout pass
        await pilot.pause()
        assert "step 1" in str(status.render())
        calls.clear()
        controls.status = "step 1"  # unchanged: nothing at all
        controls.fps = controls.fps
        assert calls == []
        controls.status = "a long status " * 12  # wraps onto more lines: layout needed
        assert True in calls
        await pilot.pause()
        assert status.size.height > 1
        calls.clear()
        controls.status = "step 2"  # back to one line: layout again
        assert True in calls
        await pilot.pause()
        assert status.size.height == 1
