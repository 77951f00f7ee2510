"""The backprop lab's tensor mode: the model against NumPy's formulas, stepping, the shape quiz, Pilot."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import Static

from tutor.labdemo import LabApp
from tutor.labs.backprop.tensor_model import OPS, SIZES, TensorBackpropModel
from tutor.labs.base import Lab
from tutor.widgets.predict import PredictInput


def test_gradients_match_the_hand_written_numpy_backward():
    m = TensorBackpropModel()
    v, g = m.values, m.grads
    n = SIZES["n"]
    e = np.exp(v["z2"] - v["z2"].max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    delta2 = (p - np.eye(SIZES["classes"])[m.labels]) / n
    np.testing.assert_allclose(g["z2"], delta2, rtol=1e-12)
    np.testing.assert_allclose(g["W2"], delta2.T @ v["h"], rtol=1e-12)   # δ xᵀ summed over rows
    np.testing.assert_allclose(g["b2"], delta2.sum(0), rtol=1e-12)       # broadcasting sums
    delta1 = (delta2 @ v["W2"]) * (v["z1"] > 0)
    np.testing.assert_allclose(g["z1"], delta1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g["W1"], delta1.T @ v["x"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g["b1"], delta1.sum(0), rtol=1e-12, atol=1e-15)
    assert g["x"] is None, "data gets no gradient"
    for name, grad in g.items():
        if grad is not None:
            assert grad.shape == v[name].shape, name
    assert m.loss == pytest.approx(-np.mean(np.log(p[np.arange(n), m.labels])))


def test_step_back_reset_identity_and_phases():
    m = TensorBackpropModel()
    assert m.total == 2 * len(OPS) + 1 == 13 and m.phase == "start" and m.focus() is None
    seen = []
    while m.step():
        seen.append((m.phase, m.focus(), tuple(sorted(m.graded())), m.detail()))
    assert [s[0] for s in seen] == ["forward"] * 6 + ["seed"] + ["backward"] * 5 + ["done"]
    assert [s[1] for s in seen[:6]] == list(OPS) and seen[-1][1] == "u1"
    assert not m.step()
    for _ in range(m.total):
        assert m.back()
    assert not m.back() and m.index == 0
    assert m.advance(100) == m.total
    replay = []
    m.reset()
    while m.step():
        replay.append((m.phase, m.focus(), tuple(sorted(m.graded())), m.detail()))
    assert replay == seen, "the same steps give the same view"
    m.go_to("forward")
    assert m.index == len(OPS) and "ℒ =" in m.status() + " ".join(r[3] for r in m.rows())


def test_backward_steps_name_the_rules_and_shapes():
    m = TensorBackpropModel()
    m.go_to("forward")
    m.advance(2)  # seed, then the loss node
    assert m.focus() == "L" and [f.target for f in m.flows()] == ["z2"]
    m.step()  # z2 = u2 + b2
    flows = {f.target: f for f in m.flows()}
    assert "broadcast over the N = 4 rows" in flows["b2"].rule and flows["b2"].shape == (2,)
    m.step()  # u2 = h W2ᵀ
    flows = {f.target: f for f in m.flows()}
    assert flows["W2"].shapes == "(2, 4) · (4, 5) → (2, 5), W2's shape"
    assert "δ₂ᵀ h" in flows["W2"].rule and flows["h"].shape == (4, 5)
    m.run_all()
    assert [f.target for f in m.flows()] == ["W1", "x"] and m.flows()[1].shape is None


def test_quiz_asks_gradient_shapes_before_each_backward_step():
    m = TensorBackpropModel()
    m.go_to("forward")
    assert m.questions() == []  # the seed comes next
    m.advance(2)
    assert [(k, a) for k, _, a, _ in m.questions()] == [("tensor:b2:len", 2.0)]
    m.step()
    assert [(k, a) for k, _, a, _ in m.questions()] == [("tensor:W2:rows", 2.0), ("tensor:W2:cols", 5.0)]
    m.step()
    live = float((m.values["z1"] > 0).sum())
    assert [(k, a) for k, _, a, _ in m.questions()] == [("tensor:z1:live", live)]
    assert live == 12.0  # the default seed keeps most hidden units active


def test_apply_changes_sizes_and_keeps_the_graph_on_bad_input():
    m = TensorBackpropModel()
    assert m.apply("n", 6) is None and m.shape("x") == (6, 3) and m.grads["W1"].shape == (5, 3)
    assert m.apply("classes", 1) is not None and m.shape("z2") == (6, 2)
    assert m.apply("hidden", "many") is not None and m.shape("h") == (6, 5)
    assert m.apply("depth", 3) is not None


def test_pytorch_code_is_valid_python_with_the_same_numbers():
    m = TensorBackpropModel()
    code = m.pytorch_code()
    compile(code, "<tensor mode>", "exec")
    assert "F.cross_entropy(z2, y)" in code and "delta2.T @ h" in code
    assert repr(round(float(m.values["W1"][0, 0]), 6)) in code


# --- Pilot -------------------------------------------------------------------------------------
def _lab(app):
    return app.query_one("#lab")


def _view_text(lab) -> str:
    return str(lab.query_one("#bp-tensor-text", Static).render())


async def test_tensor_preset_shows_shapes_and_steps_backward(lab_app):
    async with lab_app("backprop", preset="tensor").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        assert lab.tensor_mode and not lab.query_one("#bp-graph").display
        text = _view_text(lab)
        assert "x(4, 3) → u1 → z1" in text and "W1  (5, 3)" in text and "u1  ?" in text
        await pilot.press(*"n" * 10)
        text = _view_text(lab)
        assert lab.tmodel.index == 10 and "▶u2" in text and "→W2" in text
        assert "∂ℒ/∂W2 = δ₂ᵀ h" in text and "(2, 4) · (4, 5) → (2, 5)" in text
        assert "10/13 backward" in lab.query_one("#bp-controls").status
        await pilot.press("b", "r")
        assert lab.tmodel.index == 0
        await pilot.press("a")
        assert "no grad (data)" in _view_text(lab)
        assert "F.cross_entropy" in lab.pytorch_code()


async def test_tensor_quiz_asks_shapes_and_posts_answers():
    answers = []

    class Recorder(LabApp):
        def on_lab_answered(self, message: Lab.Answered) -> None:
            answers.append((message.key, message.correct))

    app = Recorder("backprop", {"preset": "tensor", "quiz": True, "at": "forward"})
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        predict = lab.query_one(PredictInput)
        await pilot.press("n", "n")  # the seed and the loss node: no shape questions
        assert predict.state == "idle" and lab.tmodel.index == 8
        await pilot.press("n")
        assert predict.state == "asking" and "∂ℒ/∂b2" in predict.prompt and lab.tmodel.index == 8
        await pilot.press("2", "enter")
        await pilot.pause()
        assert lab.tmodel.index == 9 and answers == [("tensor:b2:len", True)]
        await pilot.press("n")
        assert "rows does ∂ℒ/∂W2 have" in predict.prompt
        await pilot.press("5", "enter")  # wrong: W2 is (2, 5)
        await pilot.pause()
        await pilot.press("5", "enter")
        await pilot.pause()
        assert answers[1:] == [("tensor:W2:rows", False), ("tensor:W2:cols", True)]
        assert lab.tmodel.index == 10


async def test_preset_key_cycles_into_and_out_of_tensor_mode(lab_app):
    async with lab_app("backprop", preset="linear").run_test(size=(80, 30)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("p")
        assert lab.preset == "tensor" and lab.tensor_mode and lab.has_class("-tensor")
        await pilot.press("e", "g", "n")
        assert lab.tmodel.index == 1 and lab.model is lab.tmodel
        await pilot.press("p")
        assert lab.preset == "notes" and not lab.tensor_mode and lab.model.index == 0
        assert lab.query_one("#bp-graph").display


@pytest.mark.parametrize("size", [(30, 10), (60, 16)])
async def test_tensor_mode_survives_small_terminals(lab_app, size):
    async with lab_app("backprop", preset="tensor").run_test(size=size) as pilot:
        await pilot.press("n", "a", "b")
        await pilot.pause()
        assert _lab(pilot.app).tmodel.index == 12


def test_snapshot_tensor_mode_mid_backward(snap_compare):
    async def run_before(pilot):
        await pilot.press(*"n" * 10)
        await pilot.pause()

    assert snap_compare(LabApp("backprop", {"preset": "tensor"}), terminal_size=(120, 36),
                        run_before=run_before)


def test_the_lesson_quotes_the_labs_numbers():
    from pathlib import Path

    text = (Path(__file__).parents[3] / "lessons" / "ch2_07_scalars_to_tensors.md").read_text("utf-8")
    m = TensorBackpropModel()
    assert f"ℒ = {m.loss:.4f}" in text
    live = int((m.values["z1"] > 0).sum())
    assert f"{live} of the {m.values['z1'].size} entries" in text and f"other {m.values['z1'].size - live}" in text
    assert "answer = 12" in text and live == 12
    assert "x has shape (4, 3)" in text and m.shape("x") == (4, 3)
    assert "W₁ has shape (5, 3) and W₂ has shape (2, 5)" in text
    assert m.shape("W1") == (5, 3) and m.shape("W2") == (2, 5) and m.shape("b1") == (5,)
