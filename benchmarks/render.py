"""Per-frame cost of every lab at 120x36 (step vs. redraw), and micro-benchmarks of the widgets.

A frame of an animated lab is `lab.step_forward()` (numerics, plus whatever the lab draws
synchronously: `set_pixels`, `set_series`, `Static.update`, ...) followed by Textual's repaint:
layout (when something asked for it), the compositor rendering the dirty regions (this is where
the widgets' `render_line` runs) and the encoding of the changed cells into terminal escape
sequences. Under `run_test` the app is headless and skips that last encoding, so this script
does it itself on every update (`CompositorUpdate.render_segments`), as a real terminal would.

Figures are main-thread CPU time (`time.thread_time`), which the other processes on a shared
machine disturb far less than wall time; the step is also given as wall time, because numba
kernels may run in worker threads. Columns:

- step: `lab.step_forward()`, wall ms (median); "of which draw" is the part spent inside the
  widgets' setters (`PixelView.set_pixels/set_overlay`, `LineChart.set_series`, `Static.update`).
- later: main-thread CPU after the step until the screen is idle again, outside the repaint
  (message handlers, `call_after_refresh` callbacks), minus the harness's own idle cost.
- paint: `Screen._on_timer_update` / `_refresh_layout` (layout, compositor, `render_line`) plus
  the terminal encoding.
- total = step + later + paint; the goal is one frame well under 16 ms (60 fps).

A second table (`--play SECONDS`) plays each lab with its own timer at `--fps` and reports the
ticks per second reached, the main-thread CPU per tick (everything: step, handlers, repaint),
and how busy the main thread was: near 100 % means the lab cannot keep up.

Usage: python benchmarks/render.py [--frames N] [--lab NAME ...] [--no-labs] [--no-widgets]
       python benchmarks/render.py --no-widgets --play 3 --fps 30
       python benchmarks/render.py --profile LAB   (cProfile of the frames, top 30 by cumtime)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import statistics
import sys
import time
from contextlib import contextmanager

import numpy as np

# Encode for a truecolor terminal (most terminals today). Textual reads this when it is imported;
# headless apps would otherwise downgrade every colour to the 256-colour palette, which costs more
# than everything else in the repaint.
os.environ.setdefault("TEXTUAL_COLOR_SYSTEM", "truecolor")
logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # labs' timers pending at exit

GOAL_MS = 16.0
SIZE = (120, 36)


# --- instrumentation -------------------------------------------------------------------
class Meter:
    """Accumulates main-thread CPU seconds spent in patched functions (re-entry counted once)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._depth: dict[str, int] = {}
        self._undo: list = []
        self.lines: dict[str, int] = {}  # lines repainted, per widget class
        self.layouts = 0  # layout passes (Screen._refresh_layout)

    def wrap(self, owner, attr: str, bucket: str) -> None:
        original = owner.__dict__[attr]
        meter = self

        def timed(*args, **kwargs):
            depth = meter._depth.get(bucket, 0)
            meter._depth[bucket] = depth + 1
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                meter._depth[bucket] = depth
                if depth == 0:
                    meter.totals[bucket] = meter.totals.get(bucket, 0.0) + time.thread_time() - start
                    meter.calls[bucket] = meter.calls.get(bucket, 0) + 1

        timed.__wrapped__ = original
        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def add(self, bucket: str, seconds: float) -> None:
        self.totals[bucket] = self.totals.get(bucket, 0.0) + seconds

    def snapshot(self) -> dict[str, float]:
        return dict(self.totals)

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()


