"""PredictInput: right and wrong answers, bad text, reveal, clear."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from tutor.widgets.predict import PredictInput, parse_number


class PredictApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.checked: list[tuple[str, bool, float]] = []

    def compose(self) -> ComposeResult:
        yield PredictInput()

    def on_predict_input_checked(self, message: PredictInput.Checked) -> None:
        self.checked.append((message.key, message.correct, message.value))


def feedback(app) -> str:
    return str(app.query_one(".predict--feedback", Static).render())


async def answer(pilot, text: str) -> None:
    field = pilot.app.query_one(PredictInput).query_one(Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("text, value", [("0.25", 0.25), ("0,25", 0.25), ("1/4", 0.25), ("1e-3", 0.001), ("−2", -2.0)])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1/0", "nan", "inf", "1/2/3"])
def test_parse_number_rejects(text):
    with pytest.raises((ValueError, ZeroDivisionError)):
        parse_number(text)


async def test_hidden_until_asked_and_after_clear():
    app = PredictApp()
    async with app.run_test(size=(60, 10)) as pilot:
        predict = app.query_one(PredictInput)
        await pilot.pause()
        assert not predict.display or predict.has_class("-idle")
        predict.ask("q1", "What is ∂f/∂x at x = 2?", 4.0, 0.01, "f = x², so 2x = 4.")
        await pilot.pause()
        assert predict.has_class("-asking") and predict.size.height >= 2
        predict.clear()
        await pilot.pause()
        assert predict.has_class("-idle") and predict.size.height == 0


async def test_right_answer_posts_checked():
    app = PredictApp()
    async with app.run_test(size=(60, 10)) as pilot:
        app.query_one(PredictInput).ask("q1", "2 + 2?", 4.0, 0.05, "Because.")
        await answer(pilot, "4.04")
        assert app.checked == [("q1", True, 4.04)]
        assert "✓" in feedback(app) and "Because." in feedback(app)
        assert app.query_one(PredictInput).query_one(Input).disabled


async def test_wrong_answer_shows_the_right_value():
    app = PredictApp()
    async with app.run_test(size=(60, 10)) as pilot:
        app.query_one(PredictInput).ask("q2", "slope?", -0.5, 0.01, "Down hill.")
        await answer(pilot, "0.5")
        assert app.checked == [("q2", False, 0.5)]
        text = feedback(app)
        assert "✗" in text and "-0.5" in text and "Down hill." in text


async def test_bad_text_asks_for_a_number_and_allows_retry():
    app = PredictApp()
    async with app.run_test(size=(60, 10)) as pilot:
        app.query_one(PredictInput).ask("q3", "?", 1.0, 0.0)
        await answer(pilot, "one")
        assert app.checked == [] and "number" in feedback(app).lower()
        assert app.query_one(PredictInput).has_class("-invalid")
        await answer(pilot, "1")
        assert app.checked == [("q3", True, 1.0)]


async def test_reveal_shows_answer_without_posting():
    app = PredictApp()
    async with app.run_test(size=(60, 10)) as pilot:
        predict = app.query_one(PredictInput)
        predict.reveal()  # nothing asked yet: no-op
        predict.ask("q4", "?", 0.125, 0.001, "One eighth.")
        predict.reveal()
        await pilot.pause()
        assert "0.125" in feedback(app) and "One eighth." in feedback(app)
        assert app.checked == [] and predict.state == "revealed"


async def test_tiny_terminal():
    app = PredictApp()
    async with app.run_test(size=(10, 3)) as pilot:
        app.query_one(PredictInput).ask("q", "a long prompt " * 5, 1.0, 0.1, "x" * 100)
        await answer(pilot, "2")
        assert app.checked == [("q", False, 2.0)]


async def test_a_new_question_of_the_same_height_asks_for_no_layout_pass():
    app = PredictApp()
    async with app.run_test(size=(60, 12)) as pilot:
        widget = app.query_one(PredictInput)
        widget.ask("a", "next value of cell (1, 2)?", 1.0, 0.1)
        await pilot.pause()
        calls = []  # the layout flag of every update and refresh of the texts
        for static in widget.query(Static):
            update, refresh = static.update, static.refresh

            def spy_update(content="", *, layout=True, original=update):
                calls.append(layout)
                original(content, layout=layout)

            def spy_refresh(*regions, layout=False, original=refresh, **kwargs):
                calls.append(layout)
                return original(*regions, layout=layout, **kwargs)

            static.update, static.refresh = spy_update, spy_refresh
        widget.ask("b", "next value of cell (1, 3)?", 2.0, 0.1)  # same length: same height
        await pilot.pause()
        assert True not in calls
        widget.ask("c", "a much longer question " * 8, 2.0, 0.1)  # wraps: needs a layout
        await pilot.pause()
        assert True in calls
        assert "much longer" in str(widget.query(Static).first().render())
