"""The backprop lab's model and layout (no Textual): steps, accumulation, quiz, code, drawing."""

from __future__ import annotations

import ast

import pytest

from core.autodiff import ExpressionError, gradients
from tutor.labs import validate_lab
from tutor.labs.backprop.layout import (
    BOX_H, BOX_W, E, W, compute_layout, plain_text, render_graph,
)
from tutor.labs.backprop.model import BackpropModel, fmt, parse_values
from tutor.labs.backprop.params import PRESETS


@pytest.mark.parametrize("preset", list(PRESETS))
def test_stepping_through_reaches_the_core_gradients(preset):
    _, text, values = PRESETS[preset]
    model = BackpropModel.from_preset(preset)
    value, expected = gradients(text, **values)
    phases = []
    while model.step():
        phases.append(model.phase)
    assert model.index == model.total and phases[-1] == "done"
    assert phases.count("forward") == len(model.ops) and phases.count("seed") == 1
    grads = model.partial_grads()
    for p, node in enumerate(model.nodes):
        if node.op == "input":
            assert grads[p] == pytest.approx(expected[node.name], rel=1e-12)
    assert model.input_grads() == pytest.approx(expected)
    assert model.value[-1] == pytest.approx(value)


def test_notes_example_steps_match_the_notes():
    model = BackpropModel.from_preset("notes")  # f = (x + y) * z at x=-2, y=5, z=-4
    model.go_to("forward")
    view = model.view()
    assert [b.value for b in view.boxes] == [-2, 5, 3, -4, -12]
    assert all(b.grad is None for b in view.boxes)
    model.step()  # seed
    assert model.phase == "seed" and model.partial_grads() == {4: 1.0}
    model.step()  # the × node: ∂f/∂q = z = -4, ∂f/∂z = q = 3
    flows = model.flows()
    assert [(f.target, f.local, f.downstream) for f in flows] == [(2, -4.0, -4.0), (3, 3.0, 3.0)]
    model.step()  # the + node: ∂f/∂x = ∂f/∂y = 1 × -4
    assert model.partial_grads() == {4: 1.0, 2: -4.0, 3: 3.0, 0: -4.0, 1: -4.0}
    assert "downstream = -4 × 1 = -4" in "\n".join(model.detail())


def test_fan_out_accumulates_visibly():
    model = BackpropModel.from_preset("fanout")  # (x + y) * x at x=3, y=-1
    model.go_to("end")
    x = 0
    flows = model.flows()
    into_x = [f for f in flows if f.target == x][0]
    assert (into_x.before, into_x.downstream, into_x.after) == (2.0, 3.0, 5.0)
    assert "accumulates: 2 + 3 = 5" in "\n".join(model.detail())
    model.back()
    view = model.view()
    assert view.boxes[x].grad == 2.0 and not view.boxes[x].grad_complete  # partial so far
    model.step()
    assert model.view().boxes[x].grad_complete


def test_history_back_and_reset():
    model = BackpropModel.from_preset("sigmoid")
    for _ in range(5):
        model.step()
    focus = model.focus()
    model.step()
    assert model.back() and model.focus() == focus
    model.reset()
    assert model.index == 0 and model.phase == "start" and not model.back()
    model.run_all()
    assert not model.step()


def test_sigmoid_block_has_fewer_nodes_and_the_same_gradients():
    prim = BackpropModel.from_preset("sigmoid")
    block = BackpropModel.from_preset("sigmoid_block")
    assert len(block.nodes) < len(prim.nodes)
    assert block.input_grads() == pytest.approx(prim.input_grads(), abs=1e-15)
    assert {k: round(v, 2) for k, v in prim.input_grads().items()} == dict(
        w0=-0.2, x0=0.39, w1=-0.39, x1=-0.59, w2=0.2)


def test_questions_cover_each_downstream_gradient_except_constants():
    model = BackpropModel.from_preset("sigmoid")
    model.go_to("forward")
    model.step()  # seed
    questions = model.questions()  # the ÷ node: into the constant 1 (skipped) and into 1 + exp
    assert len(questions) == 1
    key, prompt, answer, why = questions[0]
    assert answer == pytest.approx(-0.5344, abs=1e-4) and "downstream" in prompt
    assert "upstream × local" in why
    model.go_to("forward")
    assert model.questions() == []  # the next step is the seed, not a backward step


def test_set_values_and_unknown_names():
    model = BackpropModel.from_preset("notes")
    model.set_values({"x": 1.0})
    assert model.value[-1] == (1 + 5) * -4
    with pytest.raises(ValueError, match="no input 'q'"):
        model.set_values({"q": 1.0})