@contextmanager
def instrumented():
    """Patch Textual and the widgets so that the repaint and the setters are timed."""
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import Static

    from textual._compositor import CompositorUpdate
    from textual._styles_cache import StylesCache
    from tutor.widgets.line_chart import LineChart
    from tutor.widgets.pixel_view import PixelView

    meter = Meter()
    meter.wrap(Screen, "_on_timer_update", "paint")
    meter.wrap(Screen, "_refresh_layout", "paint")
    meter.wrap(Screen, "_compositor_refresh", "paint")
    for owner, attr in ((PixelView, "set_pixels"), (PixelView, "set_overlay"),
                        (LineChart, "set_series"), (Static, "update")):
        meter.wrap(owner, attr, "draw")
    for owner in (PixelView, LineChart):
        meter.wrap(owner, "render_line", "widget")
    if "_update_strips" in LineChart.__dict__:  # LineChart rebuilds its strips once per repaint
        meter.wrap(LineChart, "_update_strips", "widget")
    # What gets repainted: lines per widget class, and how often the layout is recomputed.
    original_render_widget = StylesCache.__dict__["render_widget"]
    original_refresh_layout = Screen._refresh_layout

    def render_widget(cache, widget, crop):
        key = type(widget).__name__
        meter.lines[key] = meter.lines.get(key, 0) + crop.height
        return original_render_widget(cache, widget, crop)

    def refresh_layout(screen, *args, **kwargs):
        meter.layouts += 1
        return original_refresh_layout(screen, *args, **kwargs)

    StylesCache.render_widget = render_widget
    Screen._refresh_layout = refresh_layout
    meter._undo.append((StylesCache, "render_widget", original_render_widget))
    meter._undo.insert(0, (Screen, "_refresh_layout", original_refresh_layout))
    original_display = App.__dict__["_display"]

    def display(app, screen, renderable):
        # Headless apps skip the terminal encoding; do it here, as a real terminal would.
        if isinstance(renderable, CompositorUpdate):
            start = time.thread_time()
            renderable.render_segments(app.console)
            meter.add("paint", time.thread_time() - start)
            meter.add("encode", time.thread_time() - start)
        return original_display(app, screen, renderable)

    App._display = display
    try:
        yield meter
    finally:
        App._display = original_display
        meter.restore()


async def settle(pilot, rounds: int = 3) -> None:
    """Let the app process everything the step caused: deferred callbacks, then the repaint."""
    for _ in range(rounds):
        await pilot.pause()


# --- labs ---------------------------------------------------------------------------------
async def measure_lab(name: str, frames: int, warmup: int = 5, profile: cProfile.Profile | None = None):
    from tutor.labdemo import LabApp

    with instrumented() as meter:
        app = LabApp(name, {})
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, 4)
            lab = app.query_one("#lab")
            # The harness's own cost (pauses with nothing to do).
            idle = []
            for _ in range(5):
                before, c0 = meter.snapshot(), time.thread_time()
                await settle(pilot)
                idle.append(time.thread_time() - c0 - (meter.snapshot().get("paint", 0) - before.get("paint", 0)))
            idle_cost = statistics.median(idle)
            rows = []
            for i in range(warmup + frames):
                if i == warmup:
                    meter.lines.clear()
                    meter.layouts = 0
                before = meter.snapshot()
                c0, w0 = time.thread_time(), time.perf_counter()
                if profile is not None and i >= warmup:
                    profile.enable()
                moved = lab.step_forward()
                w1 = time.perf_counter()
                c1 = time.thread_time()
                after_step = meter.snapshot()
                await settle(pilot)
                if profile is not None:
                    profile.disable()
                c2 = time.thread_time()
                after = meter.snapshot()
                if not moved:
                    lab.reset_lab()
                    await settle(pilot)
                if i < warmup:
                    continue
                d = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
                step_draw = after_step.get("draw", 0.0) - before.get("draw", 0.0)
                paint = d.get("paint", 0.0)
                later = max(0.0, (c2 - c1) - paint - idle_cost)
                rows.append(dict(step=w1 - w0, step_cpu=c1 - c0, step_draw=step_draw,
                                 later=later, paint=paint, encode=d.get("encode", 0.0),
                                 widget=d.get("widget", 0.0)))
            lines, layouts = dict(meter.lines), meter.layouts
    med = {k: 1000 * statistics.median(r[k] for r in rows) for k in rows[0]}
    med["total"] = med["step"] + med["later"] + med["paint"]
    med["lines"] = {k: v / frames for k, v in sorted(lines.items(), key=lambda kv: -kv[1])}
    med["layouts"] = layouts / frames
    return med


