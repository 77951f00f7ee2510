"""Shared by the benchmarks: time one lab step and the Textual repaint that follows it."""

from __future__ import annotations


def textual_frame_ms(lab: str, params: dict, size: tuple[int, int], steps: int = 15):
    """Median ms of one lab step (model + widget updates) and of the Textual repaint that
    follows it (the compositor's refresh), in a headless app of `size` cells."""
    import asyncio
    import statistics
    import time

    from textual.screen import Screen

    from tutor.labdemo import LabApp
    from tutor.labs import validate_lab

    repaint: list[float] = []
    original = Screen._compositor_refresh

    def timed(self):
        t = time.perf_counter()
        original(self)
        repaint.append(time.perf_counter() - t)

    async def run() -> tuple[float, float]:
        app = LabApp(lab, validate_lab(lab, params))
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            widget = app.query_one("#lab")
            for _ in range(3):
                widget.step_forward()
                await pilot.pause()
            step_times: list[float] = []
            repaint.clear()
            for _ in range(steps):
                t = time.perf_counter()
                if not widget.step_forward():
                    widget.reset_lab()
                step_times.append(time.perf_counter() - t)
                await pilot.pause()
            per_step = sum(repaint) / steps
            return 1e3 * statistics.median(step_times), 1e3 * per_step

    Screen._compositor_refresh = timed
    try:
        return asyncio.run(run())
    finally:
        Screen._compositor_refresh = original
