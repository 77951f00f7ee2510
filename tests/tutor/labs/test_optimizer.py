"""The optimizer lab in the harness app: keys, validated inputs, clicks, modes, sizes, snapshot."""

from __future__ import annotations

import ast

import numpy as np

from tutor.labdemo import LabApp
from tutor.labs.optimizer.widget import OptimizerLab
from tutor.widgets.line_chart import LineChart
from tutor.widgets.param_input import ParamInput
from tutor.widgets.pixel_view import PixelView


def _lab(app) -> OptimizerLab:
    return app.query_one(OptimizerLab)


def _field(lab, name) -> ParamInput:
    return next(p for p in lab.query(ParamInput) if p.param_name == name)


def _text(lab, selector) -> str:
    return str(lab.query_one(selector).render())


async def test_step_back_and_reset(lab_app):
    async with lab_app("optimizer").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "n", "n", "n")
        assert lab.model.t == 5
        await pilot.press("b")
        assert lab.model.t == 4
        await pilot.pause()
        assert _text(lab, "#opt-title").startswith("step 4/400")
        assert "adam · step 4" in _text(lab, "#opt-state")
        await pilot.press("r")
        assert lab.model.t == 0
        await pilot.press("j", "j")
        assert lab.model.t == 100


async def test_the_chart_shows_one_line_per_optimizer_on_a_log_scale(lab_app):
    async with lab_app("optimizer", optimizers=["sgd", "momentum", "adam"], at=20).run_test(
        size=(120, 36)
    ) as pilot:
        await pilot.pause()
        chart = _lab(pilot.app).query_one("#opt-chart", LineChart)
        assert chart.log_y and [s.name for s in chart.series] == ["sgd", "momentum", "adam"]
        assert all(len(s.y) == 21 for s in chart.series)


