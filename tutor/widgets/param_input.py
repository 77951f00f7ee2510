"""One labelled lab parameter on one line: a number field or a choice, validated before use."""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from tutor.widgets.choice import ChoiceField

KINDS = ("float", "int", "choice")


def _format(value: Any) -> str:
    """The text shown for a value: `0.001`, `1e-05`, `12`, `adam`."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return str(value)


class ParamInput(Widget):
    """A label and an input for one parameter of a lab, compact enough to stack six of them.

    Numbers ("float", "int") are typed into an `Input` and checked on enter or when the field
    loses focus; up/down change them by `step` when one is given. A valid value becomes `value`
    and posts `ParamInput.Changed(name, value)`; an invalid one shows an inline message and
    keeps the last good value. A "choice" is a `ChoiceField` (a menu of the choices) that posts
    `Changed` on every new choice.
    """

    DEFAULT_CSS = """
    ParamInput {
        height: auto;
        width: 1fr;
        & > .param-input--row {
            height: auto;
            width: 1fr;
            layout: horizontal;
        }
        & .param-input--label {
            width: auto;
            min-width: 14;
            padding: 0 1 0 0;
            color: $text;
        }
        & Input, & ChoiceField {
            width: 1fr;
            max-width: 24;
        }
        & .param-input--error {
            display: none;
            height: auto;
            color: $text-error;
            padding: 0 0 0 1;
        }
        &.-invalid .param-input--error {
            display: block;
        }
    }
    """

    BINDINGS = [
        Binding("up", "nudge(1)", "Increase", show=False),
        Binding("down", "nudge(-1)", "Decrease", show=False),
    ]

    error: reactive[str] = reactive("")
    """The message for the last rejected text, or "" when the field holds a valid value."""

    class Changed(Message):
        """A new valid value was entered; `name` is the parameter, `value` the checked value."""

        def __init__(self, param_input: ParamInput, name: str, value: Any) -> None:
            super().__init__()
            self.param_input: ParamInput = param_input
            """The `ParamInput` that changed."""
            self.name: str = name
            """The parameter's name, as the lab knows it."""
            self.value: Any = value
            """The new value: a float, an int, or one of the choices."""

        @property
        def control(self) -> ParamInput:
            """Alias for `param_input`."""
            return self.param_input

    def __init__(
        self,
        name: str,
        label: str,
        value: Any,
        kind: str = "float",
        min: float | None = None,
        max: float | None = None,
        choices: tuple | list = (),
        step: float | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if kind == "choice" and value not in choices:
            raise ValueError(f"{name}: {value!r} is not one of the choices {tuple(choices)}")
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.param_name = name
        self.label = label
        self.kind = kind
        self.min = min
        self.max = max
        self.choices = tuple(choices)
        self.step = step
        self._value = value if kind == "choice" else self.parse(_format(value))

    # --- the value ---------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The last good value (what the lab should use)."""
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        """Set the value from code (e.g. a preset); shows it without posting `Changed`."""
        self._value = value if self.kind == "choice" else self.parse(_format(value))
        self.error = ""
        self._show_value()

    def parse(self, text: str) -> Any:
        """Check `text` for this parameter; return the value or raise ValueError with a hint."""
        text = text.strip().replace(",", ".")
        if self.kind == "choice":
            if text not in map(str, self.choices):
                raise ValueError(f"choose one of {', '.join(map(str, self.choices))}")
            return next(c for c in self.choices if str(c) == text)
        try:
            number = float(text)
        except ValueError:
            raise ValueError("type a whole number" if self.kind == "int" else "type a number")
        if not math.isfinite(number):
            raise ValueError("type a finite number")
        if self.kind == "int":
            if not number.is_integer():
                raise ValueError("type a whole number")
            number = int(number)
        if self.min is not None and number < self.min:
            raise ValueError(f"at least {_format(self.min)}")
        if self.max is not None and number > self.max:
            raise ValueError(f"at most {_format(self.max)}")
        return number

    def _range_hint(self) -> str:
        if self.kind == "choice":
            return ", ".join(map(str, self.choices))
        low = "" if self.min is None else f"{_format(self.min)} ≤ "
        high = "" if self.max is None else f" ≤ {_format(self.max)}"
        kind = "whole number" if self.kind == "int" else "number"
        return f"{low}{self.label or kind}{high}" if (low or high) else kind

    # --- widgets -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Widget(classes="param-input--row"):
            yield Label(self.label, classes="param-input--label")
            if self.kind == "choice":
                yield ChoiceField(self.choices, self._value, tooltip=self._range_hint())
            else:
                yield Input(_format(self._value), compact=True, tooltip=self._range_hint())
        # The error line is mounted with the first error (a lab has up to a dozen fields).

    def _show_value(self) -> None:
        if not self.is_mounted:
            return
        # Labs set `value` on every step to mirror their state: touch the field only when
        # what it shows changes (setting an Input's value repaints it and moves its cursor).
        if self.kind == "choice":
            self.query_one(ChoiceField).value = self._value  # repainted only if it differs
        else:
            field, text = self.query_one(Input), _format(self._value)
            if field.value != text:
                field.value = text

    def watch_error(self, error: str) -> None:
        self.set_class(bool(error), "-invalid")
        if self.is_mounted:
            text = f"✗ {error}; kept {_format(self._value)}" if error else ""
            shown = self.query(".param-input--error")
            if shown:
                shown.first(Static).update(text)
            elif error:
                self.mount(Static(text, classes="param-input--error", markup=False))
            if self.kind != "choice":
                self.query_one(Input).set_class(bool(error), "-invalid")

    def _accept(self, text: str, *, always: bool) -> None:
        """Validate `text`; on success store it and post `Changed` (if new, or `always`)."""
        try:
            value = self.parse(text)
        except ValueError as exc:
            self.error = str(exc)
            return
        self.error = ""
        changed = value != self._value
        self._value = value
        if changed or always:
            self.post_message(self.Changed(self, self.param_name, value))

    # --- events ------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._accept(event.value, always=True)
        if not self.error:
            self._show_value()

    def on_input_blurred(self, event: Input.Blurred) -> None:
        event.stop()
        self._accept(event.value, always=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()

    def on_choice_field_changed(self, event: ChoiceField.Changed) -> None:
        event.stop()
        if event.value == self._value:
            return
        self._value = event.value
        self.post_message(self.Changed(self, self.param_name, event.value))

    def action_nudge(self, direction: int) -> None:
        """Up/down: add or subtract `step` from the value, clamped to the range."""
        if self.kind == "choice" or not self.step:
            return
        value = self._value + direction * self.step
        if self.kind == "int":
            value = int(round(value))
        else:
            value = round(value, 12)
        if self.min is not None:
            value = max(self.min, value)
        if self.max is not None:
            value = min(self.max, value)
        self._accept(_format(value), always=False)
        self._show_value()
