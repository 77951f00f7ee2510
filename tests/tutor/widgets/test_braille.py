"""BrailleCanvas: exact characters for known dots, clipping, NaN breaks, colours, scale."""

from __future__ import annotations

import numpy as np

from tutor.widgets.braille import BrailleCanvas, clip_segments, scale


def test_each_dot_has_its_unicode_bit():
    expected = {(0, 0): "⠁", (0, 1): "⠂", (0, 2): "⠄", (0, 3): "⡀",
                (1, 0): "⠈", (1, 1): "⠐", (1, 2): "⠠", (1, 3): "⢀"}
    for (x, y), char in expected.items():
        canvas = BrailleCanvas(1, 1)
        canvas.point(x, y, "#fff")
        assert canvas.cells() == {(0, 0): (char, "#fff")}


def test_full_cell_and_second_cell():
    canvas = BrailleCanvas(2, 2)
    for x in range(2):
        for y in range(4):
            canvas.point(x, y)
    canvas.point(3, 7, "#00ff00")
    assert canvas.cells() == {(0, 0): ("⣿", None), (1, 1): ("⢀", "#00ff00")}
    assert canvas.to_text() == "⣿⠀\n⠀⢀"


def test_horizontal_vertical_and_diagonal_lines():
    canvas = BrailleCanvas(2, 1)
    canvas.line(0, 0, 3, 0)
    assert canvas.to_text() == "⠉⠉"
    canvas = BrailleCanvas(1, 1)
    canvas.line(0, 0, 0, 3)
    assert canvas.to_text() == "⡇"
    canvas = BrailleCanvas(2, 1)
    canvas.line(0, 0, 3, 3)  # dots (0,0) (1,1) | (2,2) (3,3)
    assert canvas.to_text() == "⠑⢄"


def test_lines_are_clipped_not_bent_and_never_raise():
    canvas = BrailleCanvas(2, 1)
    canvas.line(-100, 0, 100, 0)
    assert canvas.to_text() == "⠉⠉"
    canvas.clear()
    canvas.line(-1e300, 5, 1e300, 5)  # entirely below: nothing
    canvas.line(10, -3, 10, 50)  # entirely right: nothing
    canvas.line(np.nan, 0, 1, 1)
    canvas.point(np.inf, 0)
    assert canvas.cells() == {}
    BrailleCanvas(0, 0).line(0, 0, 5, 5)  # an empty canvas is safe


def test_last_colour_wins_per_cell():
    canvas = BrailleCanvas(1, 1)
    canvas.point(0, 0, "#ff0000")
    canvas.point(1, 1, "#0000ff")
    assert canvas.cells()[(0, 0)] == ("⠑", "#0000ff")


def test_polyline_breaks_at_nan_and_draws_lone_points():
    canvas = BrailleCanvas(4, 1)
    canvas.polyline([0, 1, np.nan, 4, 7], [0, 0, 0, 3, 3], "#abcdef")
    text = canvas.to_text()
    # (0,0)-(1,0) joined; nothing at x=2,3 except the (4,3)-(7,3) line
    assert text[0] == "⠉" and text[1] == "⠀" and text[2:] == "⣀⣀"


def test_scale_maps_range_to_dots():
    assert scale([0.0, 5.0, 10.0], 0, 10, 11).tolist() == [0.0, 5.0, 10.0]
    assert scale([1.0, 2.0], 3, 3, 9).tolist() == [4.0, 4.0]
    out = scale([np.nan, np.inf, 1.0], 0, 1, 5)
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 4.0


def test_pure_modules_do_not_import_textual():
    """colormap and braille are plain NumPy: usable from core-side code and scripts."""
    import subprocess
    import sys

    code = (
        "import sys, tutor.widgets.colormap, tutor.widgets.braille; "
        "bad = [m for m in ('textual', 'rich') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _reference_polyline(canvas, xs, ys, color):
    """The original per-point polyline (line() and point() one by one), to compare against."""
    n = min(len(xs), len(ys))
    ok = [bool(np.isfinite(xs[i]) and np.isfinite(ys[i])) for i in range(n)]
    for i in range(n):
        if not ok[i]:
            continue
        if i + 1 < n and ok[i + 1]:
            canvas.line(xs[i], ys[i], xs[i + 1], ys[i + 1], color)
        elif not (i > 0 and ok[i - 1]):
            canvas.point(xs[i], ys[i], color)


def test_vectorised_lines_match_bresenham_exactly():
    rng = np.random.default_rng(7)
    for _ in range(40):
        w, h = (int(v) for v in rng.integers(1, 12, 2))
        x0, y0, x1, y1 = (rng.uniform(-10, 40, 30) for _ in range(4))
        x0[::7] = np.nan
        y1[::11] = np.inf
        vector, scalar = BrailleCanvas(w, h), BrailleCanvas(w, h)
        vector.lines(x0, y0, x1, y1, "#123456")
        for a, b, c, d in zip(x0, y0, x1, y1):
            scalar.line(a, b, c, d, "#123456")
        assert vector.to_text() == scalar.to_text()
        assert vector.cells() == scalar.cells()


def test_vectorised_polyline_matches_the_point_by_point_one():
    rng = np.random.default_rng(11)
    for _ in range(30):
        xs = rng.uniform(-5, 45, 60)
        ys = rng.uniform(-5, 25, 60)
        xs[rng.integers(0, 60, 6)] = np.nan  # gaps and lone points
        fast, slow = BrailleCanvas(20, 5), BrailleCanvas(20, 5)
        fast.polyline(xs, ys, "#abcdef")
        _reference_polyline(slow, xs, ys, "#abcdef")
        assert fast.to_text() == slow.to_text()


def test_huge_coordinates_are_clipped_without_allocating_the_whole_line():
    canvas = BrailleCanvas(2, 1)
    canvas.lines([-1e12], [0], [1e12], [0], "#fff")  # would be 2e12 dots unclipped
    assert canvas.to_text() == "⠉⠉"
    canvas.lines([], [], [], [])  # nothing to draw is fine


def test_later_lines_colour_shared_cells():
    canvas = BrailleCanvas(2, 1)
    canvas.lines([0], [0], [3], [0], "#ff0000")
    canvas.lines([2], [1], [2], [1], "#00ff00")
    assert canvas.cells() == {(0, 0): ("⠉", "#ff0000"), (0, 1): ("⠋", "#00ff00")}


def test_clip_segments_keeps_the_part_inside_the_dot_box():
    x0, y0, x1, y1 = (np.array(v, dtype=np.float64) for v in
                      ([-10.0, 2.0, -5.0, 3.0], [2.0, 1.0, -5.0, -3.0],
                       [30.0, 5.0, -1.0, 3.0], [2.0, 1.0, -1.0, 20.0]))
    keep, a, b, c, d = clip_segments(x0, y0, x1, y1, 20, 8)
    assert keep.tolist() == [True, True, False, True]
    assert (a[0], b[0], c[0], d[0]) == (-0.5, 2.0, 19.5, 2.0)  # through: both ends cut
    assert (a[1], b[1], c[1], d[1]) == (2.0, 1.0, 5.0, 1.0)  # inside: untouched
    assert (a[3], b[3], c[3], d[3]) == (3.0, -0.5, 3.0, 7.5)  # vertical: cut at both edges