def test_both_models_follow_the_kit_protocol_and_apply_keeps_the_last_good_graph():
    from tutor.labs.backprop.tensor_model import TensorBackpropModel
    from tutor.labs.kit import LabModel

    model = BackpropModel.from_preset("notes")
    assert isinstance(model, LabModel) and isinstance(TensorBackpropModel(), LabModel)
    assert model.advance(2) == 2 and model.status() == "2/5 forward"
    assert model.apply("values", "x=1") is None and model.index == 2  # the step is kept
    assert model.value[-1] == (1 + 5) * -4 and model.refusal is None
    refused = model.apply("values", "x=1, q=2")
    assert "no input 'q'" in refused and model.refusal.column == 6 and model.values["x"] == 1.0
    assert "column 4" in model.apply("expression", "x +* y") and model.index == 2
    assert model.expression == "(x + y) * z" and model.refusal.text == "x +* y"
    assert model.apply("expression", "x * w") is None and model.index == 0
    assert model.values == {"x": 1.0, "w": 1.0} and model.refusal is None  # x keeps its value
    assert model.advance(99) == model.total and not model.step()
    assert "unknown setting" in model.apply("preset", "notes")


def test_new_names_default_to_one_and_bad_expressions_raise():
    model = BackpropModel("a * b + c", {"a": 2.0})
    assert model.values == {"a": 2.0, "b": 1.0, "c": 1.0}
    with pytest.raises(ExpressionError):
        BackpropModel("a +* b")


def test_nonfinite_values_name_the_node():
    model = BackpropModel("log(x) * 2", {"x": -1.0})
    assert "log(x)" in model.problem_text() and "nan" in model.problem_text()
    model = BackpropModel("x / y", {"x": 1.0, "y": 0.0})
    assert "inf" in model.problem_text()
    assert BackpropModel.from_preset("notes").problem_text() is None


def test_parse_values():
    assert parse_values("x=1, y = -2.5;z=3e2") == {"x": 1.0, "y": -2.5, "z": 300.0}
    assert parse_values("") == {}
    with pytest.raises(ExpressionError) as info:
        parse_values("x=1, y=abc")
    assert info.value.column == 8
    with pytest.raises(ExpressionError):
        parse_values("x=1, 2")
    with pytest.raises(ExpressionError, match="finite"):
        parse_values("x=inf")


def test_fmt_fits_the_box():
    for v in [3, -0.19661, 0.7310585, 1.37, 123456.7, 1e-5, -1.2e-7, 2e10, -3e300]:
        assert len(fmt(v)) <= 6, fmt(v)
    assert fmt(float("nan")) == "nan" and fmt(float("-inf")) == "-inf" and fmt(-12) == "-12"


@pytest.mark.parametrize("preset", list(PRESETS))
def test_node_texts_round_trip_through_the_parser(preset):
    _, text, values = PRESETS[preset]
    model = BackpropModel.from_preset(preset)
    assert gradients(model.texts[-1], **values) == pytest.approx(gradients(text, **values))


def test_node_texts_keep_structure():
    model = BackpropModel("x - (y - z) / -(a * b) ** 2", {})
    again = BackpropModel(model.texts[-1], {})
    assert [n.op for n in again.nodes] == [n.op for n in model.nodes]


def test_pytorch_code_is_valid_python_with_the_values():
    model = BackpropModel.from_preset("sigmoid")
    code = model.pytorch_code()
    ast.parse(code)
    assert "requires_grad=True" in code and ".backward()" in code
    assert "torch.exp(" in code and "w0 = torch.tensor(2.0" in code
    assert "∂f/∂x1 = -0.59" in code
    assert "torch.sigmoid(" in BackpropModel.from_preset("sigmoid_block").pytorch_code()


def test_layout_inputs_left_output_right_no_overlaps():
    for preset in PRESETS:
        model = BackpropModel.from_preset(preset)
        view = model.view()
        layout = compute_layout(tuple((b.label, b.inputs) for b in view.boxes))
        xs = [x for x, _ in layout.boxes]
        out_x = xs[-1]
        assert out_x == max(xs)
        for p, box in enumerate(view.boxes):
            for q in box.inputs:
                assert xs[q] < xs[p]  # every edge points right
        rects = [(x, y, x + BOX_W, y + BOX_H) for x, y in layout.boxes]
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        text = plain_text(render_graph(view))
        assert text.count("┌") >= len(view.boxes) and "▶" in text


