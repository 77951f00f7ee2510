"""The losses lab: naive vs log-sum-exp cross-entropy, MSE vs cross-entropy, the widget."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from core.nn import cross_entropy, mse_loss
from tutor.labdemo import LabApp
from tutor.labs import validate_lab
from tutor.labs.losses.model import (
    LossesModel,
    curves,
    mse_on_probabilities,
    naive_cross_entropy,
    softmax,
    stable_cross_entropy,
    view,
)
from tutor.labs.losses.widget import LossesLab
from tutor.widgets.line_chart import LineChart
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput


def test_notes_examples():
    assert stable_cross_entropy(np.array([0.0, 0.0]), 1)[0] == pytest.approx(np.log(2))
    assert stable_cross_entropy(np.array([1000.0, 0.0]), 0)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_stable_cross_entropy_matches_the_naive_one_and_core_nn_when_small(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=5) * 3
    y = int(rng.integers(5))
    naive = naive_cross_entropy(x, y)[0]
    stable = stable_cross_entropy(x, y)[0]
    assert stable == pytest.approx(naive, rel=1e-12)
    assert stable == pytest.approx(cross_entropy(x[None], np.array([y])), rel=1e-12)


def test_naive_cross_entropy_overflows_for_large_scores_the_stable_one_does_not():
    x = np.array([2.0, 1.0, -1.0]) * 400  # exp(800) overflows
    naive, e, _ = naive_cross_entropy(x, 1)
    assert not np.isfinite(naive) and np.isinf(e[0])
    stable, m, shifted = stable_cross_entropy(x, 1)
    assert stable == pytest.approx(400.0) and m == 800.0 and shifted.max() == 1.0
    assert view(np.array([2.0, 1.0, -1.0]), 1, 400.0).overflowed
    assert not view(np.array([2.0, 1.0, -1.0]), 1, 300.0).overflowed


def test_mse_is_the_squared_distance_of_the_probabilities_and_saturates():
    x = np.array([2.0, 1.0, -1.0])
    target = np.array([1.0, 0.0, 0.0])
    assert mse_on_probabilities(x, 0) == pytest.approx(3 * mse_loss(softmax(x), target))
    data = curves(x, 0, np.array([-1000.0, -10.0, 0.0, 10.0]))
    assert np.all(data["mse"] <= 2.0) and data["mse"][0] == pytest.approx(2.0)
    assert data["ce"][0] == pytest.approx(3000.0)  # grows like the scale when wrong
    assert np.isnan(data["naive"][0]) and np.isfinite(data["naive"][1:]).all()


def test_model_steps_scale_and_validates_input():
    m = LossesModel(validate_lab("losses", {"scale": 2.0}))
    m.history.advance(2)
    assert m.scale == pytest.approx(2.0 * 1.25**2)
    m.history.reset()
    assert m.scale == 2.0
    with pytest.raises(ValueError, match="between 2 and 10"):
        m.set_logits("5")
    with pytest.raises(ValueError, match="numbers"):
        m.set_logits("1, x")
    m.set_logits("1, 2, 3, 4")
    assert m.base.tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="between 0 and 3"):
        m.set_label(4)
    code = m.pytorch_code()
    ast.parse(code)
    assert "nn.CrossEntropyLoss()(x, y)" in code and "[1, 4]" in code


async def test_lab_toggles_mode_steps_and_keeps_good_logits(lab_app):
    async with lab_app("losses", label=1, scale=300.0, mode="stability").run_test(
        size=(120, 36)
    ) as pilot:
        lab = pilot.app.query_one(LossesLab)
        await pilot.pause()
        assert "overflow" not in str(lab.query_one("#loss-table").render())
        await pilot.press("n")
        await pilot.pause()
        assert lab.model.scale == 450.0
        assert "overflow" in str(lab.query_one("#loss-table").render())
        chart = lab.query_one("#loss-chart", LineChart)
        assert [s.name for s in chart.series] == ["log-sum-exp", "naive"]
        predict = lab.query_one(PredictInput)
        assert predict.state == "revealed" and predict.key == "naive-after-step"
        await pilot.press("m")
        assert [s.name for s in chart.series] == ["MSE", "cross-entropy"] and chart.log_y
        await pilot.pause()
        # the stability view's answer ('the naive loss is … +inf') is not left under the
        # comparison view (it was, until b went back to the start)
        assert predict.state == "idle" and not predict.display
        field = lab.query_one("#loss-logits")
        field.focus()
        field.value = "7"
        await pilot.press("enter")
        await pilot.pause()
        assert "✗" in str(lab.query_one("#loss-message").render())
        assert lab.model.base.tolist() == [2.0, 1.0, -1.0]
        field.value = "1, 0"
        await pilot.press("enter")
        assert lab.model.base.tolist() == [1.0, 0.0] and lab.model.label == 1
        scale = next(p for p in lab.query(ParamInput) if p.param_name == "scale")
        assert scale.value == 450.0


def test_snapshot_stability_view(snap_compare):
    app = LabApp("losses", {"mode": "stability", "label": 1, "scale": 400.0})
    assert snap_compare(app, terminal_size=(120, 36))


def test_core_packages_is_empty_since_the_lab_calls_no_kernel():
    """The lesson mounts the lab without waiting for a warm-up: it imports no core module."""
    import subprocess
    import sys

    from tutor.labs import lab_core_packages

    assert lab_core_packages("losses") == ()
    code = ("import sys, tutor.labs.losses.widget; "
            "print(sorted(m for m in sys.modules if m == 'core' or m.startswith('core.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_enter_returns_the_keys_to_the_lab_and_escape_leaves_an_input(lab_app):
    """Regression: after typing scores and enter, n typed into the field instead of stepping."""
    async with lab_app("losses", scale=2.0).run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one(LossesLab)
        field = lab.query_one("#loss-logits")
        field.focus()
        field.value = "3, 1, 0"
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.focused is lab
        await pilot.press("n")
        assert lab.model.scale > 2.0 and field.value == "3, 1, 0"
        field.focus()
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.focused is lab


@pytest.mark.parametrize("mode", ["compare", "stability"])
def test_table_lines_fit_beside_the_lesson_text(mode):
    """Regression: lines of 60+ columns wrapped mid-formula in the ~45 columns beside the text."""
    lab = LossesLab(validate_lab("losses", {"mode": mode, "label": 1, "scale": 450.0}))
    lines = lab._table().splitlines()
    assert max(len(line) for line in lines) <= 45, lines


@pytest.mark.parametrize("label", [0, 1, 2])
def test_curves_for_all_scales_at_once_equal_the_view_at_each_scale(label):
    """Regression for the frame cost: the chart's 161 scales were computed one `view` at a
    time (~10 ms a step); the vectorised curves must give the same numbers."""
    base = np.array([2.0, 1.0, -1.0, 0.5])
    scales = np.linspace(-900.0, 900.0, 161)
    data = curves(base, label, scales)
    for i, s in enumerate(scales):
        v = view(base, label, float(s))
        assert data["mse"][i] == pytest.approx(v.mse, rel=1e-12, abs=1e-15)
        assert data["ce"][i] == pytest.approx(v.ce, rel=1e-12, abs=1e-12)
        if np.isfinite(v.ce_naive):
            assert data["naive"][i] == pytest.approx(v.ce_naive, rel=1e-9, abs=1e-12)
        else:
            assert np.isnan(data["naive"][i])
