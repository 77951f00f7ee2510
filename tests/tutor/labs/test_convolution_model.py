"""The convolution lab's model, kernels and rendering, without a terminal."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from core.vision import conv2d, receptive_field
from tutor.labs import validate_lab
from tutor.labs.convolution import render as R
from tutor.labs.convolution.kernels import parse_weight, preset
from tutor.labs.convolution.model import ConvModel, relative_change
from tutor.labs.convolution.params import PRESETS
from tutor.labs.convolution.text import cell


def model(**params) -> ConvModel:
    return ConvModel(validate_lab("convolution", params))


def test_presets_follow_the_notes():
    np.testing.assert_array_equal(preset("gaussian", 3) * 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(preset("sobel_x", 3), [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_array_equal(preset("sobel_y", 3), preset("sobel_x", 3).T)
    for k in range(2, 6):
        for name in PRESETS:
            assert preset(name, k).shape == (k, k)
        assert preset("box_blur", k).sum() == pytest.approx(1)
        assert preset("gaussian", k).sum() == pytest.approx(1)
        assert preset("sobel_x", k).sum() == pytest.approx(0)
        assert preset("edges", k).sum() == pytest.approx(0)
    with pytest.raises(ValueError, match="unknown kernel"):
        preset("laplace")


@pytest.mark.parametrize(("text", "value"), [("1/16", 0.0625), ("-2", -2.0), (" 0,5 ", 0.5), ("1e-3", 0.001)])
def test_kernel_cells_parse(text, value):
    assert parse_weight(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1/0", "inf", "nan", "1e9", "2**3", "x" * 30])
def test_bad_kernel_cells_are_refused(text):
    with pytest.raises(ValueError):
        parse_weight(text)


def test_cells_are_compact():
    assert cell(1.0).strip() == "1"
    assert cell(0.0625).strip() == "1/16"
    assert cell(-0.25).strip() == "-1/4"
    assert len(cell(123.456)) == 6


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"padding": 1, "stride": 2},
        {"padding": 2, "padding_mode": "reflect", "bias": 0.5, "relu": True},
        {"padding": 1, "padding_mode": "circular", "kernel": "emboss", "stride": 3},
        {"kernel_size": 5, "kernel": "gaussian", "padding": 2, "padding_mode": "replicate"},
    ],
)
def test_every_window_sums_to_its_output_pixel(settings):
    m = model(view="slide", image="digit4", size=12, **settings)
    out = m.convolve()
    seen = 0
    while True:
        w = m.window()
        assert w.output == pytest.approx(out[w.i, w.j], abs=1e-12)
        np.testing.assert_allclose(w.products, w.patch * m.kernel)
        seen += 1
        if not m.history.step():
            break
    assert seen == out.size
    assert m.output_shape() == out.shape


def test_formula_fills_in_the_numbers():
    m = model(size=16, kernel_size=3, padding=1, stride=2)
    assert "(16 − 3 + 2·1)/2 + 1\n   = ⌊8.5⌋ = 8" in m.formula()
    assert all(len(line) <= 30 for line in m.formula().splitlines()), "fits the middle column"
    assert m.output_shape() == (8, 8)


def test_filter_steps_walk_through_the_presets():
    m = model(kernel="identity")
    names = [m.current_kernel_name()]
    while m.history.step():
        names.append(m.current_kernel_name())
    assert sorted(names) == sorted(PRESETS)


def test_stack_receptive_field_matches_the_formula_and_the_network():
    m = model(view="stack", size=24, kernel="box_blur", layers=3)
    side, r0, r1, c0, c1 = m.receptive()
    assert side == receptive_field(3, 3) == 7 == r1 - r0 == c1 - c0
    m.history.step()  # one more layer
    assert m.layers() == 4 and m.receptive()[0] == 9
    m.move_focus(-100, 100)
    assert m.focus == (0, m.stacked_shape()[1] - 1)
    out = m.stacked()
    img = m.image[None, None]
    for _ in range(4):
        img = conv2d(img, m.kernel[None, None], padding=1)
    np.testing.assert_allclose(out, img[0, 0])


def test_max_pooling_absorbs_most_of_a_one_pixel_shift():
    d = model(view="pool", image="shapes", kernel="edges", relu=True, pool="max").pooling()
    assert d["pooled"].shape == (23, 23)
    assert d["change_pooled"] < 0.7 * d["change_map"]
    assert relative_change(d["map"], d["map"]) == 0


def test_lenet_view():
    m = model(view="lenet", digit=7)
    img, acts, scores = m.lenet()
    assert img.shape == (32, 32) and acts[0].shape == (6, 28, 28) and scores.shape == (10,)
    m.history.step()
    assert m.digit() == 8
    assert sum(int(r[3].replace(",", "")) for r in m.lenet_table()) == 61706


def test_custom_kernels_and_bad_settings():
    m = model(kernel="custom", weights=[[0, 1], [1, 0]])
    assert m.k == 2 and m.output_shape() == (47, 47)
    with pytest.raises(ValueError, match="square"):
        model(kernel="custom", weights=[[1, 2, 3]])
    with pytest.raises(ValueError, match="no such file"):
        model(path="/nonexistent/image.pgm")


def test_pytorch_code_is_python():
    code = model(padding=1, padding_mode="reflect", relu=True).pytorch_code()
    ast.parse(code)
    assert "padding_mode='reflect'" in code and "torch.relu" in code


def test_render_fits_and_outlines():
    img = np.linspace(0, 1, 48 * 48).reshape(48, 48)
    rgb, s = R.image_pixels(img, 24, 24)
    assert rgb.shape == (24, 24, 3) and rgb.dtype == np.uint8
    big, s2 = R.fit(np.zeros((10, 10)), 40, 30)
    assert s2 == 3 and big.shape == (30, 30)
    rgb = R.to_rgb(np.zeros((9, 9)), 0, 1, "gray")
    R.outline(rgb, 2, 5, 2, 5, 1.0)
    assert tuple(rgb[2, 3]) == R.HIGHLIGHT and tuple(rgb[3, 3]) != R.HIGHLIGHT
    R.outline(rgb, -5, 50, -5, 50, 1.0)  # fully outside: nothing breaks
    tiles = R.mosaic([np.ones((2, 2)), -np.ones((2, 3))], 2)
    assert tiles.shape == (2, 7)
    assert np.isnan(tiles[:, 2:4]).all()  # the first tile is narrower, then the gap
    np.testing.assert_array_equal(tiles[:, :2], 1)
    np.testing.assert_array_equal(tiles[:, 4:], -1)


def test_frame_benchmark_helper_runs():
    from tutor.labs.convolution.views import frame_benchmark

    assert frame_benchmark(repeat=1) > 0


def test_shrinking_keeps_thin_edges_and_means_images():
    edge = np.zeros((40, 40))
    edge[:, 17] = -3.0  # a one-pixel line that plain sampling at scale 1/4 would miss
    small, s = R.fit(edge, 10, 10, "maxabs")
    assert s == 0.25 and small.shape == (10, 10) and (small[:, 4] == -3).all()
    img = np.zeros((4, 4))
    img[:2, :2] = 1
    np.testing.assert_allclose(R.fit(img, 2, 2)[0], [[1, 0], [0, 0]])


def test_the_students_own_image_is_loaded_and_shrunk(tmp_path):
    from core.vision.images import save_pgm

    img = np.zeros((90, 150))
    img[:, 75:] = 1.0
    save_pgm(tmp_path / "mine.pgm", img)
    m = model(path=str(tmp_path / "mine.pgm"), size=50)
    assert m.image.shape == (30, 50)  # aspect kept, longest side fits `size`
    out = m.convolve()
    assert out.shape == (28, 48) and np.abs(out).max() == pytest.approx(4.0)


@pytest.mark.parametrize("lab", ["convolution", "normalization"])
def test_core_packages_are_exactly_the_ones_the_lab_imports(lab):
    """The lesson mounts the lab once `vision` is warm: the widget must import no other package."""
    import subprocess
    import sys

    from tutor.labs import lab_core_packages

    assert lab_core_packages(lab) == ("vision",)
    code = (f"import sys, tutor.labs.{lab}.widget; print(sorted({{m.split('.')[1] for m in "
            "sys.modules if m.startswith('core.') and not m.startswith('core._')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['vision']"
