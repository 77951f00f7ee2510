"""The normalization lab: the model's statistics and folding, Pilot keys, tiny sizes, snapshots."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from core.vision import BatchNorm, batch_norm, instance_norm, layer_norm
from tutor.labs import validate_lab
from tutor.labs.normalization.block import block_lines
from tutor.labs.normalization.model import NormModel
from tutor.widgets.param_input import ParamInput


def model(**params) -> NormModel:
    return NormModel(validate_lab("normalization", params))


@pytest.mark.parametrize(("kind", "groups", "size"), [("batch", 3, 16), ("layer", 4, 12), ("instance", 12, 4)])
def test_groups_and_masks(kind, groups, size):
    m = model(kind=kind, n=4, c=3, h=2, w=2)
    assert len(m.groups()) == groups
    for g in range(groups):
        m.group = g
        mask = m.group_mask()
        assert mask.sum() == size
        x = m.x()
        label, mu, var = m.groups()[g]
        np.testing.assert_allclose(mu, x[mask].mean())
        np.testing.assert_allclose(var, x[mask].var())


def test_outputs_match_core():
    for kind, fn in (("batch", batch_norm), ("layer", layer_norm), ("instance", instance_norm)):
        m = model(kind=kind)
        x = m.x()
        if kind == "layer":
            expected = fn(x, np.ones(x.shape[1:]), np.zeros(x.shape[1:]))
        else:
            expected = fn(x, np.ones(3), np.zeros(3))
        np.testing.assert_allclose(m.output(), expected)


def test_training_steps_update_running_statistics_like_batchnorm():
    m = model(kind="batch", momentum=0.2)
    bn = BatchNorm(3, momentum=0.2)
    for _ in range(5):
        bn(m.x())
        m.history.step()
    np.testing.assert_allclose(m.state.running_mean, bn.running_mean)
    np.testing.assert_allclose(m.state.running_var, bn.running_var)
    m.history.back()
    assert m.state.step == 4


def test_eval_mode_uses_running_statistics_and_does_not_learn():
    m = model(kind="batch", mode="eval")
    m.history.advance(3)
    np.testing.assert_array_equal(m.state.running_mean, np.zeros(3))  # eval: no updates
    x = m.x()
    np.testing.assert_allclose(m.output(), x / np.sqrt(1 + 1e-5))


def test_folding_is_exact():
    m = model(kind="batch")
    m.history.advance(10)
    err, wf, bf = m.fold_check()
    assert err < 1e-12 and wf.shape == m.w.shape and not np.allclose(bf, m.b)


def test_bad_settings():
    with pytest.raises(ValueError, match="instance norm"):
        model(kind="instance", h=1, w=1)


def test_the_model_follows_the_kit_protocol_and_apply_keeps_the_last_good_settings():
    from tutor.labs.kit import LabModel

    m = model(kind="batch")
    assert isinstance(m, LabModel)
    assert m.advance(5) == 5 and m.back() and m.back() and m.status() == "batch 3"
    running = m.state.running_mean.copy()
    m.next_group()
    assert m.apply("mode", "eval") is None and m.index == 3 and m.group == 1  # batches kept
    np.testing.assert_array_equal(m.state.running_mean, running)
    m.step()  # batch 4 again, now in eval mode: the running statistics stay
    assert m.state.step == 4
    np.testing.assert_array_equal(m.state.running_mean, running)
    assert m.apply("fold", True) is None and m.params["fold"] and m.index == 4
    assert m.apply("kind", "instance") is None and m.index == 0 and m.group == 0
    assert m.apply("h", 1) is None  # H·W = 1 × 2 is enough
    assert "instance norm" in m.apply("w", 1) and m.shape[2:] == (1, 2)
    assert "unknown setting" in m.apply("colour", 1)


def test_block_drawing_lights_the_group():
    m = model(kind="layer", n=2, c=2, h=1, w=2)
    lines = block_lines(m.x(), m.group_mask(), "x")
    assert len(lines) == 2 + 2 * 1 + 1  # title, header, one row per sample, a blank between
    assert lines[2].plain.startswith("n0") and lines[2].plain.count("██") == 4
    lit = {span.style for span in lines[2].spans}
    dim = {span.style for span in lines[4].spans}
    assert lit.isdisjoint(dim)


def test_pytorch_code_parses():
    for kind in ("batch", "layer", "instance"):
        ast.parse(model(kind=kind).pytorch_code())


def _lab(app):
    return app.query_one("#lab")


async def test_keys_step_switch_kind_mode_group_and_fold(lab_app):
    async with lab_app("normalization").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        assert lab.model.state.step == 2
        rm = lab.model.state.running_mean.copy()
        assert not np.allclose(rm, 0)
        await pilot.press("m")
        assert lab.params["mode"] == "eval" and lab.model.state.step == 2  # history kept
        np.testing.assert_array_equal(lab.model.state.running_mean, rm)
        await pilot.press("o")
        await pilot.pause()
        assert "equal ✓" in str(lab.query_one("#norm-stats").render())
        assert "< 1e-12" in str(lab.query_one("#norm-stats").render())
        await pilot.press("g")
        assert "lit: c1" in str(lab.query_one("#norm-stats").render())
        await pilot.press("k")
        assert lab.params["kind"] == "layer"
        assert "reduces over C, H, W" in str(lab.query_one("#norm-stats").render())
        await pilot.press("r")
        assert lab.model.state.step == 0


async def test_settings_edit_and_bad_value_keeps_the_last_good(lab_app):
    async with lab_app("normalization", kind="instance").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = next(p for p in lab.query(ParamInput) if p.param_name == "c")
        field.post_message(ParamInput.Changed(field, "c", 5))
        await pilot.pause()
        assert lab.model.shape[1] == 5
        h = next(p for p in lab.query(ParamInput) if p.param_name == "h")
        w = next(p for p in lab.query(ParamInput) if p.param_name == "w")
        h.post_message(ParamInput.Changed(h, "h", 1))
        await pilot.pause()
        w.post_message(ParamInput.Changed(w, "w", 1))
        await pilot.pause()
        assert lab.model.shape[2:] == (1, 2) and "kept the previous settings" in lab.note


async def _settle(pilot):
    await pilot.pause()
    await pilot.pause()


def test_snapshot_batch_norm_with_folding(snap_compare, lab_app):
    app = lab_app("normalization", fold=True)
    assert snap_compare(app, terminal_size=(120, 36), press=["n", "n", "n"], run_before=_settle)


def test_snapshot_instance_norm(snap_compare, lab_app):
    app = lab_app("normalization", kind="instance", n=3, c=4)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


async def test_pytorch_dialog_opens(lab_app):
    async with lab_app("normalization", kind="batch").run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "CodeDialog"


async def test_a_new_batch_asks_for_no_layout_pass(lab_app, monkeypatch):
    """n draws a new batch: texts of the same height, so a repaint and no layout of the screen."""
    from textual.widget import Widget

    async with lab_app("normalization", kind="batch", fold=True).run_test(size=(120, 36)) as pilot:
        lab = pilot.app.query_one("#lab")
        await pilot.pause()
        asked = []
        original = Widget.refresh

        def spy(self, *regions, layout=False, **kwargs):
            if layout and lab in self.ancestors_with_self:
                asked.append((type(self).__name__, self.id))
            return original(self, *regions, layout=layout, **kwargs)

        monkeypatch.setattr(Widget, "refresh", spy)
        stats = str(lab.query_one("#norm-stats").render())
        for _ in range(3):
            assert lab.step_forward()
            await pilot.pause()  # the step's merged redraw
        monkeypatch.setattr(Widget, "refresh", original)
        assert str(lab.query_one("#norm-stats").render()) != stats, "the statistics changed"
        assert asked == []


def test_true_statistics_are_what_many_batches_average_to():
    """The 'true μ / σ²' lines: the running statistics' target, checked against 1500 batches."""
    from tutor.labs.normalization.model import NormModel
    from tutor.labs.normalization.params import PARAMS
    from tutor.labs.params import validate

    m = NormModel(validate("normalization", PARAMS, dict(kind="batch", n=4, c=3, h=2, w=2)))
    mu, var = m.population()
    xs = []
    for _ in range(1500):
        m.history.step()
        xs.append(m.x())
    xs = np.concatenate(xs)
    np.testing.assert_allclose(xs.mean(axis=(0, 2, 3)), mu, atol=0.1)
    np.testing.assert_allclose(xs.var(axis=(0, 2, 3)), var, rtol=0.05)


