"""tutor.widget_classes: inputs and buttons are built with the classes of their state,
so mounting them restyles nothing; a widget whose state differs still gets its classes. Also a
prediction field built idle, then asking."""

from __future__ import annotations

from textual.app import App
from textual.dom import DOMNode
from textual.validation import Number
from textual.widgets import Button, Input

from tutor import widget_classes
from tutor.widgets.predict import PredictInput


def _restyled(monkeypatch) -> list[DOMNode]:
    seen: list[DOMNode] = []
    update = DOMNode.update_node_styles

    def spy(self, animate: bool = True) -> None:
        if getattr(self, "is_attached", False) and not self.has_focus:  # styled, not a focus
            seen.append(self)
        update(self, animate)

    monkeypatch.setattr(DOMNode, "update_node_styles", spy)
    return seen


class Fields(App):
    def compose(self):
        yield Input("0.5", id="plain")
        yield Input("x", id="bad", validators=[Number()])
        yield Button("go", id="button")
        yield Button("flat", id="flat", flat=True)
        yield PredictInput(id="predict")


async def test_fields_are_built_with_the_classes_of_their_state():
    widget_classes.install()
    app = Fields()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        assert app.query_one("#plain").has_class("-valid")
        bad = app.query_one("#bad")
        assert bad.has_class("-invalid") and not bad.has_class("-valid")
        assert app.query_one("#button").has_class("-style-default")
        flat = app.query_one("#flat")
        assert flat.has_class("-style-flat") and not flat.has_class("-style-default")
        predict = app.query_one(PredictInput)
        assert predict.has_class("-idle") and predict.query_one(Input).disabled
        predict.ask("q", "2 + 2 = ?", 4, 0)
        await pilot.pause()
        assert predict.has_class("-asking") and not predict.has_class("-idle")
        assert not predict.query_one(Input).disabled


async def test_mounting_a_lab_restyles_none_of_its_inputs_or_buttons(monkeypatch, lab_app):
    """The convolution lab (its app installs the patch): nine kernel inputs, a path input,
    settings, buttons; once attached none of them is restyled for the class Textual adds (the
    nine kernel inputs were)."""
    restyled = _restyled(monkeypatch)
    async with lab_app("convolution").run_test(size=(120, 36)) as pilot:
        for _ in range(3):
            await pilot.pause()
        again = [node for node in restyled if isinstance(node, (Input, Button))]
        assert again == [], f"restyled once attached: {again}"
        assert len(pilot.app.query(Input)) >= 9


async def test_a_widget_not_yet_in_the_dom_is_not_styled(monkeypatch):
    """Textual styles a widget when it joins the DOM; an Input restyled itself as it was built
    (its value checked in __init__). Built now: no styling until it is mounted, then styled."""
    widget_classes.install()
    styled: list[DOMNode] = []
    update_styles = App.update_styles
    monkeypatch.setattr(App, "update_styles",
                        lambda self, node, animate=True: (styled.append(node), update_styles(self, node, animate)))  # fmt: skip
    app = Fields()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        styled.clear()
        fields = [Input("1.5"), Input("y", validators=[Number()]), Button("b")]
        assert styled == []
        await app.screen.mount_all(fields)
        await pilot.pause()
        assert fields[0].has_class("-valid") and fields[1].has_class("-invalid")
        assert fields[0].styles.color == app.query_one("#plain").styles.color  # styled on mount
        fields[1].add_class("extra")  # in the DOM: a class change restyles it
        assert fields[1] in styled
