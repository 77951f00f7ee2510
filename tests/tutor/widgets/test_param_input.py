"""ParamInput: valid entries post Changed, bad ones show a message and keep the last good value."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, OptionList

from tutor.widgets.choice import ChoiceField, ChoiceMenu

from tutor.widgets.param_input import ParamInput


class ParamsApp(App):
    """Stacks a few parameters and records every `ParamInput.Changed`."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple[str, object]] = []

    def compose(self) -> ComposeResult:
        yield ParamInput("lr", "learning rate", 0.1, min=0.0, max=10.0, step=0.05, id="lr")
        yield ParamInput("epochs", "epochs", 10, kind="int", min=1, max=1000, step=1, id="epochs")
        yield ParamInput("opt", "optimizer", "sgd", kind="choice", choices=("sgd", "adam"), id="opt")
        yield ParamInput("w", "weight", -1.5, id="w")
        yield ParamInput("a", "a", 1.0, id="a")
        yield ParamInput("b", "b", 2.0, id="b")

    def on_param_input_changed(self, message: ParamInput.Changed) -> None:
        self.changes.append((message.name, message.value))


async def _type(pilot, selector: str, text: str) -> None:
    field = pilot.app.query_one(f"{selector} Input", Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_valid_float_posts_changed():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await _type(pilot, "#lr", "0.001")
        assert app.changes == [("lr", 0.001)]
        assert app.query_one("#lr", ParamInput).value == 0.001


@pytest.mark.parametrize(
    "text, hint",
    [("abc", "number"), ("-1", "at least"), ("11", "at most"), ("nan", "finite"), ("", "number")],
)
async def test_bad_float_keeps_last_good_value(text, hint):
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await _type(pilot, "#lr", text)
        param = app.query_one("#lr", ParamInput)
        assert app.changes == []
        assert param.value == 0.1
        assert hint in param.error
        assert param.has_class("-invalid")
        error = param.query_one(".param-input--error")
        assert error.display and error.size.height >= 1
        # A good value afterwards clears the message.
        await _type(pilot, "#lr", "0.5")
        assert app.changes == [("lr", 0.5)]
        assert param.error == "" and not param.has_class("-invalid")


async def test_the_error_line_is_built_with_the_first_error_only():
    """A field that was never wrong has no error line (fewer widgets per lab); the first error
    mounts it, below the field, and later errors reuse it."""
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        param = app.query_one("#lr", ParamInput)
        assert not param.query(".param-input--error")
        await _type(pilot, "#lr", "abc")
        await pilot.pause()
        first = param.query_one(".param-input--error")
        assert first.region.y > param.query_one(Input).region.y
        await _type(pilot, "#lr", "0.5")
        await _type(pilot, "#lr", "-")
        await pilot.pause()
        assert list(param.query(".param-input--error")) == [first]
        assert "kept 0.5" in str(first.render())


async def test_int_rejects_fractions_and_accepts_whole_numbers():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await _type(pilot, "#epochs", "2.5")
        param = app.query_one("#epochs", ParamInput)
        assert param.value == 10 and "whole" in param.error
        await _type(pilot, "#epochs", "20")
        assert param.value == 20 and isinstance(param.value, int)
        assert app.changes == [("epochs", 20)]


async def test_blur_validates_and_only_posts_new_values():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        field = app.query_one("#w Input", Input)
        field.focus()
        field.value = "3"
        app.query_one("#a Input", Input).focus()
        await pilot.pause()
        assert app.changes == [("w", 3.0)]
        # Leaving an unchanged field posts nothing.
        app.query_one("#b Input", Input).focus()
        await pilot.pause()
        assert app.changes == [("w", 3.0)]


async def test_up_down_nudge_by_step_within_range():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        app.query_one("#epochs Input", Input).focus()
        await pilot.press("up", "up")
        await pilot.pause()
        param = app.query_one("#epochs", ParamInput)
        assert param.value == 12
        assert app.query_one("#epochs Input", Input).value == "12"
        param.value = 1
        await pilot.press("down")
        await pilot.pause()
        assert param.value == 1  # clamped at min, nothing new to post
        assert app.changes == [("epochs", 11), ("epochs", 12)]


async def test_choice_posts_the_choice_picked_in_its_menu():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        field = app.query_one("#opt ChoiceField", ChoiceField)
        field.focus()
        await pilot.press("enter")  # the menu opens under the field, on the current choice
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, ChoiceMenu)
        options = menu.query_one(OptionList)
        assert options.highlighted == 0 and options.region.y == field.region.bottom + 0
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.changes == [("opt", "adam")]
        assert app.query_one("#opt", ParamInput).value == "adam"
        assert app.focused is field and "adam" in field.render().plain
        await pilot.press("space", "escape")  # opened and closed: nothing changes
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceMenu) and app.changes == [("opt", "adam")]


