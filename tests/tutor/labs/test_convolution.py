"""The convolution lab in a terminal: keys, editing, predictions, views, tiny sizes, snapshots."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from textual.widgets import Input

from tests.screen import screen_text

from tutor.labs.base import Lab
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput


def _lab(app):
    return app.query_one("#lab")


def pos(lab) -> tuple[int, int]:
    w = lab.model.window()
    return w.i, w.j


async def test_sliding_window_steps_back_and_resets(lab_app):
    async with lab_app("convolution", view="slide", image="digit7", size=12).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        assert pos(lab) == (0, 0)
        await pilot.press("n", "n", "n")
        assert pos(lab) == (0, 3)
        await pilot.press("b")
        assert pos(lab) == (0, 2)
        await pilot.press("down", "right")
        assert pos(lab) == (1, 3)
        await pilot.press("r")
        assert lab.model.history.index == 0
        info = str(lab.query_one("#conv-info").render())
        assert "window at output (1, 3)" in info and "Σ = ?" in info


async def test_predicting_an_output_pixel_posts_an_answer(lab_app):
    app = lab_app("convolution", view="slide", image="digit7", size=12, col=4, row=3)
    answers = []
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        lab.post_message = lambda m, _post=lab.post_message: (answers.append(m), _post(m))[1]
        await pilot.pause()
        w = lab.model.window()
        predict = lab.query_one(PredictInput)
        assert predict.state == "asking" and predict.answer == pytest.approx(w.output)
        field = predict.query_one(Input)
        field.focus()
        await pilot.press(*f"{w.output:.4f}", "enter")
        await pilot.pause()
        assert predict.state == "right"
        answered = [m for m in answers if isinstance(m, Lab.Answered)]
        assert answered and answered[0].correct and answered[0].lab == "convolution"
        assert f"= {w.total:.4g}" in str(lab.query_one("#conv-info").render())


async def test_typing_a_number_on_the_lab_answers_without_tabbing(lab_app):
    """Lesson 4.2 says: type your number. With the lab focused, the first digit (or −) goes into
    the prediction field; after enter the lab has the keys again, n steps, and the next answer
    can be typed the same way."""
    async with lab_app("convolution", view="slide", image="digit7", size=12, col=4, row=3).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        lab.focus()
        await pilot.pause()
        predict = lab.query_one(PredictInput)
        w = lab.model.window()
        answer = f"{abs(w.output):.4f}"
        await pilot.press(*(["p", "minus"] if w.output < 0 else []), *answer, "enter")
        await pilot.pause()
        assert predict.state == "right" and lab.has_focus
        await pilot.press("n")
        await pilot.pause()
        w2 = lab.model.window()
        assert (w2.i, w2.j) != (w.i, w.j) and predict.state == "asking"
        await pilot.press("9", "9", "enter")  # a digit on the lab starts the answer
        await pilot.pause()
        assert predict.state == "wrong" and predict.query_one(Input).value == "99" and lab.has_focus
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("p", "minus", "9", "9", "enter")  # p, then a negative number
        await pilot.pause()
        assert predict.state == "wrong" and predict.query_one(Input).value == "-99" and lab.has_focus
        fps = lab.fps
        await pilot.press("minus")  # the shared slower key still works
        assert lab.has_focus and lab.fps < fps
        await pilot.press("v")  # outside the sliding window, digits are left alone
        await pilot.pause()
        await pilot.pause()
        assert _lab(pilot.app).model.view == "bank"


async def test_a_reveals_the_sum_and_question_mark_stays_the_help(lab_app):
    async with lab_app("convolution", view="slide", size=12).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        await pilot.press("a")
        assert "?" not in str(lab.query_one("#conv-info").render()).splitlines()[-1]
        assert lab.query_one(PredictInput).state == "revealed"


async def test_editing_a_kernel_cell_validates_it(lab_app):
    async with lab_app("convolution", kernel="identity", size=16).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        cell = lab.query_one("#conv-cell-0-0", Input)
        await pilot.pause()
        lab.focus()
        await pilot.press("tab", "tab")  # through the first cell to the second, as a student does
        await pilot.pause()
        second = lab.query_one("#conv-cell-0-1", Input)
        assert pilot.app.focused is second
        # both still show their number (tabbing scrolled a cell past its text: it went blank)
        assert cell.scroll_offset.x == 0 and second.scroll_offset.x == 0
        assert "0" in cell.render_line(0).text and "0" in second.render_line(0).text
        cell.focus()
        cell.value = "two"
        await pilot.press("enter")
        assert cell.has_class("-invalid") and "not a number" in lab.note
        assert lab.model.kernel[0, 0] == 0
        cell.value = "1/2"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.params["kernel"] == "custom" and lab.model.kernel[0, 0] == 0.5
        expected = conv_ref(lab.model.image, lab.model.kernel)
        np.testing.assert_allclose(lab.model.convolve(), expected)


def conv_ref(img, k):
    K = k.shape[0]
    H, W = img.shape
    return np.array([[np.sum(img[i : i + K, j : j + K] * k) for j in range(W - K + 1)] for i in range(H - K + 1)])


async def _open_file(pilot, lab, path) -> None:
    """Type `path` into the lab's file field, enter, and wait for the worker reading it."""
    field = lab.query_one("#conv-path", Input)
    field.focus()
    field.value = str(path)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_settings_change_the_output_and_bad_files_keep_the_last_image(lab_app, tmp_path):
    async with lab_app("convolution", size=32).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        padding = next(p for p in lab.query(ParamInput) if p.param_name == "padding")
        padding.post_message(ParamInput.Changed(padding, "padding", 1))
        await pilot.pause()
        assert lab.model.output_shape() == (32, 32)
        assert "= 32" in str(lab.query_one("#conv-info").render())
        bad = tmp_path / "notes.txt"
        bad.write_text("not an image")
        await _open_file(pilot, lab, bad)
        assert "not an image" in lab.note and lab.params["path"] == ""
        assert lab.model.image.shape == (32, 32)