async def test_the_batch_view_comes_back_as_the_student_left_it(lab_app):
    """Also: after m (eval), n draws a batch without updating the running statistics (it
    used to go on learning them: the kept history stepped with the train-mode model)."""
    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    async with lab_app("normalization").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        seed = next(p for p in lab.query(ParamInput) if p.param_name == "seed")
        seed.post_message(ParamInput.Changed(seed, "seed", 7))
        await pilot.pause()
        await pilot.press("n", "n", "m", "n", "g", "o")
        assert lab.model.state.step == 3 and lab.params["mode"] == "eval"
        np.testing.assert_array_equal(lab.model.state.running_mean,
                                      lab.model.history.states[2].running_mean)
        saved = round_trip(lab.save_state())
        stats = str(lab.query_one("#norm-stats").render())
        lab = await remount(pilot)
        lab.restore_state(saved)
        await pilot.pause()
        assert lab.save_state() == saved
        assert str(lab.query_one("#norm-stats").render()) == stats
        assert next(p for p in lab.query(ParamInput) if p.param_name == "seed").value == 7
        text = screen_text(pilot.app)
        assert "batch 3" in text and "lit: c1" in text and "mode eval" in text


def test_a_damaged_normalization_state_is_refused_and_changes_nothing():
    from tutor.labs.normalization.widget import NormalizationLab

    lab = NormalizationLab(validate_lab("normalization", {}))
    lab.model.history.advance(2)
    saved = lab.save_state()
    params = saved["params"]
    for bad, error in (({**saved, "step": 2.5}, TypeError), ({**saved, "running_var": [1, -1, 1]}, ValueError),
                       ({**saved, "running_mean": [0.0, 0.0]}, TypeError),
                       ({**saved, "params": {**params, "n": 99}}, ValueError),
                       ({**saved, "params": {**params, "view": "training"}}, ValueError),
                       ({k: v for k, v in saved.items() if k != "group"}, KeyError)):
        with pytest.raises(error):
            lab.restore_state(bad)
        assert lab.save_state() == saved
