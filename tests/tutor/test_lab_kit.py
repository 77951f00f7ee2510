"""The lab kit: a model following the protocol drives a `ModelLab`; redraws are merged."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.screen import screen_text
from tutor.history import History, HistoryModel
from tutor.labs.kit import LabModel, ModelLab


class CounterModel(HistoryModel):
    """The smallest model: a counter with a limit and a step size (stepping is its history's)."""

    def __init__(self, limit: int = 5, size: int = 1) -> None:
        self.limit, self.size = limit, size
        self.history = History(0, lambda v: v + self.size if v + self.size <= self.limit else None)

    def status(self) -> str:
        return f"value {self.history.current}"

    def pytorch_code(self) -> str | None:
        return f"x = torch.tensor({self.history.current})"

    def apply(self, name: str, value) -> str | None:
        if name != "size" or not 1 <= value <= self.limit:
            return f"size must be 1..{self.limit}"
        self.size = value
        self.history.replace_future(self.history.current)
        return None


class CounterLab(ModelLab):
    lab_name = "counter"

    def __init__(self, params: dict) -> None:
        super().__init__(params)
        self.model = CounterModel()
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="value")

    def redraw(self) -> None:
        self.redraws += 1
        self.query_one("#value", Static).update(self.model.status())


class Harness(App):
    def compose(self) -> ComposeResult:
        yield CounterLab({})

    def on_mount(self) -> None:
        self.query_one(CounterLab).focus()


def test_the_counter_model_follows_the_protocol():
    assert isinstance(CounterModel(), LabModel)
    assert not isinstance(object(), LabModel)


async def test_keys_step_back_and_reset_through_the_model():
    app = Harness()
    async with app.run_test() as pilot:
        await pilot.pause()
        lab = app.query_one(CounterLab)
        assert "value 0" in screen_text(app)
        await pilot.press("n", "n", "n")
        await pilot.pause()
        assert "value 3" in screen_text(app)
        await pilot.press("b")
        await pilot.pause()
        assert "value 2" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert "value 0" in screen_text(app) and lab.pytorch_code() == "x = torch.tensor(0)"


async def test_a_burst_of_changes_paints_once():
    app = Harness()
    async with app.run_test() as pilot:
        await pilot.pause()
        lab = app.query_one(CounterLab)
        before = lab.redraws
        for _ in range(4):
            lab.step_forward()
        await pilot.pause()
        assert lab.redraws == before + 1 and "value 4" in screen_text(app)
        assert lab.advance(10) == 1  # the limit stops it
        await pilot.pause()
        assert lab.redraws == before + 2 and "value 5" in screen_text(app)


async def test_a_refused_setting_is_shown_and_the_state_kept():
    app = Harness()
    async with app.run_test() as pilot:
        lab = app.query_one(CounterLab)
        lab.step_forward()
        assert lab.apply_param("size", 99) == "size must be 1..5"
        await pilot.pause()
        assert any("size must be 1..5" in n.message for n in app._notifications)
        assert lab.model.history.current == 1 and lab.model.size == 1
        assert lab.apply_param("size", 2) is None
        lab.step_forward()
        await pilot.pause()
        assert "value 3" in screen_text(app)