def run_labs(names: list[str], frames: int) -> None:
    print(f"Labs at {SIZE[0]}x{SIZE[1]}, median of {frames} frames (ms; goal {GOAL_MS:g} ms per frame)")
    header = (f"{'lab':<14}{'step':>8}{'(draw)':>8}{'later':>8}{'paint':>8}{'(ours)':>8}{'(enc)':>8}"
              f"{'total':>8}  goal")
    print(header)
    print("-" * len(header))
    details = []
    for name in names:
        try:
            m = asyncio.run(measure_lab(name, frames))
        except Exception as error:  # a lab being edited by someone else must not stop the table
            print(f"{name:<14} failed: {type(error).__name__}: {error}")
            continue
        verdict = "ok" if m["total"] < GOAL_MS else "OVER"
        print(f"{name:<14}{m['step']:8.2f}{m['step_draw']:8.2f}{m['later']:8.2f}{m['paint']:8.2f}"
              f"{m['widget']:8.2f}{m['encode']:8.2f}{m['total']:8.2f}  {verdict}", flush=True)
        repainted = ", ".join(f"{k} {v:.0f}" for k, v in m["lines"].items())
        details.append(f"{name:<14}{m['layouts']:.1f} layouts/frame; lines repainted/frame: {repainted}")
    print("(ours) = PixelView/LineChart render_line inside paint; (enc) = terminal encoding inside paint")
    print("\n".join(details))


async def measure_play(name: str, seconds: float, fps: float):
    """Play the lab with its own timer at `fps` for `seconds`: ticks/s achieved, main-thread
    CPU per tick, and the repaint's share of it. Ticks end early when a lab reaches its end."""
    from tutor.labdemo import LabApp

    with instrumented() as meter:
        app = LabApp(name, {})
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, 4)
            lab = app.query_one("#lab")
            ticks = 0
            tick = lab._tick

            def counted():
                nonlocal ticks
                ticks += 1
                tick()
                if not lab.playing:  # at the end: start again, keep playing
                    lab.reset_lab()
                    lab.playing = True

            lab._tick = counted  # the timer is rebuilt with it when fps is set
            lab.fps = fps
            await settle(pilot, 2)
            before = meter.snapshot()
            c0, w0 = time.thread_time(), time.perf_counter()
            lab.playing = True
            await asyncio.sleep(seconds)
            lab.playing = False
            c1, w1 = time.thread_time(), time.perf_counter()
            paint = meter.snapshot().get("paint", 0.0) - before.get("paint", 0.0)
    ticks = max(ticks, 1)
    return dict(rate=ticks / (w1 - w0), cpu=1000 * (c1 - c0) / ticks, paint=1000 * paint / ticks,
                busy=(c1 - c0) / (w1 - w0))


def run_play(names: list[str], seconds: float, fps: float) -> None:
    print(f"\nPlaying at {fps:g} fps for {seconds:g} s ({SIZE[0]}x{SIZE[1]}; main-thread CPU per tick)")
    header = f"{'lab':<14}{'ticks/s':>9}{'cpu/tick':>10}{'paint':>8}{'busy':>7}"
    print(header)
    print("-" * len(header))
    for name in names:
        try:
            m = asyncio.run(measure_play(name, seconds, fps))
        except Exception as error:
            print(f"{name:<14} failed: {type(error).__name__}: {error}")
            continue
        print(f"{name:<14}{m['rate']:9.1f}{m['cpu']:10.2f}{m['paint']:8.2f}{m['busy']:7.0%}", flush=True)


def profile_lab(name: str, frames: int) -> None:
    profile = cProfile.Profile()
    asyncio.run(measure_lab(name, frames, profile=profile))
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


