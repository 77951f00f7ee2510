"""The backprop lab with Pilot: stepping, editing with inline errors, quiz, panels, snapshots."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from tutor.labdemo import LabApp
from tutor.labs.backprop.graph_view import GraphView
from tutor.labs.backprop.layout import plain_text
from tutor.labs.backprop.params import PRESETS
from tutor.labs.base import Lab
from tutor.widgets.predict import PredictInput


def _lab(app):
    return app.query_one("#lab")


def _text(widget) -> str:
    return str(widget.render())


async def test_step_forward_back_reset_and_run_all(lab_app):
    async with lab_app("backprop", preset="notes").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert lab.model.index == 0
        await pilot.press("n", "n")
        assert lab.model.phase == "forward" and lab.model.index == 2
        assert "Forward: (x + y) * z = a × b" in _text(lab.query_one("#bp-panel"))
        await pilot.press("b")
        assert lab.model.index == 1
        await pilot.press("a")
        assert lab.model.phase == "done"
        graph = plain_text(lab.query_one(GraphView).rows)
        assert "│∂     -4│" in graph and "│v    -12│" in graph
        assert "Done: ∂f/∂x = -4, ∂f/∂y = -4, ∂f/∂z = 3" in _text(lab.query_one("#bp-panel"))
        await pilot.press("r")
        assert lab.model.index == 0


async def test_playback_timer_stops_at_the_end(lab_app):
    async with lab_app("backprop", preset="fanout").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        lab.playing = True
        for _ in range(lab.model.total + 2):
            lab._tick()
        await pilot.pause()
        assert lab.model.phase == "done" and not lab.playing


async def test_typed_expression_builds_a_new_graph(lab_app):
    async with lab_app("backprop").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("e")
        field = lab.query_one("#bp-expr", Input)
        assert field.has_focus
        field.value = ""
        await pilot.press(*"x * y + sin(x)", "enter")
        await pilot.pause()
        assert lab.model.expression == "x * y + sin(x)"
        assert set(lab.model.values) == {"x", "y"}  # x kept -2, y kept 5
        assert lab.model.values == {"x": -2.0, "y": 5.0}
        assert lab.has_focus and lab.model.index == 0
        await pilot.press("a")
        assert lab.model.input_grads()["y"] == -2.0


async def test_bad_expression_shows_the_column_and_keeps_the_graph(lab_app):
    async with lab_app("backprop").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        before = lab.model
        field = lab.query_one("#bp-expr", Input)
        field.focus()
        field.value = "(x + y) * __import__('os')"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model is before and lab.model.index == 2
        error = lab.query_one("#bp-error", Static)
        assert not error.has_class("-empty")
        assert "column 11" in _text(error) and "previous graph is kept" in _text(error)
        # a good expression afterwards clears the error
        field.value = "x * z"
        await pilot.press("enter")
        await pilot.pause()
        assert error.has_class("-empty") and lab.model.expression == "x * z"


async def test_editing_values(lab_app):
    async with lab_app("backprop").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = lab.query_one("#bp-values", Input)
        field.focus()
        field.value = "x=1, y=2, z=3"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.values == {"x": 1.0, "y": 2.0, "z": 3.0}
        assert lab.model.value[-1] == 9.0
        field.focus()
        field.value = "x=1, q=2"
        await pilot.press("enter")
        await pilot.pause()
        assert "no input 'q'" in _text(lab.query_one("#bp-error"))
        assert lab.model.values["x"] == 1.0 and lab.model.value[-1] == 9.0
        field.value = "x=oops"
        await pilot.press("enter")
        await pilot.pause()
        assert "column 3" in _text(lab.query_one("#bp-error"))


async def test_keys_typed_into_the_expression_do_not_step(lab_app):
    async with lab_app("backprop").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = lab.query_one("#bp-expr", Input)
        field.focus()
        field.value = ""
        await pilot.press("n", "b", "r", "a")
        assert field.value == "nbra" and lab.model.index == 0
        await pilot.press("escape")
        assert lab.has_focus
        assert lab.check_action("leave_inputs", ()) is False  # escape goes on to the screen


async def test_quiz_asks_each_downstream_gradient_and_posts_answers(lab_app):
    answers = []

    class Recorder(LabApp):
        def on_lab_answered(self, message: Lab.Answered) -> None:
            answers.append((message.lab, message.key, message.correct))

    app = Recorder("backprop", {"preset": "notes", "quiz": True, "at": "forward"})
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        predict = lab.query_one(PredictInput)
        await pilot.press("n")  # seed: no question
        assert lab.model.phase == "seed" and predict.state == "idle"
        await pilot.press("n")  # the × node: asked for a = x + y, then b = z
        assert predict.state == "asking" and lab.model.index == 3  # not revealed yet
        assert "into a = x + y" in predict.prompt
        await pilot.press(*"-4", "enter")
        await pilot.pause()
        assert predict.state == "asking" and "into b = z" in predict.prompt
        assert predict.prompt.startswith("✓ right: -4.")
        assert "quiz 1/1" in lab.query_one("#bp-controls").status
        await pilot.press(*"5", "enter")
        await pilot.pause()
        assert predict.state == "wrong" and lab.model.index == 4  # revealed after both
        assert answers == [("backprop", "(x + y) * z|4|0", True),
                           ("backprop", "(x + y) * z|4|1", False)]
        assert "quiz 1/2" in lab.query_one("#bp-controls").status
        await pilot.press("n")  # next node's questions; n again reveals without answering
        assert predict.state == "asking"
        await pilot.press("escape", "n")
        await pilot.pause()
        assert predict.state == "revealed" and lab.model.phase == "done"
        assert len(answers) == 2


async def test_panels_cycle_check_and_symbolic(lab_app):
    async with lab_app("backprop", preset="sigmoid", panel="check").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        panel = _text(lab.query_one("#bp-panel"))
        assert "Gradient check" in panel and "w0" in panel and "e-1" in panel
        chart = lab.query_one("#bp-chart")
        assert chart.display and len(chart.series) == 2
        await pilot.press("g")
        assert "Symbolic differentiation" in _text(lab.query_one("#bp-panel"))
        assert "∂f/∂w0 = (" in _text(lab.query_one("#bp-panel"))
        assert not lab.query_one("#bp-chart").has_class("-shown")
        await pilot.press("g")
        assert "Inputs:" in _text(lab.query_one("#bp-panel"))


async def test_presets_cycle_and_pytorch_dialog(lab_app):
    async with lab_app("backprop").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("p")
        assert lab.preset == "sigmoid" and lab.model.expression == PRESETS["sigmoid"][1]
        assert lab.query_one("#bp-expr", Input).value == PRESETS["sigmoid"][1]
        assert "torch.exp" in lab.pytorch_code()
        await pilot.press("y")
        await pilot.pause()
        assert "CodeDialog" in type(pilot.app.screen).__name__


async def test_nonfinite_values_are_reported_not_raised(lab_app):
    async with lab_app("backprop", expression="log(x) + 1 / y", values="x=-1, y=0").run_test(
        size=(120, 36)
    ) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("a")
        panel = _text(lab.query_one("#bp-panel"))
        assert "⚠ node log(x) has value nan" in panel


async def test_bad_lesson_expression_falls_back_to_the_preset(lab_app):
    async with lab_app("backprop", expression="x +").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert lab.model.expression == PRESETS["notes"][1]
        assert "column" in _text(lab.query_one("#bp-error"))


@pytest.mark.parametrize("size", [(20, 8), (50, 12), (200, 60)])
async def test_survives_tiny_and_large_terminals(lab_app, size):
    async with lab_app("backprop", preset="sigmoid").run_test(size=size) as pilot:
        await pilot.press("n", "n", "a", "b", "g", "right", "down")
        await pilot.pause()
        assert _lab(pilot.app).model.phase == "backward"


# --- snapshots: each preset mid-backward -----------------------------------------------------
def _mid_backward(preset: str):
    from tutor.labs.backprop.model import BackpropModel

    model = BackpropModel.from_preset(preset)
    return len(model.ops) + 1 + max(1, len(model.ops) // 2)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_snapshot_mid_backward(snap_compare, preset):
    steps = _mid_backward(preset)

    async def run_before(pilot):
        await pilot.press(*["n"] * steps)
        await pilot.pause()

    app = LabApp("backprop", {"preset": preset})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


async def test_graph_scrolls_to_the_focused_node(lab_app):
    async with lab_app("backprop", preset="sigmoid").run_test(size=(60, 30)) as pilot:
        lab = _lab(pilot.app)
        graph = lab.query_one(GraphView)
        await pilot.pause()
        assert graph.scroll_x == 0
        for _ in range(len(lab.model.ops)):  # the forward pass ends at the output, far right
            await pilot.press("n")
        await pilot.pause()
        assert graph.scroll_x > 0 and graph.virtual_size.width > graph.size.width
        await pilot.press("r")
        await pilot.pause()
        assert lab.model.index == 0 and graph.scroll_x == 0


# --- QA pass: narrow labs, the status line, declared core packages ---------------------------
async def test_graph_wider_than_the_view_switches_to_the_compact_layout(lab_app):
    async with lab_app("backprop", preset="sigmoid", at="end").run_test(size=(80, 36)) as pilot:
        lab = _lab(pilot.app)
        graph = lab.query_one(GraphView)
        await pilot.pause()
        assert graph.compact  # beside a lesson the lab has about 80 columns
        assert graph.virtual_size.width <= graph.scrollable_content_region.width
        assert "│-0.197│" in plain_text(graph.rows)
        await pilot.resize_terminal(160, 36)
        await pilot.pause()
        assert not graph.compact and "│∂ -0.197│" in plain_text(graph.rows)
    async with lab_app("backprop", preset="notes").run_test(size=(80, 36)) as pilot:
        await pilot.pause()
        assert not _lab(pilot.app).query_one(GraphView).compact  # fits as it is


async def test_status_fits_beside_the_buttons_in_an_80_column_lab(lab_app):
    async with lab_app("backprop", preset="sigmoid", quiz=True).run_test(size=(80, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        controls = lab.query_one("#bp-controls")
        for _ in range(len(lab.model.ops)):  # the forward pass asks nothing
            await pilot.press("n")
        await pilot.pause()
        assert controls.status == f"{lab.model.index}/{lab.model.total} · quiz 0/0"
        assert controls.size.height == 1  # no wrapping
        await pilot.press("k", "a")
        await pilot.pause()
        assert controls.status == f"{lab.model.total}/{lab.model.total} done"
        assert controls.size.height == 1


def test_core_packages_are_declared():
    from tutor.labs import lab_core_packages

    assert lab_core_packages("backprop") == ("autodiff", "optim", "tensor")


def test_snapshot_sigmoid_compact_at_80_columns(snap_compare):
    steps = _mid_backward("sigmoid")

    async def run_before(pilot):
        await pilot.press(*["n"] * steps)
        await pilot.pause()

    app = LabApp("backprop", {"preset": "sigmoid"})
    assert snap_compare(app, terminal_size=(80, 36), run_before=run_before)


async def test_steps_relayout_only_when_the_panel_changes_height(lab_app):
    # Each layout pass repaints the whole screen; the panel used to ask for one on every step.
    async with lab_app("backprop", preset="sigmoid").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        await pilot.pause()

        def layouts():
            return sum(widget._layout_updates for widget in lab.query("*"))

        before = layouts()
        for _ in range(6):  # forward steps: two-line descriptions of the same height
            lab.step_forward()
            await pilot.pause()
        assert layouts() - before <= 1
        assert "Forward:" in _text(lab.query_one("#bp-panel"))


async def test_graph_styles_follow_a_theme_change(lab_app):
    # The graph view caches its styles per theme (looking them up per line was a hot spot).
    async with lab_app("backprop", preset="notes").run_test(size=(100, 30)) as pilot:
        graph = _lab(pilot.app).query_one(GraphView)
        await pilot.pause()
        dark = graph._style_table()[1]["grad"]
        pilot.app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        assert graph._style_table()[1]["grad"] != dark


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    async with lab_app("backprop").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("p", "e")  # the sigmoid preset, then a typed expression
        lab.query_one("#bp-expr", Input).value = ""
        await pilot.press(*"x * y + sin(x)", "enter")
        lab.query_one("#bp-values", Input).focus()
        lab.query_one("#bp-values", Input).value = "x=0.5, y=-2"
        await pilot.press("enter", "n", "n", "n", "g", "k")
        saved = round_trip(lab.save_state())
        assert saved["step"] == 3 and saved["preset"] == "sigmoid" and saved["quiz"]
        lab = await remount(pilot)
        lab.restore_state(saved)
        await pilot.pause()
        assert lab.save_state() == saved
        assert lab.query_one("#bp-expr", Input).value == "x * y + sin(x)"
        assert lab.query_one("#bp-values", Input).value == "x=0.5, y=-2"
        text = screen_text(pilot.app)
        assert "Gradient check" in text and "3/7 · quiz 0/0" in text
        tensor = {**saved, "preset": "tensor", "tensor_step": 5, "quiz": False}
        lab.restore_state(tensor)  # the tensor graph, part-way through its forward pass
        await pilot.pause()
        assert lab.save_state() == tensor and lab.tensor_mode and lab.has_class("-tensor")
        assert "5/13 forward" in screen_text(pilot.app)


def test_a_damaged_backprop_state_is_refused_and_changes_nothing():
    from tutor.labs import validate_lab
    from tutor.labs.backprop.widget import BackpropLab

    lab = BackpropLab(validate_lab("backprop", {"preset": "fanout"}))
    lab.model.advance(2)
    saved = lab.save_state()
    for bad, error in (({**saved, "step": 99}, ValueError), ({**saved, "expression": "(x +"}, ValueError),
                       ({**saved, "values": {"x": 1.0}}, ValueError),
                       ({**saved, "values": {"x": "1", "y": 2.0}}, ValueError),
                       ({**saved, "quiz": 1}, TypeError), ({**saved, "preset": "nope"}, ValueError),
                       ({**saved, "expression": None}, TypeError),
                       ({k: v for k, v in saved.items() if k != "panel"}, KeyError)):
        with pytest.raises(error):
            lab.restore_state(bad)
        assert lab.save_state() == saved