@pytest.fixture
def decodes(monkeypatch) -> list[bool]:
    """One entry per image file the convolution lab decodes: whether it ran on the event
    loop's thread."""
    import threading

    from tutor.labs.convolution import model as M

    calls: list[bool] = []
    real = M.load_image

    def spy(path, max_size):
        calls.append(threading.current_thread() is threading.main_thread())
        return real(path, max_size=max_size)

    monkeypatch.setattr(M, "load_image", spy)
    return calls


async def test_the_students_file_is_decoded_in_a_worker_then_reused(lab_app, tmp_path, decodes):
    """The lesson's file and a typed one are decoded off the event loop, once each: later
    setting changes reuse them."""
    from core.vision.images import save_pgm

    img = np.zeros((64, 64))
    img[:, 32:] = 1.0
    save_pgm(tmp_path / "lesson.pgm", img)
    save_pgm(tmp_path / "mine.pgm", img[::-1, ::-1])
    calls = decodes
    async with lab_app("convolution", size=32, path=str(tmp_path / "lesson.pgm")).run_test(
            size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.params["path"] == str(tmp_path / "lesson.pgm") and calls == [False]
        np.testing.assert_array_equal(lab.model.image[:, 16:], 1.0)
        await _open_file(pilot, lab, tmp_path / "mine.pgm")
        assert lab.params["path"] == str(tmp_path / "mine.pgm") and lab.model.image.shape == (32, 32)
        assert calls == [False, False], "decoded once, in a worker thread"
        await pilot.press("escape", "k")
        await pilot.pause()
        assert lab.params["kernel"] != "sobel_x" and calls == [False, False], "a new setting reuses the image"
        np.testing.assert_array_equal(lab.model.image[:, :16], 1.0)


async def test_a_device_or_a_huge_file_is_refused_at_once_in_the_lab(lab_app, tmp_path):
    """A lesson naming /dev/zero, or a student typing a sparse file over MAX_FILE_BYTES: the
    lab opens on its built-in picture and says why, without reading either file."""
    from core.vision.images import MAX_FILE_BYTES

    huge = tmp_path / "huge.pgm"
    with huge.open("wb") as f:
        f.write(b"P5\n8000 5000\n255\n")
        f.truncate(MAX_FILE_BYTES + 1)
    async with lab_app("convolution", size=32, path="/dev/zero").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.params["path"] == "" and lab.model.image.shape == (32, 32)
        assert "/dev/zero: not a regular file" in screen_text(pilot.app)
        assert "kept the built-in scene" in screen_text(pilot.app)
        await _open_file(pilot, lab, huge)
        assert lab.params["path"] == "" and "larger than MAX_FILE_BYTES" in lab.note
        await pilot.pause()
        # The note names the file: where it wraps depends on the length of tmp_path (longer
        # under xdist), so the words are compared without the spaces and line ends between them.
        assert "largerthanMAX_FILE_BYTES" in "".join(screen_text(pilot.app).split())


async def test_x_rotates_the_kernel_a_half_turn(lab_app):
    async with lab_app("convolution", kernel="emboss", size=16).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        before = lab.model.kernel.copy()
        out = lab.model.convolve()
        await pilot.press("x")
        await pilot.pause()
        np.testing.assert_array_equal(lab.model.kernel, before[::-1, ::-1])
        assert "180°" in lab.note and lab.params["kernel"] == "custom"
        assert lab.query_one("#conv-cell-0-0", Input).value.strip() == "2"
        from core.vision import convolve2d

        np.testing.assert_allclose(lab.model.convolve(), convolve2d(lab.model.image, before))
        assert not np.allclose(lab.model.convolve(), out)
        await pilot.press("x")
        await pilot.pause()
        np.testing.assert_array_equal(lab.model.kernel, before)


async def test_stack_view_keys(lab_app):
    async with lab_app("convolution", view="stack", size=24, layers=2).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        assert lab.model.receptive()[0] == 5
        await pilot.press("full_stop")
        await pilot.pause()
        assert lab.model.layers() == 3 and lab.model.receptive()[0] == 7
        before = lab.model.focus
        await pilot.press("left", "up")
        assert lab.model.focus == (before[0] - 1, before[1] - 1)
        assert "1 + 3·2 = 7" in str(lab.query_one("#conv-info").render())


async def test_view_key_cycles_through_every_view(lab_app):
    async with lab_app("convolution", size=16).run_test(size=(120, 36)) as pilot:
        seen = []
        for _ in range(6):
            lab = _lab(pilot.app)
            seen.append(lab.model.view)
            await pilot.press("v")
            await pilot.pause()
            await pilot.pause()
        assert seen == ["filter", "slide", "bank", "stack", "pool", "lenet"]
        assert _lab(pilot.app).model.view == "filter"


async def test_screen_keys_pass_through_when_the_lab_does_not_need_them(lab_app):
    async with lab_app("convolution", view="filter", size=16).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        assert lab.has_focus
        assert lab.check_action("focus_lab", ()) is False  # escape: back to the catalog
        assert lab.check_action("reveal", ()) is False  # ?: the app's help
        assert lab.check_action("layers", (1,)) is False
        assert lab.check_action("next_kernel", ()) is True
        lab.query_one("#conv-cell-0-0", Input).focus()
        await pilot.pause()
        assert lab.check_action("focus_lab", ()) is True
        await pilot.press("escape")
        assert lab.has_focus
        await pilot.press("y")  # a dialog above the lab: the lab's escape is not the one shown
        await pilot.pause()
        assert lab.app.focused is not None and lab not in lab.app.focused.ancestors_with_self
        assert lab.check_action("focus_lab", ()) is False


async def test_kernel_key_and_pytorch_code(lab_app):
    async with lab_app("convolution", kernel="sobel_x").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("k")
        assert lab.params["kernel"] == "sobel_y"
        ast.parse(lab.pytorch_code())
        await pilot.press("y")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "CodeDialog"


async def test_ascii_fallback_draws_characters(lab_app):
    app = lab_app("convolution", image="checkerboard", size=16)
    app.ascii_mode = True
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.pause()
        view = _lab(pilot.app).query_one("#conv-in")
        text = "".join(seg.text for seg in view.render_line(1))
        assert "▀" not in text and "@" in text and " " in text


@pytest.mark.parametrize("view", ["filter", "slide", "bank", "stack", "pool", "lenet"])
async def test_every_view_survives_tiny_terminals(lab_app, view):
    """The contract test shrinks the default view; here every view, one app resized."""
    async with lab_app("convolution", view=view, size=16).run_test(size=(50, 14)) as pilot:
        for size in [(50, 14), (20, 8), (120, 36)]:
            await pilot.resize_terminal(*size)
            await pilot.press("n", "b")
            await pilot.pause()
        assert _lab(pilot.app).model.view == view
        assert screen_text(pilot.app).strip()


async def _settle(pilot):
    """Let the after-refresh drawing finish (the panels are sized by the first layout)."""
    await pilot.pause()
    await pilot.pause()


def test_snapshot_filter_view(snap_compare, lab_app):
    app = lab_app("convolution", kernel="sobel_x")
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


def test_snapshot_sliding_window(snap_compare, lab_app):
    app = lab_app("convolution", view="slide", image="digit7", size=12, row=2, col=3)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


def test_snapshot_lenet(snap_compare, lab_app):
    app = lab_app("convolution", view="lenet", digit=3)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


@pytest.mark.parametrize(("params", "steps"), [(dict(view="filter"), 4), (dict(view="slide", size=12), 4),
                                               (dict(view="stack", layers=1), 3)])  # fmt: skip
async def test_a_step_asks_for_no_layout_pass(lab_app, monkeypatch, params, steps):
    """A layout pass of the lesson screen costs more than the whole step: stepping changes texts
    of the same height and kernel cells of the same length, which need only a repaint. (The
    prediction widget of tutor/widgets re-asks with a layout in the slide view: not counted.)"""
    from textual.widget import Widget

    async with lab_app("convolution", **params).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        asked = []
        original = Widget.refresh

        def spy(self, *regions, layout=False, **kwargs):
            chain = self.ancestors_with_self
            if layout and lab in chain and not any(isinstance(w, PredictInput) for w in chain):
                asked.append((type(self).__name__, self.id))
            return original(self, *regions, layout=layout, **kwargs)

        monkeypatch.setattr(Widget, "refresh", spy)
        before = [lab.query_one(f"#conv-cell-{r}-{c}", Input).value for r in range(3) for c in range(3)]
        for _ in range(steps):
            assert lab.step_forward()
            await pilot.pause()  # the step's redraw: requested, it runs after the next refresh
        monkeypatch.setattr(Widget, "refresh", original)
        after = [lab.query_one(f"#conv-cell-{r}-{c}", Input).value for r in range(3) for c in range(3)]
        if params["view"] == "filter":
            assert before != after, "the presets changed the kernel cells"
        assert asked == []


async def test_fields_show_what_keys_changed_and_views_mount_nothing(lab_app):
    """Regression: k and . changed the kernel and the layers while their fields kept the old
    values. A view switch now shows other fields instead of composing the lab again."""
    async with lab_app("convolution", view="stack", layers=2).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        lab.focus()
        fields = {p.param_name: p for p in lab.query(ParamInput)}
        await pilot.press("k", "full_stop")
        await pilot.pause()
        assert lab.params["kernel"] == "sobel_y" and fields["kernel"].value == "sobel_y"
        assert lab.params["layers"] == 3 and fields["layers"].value == 3
        assert fields["layers"].display and not fields["pool"].display
        await pilot.press("v")
        await pilot.pause()
        assert lab.model.view == "pool" and fields["view"].value == "pool"
        assert {p.param_name: p for p in lab.query(ParamInput)} == fields, "the same widgets"
        assert fields["pool"].display and not fields["layers"].display
        assert str(lab.query_one("#conv-in-title").render()) == "feature map · shifted"
        await pilot.press("v", "v")  # lenet, then filter with the file field
        await pilot.pause()
        assert lab.model.view == "filter" and lab.query_one("#conv-path-row").display
        assert fields["padding"].display and not fields["digit"].display


async def test_enter_in_a_field_hands_the_keys_back_to_the_lab(lab_app):
    """After enter in a setting or a kernel cell, n steps at once (no click, no escape)."""
    async with lab_app("convolution", view="slide", size=12).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        stride = next(p for p in lab.query(ParamInput) if p.param_name == "stride")
        field = stride.query_one(Input)
        field.focus()
        field.value = "2"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.params["stride"] == 2 and lab.has_focus
        cell = lab.query_one("#conv-cell-1-1", Input)
        cell.focus()
        cell.value = "5"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.kernel[1, 1] == 5 and lab.has_focus
        cell = lab.query_one("#conv-cell-0-0", Input)
        cell.focus()
        cell.value = "oops"
        await pilot.press("enter")
        assert cell.has_focus, "a rejected cell keeps the focus, to be corrected"
        await pilot.press("escape")
        before = pos(lab)
        await pilot.press("n")
        assert pos(lab) != before


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    from tests.relab import remount, round_trip

    async with lab_app("convolution", kernel="sobel_x", size=16).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        cell = lab.query_one("#conv-cell-0-0", Input)
        cell.focus()
        cell.value = "1/2"
        await pilot.press("enter", "v")  # an edited kernel, then the sliding window
        await pilot.pause()
        await pilot.press("down", "right", "n", "n")
        saved = round_trip(lab.save_state())
        where = pos(lab)
        assert saved["params"]["kernel"] == "custom" and saved["params"]["view"] == "slide"
        lab = await remount(pilot)
        assert lab.model.view == "filter"
        lab.restore_state(saved)
        await pilot.pause()
        await pilot.pause()
        assert lab.save_state() == saved and pos(lab) == where == (1, 3)
        assert lab.query_one("#conv-cell-0-0", Input).value.strip() == "1/2"
        view = next(p for p in lab.query(ParamInput) if p.param_name == "view")
        assert view.value == "slide"
        assert "slide · image scene 16×16" in screen_text(pilot.app)


def test_a_damaged_convolution_state_is_refused_and_changes_nothing():
    from tutor.labs import validate_lab
    from tutor.labs.convolution.widget import ConvolutionLab

    lab = ConvolutionLab(validate_lab("convolution", {"size": 16}))
    saved = lab.save_state()
    params = saved["params"]
    for bad, error in (({**saved, "step": -1}, ValueError), ({**saved, "focus": "middle"}, TypeError),
                       ({**saved, "params": {**params, "stride": 9}}, ValueError),
                       ({**saved, "params": {**params, "kernel": "custom", "weights": [[1.0]]}}, ValueError),
                       ({**saved, "params": {**params, "path": "/no/such/image.pgm"}}, ValueError),
                       ({"params": params, "step": 0}, KeyError)):
        with pytest.raises(error):
            lab.restore_state(bad)
        assert lab.save_state() == saved


async def test_a_saved_state_whose_image_is_not_cached_is_decoded_in_a_worker(lab_app, tmp_path,
                                                                                decodes):
    """Putting the lab back as the student left it decoded their image file on the event loop
    (seconds for a large one): now a worker reads it, the lab says so meanwhile and keeps the
    state to save, and the state comes back once the file is read; a file that cannot be
    decoded any more is said in the lab. A cached file comes back at once."""
    from core.vision.images import save_pgm

    img = np.zeros((32, 32))
    img[:, 16:] = 1.0
    save_pgm(tmp_path / "mine.pgm", img)
    (tmp_path / "broken.pgm").write_text("not an image")
    calls = decodes
    from tutor.labs import validate_lab

    params = validate_lab("convolution", {"view": "slide", "size": 16,
                                          "path": str(tmp_path / "mine.pgm")})
    saved = {"params": params, "step": 2, "focus": [3, 4]}
    async with lab_app("convolution", size=16).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        lab.restore_state(saved)
        assert calls == [] and lab.model.view == "filter", "nothing decoded on the event loop"
        assert lab.save_state() == saved, "the state waiting for its file is what is saved"
        assert "loading mine.pgm" in str(lab.query_one("#conv-message").render())
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert calls == [False], "decoded once, in a worker thread"
        assert lab.save_state() == saved and lab.model.index == 2
        np.testing.assert_array_equal(lab.model.image[:, 8:], 1.0)
        assert "slide · image mine.pgm 16×16" in screen_text(pilot.app)
        lab.restore_state({**saved, "step": 1})  # cached now: back at once
        assert calls == [False] and lab.model.index == 1
        broken = {**saved, "params": {**params, "path": str(tmp_path / "broken.pgm")}}
        lab.restore_state(broken)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "✗" in lab.note and "broken.pgm" in lab.note and lab.model.index == 1
        assert lab.save_state() == {**saved, "step": 1}


async def test_images_follow_their_boxes_when_only_the_boxes_change_size(lab_app):
    """A later layout pass can resize the image boxes while the lab keeps its size (the
    settings or step controls grow or shrink): the images are drawn again to fit them."""
    async with lab_app("convolution", size=16).run_test(size=(120, 36)) as pilot:
        await _settle(pilot)
        lab = _lab(pilot.app)
        box, image = lab.query_one("#conv-in-box"), lab.query_one("#conv-in")
        fresh = (image.cols, image.rows)
        assert image.rows <= box.size.height
        settings, lab_size = lab.query_one("#conv-settings"), lab.size
        # the boxes lose rows (the image no longer fits), the lab none
        settings.styles.height = settings.size.height + box.size.height - fresh[1] + 6
        await _settle(pilot)
        assert lab.size == lab_size
        assert image.rows <= box.size.height < fresh[1]
        settings.styles.height = "auto"
        await _settle(pilot)
        assert (image.cols, image.rows) == fresh