# --- widget micro-benchmarks ------------------------------------------------------------------
async def measure_widget(make, actions, repeats: int, size=(120, 36)):
    """Median CPU ms of (action + repaint) for each action, on an app holding one widget."""
    from textual.app import App, ComposeResult

    class Bench(App):
        CSS = "Screen { layout: vertical; }"

        def compose(self) -> ComposeResult:
            yield make()

    results = {}
    with instrumented() as meter:
        app = Bench()
        async with app.run_test(size=size) as pilot:
            await settle(pilot, 3)
            widget = app.screen.children[0]
            for label, action in actions:
                times, paints = [], []
                for i in range(repeats + 2):
                    before = meter.snapshot()
                    c0 = time.thread_time()
                    action(widget, i)
                    c1 = time.thread_time()
                    await settle(pilot, 2)
                    paint = meter.snapshot().get("paint", 0.0) - before.get("paint", 0.0)
                    if i >= 2:
                        times.append(c1 - c0)
                        paints.append(paint)
                results[label] = (1000 * statistics.median(times), 1000 * statistics.median(paints))
    return results


def run_widgets(repeats: int) -> None:
    from tutor.widgets.braille import BrailleCanvas
    from tutor.widgets.colormap import colormap
    from tutor.widgets.line_chart import LineChart, Series
    from tutor.widgets.pixel_view import PixelView

    rng = np.random.default_rng(0)
    print(f"\nWidgets: median of {repeats} (ms of main-thread CPU; set = the setter, paint = repaint + encoding)")
    header = f"{'case':<52}{'set':>8}{'paint':>8}{'total':>8}"
    print(header)
    print("-" * len(header))

    def show(results):
        for label, (t_set, t_paint) in results.items():
            print(f"{label:<52}{t_set:8.2f}{t_paint:8.2f}{t_set + t_paint:8.2f}", flush=True)

    # PixelView 80 x 30 cells (80 x 60 pixels).
    yy, xx = np.mgrid[0:60, 0:80]
    frames = [colormap(np.sin(xx / 9 + k / 3) * np.cos(yy / 7 - k / 5), -1, 1) for k in range(8)]
    noise = [rng.integers(0, 256, (60, 80, 3), dtype=np.uint8) for _ in range(4)]
    canvas = BrailleCanvas(80, 30)
    canvas.polyline(np.linspace(0, 159, 40), 60 + 50 * np.sin(np.linspace(0, 6, 40)), "#ffffff")
    path = canvas.cells()
    points = {(int(r), int(c)): ("●", "#ff0000") for r, c in zip(rng.integers(0, 30, 40), rng.integers(0, 80, 40))}

    def overlay(k):
        moved = dict(path)
        moved[(k % 30, (7 * k) % 70)] = ("◆ x", None)
        return {**moved, **points}

    show(asyncio.run(measure_widget(lambda: PixelView(frames[0]), [
        ("PixelView 80x30: smooth image, every row changes", lambda w, i: w.set_pixels(frames[i % 8])),
        ("PixelView 80x30: random colours, every row changes", lambda w, i: w.set_pixels(noise[i % 4])),
        ("PixelView 80x30: same image again", lambda w, i: w.set_pixels(noise[3])),
        ("PixelView 80x30: overlay only (~40 cells, 2 rows move)", lambda w, i: w.set_overlay(overlay(i))),
        ("PixelView 80x30: same overlay again", lambda w, i: w.set_overlay(overlay(0))),
        ("PixelView 80x30: image + overlay, both change", lambda w, i: (w.set_pixels(frames[i % 8]), w.set_overlay(overlay(i)))),
    ], repeats)))

    def series(n_series, n_points, shift):
        x = np.arange(n_points, dtype=float)
        return [Series(f"s{j}", np.exp(-x / (50 + 30 * j)) * (1 + 0.1 * np.sin(x / 7 + shift + j)) + 1e-3)
                for j in range(n_series)]

    data = {(s, n): [series(s, n, k) for k in range(4)] for s in (2, 8) for n in (100, 1000)}
    cases = []
    for (s, n), sets in data.items():
        cases.append((f"LineChart 80x12: {s} series x {n} points, new data",
                      lambda w, i, sets=sets: w.set_series(sets[i % 4])))
    cases.append(("LineChart 80x12: 2 x 1000, the same data again", lambda w, i: w.set_series(data[(2, 1000)][0])))
    longer = series(2, 1000 + repeats + 2, 0)
    cases.append(("LineChart 80x12: 2 x 1000, one point appended",
                  lambda w, i: w.set_series([Series(s.name, s.y[: 1001 + i]) for s in longer])))
    show(asyncio.run(measure_widget(lambda: _sized(LineChart(log_y=True, title="loss"), 80, 12), cases, repeats)))
    # A full-screen chart of noisy curves (many colour changes per row, markers with labels).
    rng = np.random.default_rng(0)
    walks = [[Series(f"s{j}", np.cumsum(rng.normal(size=400)) + k) for j in range(3)] for k in range(4)]

    def walk(w, i):
        w.markers = [(100.0, float(walks[i % 4][0].y[100]), "z₀")]
        w.set_series(walks[i % 4])

    show(asyncio.run(measure_widget(lambda: LineChart(title="loss", x_label="step"), [
        ("LineChart 120x36: 3 series x 400 points (random walks), new data", walk),
        ("LineChart 120x36: the same data and markers again", lambda w, i: walk(w, 0)),
    ], repeats)))

    # BrailleCanvas alone (no Textual).
    xs = np.linspace(0, 159, 1000)
    ys = 60 + 55 * np.sin(xs / 10)
    for label, fn in (
        ("BrailleCanvas 80x30: polyline of 1000 points + cells()", lambda: (_poly(xs, ys))),
        ("BrailleCanvas 80x30: 200 line() calls + cells()", lambda: _lines()),
        ("BrailleCanvas 80x30: lines() of 200 + cells()", lambda: _lines(batch=True)),
    ):
        times = []
        for _ in range(repeats):
            c0 = time.thread_time()
            fn()
            times.append(time.thread_time() - c0)
        print(f"{label:<52}{1000 * statistics.median(times):8.2f}{0:8.2f}{1000 * statistics.median(times):8.2f}")


