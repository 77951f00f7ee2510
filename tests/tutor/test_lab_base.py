"""The Lab base class: one playback timer, speed changes, shared keys mapped to actions."""

from __future__ import annotations

from textual.app import App

from tutor.labs.base import Lab


class CountingLab(Lab):
    """A lab that counts to `limit`; its on_mount calls super(), as real labs do."""

    lab_name = "counting"

    def __init__(self, limit: int = 1000) -> None:
        super().__init__({})
        self.value = 0
        self.limit = limit
        self.resets = 0

    def on_mount(self) -> None:
        super().on_mount()

    def step_forward(self) -> bool:
        if self.value >= self.limit:
            return False
        self.value += 1
        return True

    def step_back(self) -> bool:
        if self.value == 0:
            return False
        self.value -= 1
        return True

    def reset_lab(self) -> None:
        self.value = 0
        self.resets += 1


class Harness(App):
    def compose(self):
        yield CountingLab()

    def on_mount(self) -> None:
        self.query_one(CountingLab).focus()


def _frame_timers(lab: Lab) -> list:
    return [t for t in lab._timers if getattr(t, "_callback", None) == lab._frame]


async def test_one_timer_even_when_subclasses_call_super_and_speed_changes():
    app = Harness()
    async with app.run_test() as pilot:
        lab = app.query_one(CountingLab)
        assert len(_frame_timers(lab)) == 1
        timer = lab._timer
        await pilot.press("plus", "plus", "minus")
        assert lab._timer is timer and len(_frame_timers(lab)) == 1


async def test_keys_step_back_reset_and_speed_bounds():
    app = Harness()
    async with app.run_test() as pilot:
        lab = app.query_one(CountingLab)
        await pilot.press("n", "n", "n", "b")
        assert lab.value == 2
        await pilot.press("r")
        assert lab.value == 0 and lab.resets == 1
        for _ in range(20):
            await pilot.press("plus")
        assert lab.fps == 60.0
        for _ in range(20):
            await pilot.press("minus")
        assert lab.fps == 1.0


async def test_playing_steps_until_the_lab_says_stop():
    app = Harness()
    async with app.run_test() as pilot:
        lab = app.query_one(CountingLab)
        lab.fps = 60
        await pilot.press("space")
        assert lab.playing  # the timer may have stepped meanwhile: the limit is set after
        lab.limit = lab.value + 3
        for _ in range(10):  # the ticks the timer would make, without waiting for the clock
            if not lab.playing:
                break
            lab._tick()
        await pilot.pause()
        assert lab.value == lab.limit and not lab.playing


async def test_no_pytorch_view_is_a_notice_not_a_crash():
    app = Harness()
    async with app.run_test() as pilot:
        await pilot.press("y")
        await pilot.pause()
        assert any("no PyTorch view" in n.message for n in app._notifications)
