"""The MLP lab: playback keys, checkpoints, editing, PyTorch code, tiny sizes, a snapshot."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from textual.widgets import Input

from tests.playahead import play_a_frame_and_compute_ahead
from tutor.labdemo import LabApp
from tutor.labs import validate_lab
from tutor.labs.mlp.model import MlpModel, heat_pixels, parse_hidden, pytorch_code
from tutor.widgets.param_input import ParamInput


def _lab(app):
    return app.query_one("#lab")


# --- Pilot ---------------------------------------------------------------------------------
async def test_step_back_and_reset_return_to_the_same_weights(lab_app):
    async with lab_app("mlp").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        initial = lab.model.net.theta.copy()
        await pilot.press("n", "n", "n")
        assert lab.model.state.step == 3
        after_three = lab.model.net.theta.copy()
        assert not np.array_equal(after_three, initial)
        await pilot.press("b", "b")
        assert lab.model.state.step == 1
        await pilot.press("n", "n")
        np.testing.assert_array_equal(lab.model.net.theta, after_three)
        await pilot.press("r")
        assert lab.model.state.step == 0
        np.testing.assert_array_equal(lab.model.net.theta, initial)
        # a fresh lab with the same settings starts from the very same weights
        np.testing.assert_array_equal(MlpModel(lab.params).net.theta, initial)


async def test_training_in_the_lab_separates_the_circles(lab_app):
    async with lab_app("mlp", dataset="circles", noise=0.05).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("g", "g")
        await pilot.pause()
        state = lab.model.state
        assert state.step == 200
        assert state.train_acc >= 0.95 and state.test_acc >= 0.9
        assert state.train_loss < lab.model.history.states[0].train_loss
        assert "step 200" in str(lab.query_one("#mlp-stats").render())


async def test_playback_timer_steps_the_lab(lab_app):
    async with lab_app("mlp").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        lab._tick()  # what the playback timer calls
        lab._tick()
        assert lab.model.state.step == 2
        lab.fps = 60  # fast playback: 6 batches per drawn frame
        lab._tick()
        assert lab.model.state.step == 8


async def test_max_steps_stops_playback_with_a_message(lab_app):
    async with lab_app("mlp", max_steps=2).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        assert lab.step_forward() is False
        await pilot.pause()
        assert "max_steps" in str(lab.query_one("#mlp-message").render())


async def test_editing_a_setting_rebuilds_and_bad_values_are_kept_out(lab_app):
    async with lab_app("mlp", view="settings").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        lr_field = next(p for p in lab.query(ParamInput) if p.param_name == "lr")
        field = lr_field.query_one("Input")
        field.focus()
        field.value = "abc"
        await pilot.press("enter")
        assert lr_field.error and lab.params["lr"] == 0.02
        assert lab.model.state.step == 2
        field.value = "0.1"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.params["lr"] == 0.1 and lab.model.state.step == 0
        assert lab.model.trainer.hyper[0] == 0.1


async def test_hidden_layers_field_changes_the_architecture(lab_app):
    async with lab_app("mlp", view="settings").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        field = lab.query_one("#mlp-hidden")
        field.focus()
        field.value = "4, 5, 6"
        await pilot.press("enter")
        assert lab.model.sizes == [2, 4, 5, 6, 2]
        field.value = "4, 0"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.sizes == [2, 4, 5, 6, 2]
        assert "✗" in str(lab.query_one("#mlp-message").render())
        field.value = ""
        await pilot.press("enter")
        assert lab.model.sizes == [2, 2]  # a linear model


async def test_weight_view_switches_layer_and_panel(lab_app):
    async with lab_app("mlp", hidden=[8, 8]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("full_stop", "full_stop")
        assert lab.weight_layer == 3
        await pilot.press("full_stop")
        assert lab.weight_layer == 3
        assert "layer 3/3: W 2×8" in str(lab.query_one("#mlp-weights-label").render())
        await pilot.press("comma")
        assert lab.weight_layer == 2
        panel = lab.query_one("#mlp-panel")
        assert panel.current == "mlp-weights"
        await pilot.press("v")
        assert panel.current == "mlp-settings"
        await pilot.press("t")
        assert lab.show_test


async def test_show_pytorch_opens_the_code(lab_app):
    async with lab_app("mlp", hidden=[16, 16], optimizer="sgd").run_test(size=(120, 36)) as pilot:
        await pilot.press("y")
        await pilot.pause()
        screen = pilot.app.screen
        assert type(screen).__name__ == "CodeDialog"
        assert "nn.Linear(16, 16)" in _lab(pilot.app).pytorch_code()


@pytest.mark.parametrize("size", [(20, 8), (40, 12), (10, 4)])
async def test_tiny_terminals_do_not_crash(lab_app, size):
    async with lab_app("mlp").run_test(size=size) as pilot:
        await pilot.press("n", "v", "n", "b")
        await pilot.pause()
        assert _lab(pilot.app).model.state.step == 1


async def test_csv_data_is_read_in_a_worker_and_devices_or_huge_files_refused(lab_app, tmp_path):
    """The lesson's CSV file is read off the event loop, then the head start trains on it; a
    device or a file over the lab's MAX_CSV_FILE_BYTES (sparse: nothing to read) is refused at
    once, and the lab says why and keeps what it shows."""
    from core.nn.data import MAX_CSV_BYTES

    path = tmp_path / "points.csv"
    path.write_text("x,y,label\n" + "\n".join(f"{i / 10},{(i % 3) / 3},{i % 2}" for i in range(20)))
    async with lab_app("mlp", dataset="csv", csv_path=str(path), steps=5).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert len(lab.model.y_train) + len(lab.model.y_test) == 20
        assert lab.params["dataset"] == "csv" and lab.model.state.step == 5
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:
        f.truncate(MAX_CSV_BYTES + 1)
    async with lab_app("mlp", dataset="csv", csv_path="/dev/zero", view="settings", steps=3).run_test(
            size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.params["dataset"] == "circles" and lab.model.state.step == 3
        assert "/dev/zero: not a regular file" in str(lab.query_one("#mlp-message").render())
        field = lab.query_one("#mlp-csv", Input)
        field.focus()
        field.value = str(huge)
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        message = str(lab.query_one("#mlp-message").render())
        assert "MAX_CSV_FILE_BYTES" in message and "kept circles" in message
        assert lab.params["dataset"] == "circles" and field.value == "/dev/zero"


# --- the model, without Textual --------------------------------------------------------------
def test_read_points_refuses_files_and_point_counts_over_the_labs_limits(tmp_path, monkeypatch):
    from tutor.labs.mlp import model as M

    path = tmp_path / "points.csv"
    path.write_text("\n".join(f"{i / 10},{(i % 3) / 3},{i % 2}" for i in range(30)))
    assert len(M.read_points(str(path))[0]) == 30
    monkeypatch.setattr(M, "MAX_CSV_POINTS", 20)
    with pytest.raises(ValueError, match="MAX_CSV_POINTS = 20"):
        M.read_points(str(path))
    monkeypatch.setattr(M, "MAX_CSV_FILE_BYTES", 100)
    with pytest.raises(ValueError, match="MAX_CSV_FILE_BYTES = 100"):
        M.read_points(str(path))


def test_parse_hidden():
    assert parse_hidden("8, 8") == [8, 8] and parse_hidden("") == [] and parse_hidden([4.0]) == [4]
    for bad in ("8, x", "0", "65", "1 2 3 4 5", [2.5]):
        with pytest.raises(ValueError):
            parse_hidden(bad)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "newton"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_pytorch_code_is_valid_python_for_every_setting(optimizer, loss):
    params = validate_lab("mlp", {"optimizer": optimizer, "loss": loss, "hidden": [16, 16],
                                  "activation": "tanh", "dataset": "spirals", "classes": 3})
    code = pytorch_code(params)
    ast.parse(code)
    assert "nn.Linear(2, 16),\n    nn.Tanh(),\n    nn.Linear(16, 16),\n    nn.Tanh(),\n    nn.Linear(16, 3)," in code
    assert ("nn.CrossEntropyLoss()" if loss == "cross_entropy" else "nn.MSELoss()") in code
    assert "batch_size=32" in code and 'make_dataset("spirals"' in code


def test_model_pixels_overlay_and_divergence():
    model = MlpModel(validate_lab("mlp", {"dataset": "blobs", "classes": 3}))
    pixels = model.region_pixels(30, 20)
    assert pixels.shape == (20, 30, 3) and pixels.dtype == np.uint8
    overlay = model.point_overlay(30, 20)
    assert overlay and all(0 <= r < 10 and 0 <= c < 30 for r, c in overlay)
    assert {g for g, _ in overlay.values()} <= set("ox+")
    big = MlpModel(validate_lab("mlp", {"dataset": "xor", "optimizer": "sgd", "lr": 10.0,
                                        "loss": "mse", "hidden": [64, 64]}))
    moved = big.advance(200)
    assert moved < 200 and "diverged" in big.message
    assert np.all(np.isfinite(big.net.theta))


def test_the_model_follows_the_lab_protocol_and_computes_steps_ahead_with_the_same_numbers():
    from tutor.labs.kit import LabModel

    m = MlpModel(validate_lab("mlp", {"dataset": "xor", "hidden": [8, 8]}))
    assert isinstance(m, LabModel) and m.status().startswith("step 0 · train loss ")
    assert "nn.Linear(8, 8)" in m.pytorch_code()
    assert isinstance(m.apply("lr", -1.0), str) and m.params["lr"] == 0.02  # refused, kept
    assert m.apply("hidden", [4.0]) is None and m.sizes == [2, 4, 2]
    m.step()
    keys = (("region", 30, 20, False), ("weights", 1, 17, 10))
    states, drawn = m.compute_ahead(m.ahead_tail(), 6, first=1, every=2, keys=keys)
    assert m.state.step == 1 and len(states) == 6 and [s.step for s, _ in drawn.values()] == [3, 5, 7]
    m.add_ahead(m.state, states, drawn)
    assert m.steps_ahead() == 6 and m.ahead_tail() is states[-1]
    ref = MlpModel(m.params)
    ref.step()
    for _ in range(6):
        m.step()
        ref.step()
        assert m.state is states[m.state.step - 2]  # taken, not computed again
        np.testing.assert_array_equal(m.net.theta, ref.net.theta)
        assert m.state.train_loss == ref.state.train_loss
        for key in keys:
            kept, live = m.picture(key), ref.picture(key)
            np.testing.assert_array_equal(kept[1 if key[0] == "weights" else 0],
                                          live[1 if key[0] == "weights" else 0])
            assert kept[1:] == live[1:] if key[0] == "region" else kept[0] == live[0]
    m.back()
    assert m.steps_ahead() == 1 and m.ahead_tail() is None  # replaying what was stepped back over
    m.reset()
    assert m.steps_ahead() == 0 and m.ahead_tail() is m.state


def test_heat_pixels_scale_and_clip():
    px = heat_pixels(np.array([[1.0, -1.0]]), 8, 4)
    assert px.shape == (4, 8, 3)  # 1 x 2 entries as 4 x 4 blocks
    assert tuple(px[0, 0]) != tuple(px[0, 7])
    assert heat_pixels(np.ones((64, 64)), 17, 10).shape == (20, 17, 3)


# --- snapshot ------------------------------------------------------------------------------
def test_snapshot_mid_training(snap_compare):
    async def run_before(pilot):  # the 40-step head start trains in a thread worker
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

    app = LabApp("mlp", {"dataset": "xor", "noise": 0.05, "hidden": [8, 8], "lr": 0.05,
                         "steps": 40})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


# --- QA pass --------------------------------------------------------------------------------
async def test_head_start_trains_in_a_worker_and_keys_wait_for_it(lab_app):
    # Regression: the lesson's head start (`steps`, ~0.3 s for 300 steps of 2-32-32-3) ran in
    # the lab's constructor, on the UI thread, so the lesson opened late.
    app = lab_app("mlp", dataset="xor", hidden=[8, 8], steps=60)
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert not lab.busy and lab.model.state.step == 60
        assert "step 60" in str(lab.query_one("#mlp-stats").render())
        expected = MlpModel(lab.params)
        expected.advance(60)
        np.testing.assert_array_equal(lab.model.net.theta, expected.net.theta)
        await pilot.press("n")
        assert lab.model.state.step == 61
        lab.busy = True  # as while the worker runs: the keys change nothing
        await pilot.press("n", "b", "r", "g")
        await pilot.pause()
        assert lab.model.state.step == 61
        states = lab.train(lab.model, 2, lambda: False)
        lab.on_training_lab_trained(lab.Trained(lab.model, states))  # it arrives
        expected.advance(3)
        assert not lab.busy and lab.model.state.step == 63
        np.testing.assert_array_equal(lab.model.net.theta, expected.net.theta)


async def test_a_stale_head_start_does_not_replace_new_settings(lab_app):
    async with lab_app("mlp", dataset="xor", hidden=[8, 8]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        stale = lab.model
        states = lab.train(stale, 3, lambda: False)
        lab.busy = True
        assert lab.apply_settings(hidden=[4.0])
        assert not lab.busy
        current = lab.model
        lab.on_training_lab_trained(lab.Trained(stale, states))
        assert lab.model is current and lab.model.sizes == [2, 4, 2]
        assert lab.model.state.step == 0


async def test_playing_shows_steps_computed_ahead_in_a_worker(lab_app):
    async with lab_app("mlp", dataset="xor", hidden=[8, 8]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        await play_a_frame_and_compute_ahead(pilot, lab)
        m = lab.model
        assert m.steps_ahead() >= 1
        lab.step_forward()           # a frame only draws: the step and its pictures are ready
        await pilot.pause()
        step = m.state.step
        ref = MlpModel(lab.params)
        ref.advance(step)
        np.testing.assert_array_equal(m.net.theta, ref.net.theta)
        assert f"step {step} · epoch" in str(lab.query_one("#mlp-stats").render())
        box = lab.query_one("#mlp-region-box").size
        pixels = ref.region_pixels(box.width, 2 * box.height)
        np.testing.assert_array_equal(lab.query_one("#mlp-region").pixels, pixels)


async def test_a_training_step_does_not_relayout_the_screen(lab_app):
    # Fixed-height texts update without a layout pass (which repainted every widget per step).
    async with lab_app("mlp").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n")
        await pilot.pause()

        def layouts():
            return sum(widget._layout_updates for widget in lab.query("*"))

        before = layouts()
        lab.step_forward()
        assert layouts() == before


def test_core_packages_are_declared():
    from tutor.labs import lab_core_packages

    assert lab_core_packages("mlp") == ("nn", "optim")


async def test_steps_and_back_show_in_the_step_controls(lab_app):
    from tutor.widgets.step_controls import StepControls

    app = lab_app("mlp")
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        shown = []
        for key in ("n", "n", "b"):
            await pilot.press(key)
            await pilot.pause()
            shown.append((lab.model.state.step, lab.query_one(StepControls).status))
        assert shown == [(1, "step 1"), (2, "step 2"), (1, "step 1")]


async def test_the_lab_comes_back_as_the_student_left_it(lab_app, monkeypatch):
    """Settings, panel, points and layer come back at once; the steps are trained again from
    the seed in the worker, to the same weights. Past the replay limit, the lab says so and
    keeps the longer step count saved until the student moves."""
    from textual.widgets import ContentSwitcher

    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    async with lab_app("mlp", dataset="xor", hidden=[8, 8]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("v")
        hidden = lab.query_one("#mlp-hidden", Input)
        hidden.focus()
        hidden.value = "4, 4"
        await pilot.press("enter", "escape", "t", "full_stop", "g", "n")
        assert lab.model.sizes == [2, 4, 4, 2] and lab.model.state.step == 101
        saved = round_trip(lab.save_state())
        theta = lab.model.net.theta.copy()
        assert saved["panel"] == "settings" and saved["layer"] == 2 and saved["show_test"]
        lab = await remount(pilot)
        lab.restore_state(saved)
        assert lab.busy and "training again up to step 101" in lab.note
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.save_state() == saved and not lab.busy
        np.testing.assert_array_equal(lab.model.net.theta, theta)
        assert lab.query_one("#mlp-hidden", Input).value == "4, 4"
        assert lab.query_one("#mlp-panel", ContentSwitcher).current == "mlp-settings"
        text = screen_text(pilot.app)
        assert "step 101" in text and "2-4-4-2 relu" in text and "test points" in text
        monkeypatch.setattr("tutor.labs.mlp.state.MAX_RESTORED_STEPS", 60)
        lab.restore_state(saved)
        assert "only the first 60 are retrained" in lab.note
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.state.step == 60 and lab.save_state()["step"] == 101
        lab.focus()
        await pilot.press("n")
        assert lab.save_state()["step"] == 61


async def test_a_saved_state_whose_csv_file_is_not_read_yet_is_read_in_a_worker(lab_app, tmp_path,
                                                                               monkeypatch):
    """Putting the lab back as the student left it read their CSV file on the event loop (up
    to 1 MB): now a worker reads it, the lab says so meanwhile and keeps the state to save,
    and the state comes back once the file is read; a file that cannot be read any more is
    said in the lab. A file read before comes back at once."""
    import threading

    from core import nn
    from tests.relab import round_trip

    path = tmp_path / "mine.csv"
    path.write_text("\n".join(f"{i / 10},{(i % 7) / 3},{i % 2}" for i in range(40)))
    (tmp_path / "gone.csv").write_text("0,0,0\n1,1,1\n")
    calls = []
    real = nn.load_csv

    def spy(file):
        calls.append(threading.current_thread() is threading.main_thread())
        return real(file)

    monkeypatch.setattr(nn, "load_csv", spy)
    params = validate_lab("mlp", {"dataset": "csv", "csv_path": str(path), "hidden": [4]})
    saved = round_trip({"params": params, "step": 7, "panel": "weights", "layer": 2,
                        "show_test": True})
    async with lab_app("mlp", dataset="xor").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.restore_state(saved)
        assert calls == [] and lab.params["dataset"] == "xor", "nothing read on the event loop"
        assert lab.save_state() == saved, "the state waiting for its file is what is saved"
        assert "loading mine.csv" in str(lab.query_one("#mlp-message").render())
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [False], "read once, in a worker thread"
        assert lab.save_state() == saved and lab.model.state.step == 7
        assert len(lab.model.y_train) + len(lab.model.y_test) == 40 and lab.show_test
        lab.restore_state({**saved, "step": 3})  # read before: back at once
        assert calls == [False] and lab.params["csv_path"] == str(path)
        await pilot.app.workers.wait_for_complete()
        assert lab.model.state.step == 3
        gone = {**saved, "params": {**saved["params"], "csv_path": str(tmp_path / "gone.csv")}}
        (tmp_path / "gone.csv").write_text("not, a, csv, file")
        lab.restore_state(gone)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "✗" in lab.note and lab.model.state.step == 3
        assert lab.save_state()["step"] == 3
        with pytest.raises(ValueError):
            lab.restore_state({**saved, "params": {**saved["params"], "csv_path": "/nonexistent.csv"}})


def test_a_damaged_mlp_state_is_refused_and_changes_nothing():
    from tutor.labs.mlp.state import MAX_RESTORED_STEPS, replay_limit
    from tutor.labs.mlp.widget import MlpLab

    lab = MlpLab(validate_lab("mlp", {"dataset": "xor"}))
    saved = lab.save_state()
    params = saved["params"]
    for bad, error in (({**saved, "step": -1}, ValueError), ({**saved, "step": 10**6}, ValueError),
                       ({**saved, "layer": 9}, ValueError), ({**saved, "panel": "map"}, ValueError),
                       ({**saved, "show_test": "yes"}, TypeError),
                       ({**saved, "params": {**params, "hidden": [8, 999]}}, ValueError),
                       ({**saved, "params": {**params, "lr": "fast"}}, ValueError),
                       ({**saved, "extra": 1}, ValueError),
                       ({k: v for k, v in saved.items() if k != "step"}, KeyError)):
        with pytest.raises(error):
            lab.restore_state(bad)
        assert lab.save_state() == saved
    assert replay_limit(lab.model) == MAX_RESTORED_STEPS  # a small network: every step
    big = MlpModel(validate_lab("mlp", {"hidden": [64] * 4, "n_points": 2000, "batch_size": 2000}))
    assert 50 <= replay_limit(big) <= 200  # ~2 s of training here
