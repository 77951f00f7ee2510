"""LineChart: draws braille lines, ticks, legend and markers; NaN, inf, empty and log safe."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from tutor.widgets.line_chart import LineChart, Series, compact


class ChartApp(App):
    def compose(self) -> ComposeResult:
        yield LineChart(title="loss", x_label="step", y_label="L")

    def on_mount(self) -> None:
        self.theme = "textual-dark"


def screen_lines(chart: LineChart) -> list[str]:
    return [chart.render_line(y).text for y in range(chart.size.height)]


def braille_count(lines: list[str]) -> int:
    return sum(0x2800 < ord(ch) <= 0x28FF for line in lines for ch in line)


@pytest.mark.parametrize(
    "value, text",
    [(0, "0"), (1.5, "1.5"), (0.0123, "0.0123"), (250, "250"), (0.001, "1e-3"),
     (12000, "1.2e4"), (-0.5, "-0.5"), (float("nan"), "nan"), (float("inf"), "inf")],
)
def test_compact_tick_labels(value, text):
    assert compact(value) == text


async def test_draws_lines_ticks_legend_and_range():
    app = ChartApp()
    async with app.run_test(size=(60, 14)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series([Series("train", np.linspace(1.0, 0.0, 50)), Series("val", [0.5] * 50, color="#ff0000")])
        await pilot.pause()
        lines = screen_lines(chart)
        assert "loss" in lines[0] and "train" in lines[0] and "val" in lines[0]
        assert lines[1].strip().startswith("1") and "┤" in lines[1]  # top tick = max
        assert "┤" in lines[-2] and lines[-2].strip().startswith("0")  # bottom tick = min
        assert lines[-1].strip().startswith("0") and lines[-1].rstrip().endswith("49")
        assert "step" in lines[-1]
        assert braille_count(lines) > 40
        # The val series is drawn in its colour.
        colours = {seg.style.color.name for y in range(1, 13) for seg in chart.render_line(y) if seg.style and seg.style.color and 0x2800 < ord(seg.text[0]) <= 0x28FF}
        assert "#ff0000" in colours


async def test_nan_inf_empty_and_flat_do_not_raise():
    app = ChartApp()
    async with app.run_test(size=(40, 10)) as pilot:
        chart = app.query_one(LineChart)
        await pilot.pause()
        assert any("no data" in line for line in screen_lines(chart))
        for data in ([], [np.nan] * 5, [np.inf, -np.inf], [3.0], [2.0] * 10, [1.0, np.nan, 3.0, np.inf, 2.0]):
            chart.set_series([Series("s", data)])
            await pilot.pause()
            lines = screen_lines(chart)
            assert len(lines) == 10
        assert braille_count(lines) > 0


async def test_log_axes_skip_non_positive_values():
    app = ChartApp()
    async with app.run_test(size=(50, 12)) as pilot:
        chart = app.query_one(LineChart)
        chart.log_y = True
        chart.set_series([Series("loss", [1.0, 0.1, 0.0, -1.0, 0.01, 0.001])])
        await pilot.pause()
        lines = screen_lines(chart)
        assert "1" == lines[1].split("┤")[0].strip()
        assert "1e-3" == lines[-2].split("┤")[0].strip()
        assert braille_count(lines) > 0
        chart.log_x = True
        chart.set_series([Series("x", [1, 2, 3], x=[0.0, 10.0, 100.0])])
        await pilot.pause()
        assert braille_count(screen_lines(chart)) > 0
        chart.set_series([Series("neg", [-1.0, -2.0])])  # nothing positive: empty chart
        await pilot.pause()
        assert any("no data" in line for line in screen_lines(chart))


async def test_markers_are_drawn_with_labels():
    app = ChartApp()
    async with app.run_test(size=(50, 12)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series([Series("f", np.arange(10.0) ** 2)])
        chart.markers = [(0.0, 0.0, "min"), (9.0, 81.0, "end"), (np.nan, 1.0, "bad")]
        await pilot.pause()
        text = "\n".join(screen_lines(chart))
        assert "◆ min" in text and "end ◆" in text and "bad" not in text


async def test_long_series_is_reduced_but_keeps_spikes():
    app = ChartApp()
    async with app.run_test(size=(40, 10)) as pilot:
        chart = app.query_one(LineChart)
        y = np.zeros(100_000)
        y[54_321] = 1.0  # one spike must still reach the top row
        chart.set_series([Series("noisy", y)])
        await pilot.pause()
        lines = screen_lines(chart)
        assert braille_count([lines[1]]) >= 1


async def test_redraws_on_resize_and_tiny_sizes():
    app = ChartApp()
    async with app.run_test(size=(60, 14)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series([Series("a", np.sin(np.linspace(0, 6, 200)))])
        await pilot.pause()
        wide = chart.render_line(3).cell_length
        await pilot.resize_terminal(30, 8)
        await pilot.pause()
        assert chart.render_line(3).cell_length == chart.size.width < wide
        for size in ((1, 1), (10, 3), (4, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            for y in range(-1, chart.size.height + 2):
                assert chart.render_line(y).cell_length == chart.size.width
            app.export_screenshot()


async def test_long_series_keeps_nan_gaps():
    app = ChartApp()
    async with app.run_test(size=(40, 10)) as pilot:
        chart = app.query_one(LineChart)
        y = np.ones(10_000)
        y[5_000:] = 0.0
        y[4_000:6_000] = np.nan  # a gap between the high and the low half: no vertical jump
        chart.set_series([Series("gap", y)])
        await pilot.pause()
        lines = screen_lines(chart)
        plot = [line.split("┤", 1)[-1].split("│", 1)[-1] for line in lines[1:-1]]
        middle_rows = plot[2:-2]
        assert braille_count(middle_rows) == 0
        assert braille_count([plot[0]]) > 0 and braille_count([plot[-1]]) > 0


@pytest.mark.parametrize(
    "lo, hi, n, ticks",
    [(0, 1, 4, [0.0, 0.5, 1.0]), (-1, 1, 3, [-1.0, 0.0, 1.0]), (0.003, 3.01, 4, [1.0, 2.0, 3.0]),
     (0, 10, 5, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0][:6]), (1, 1, 3, []), (0, float("nan"), 3, [])],
)
def test_nice_ticks(lo, hi, n, ticks):
    from tutor.widgets.line_chart import nice_ticks

    assert nice_ticks(lo, hi, n) == pytest.approx(ticks)


async def test_log_axis_labels_decades():
    app = ChartApp()
    async with app.run_test(size=(50, 14)) as pilot:
        chart = app.query_one(LineChart)
        chart.log_y = True
        chart.set_series([Series("loss", np.logspace(0.3, -3.2, 40))])
        await pilot.pause()
        labels = [line.split("┤")[0].strip() for line in screen_lines(chart)[1:-1] if "┤" in line]
        assert labels == ["1", "0.1", "0.01", "1e-3"]


async def test_log_axis_within_one_decade_uses_round_values():
    app = ChartApp()
    async with app.run_test(size=(50, 14)) as pilot:
        chart = app.query_one(LineChart)
        chart.log_y = True
        chart.set_series([Series("loss", np.linspace(24.2, 4.0, 30))])
        await pilot.pause()
        labels = [line.split("┤")[0].strip() for line in screen_lines(chart)[1:-1] if "┤" in line]
        assert len(labels) >= 2 and all(float(t) % 5 == 0 for t in labels)


async def test_same_series_again_refreshes_nothing(monkeypatch):
    app = ChartApp()
    async with app.run_test(size=(60, 12)) as pilot:
        chart = app.query_one(LineChart)
        y = np.exp(-np.arange(300) / 50.0)
        y[7] = np.nan
        chart.set_series([Series("a", y), Series("b", y * 2, color="#ff0000")])
        await pilot.pause()
        before = screen_lines(chart)
        calls = []
        monkeypatch.setattr(chart, "refresh", lambda *a, **k: calls.append((a, k)))
        version = chart._version
        chart.set_series([Series("a", y.copy()), Series("b", list(y * 2), color="#ff0000")])
        assert calls == [] and chart._version == version
        chart.set_series([Series("a", y), Series("c", y * 2, color="#ff0000")])  # a new name
        assert len(calls) == 1
        longer = np.append(y, 1e-3)
        chart.set_series([Series("a", longer), Series("c", y * 2, color="#ff0000")])  # a new point
        assert len(calls) == 2 and chart._version == version + 2
        monkeypatch.undo()
        chart.refresh()
        await pilot.pause()
        assert screen_lines(chart) != before


async def test_same_markers_again_refresh_nothing_and_strips_are_reused(monkeypatch):
    app = ChartApp()
    async with app.run_test(size=(60, 12)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series([Series("a", np.linspace(0.0, 1.0, 40))])
        chart.markers = [(10.0, 0.25, "min")]
        await pilot.pause()
        before = screen_lines(chart)
        strips = chart._strips
        calls = []
        monkeypatch.setattr(chart, "refresh", lambda *a, **k: calls.append((a, k)))
        chart.markers = [(10.0, 0.25, "min")]  # what a lab does on every frame
        assert calls == []
        assert screen_lines(chart) == before and chart._strips is strips  # nothing rebuilt
        marks = chart.markers
        marks.append((30.0, 0.75, "max"))  # changed in place, then set again: drawn
        chart.markers = marks
        assert len(calls) == 1
        monkeypatch.undo()
        chart.refresh()
        await pilot.pause()
        assert any("max" in line for line in screen_lines(chart)) and chart._strips is not strips
