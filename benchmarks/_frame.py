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


def played_frames_ms(lab: str, params: dict, size: tuple[int, int], frames: int = 40,
                     fps: float = 10.0, warm: int = 5) -> list[float]:
    """Main-thread CPU ms of each frame while the lab plays (space) in a headless app of `size`
    cells: from one playback step to the next, everything the main thread does (the step, the
    widgets' updates, style and layout, the repaint, results posted by workers)."""
    import asyncio
    import time

    from tutor.labdemo import LabApp
    from tutor.labs import validate_lab

    async def run() -> list[float]:
        app = LabApp(lab, validate_lab(lab, params))
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            widget = app.query_one("#lab")
            marks: list[float | None] = []
            original = widget._tick

            def tick() -> None:
                marks.append(time.thread_time())
                original()
                if not widget.playing:  # the end of the run: start afresh, drop this frame
                    marks.append(None)
                    widget.reset_lab()
                    widget.playing = True
                    # Playing again makes the next step due at once (as a key would): keep the
                    # cadence instead, so the reset's own paint stays in the frame left out.
                    widget._next_tick = time.monotonic() + 1 / widget.fps

            widget._tick = tick
            widget.fps = fps
            await pilot.press("space")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 4 * (frames + warm) / fps + 30
            while len(marks) < frames + warm + 1 and loop.time() < deadline:
                await asyncio.sleep(0.05)
            widget.playing = False
            out = []
            for a, b in zip(marks[warm:], marks[warm + 1:]):
                if a is not None and b is not None:
                    out.append(1e3 * (b - a))
            return out

    return asyncio.run(run())