async def test_choice_steps_with_left_and_right_and_opens_on_a_click():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        field = app.query_one("#opt ChoiceField", ChoiceField)
        field.focus()
        await pilot.press("right")
        assert app.query_one("#opt", ParamInput).value == "adam"
        await pilot.press("right")  # round to the first
        await pilot.pause()
        assert app.changes == [("opt", "adam"), ("opt", "sgd")]
        app.query_one("#opt", ParamInput).value = "adam"  # from code: shown, not posted
        assert field.value == "adam" and len(app.changes) == 2
        await pilot.click(field)
        await pilot.pause()
        assert isinstance(app.screen, ChoiceMenu)
        await pilot.click(offset=(0, 0))  # outside the menu: closed, nothing picked
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceMenu) and field.value == "adam"
        assert len(app.changes) == 2


async def test_six_params_stack_one_row_each():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        heights = [p.size.height for p in app.query(ParamInput)]
        assert heights == [1] * 6


async def test_setting_value_from_code_shows_it_without_posting():
    app = ParamsApp()
    async with app.run_test(size=(60, 12)) as pilot:
        param = app.query_one("#lr", ParamInput)
        param.value = 0.25
        await pilot.pause()
        assert app.query_one("#lr Input", Input).value == "0.25"
        assert app.changes == []


def test_rejects_unknown_kind_and_bad_choice():
    with pytest.raises(ValueError):
        ParamInput("x", "x", 1, kind="complex")
    with pytest.raises(ValueError):
        ParamInput("x", "x", "rmsprop", kind="choice", choices=("sgd",))


async def test_tiny_terminal_does_not_raise():
    app = ParamsApp()
    async with app.run_test(size=(10, 3)) as pilot:
        await _type(pilot, "#lr", "oops")
        assert app.query_one("#lr", ParamInput).value == 0.1


async def test_typing_in_a_lab_does_not_trigger_lab_keys():
    """n, b, r and space are lab keys; inside a ParamInput they are text."""
    from tutor.labs.base import Lab

    class KeyLab(Lab):
        def __init__(self) -> None:
            super().__init__({})
            self.calls: list[str] = []

        def compose(self) -> ComposeResult:
            yield ParamInput("lr", "learning rate", 0.1, id="lr")

        def step_forward(self) -> bool:
            self.calls.append("step")
            return True

        def step_back(self) -> bool:
            self.calls.append("back")
            return True

        def reset_lab(self) -> None:
            self.calls.append("reset")

    class KeyApp(App):
        def compose(self) -> ComposeResult:
            yield KeyLab()

    app = KeyApp()
    async with app.run_test(size=(60, 6)) as pilot:
        field = app.query_one("#lr Input", Input)
        field.focus()
        field.value = ""
        await pilot.press("n", "b", "r", "space", "enter")
        await pilot.pause()
        lab = app.query_one(KeyLab)
        assert lab.calls == [] and not lab.playing
        assert field.value == "nbr "
        assert "number" in app.query_one("#lr", ParamInput).error


async def test_setting_the_shown_value_again_leaves_the_field_alone(monkeypatch):
    app = ParamsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lr = app.query_one("#lr", ParamInput)
        field = lr.query_one(Input)
        select = app.query_one("#opt", ParamInput).query_one(ChoiceField)
        touched: list[str] = []
        monkeypatch.setattr(field, "refresh", lambda *a, **k: touched.append("input"))
        monkeypatch.setattr(select, "refresh", lambda *a, **k: touched.append("select"))
        lr.value = 0.1  # what it shows already (a lab mirroring its state every step)
        app.query_one("#opt", ParamInput).value = "sgd"
        assert touched == []
        lr.value = 0.25
        assert field.value == "0.25" and "input" in touched
        field.value = "oops"  # a typed, not yet checked text is replaced by a value from code
        lr.value = 0.25
        assert field.value == "0.25"
        assert app.changes == []