def _poly(xs, ys):
    from tutor.widgets.braille import BrailleCanvas

    c = BrailleCanvas(80, 30)
    c.polyline(xs, ys, "#ffffff")
    return c.cells()


def _lines(batch: bool = False):
    from tutor.widgets.braille import BrailleCanvas

    c = BrailleCanvas(80, 30)
    k = np.arange(200)
    if batch and hasattr(c, "lines"):
        c.lines(k % 160, np.zeros(200), 159 - k % 160, np.full(200, 119), "#ff0000")
    else:
        for j in k.tolist():
            c.line(j % 160, 0, 159 - j % 160, 119, "#ff0000")
    return c.cells()


def _sized(widget, width: int, height: int):
    widget.styles.width = width
    widget.styles.height = height
    return widget


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--lab", action="append", help="only this lab (repeatable)")
    parser.add_argument("--no-labs", action="store_true")
    parser.add_argument("--no-widgets", action="store_true")
    parser.add_argument("--profile", metavar="LAB")
    parser.add_argument("--play", type=float, metavar="SECONDS",
                        help="also play each lab with its own timer for SECONDS (at --fps)")
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")
    if args.profile:
        profile_lab(args.profile, args.frames)
        return 0
    from tutor.labs import lab_names

    if not args.no_labs:
        run_labs(args.lab or list(lab_names()), args.frames)
        if args.play:
            run_play(args.lab or list(lab_names()), args.play, args.fps)
    if not args.no_widgets:
        run_widgets(max(5, args.frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
