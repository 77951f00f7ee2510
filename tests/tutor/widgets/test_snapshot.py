"""One picture of the widgets together: a PixelView gradient, a LineChart and StepControls."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult
from textual.containers import Horizontal

import tutor.widgets as widgets
from tutor.widgets import BrailleCanvas, LineChart, PixelView, Series, StepControls
from tutor.widgets.colormap import colormap


class WidgetDemo(App):
    """The widgets as a lab would arrange them."""

    CSS = "Horizontal { height: 1fr; } PixelView { margin: 0 1; }"

    def compose(self) -> ComposeResult:
        x, y = np.meshgrid(np.linspace(-2, 2, 32), np.linspace(-2, 2, 36))
        view = PixelView(colormap(x**2 + 0.5 * y**2, 0.0, 6.0))
        path = BrailleCanvas(32, 18)
        path.polyline([60, 40, 30, 22, 18, 16], [8, 30, 42, 52, 60, 66], "#ffffff")
        overlay = path.cells()
        overlay[(9, 15)] = ("min", None)
        view.set_overlay(overlay)
        chart = LineChart(title="loss", x_label="step", y_label="L", log_y=True)
        steps = np.arange(60)
        chart.set_series(
            [
                Series("sgd", 3.0 * np.exp(-steps / 25) + 0.01, color="#4ea1ff"),
                Series("adam", 3.0 * np.exp(-steps / 8) + 0.001, color="#ff9e3d"),
            ]
        )
        chart.markers = [(30.0, 3.0 * np.exp(-30 / 8) + 0.001, "step 30")]
        with Horizontal():
            yield view
            yield chart
        yield StepControls("step 30 / 60 · loss 0.07")

    def on_mount(self) -> None:
        self.theme = "textual-dark"


async def test_widget_demo_composes():
    """snap_compare saves a blank picture when compose raises; catch that here first."""
    app = WidgetDemo()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.query_one(PixelView).size.width == 32
        assert "reset" in app.export_screenshot()


def test_widget_demo_snapshot(snap_compare):
    assert snap_compare(WidgetDemo(), terminal_size=(80, 24))


def test_package_exports_every_widget_class():
    for name in widgets.__all__:
        assert isinstance(getattr(widgets, name), type)
    import tutor.widgets.colormap as module

    assert callable(module.colormap)