def test_render_shows_values_and_gradients():
    model = BackpropModel.from_preset("notes")
    model.go_to("end")
    text = plain_text(render_graph(model.view()))
    for expected in ("│v    -12│", "│∂      1│", "│∂     -4│", "│∂      3│", "┌ × ", "┌ z "):
        assert expected in text


def test_deep_expression_renders():
    model = BackpropModel("+".join(["x"] * 12), {"x": 1.0})
    model.go_to("end")
    rows = render_graph(model.view())
    assert model.input_grads() == {"x": 12.0}
    assert len(rows) >= BOX_H and "▶" in plain_text(rows)


def test_large_graphs_are_listed_as_a_table():
    model = BackpropModel("+".join(["x"] * 300), {"x": 1.0})  # 300 levels, x used by each
    model.go_to("end")
    model.back()
    text = plain_text(render_graph(model.view()))
    lines = text.splitlines()
    assert lines[0].startswith("300 nodes: too many to draw")
    assert len(lines) == 301 and "▶" not in text
    assert lines[1].split()[:2] == ["#0", "x"] and lines[1].split()[-1] == "298"  # partial: x + x comes last
    model.step()
    assert plain_text(render_graph(model.view())).splitlines()[1].split()[-1] == "300"


def test_lesson_params_validate():
    params = validate_lab("backprop", {"preset": "fanout", "quiz": True})
    assert params["panel"] == "node" and params["at"] == "start"
    model = BackpropModel.from_preset("notes", expression="x * y", values="x=2, y=3")
    assert model.input_grads() == {"x": 3.0, "y": 2.0}


# --- the compact layout and lane assignment (QA pass) ----------------------------------------
_MORE_EXPRESSIONS = ["(x+y)*x*sin(x)+y*exp(x)", "x*y*z + x*y + y*z + z*x",
                     "tanh(x*y + sin(x) - exp(y) * x)", "sigmoid(x*w + b) * y + relu(x - y) ** 2",
                     "(x + x) * (x + x) / (y + x)", "log(1 + exp(-(a*b + c*d + e*f + g*h)))"]


def _structures():
    for preset in PRESETS:
        yield BackpropModel.from_preset(preset)
    for text in _MORE_EXPRESSIONS:
        yield BackpropModel(text, {})


@pytest.mark.parametrize("compact", [False, True])
def test_edges_of_different_sources_never_share_a_horizontal_run(compact):
    # Regression: in the fan-out preset, y's exit run and x's entry run into x + y lay on the
    # same row of the same gap, so the two edges merged into one line ("─┴┬─▶").
    for model in _structures():
        structure = tuple((b.label, b.inputs) for b in model.view().boxes)
        layout = compute_layout(structure, compact)
        owner: dict[tuple[int, int], int] = {}
        for src, _dst, cells in layout.edges:
            for x, y, d in cells:
                if d & (E | W):
                    assert owner.setdefault((x, y), src) == src, (model.expression, (x, y))
        box_w = layout.box_w
        rects = [(x, y, x + box_w, y + BOX_H) for x, y in layout.boxes]
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_fan_out_edges_stay_apart():
    model = BackpropModel.from_preset("fanout")
    model.go_to("end")
    lines = plain_text(render_graph(model.view())).splitlines()
    y_row = next(line for line in lines if "│v     -1│" in line)
    assert "│v     -1│─┐└─▶│v      2│" in y_row  # y bends down; x's own lane enters beside it


def test_compact_layout_fits_the_sigmoid_neuron_in_80_columns():
    model = BackpropModel.from_preset("sigmoid")
    model.go_to("end")
    structure = tuple((b.label, b.inputs) for b in model.view().boxes)
    assert compute_layout(structure).width > 100
    assert compute_layout(structure, True).width <= 78
    text = plain_text(render_graph(model.view(), compact=True))
    assert "│-0.197│" in text and "│ 0.393│" in text  # ∂f/∂w0, ∂f/∂x0 without the marks
    assert "│v" not in text and "│∂" not in text
    assert max(len(line) for line in text.splitlines()) <= 78


def test_panel_names_long_nodes_by_number_and_skips_repeated_numbers():
    model = BackpropModel.from_preset("loss")
    for _ in range(3):
        model.step()
    first, second = model.detail()
    assert first.startswith("Forward: #6 (-) = a - b")
    assert second.endswith("∂/∂a = 1, ∂/∂b = -1")  # not "∂/∂a = 1 = 1"
    assert [b.tag for b in model.view().boxes][-2:] == ["#6", "#7"]
