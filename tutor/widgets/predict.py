"""Predict-then-reveal: ask the student for a number before the lab shows it, then check it."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

from tutor.widgets.text import set_text


def _format(value: float) -> str:
    return f"{value:.6g}"


def parse_number(text: str) -> float:
    """A typed number: "0.25", "0,25", "1e-3", "-2", "1/4"; raises ValueError otherwise."""
    text = text.strip().replace(",", ".").replace("−", "-")
    if text.count("/") == 1:
        top, bottom = (float(part) for part in text.split("/"))
        value = top / bottom  # ZeroDivisionError is a ValueError-like mistake: reported below
    else:
        value = float(text)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


NUMBER_CHARS = set("0123456789.,-+eE/−")
"""What a typed number may contain; any other key typed in the field belongs to the lab."""


class NumberField(Input):
    """The prediction's field: it takes what a number is written with (sign, decimal point,
    exponent, a fraction); any other printable key (a lab's n, y, space...) leaves the field,
    and is handed to the lab as if the field had never had the focus."""

    async def _on_key(self, event) -> None:
        char = event.character
        if event.is_printable and char and char not in NUMBER_CHARS:
            event.stop()
            event.prevent_default()
            if self.value.strip() in ("", "-", "+", "−"):
                self.value = ""  # only a sign typed: nothing to keep
            predict = self.parent
            if isinstance(predict, PredictInput):
                predict.hand_back_key(event)
            return
        await super()._on_key(event)


class PredictInput(Widget):
    """One question at a time: a prompt, a number field, then ✓ or ✗ with the explanation.

    `ask(...)` shows a question; enter checks the typed number against `answer` ± `tolerance`
    and posts `PredictInput.Checked(key, correct, value)`; `reveal()` shows the answer without
    a guess (nothing is posted); `clear()` hides the widget until the next question.
    """

    DEFAULT_CSS = """
    PredictInput {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $boost;
        &.-idle {
            display: none;
        }
        & > .predict--prompt {
            color: $text;
            text-style: bold;
        }
        & > Input {
            width: 1fr;
            max-width: 30;
        }
        & > .predict--feedback {
            height: auto;
        }
        &.-right > .predict--feedback {
            color: $text-success;
        }
        &.-wrong > .predict--feedback, &.-invalid > .predict--feedback {
            color: $text-error;
        }
        &.-revealed > .predict--feedback {
            color: $text-accent;
        }
    }
    """

    state: reactive[str] = reactive("idle")
    """"idle" (hidden), "asking", "right", "wrong" or "revealed"; also a CSS class (-right ...)."""

    class Checked(Message):
        """The student answered question `key`; `value` is the number typed."""

        def __init__(self, predict: PredictInput, key: str, correct: bool, value: float) -> None:
            super().__init__()
            self.predict: PredictInput = predict
            """The widget that asked."""
            self.key: str = key
            """The question's key, as given to `ask`."""
            self.correct: bool = correct
            """Whether `value` was within the tolerance of the answer."""
            self.value: float = value
            """The student's number."""

        @property
        def control(self) -> PredictInput:
            """Alias for `predict`."""
            return self.predict

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.add_class("-idle", update=False)  # the state's class from the start (no restyle)
        self.key: str | None = None
        self.prompt = ""
        self.answer = 0.0
        self.tolerance = 0.0
        self.explanation = ""
        self._typing_ahead = False  # start_answer began an answer the field has not focused yet

    def compose(self) -> ComposeResult:
        yield Static("", classes="predict--prompt", markup=False)
        yield NumberField(placeholder="your prediction, then enter", compact=True,
                          disabled=self.state != "asking")
        yield Static("", classes="predict--feedback", markup=False)

    def watch_state(self, old: str, new: str) -> None:
        self.update_classes({f"-{old}": False, "-invalid": False, f"-{new}": True})  # one restyle
        if self.is_mounted:
            self.query_one(Input).disabled = new != "asking"

    # --- API ---------------------------------------------------------------------------
    def ask(
        self,
        key: str,
        prompt: str,
        answer: float,
        tolerance: float,
        explanation: str = "",
        *,
        focus: bool = False,
    ) -> None:
        """Show a question; `focus=True` also puts the cursor in the field."""
        self.key, self.prompt, self.explanation = key, prompt, explanation
        self.answer, self.tolerance = float(answer), abs(float(tolerance))
        self.state = "asking"
        self._set_text(".predict--prompt", prompt)
        self._set_text(".predict--feedback", "")
        field = self.query_one(Input)
        if field.value:
            field.value = ""
        field.disabled = False
        if focus:
            field.focus()

    def start_answer(self, text: str) -> bool:
        """Put the cursor in the field with `text` typed (a lab's first digit or sign); False
        when no question is being asked."""
        if self.state != "asking" or not self.display:
            return False
        field = self.query_one(Input)
        field.select_on_focus = False  # else focusing selects the first character, the next replaces it
        # Keys typed before the field takes the focus reach the lab too: keep them all ("0.17"
        # typed fast arrived as "0", ".", "1", "7" and only the "7" was kept).
        field.value = field.value + text if self._typing_ahead else text
        self._typing_ahead = True
        field.cursor_position = len(field.value)
        field.focus()
        return True

    def on_descendant_focus(self, event) -> None:
        self._typing_ahead = False  # the field has the keys now; a later start replaces

    def hand_back_key(self, event) -> None:
        """A key that is not part of a number was typed in the field: the focus goes back to
        the lab, and the key goes to the lab (its binding runs)."""
        from textual import events

        # The lab around the field (a widget imports no lab: every lab has a `lab_name`), else
        # the nearest focusable ancestor.
        target = next((node for node in self.ancestors if hasattr(node, "lab_name")), None) or next(
            (node for node in self.ancestors if isinstance(node, Widget) and node.can_focus), None)
        if target is None:
            return
        target.focus()
        target.post_message(events.Key(event.key, event.character))

    def reveal(self) -> None:
        """Show the answer and the explanation without a guess."""
        if self.key is None:
            return
        self._give_back_focus()
        self.state = "revealed"
        self._feedback(f"The answer is {_format(self.answer)}.")

    def clear(self) -> None:
        """Forget the question and hide the widget."""
        self._give_back_focus()
        self.key = None
        self.state = "idle"
        self.query_one(Input).value = ""
        self._set_text(".predict--feedback", "")

    def check(self, value: float) -> bool:
        """Whether `value` is within the tolerance of the answer (exact answers allow rounding)."""
        tolerance = self.tolerance or 1e-9 * max(1.0, abs(self.answer))
        return abs(value - self.answer) <= tolerance

    # --- internals ---------------------------------------------------------------------
    def _feedback(self, headline: str) -> None:
        self._set_text(".predict--feedback", f"{headline} {self.explanation}".strip())

    def _set_text(self, selector: str, text: str) -> None:
        """Labs ask a new question on every step: no layout pass unless the height changes."""
        set_text(self.query_one(selector, Static), text)

    def _give_back_focus(self) -> None:
        """Hand the keyboard back to the lab (the nearest focusable ancestor)."""
        field = self.query_one(Input)
        if not field.has_focus:
            return
        for node in self.ancestors:
            if isinstance(node, Widget) and node.can_focus:
                node.focus()
                return
        self.screen.set_focus(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.state != "asking" or self.key is None:
            return
        try:
            value = parse_number(event.value)
        except (ValueError, ZeroDivisionError):
            self.add_class("-invalid")
            self._set_text(".predict--feedback", "Type a number, e.g. 0.25 or 1e-3.")
            return
        correct = self.check(value)
        self._give_back_focus()
        self.state = "right" if correct else "wrong"
        if correct:
            self._feedback(f"✓ Right: {_format(self.answer)}.")
        else:
            self._feedback(f"✗ You said {_format(value)}; the answer is {_format(self.answer)}.")
        self.post_message(self.Checked(self, self.key, correct, value))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