async def test_a_bad_hyperparameter_is_refused_and_the_last_good_one_kept(lab_app):
    async with lab_app("optimizer", optimizers=["momentum"]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = _field(lab, "gamma").query_one("Input")
        field.focus()
        field.value = "1.5"
        await pilot.press("enter")
        assert _field(lab, "gamma").error and lab.model.hyper["momentum"]["gamma"] == 0.9
        field.value = "0.5"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.hyper["momentum"]["gamma"] == 0.5
        assert lab.model.runs["momentum"].hyper["gamma"] == 0.5


async def test_a_large_step_size_reports_divergence(lab_app):
    async with lab_app("optimizer", surface="quadratic", optimizers=["sgd"],
                       lr=[0.03]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = _field(lab, "lr").query_one("Input")
        field.focus()
        field.value = "0.2"
        await pilot.press("enter")
        at = lab.model.runs["sgd"].diverged_at
        assert at is not None
        lab.model.history.advance(at)
        lab.redraw()
        await pilot.pause()
        assert f"diverged at {at}" in _text(lab, "#opt-legend")
        markers = lab.query_one("#opt-chart", LineChart).markers
        assert markers and f"diverged at step {at}" in markers[0][2]


def _legend_row(lab, name) -> str:
    return next(line for line in _text(lab, "#opt-legend").splitlines() if f" {name}" in line)


async def test_focus_and_race_membership_keys(lab_app):
    async with lab_app("optimizer", optimizers=["sgd", "adam"]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("o")
        await pilot.pause()
        assert lab.model.focus == "amsgrad" and _legend_row(lab, "amsgrad").startswith("▶[ ]")
        assert _field(lab, "beta2").disabled is False and _field(lab, "gamma").disabled
        await pilot.press("t")
        await pilot.pause()
        assert "amsgrad" in lab.model.runs and _legend_row(lab, "amsgrad").startswith("▶[x]")
        await pilot.press("o")
        assert lab.model.focus == "newton" and _field(lab, "beta1").disabled


async def test_the_legend_is_a_multi_select_of_all_eight_optimizers(lab_app):
    """Regression: optimizers were added one at a time through two dropdowns; the legend now
    lists all eight with a box (click: in/out of the race) and a name (click: focus)."""
    from tutor.labs.optimizer.params import OPTIMIZERS

    async with lab_app("optimizer", optimizers=["sgd"]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        rows = _text(lab, "#opt-legend").splitlines()[1:]
        assert [r.split()[-1] if "[ ]" in r else r.split()[2] for r in rows] == list(OPTIMIZERS)
        legend = "#opt-legend"
        for name in ("adagrad", "adam", "newton"):  # click the boxes: three more in the race
            await pilot.click(legend, offset=(1, 1 + OPTIMIZERS.index(name)))
        await pilot.pause()
        assert lab.model.selected == ["sgd", "adagrad", "adam", "newton"]
        assert set(lab.model.runs) == set(lab.model.selected)
        assert len(lab.query_one("#opt-chart", LineChart).series) == 4
        await pilot.click(legend, offset=(8, 1 + OPTIMIZERS.index("rmsprop")))  # the name
        await pilot.pause()
        assert lab.model.focus == "rmsprop" and "rmsprop" not in lab.model.selected
        assert not _field(lab, "gamma").disabled and _field(lab, "beta1").disabled
        await pilot.click(legend, offset=(1, 1 + OPTIMIZERS.index("adam")))  # out again
        await pilot.pause()
        assert "adam" not in lab.model.selected and "adam" not in lab.model.runs
        for name in ("sgd", "adagrad", "newton"):
            await pilot.click(legend, offset=(1, 1 + OPTIMIZERS.index(name)))
        await pilot.pause()
        assert lab.model.selected == ["newton"]  # the last one stays, and says why
        assert "only optimizer" in _text(lab, "#opt-message")
        await pilot.press("c")
        await pilot.pause()
        await pilot.click(legend, offset=(1, 2))  # the convergence view: not a picker
        assert lab.model.selected == ["newton"]


async def test_choosing_a_surface_and_moving_the_start(lab_app):
    async with lab_app("optimizer").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("s")
        assert lab.model.surface_name == "beale" and _field(lab, "surface").value == "beale"
        start = lab.model.start
        await pilot.press("left", "up")
        assert lab.model.start == (start[0] - 9 / 40, start[1] + 9 / 40)
        np.testing.assert_allclose(lab.model.runs["sgd"].thetas[0], lab.model.start)
        await pilot.pause()
        pixel_view = lab.query_one("#opt-map", PixelView)
        await pilot.click(pixel_view, offset=(3, 2))
        x, y = lab.model.start
        assert x < -3.5 and y > 3.0  # near the top-left corner of [-4.5, 4.5]²


async def test_convergence_mode(lab_app):
    async with lab_app("optimizer", steps=300).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("c")
        await pilot.pause()
        assert lab.has_class("-convergence") and lab.model.convergence is not None
        assert lab.model.surface.name == "least_squares"
        lab.model.history.advance(100)
        lab.redraw()
        await pilot.pause()
        conv = lab.query_one("#opt-conv", LineChart)
        assert conv.log_x and conv.log_y
        assert [s.name for s in conv.series] == ["fixed", "η/√t", "bound"]
        assert "bound at T=100" in _text(lab, "#opt-state")
        code = lab.pytorch_code()
        ast.parse(code)
        assert "LambdaLR" in code
        await pilot.press("c")
        await pilot.pause()
        assert not lab.has_class("-convergence")


async def test_show_pytorch_opens_the_code(lab_app):
    async with lab_app("optimizer", optimizers=["sgd", "nesterov"]).run_test(size=(120, 36)) as pilot:
        await pilot.press("y")
        await pilot.pause()
        from tutor.screens.code_dialog import CodeDialog

        assert isinstance(pilot.app.screen, CodeDialog)


async def test_playback_runs_and_stops_at_the_last_step(lab_app):
    async with lab_app("optimizer", steps=3).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        lab.fps = 60
        await pilot.press("space")
        for _ in range(10):  # the timer's ticks, without waiting for the clock
            if not lab.playing:
                break
            lab._tick()
        await pilot.pause()
        assert lab.model.t == 3 and not lab.playing


async def test_tiny_terminal_does_not_crash(lab_app):
    async with lab_app("optimizer").run_test(size=(30, 10)) as pilot:
        await pilot.press("n", "o", "s", "c", "n", "c")
        await pilot.pause()
        assert _lab(pilot.app).model.t >= 1


def test_snapshot_race_mid_way(snap_compare):
    app = LabApp("optimizer", {"surface": "beale", "optimizers": ["sgd", "momentum", "rmsprop", "adam"],
                               "at": 40, "focus": "adam"})
    assert snap_compare(app, terminal_size=(120, 36))


async def test_batch_size_input_on_least_squares(lab_app):
    async with lab_app("optimizer", surface="least_squares", optimizers=["sgd"]).run_test(
        size=(120, 36)
    ) as pilot:
        lab = _lab(pilot.app)
        box = _field(lab, "batch_size")
        assert not box.disabled
        field = box.query_one("Input")
        field.focus()
        field.value = "0"
        await pilot.press("enter")
        assert box.error and lab.model.batch_size == 1
        noisy = lab.model.runs["sgd"].losses
        field.value = "100"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.batch_size == 100 and lab.model.surface.batch_size == 100
        exact = lab.model.runs["sgd"].losses
        assert np.all(np.diff(exact) <= 1e-12) and not np.all(np.diff(noisy) <= 1e-12)


async def test_enter_returns_the_keys_to_the_lab_and_escape_leaves_an_input(lab_app):
    """Regression: the lesson says "edit η and watch it diverge", but after enter the keys
    (space, n, f) went into the η field; escape in a field went back to the catalog."""
    async with lab_app("optimizer", surface="quadratic", optimizers=["sgd"],
                       lr=[0.09], steps=100).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = _field(lab, "lr").query_one("Input")
        field.focus()
        field.value = "0.11"
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.focused is lab
        await pilot.press("j", "j")
        assert lab.model.t == 100 and lab.model.has_diverged("sgd")
        assert field.value == "0.11"
        field.focus()
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.focused is lab


async def test_a_lab_mounted_late_shows_the_whole_legend():
    """Regression: mounted by the lesson screen once its kernels were warm, the legend once
    laid out one row high, hiding all eight optimizers (seen in a lesson, timing-dependent:
    the legend now has a fixed height of 9 rows, checked here for a lab mounted late)."""
    from textual.app import App

    from tutor.labs import validate_lab

    class Late(App):
        async def add_lab(self) -> None:
            await self.mount(OptimizerLab(validate_lab("optimizer", {"optimizers": ["sgd", "adam"]})))

    app = Late()
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        await app.add_lab()  # mounted after the first paint, as the lesson screen does
        await pilot.pause()
        await pilot.pause()
        legend = app.query_one("#opt-legend")
        assert legend.region.height == 9
        lines = app.screen._compositor.render_strips()
        text = "\n".join(strip.text for strip in lines)
        assert "[x] ● sgd" in text and "[ ] ○ newton" in text and "▶[x] ● adam" in text


async def test_lesson_keys_f_and_d_reach_the_lesson_and_j_jumps():
    """Regression: the lab bound f (50 steps) and d (chart), hiding the lesson screen's f (lab
    at full width) and d (done) whenever the lab had the keys; now j jumps and l switches."""
    from tutor.app import DlTutorApp
    from tutor.content import load_catalog
    from tutor.screens.lesson import LessonScreen

    catalog = load_catalog()
    app = DlTutorApp(catalog, warm=False, resume=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("convergence-analysis")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        lab = screen.query_one(OptimizerLab)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("j")
        assert lab.model.t == 50
        await pilot.press("f")
        await pilot.pause()
        assert not screen.query_one("#lesson-text").display and lab.model.t == 50
        await pilot.press("t", "o")  # race keys do nothing in the convergence view
        assert lab.model.selected == ["sgd"] and lab.check_action("toggle_optimizer", ()) is None
        await pilot.press("c", "l")
        await pilot.pause()
        assert lab.model.chart == "distance" and lab.check_action("toggle_optimizer", ())


async def test_the_race_comes_back_as_the_student_left_it(lab_app):
    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    async with lab_app("optimizer").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("s", "t", "o", "left", "l")  # beale, adam out, focus amsgrad
        field = _field(lab, "lr").query_one("Input")
        field.focus()
        field.value = "0.05"
        await pilot.press("enter", "n", "n", "n")
        saved = round_trip(lab.save_state())
        title = _text(lab, "#opt-title")
        assert saved["t"] == 3 and saved["hyper"]["amsgrad"]["lr"] == 0.05
        lab = await remount(pilot)
        lab.restore_state(saved)
        await pilot.pause()
        await pilot.pause()
        assert lab.save_state() == saved
        assert lab.model.selected == ["sgd", "momentum"] and lab.model.chart == "distance"
        assert _field(lab, "lr").value == 0.05 and _field(lab, "surface").value == "beale"
        assert _text(lab, "#opt-title") == title and title.startswith("step 3/400")
        assert "‖θ − θ*‖" in screen_text(pilot.app)


def test_a_damaged_race_state_is_refused_and_changes_nothing():
    import pytest

    from tutor.labs import validate_lab

    lab = OptimizerLab(validate_lab("optimizer", {}))
    saved = lab.save_state()
    hyper = {**saved["hyper"], "adam": {**saved["hyper"]["adam"], "beta2": 2.0}}
    for bad, error in (({**saved, "t": "3"}, TypeError), ({**saved, "surface": "moon"}, ValueError),
                       ({**saved, "hyper": hyper}, ValueError), ({**saved, "selected": []}, TypeError),
                       ({**saved, "start": [float("nan"), 0]}, ValueError),
                       ({k: v for k, v in saved.items() if k != "focus"}, KeyError)):
        with pytest.raises(error):
            lab.restore_state(bad)
        assert lab.save_state() == saved
