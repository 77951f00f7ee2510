"""A lesson quiz: a numeric answer or a choice, checked with feedback, a hint and an explanation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from tutor.content import Quiz


class QuizView(Vertical):
    """One quiz of a lesson. Posts `QuizView.Answered` for every readable answer.

    A wrong first answer gives the hint and another try; the answer is shown after the second
    wrong one, or at once with the Answer button."""

    DEFAULT_CSS = """
    QuizView {
        height: auto;
        border: round $accent;
        padding: 0 1;
        margin: 1 0;
    }
    QuizView .quiz-question { text-style: bold; }
    QuizView Input { width: 24; }
    QuizView RadioSet { width: 1fr; height: auto; border: none; padding: 0; }
    QuizView .quiz-row { height: auto; }
    QuizView Button { min-width: 8; margin-left: 1; }
    QuizView .quiz-feedback { color: $text-muted; }
    QuizView.-correct { border: round $success; }
    QuizView.-wrong { border: round $error; }
    QuizView .quiz-feedback.-correct { color: $success; }
    QuizView .quiz-feedback.-wrong { color: $error; }
    """

    class Answered(Message):
        """The student answered: `response` as typed or the choice index, and whether it was right."""

        def __init__(self, quiz: Quiz, response, correct: bool) -> None:
            super().__init__()
            self.quiz = quiz
            self.response = response
            self.correct = correct

    def __init__(self, quiz: Quiz, record: dict | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.quiz = quiz
        self.record = record or {}
        self.border_title = "Quiz"
        self.wrong_tries = 0
        """Wrong answers given since the lesson was opened."""

    def compose(self) -> ComposeResult:
        quiz = self.quiz
        yield Static(quiz.question, classes="quiz-question", markup=False)
        if quiz.is_choice:
            with RadioSet():
                for choice in quiz.choices:
                    yield RadioButton(choice)
            with Horizontal(classes="quiz-row"):
                yield Button("Check", id="check", variant="primary", compact=True)
                if quiz.hint:
                    yield Button("Hint", id="hint", compact=True)
                yield Button("Answer", id="show", compact=True)
        else:
            with Horizontal(classes="quiz-row"):
                yield Input(placeholder="your answer", id="answer", compact=True)
                yield Button("Check", id="check", variant="primary", compact=True)
                if quiz.hint:
                    yield Button("Hint", id="hint", compact=True)
                yield Button("Answer", id="show", compact=True)
        yield Static(self._previous(), classes="quiz-feedback", markup=False)

    def _previous(self) -> str:
        if not self.record:
            return ""
        if self.record.get("correct"):
            return f"✓ You answered this correctly before ({self.record.get('last')})."
        return f"You tried this {self.record.get('attempts', 1)} time(s); try again."

    def _feedback(self, text: str, state: str | None) -> None:
        feedback = self.query_one(".quiz-feedback", Static)
        feedback.update(text)
        for target in (self, feedback):
            target.remove_class("-correct", "-wrong")
            if state:
                target.add_class(f"-{state}")

    def check(self, response) -> bool | None:
        """Check `response` (typed text, or a 0-based choice index); show and post the result."""
        correct, message = self.quiz.check(response)
        if correct is None:
            self._feedback(message, None)
            return None
        if correct:
            text = "✓ " + message
        else:
            self.wrong_tries += 1
        if not correct and self.wrong_tries == 1:
            hint = f" Hint: {self.quiz.hint}" if self.quiz.hint else ""
            text = f"✗ Not quite.{hint} Try again, or press Answer to see it."
        elif not correct:
            text = "✗ " + message
        if self.quiz.explanation and (correct or self.wrong_tries > 1):
            text += "\n" + self.quiz.explanation
        self._feedback(text, "correct" if correct else "wrong")
        self.record = {"correct": correct or bool(self.record.get("correct")), "attempts": 1}
        self.post_message(self.Answered(self.quiz, response, correct))
        return correct

    def answer_text(self) -> str:
        quiz = self.quiz
        if quiz.is_choice:
            return f"“{quiz.choices[quiz.correct]}”"
        return f"{quiz.answer:g}"

    def show_answer(self) -> None:
        """Show the answer and the explanation on request (not recorded as an answer)."""
        text = f"The answer is {self.answer_text()}."
        if self.quiz.explanation:
            text += "\n" + self.quiz.explanation
        self._feedback(text, None)

    def _response(self):
        if self.quiz.is_choice:
            index = self.query_one(RadioSet).pressed_index
            return index if index >= 0 else "none"
        return self.query_one("#answer", Input).value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "hint":
            self._feedback(f"Hint: {self.quiz.hint}", None)
        elif event.button.id == "show":
            self.show_answer()
        elif event.button.id == "check":
            self.check(self._response())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.check(event.value)
