"""How fast the shell answers, measured on the real command in a pseudo-terminal (120x36).

- first paint: launch to the catalog's title on screen (warm numba cache);
- quit: `q` to process exit, with a warm cache and in the middle of a cold compile;
- lessons: open each lesson with `]` from the previous one; time to its title (text) and until
  the terminal goes quiet (lab drawn), median and worst; once at once (`]` as soon as the
  previous lesson is quiet: every lesson is built on the key) and once as a reader over the
  first 30 (`]` after `--read S` seconds on each lesson, default 4: the app has built the next
  lesson ahead, and run a garbage collection when one was due);
- reading (headless 120x36, the first 20 lessons, 4 s each): the event loop's longest stall
  (a key's longest wait) per lesson, while the app builds the next lesson ahead and runs a full
  garbage collection when one is due, median and worst, and the full collections' times;
- key latency while kernels compile cold: F1 (help) and escape, key to the screen's change;
- every lab's frame at 120x36 while it plays (headless, space at 10 fps): main-thread CPU from
  one playback step to the next (step, widget updates, style, layout, repaint, worker
  results), median and worst per lab; `--frames-only` runs only this part (`--labs a,b`,
  `--frames N`, default 40; a lab with settings: `--labs flow:view=2d,gan:k=3:arrows=false`).
  A lab that reaches its end is reset and played again; the frame of the reset is left out.

Usage: python benchmarks/shell.py [--quick] [--skip-cold] [--skip-frames] [--frames-only]
                                  [--skip-lessons] [--read S] [--labs a,b] [--frames N]
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOG = b"Chapters and lessons"
ESCAPE_DELAY_MS = int(os.environ.get("ESCDELAY", "100"))  # Textual's default
LAB_QUIET = 0.3
"""Seconds without output after which a lesson's lab counts as drawn (a lab is built just
after its text, and a heavy one can take more than 0.15 s before it is painted)."""


class Terminal:
    """dl-tutor running in a pseudo-terminal; `wait_for` reads its output until a marker."""

    def __init__(self, args: list[str], env: dict) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(ROOT)
            os.execvpe(sys.executable, [sys.executable, "-m", "tutor", *args], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
        self.start = time.perf_counter()
        self.seen = b""
        self.exited = False

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return b""
        self.seen = (self.seen + chunk)[-200_000:]
        return chunk

    def wait_for(self, marker: bytes, timeout: float = 60.0) -> float:
        """Seconds until `marker` appears in new output (nan on timeout)."""
        self.seen = b""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            self.read(0.02)
            if marker in self.seen:
                return time.perf_counter() - t0
        return float("nan")

    def quiet(self, gap: float = 0.15, timeout: float = 20.0) -> float:
        """Seconds until no output for `gap` seconds (the gap itself not counted)."""
        t0 = time.perf_counter()
        last = t0
        while time.perf_counter() - t0 < timeout:
            if self.read(0.01):
                last = time.perf_counter()
            elif time.perf_counter() - last > gap:
                return last - t0
        return float("nan")

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_time(self, timeout: float = 30.0) -> float:
        """Seconds until the process exits (draining its output meanwhile)."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            self.read(0.005)
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exited = True
                return time.perf_counter() - t0
        return float("nan")

    def close(self) -> None:
        if not self.exited:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


def ms(x: float) -> str:
    return f"{x * 1000:7.0f} ms"


def first_paint_and_quit(env: dict, repeats: int) -> None:
    paints, quits = [], []
    for _ in range(repeats):
        term = Terminal(["--no-resume"], env)
        paints.append(term.wait_for(CATALOG))
        term.quiet(0.3)
        term.send(b"q")
        quits.append(term.exit_time())
        term.close()
    print(f"  first catalog paint, warm cache (median of {repeats}): {ms(statistics.median(paints))}"
          f"   worst {ms(max(paints))}")
    print(f"  quit with q, warm cache (median of {repeats})         : {ms(statistics.median(quits))}"
          f"   worst {ms(max(quits))}")


def lessons(env: dict, limit: int | None, read: float = 0.0) -> None:
    sys.path.insert(0, str(ROOT))
    from tutor.content import load_catalog

    catalog = load_catalog().lessons[: limit or None]
    term = Terminal(["--open", catalog[0].id], env)
    term.wait_for(catalog[0].title.encode())
    term.quiet(0.5)
    text, drawn = [], []
    worst = ("", 0.0)
    for lesson in catalog[1:]:
        if read:
            end = time.perf_counter() + read
            while time.perf_counter() < end:
                term.read(0.05)
        term.send(b"]")
        t = term.wait_for(lesson.title.encode(), timeout=20)
        settle = term.quiet(LAB_QUIET)
        text.append(t)
        drawn.append(t + settle)
        if t + settle > worst[1]:
            worst = (lesson.id, t + settle)
    term.send(b"q")
    term.exit_time()
    term.close()
    how = f"after reading {read:g} s" if read else "at once"
    print(f"  ] to the next lesson {how}, over {len(text)} lessons: text median {ms(statistics.median(text))}"
          f" worst {ms(max(text))}; lab drawn (quiet) median {ms(statistics.median(drawn))}"
          f" worst {ms(max(drawn))} ({worst[0]})")


def ahead_stalls(limit: int) -> None:
    """The event loop's longest stall while the student reads each lesson (headless, the
    dl-tutor command's idle work on: the next lesson built ahead, a full garbage collection
    when due): a thread asks the loop to run a no-op every 5 ms and times how long each takes
    to come back. Also the full collections' own times."""
    import asyncio
    import gc
    import threading

    sys.path.insert(0, str(ROOT))
    from tutor.app import DlTutorApp
    from tutor.content import load_catalog
    from tutor.labs.gc_hold import collect_less_often

    collect_less_often()  # as the dl-tutor command
    import core

    core.warmup()  # the command loads a lab's kernels in a thread before its lab is built
    collections: list[float] = []
    began = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        elif info["generation"] == 2:
            collections.append(time.perf_counter() - began[0])

    async def run() -> list[tuple[float, str]]:
        catalog = load_catalog()
        app = DlTutorApp(catalog, warm=False, resume=False)
        app.build_ahead = True
        loop = asyncio.get_running_loop()
        pings: list[tuple[float, float]] = []
        stop = threading.Event()

        def ping() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result()
                pings.append((t, time.perf_counter() - t))
                time.sleep(0.005)

        worst = []
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            threading.Thread(target=ping, daemon=True).start()
            gc.callbacks.append(timed)
            lessons = catalog.lessons[:limit]
            for lesson, after in zip(lessons, lessons[1:]):
                app._last_input = time.monotonic()  # as the key that opened it
                app.open_lesson(lesson.id)
                start = time.perf_counter()
                await asyncio.sleep(4.0)  # the student reads
                worst.append((max(d for t, d in pings if t >= start), after.id))
            gc.callbacks.remove(timed)
            stop.set()
        return worst

    worst = asyncio.run(run())
    stalls = [d for d, _ in worst]
    print(f"  reading {len(worst)} lessons (the next built ahead): the event loop's longest stall "
          f"per lesson median {ms(statistics.median(stalls))} worst {ms(max(stalls))} "
          f"(building {max(worst)[1]}); {len(collections)} full collections, median "
          f"{ms(statistics.median(collections)) if collections else '-'}")


def cold(env: dict, tmp: str) -> None:
    cold_env = {**env, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cold")}
    term = Terminal(["--no-resume"], cold_env)
    paint = term.wait_for(CATALOG, timeout=120)
    term.quiet(0.3)
    f1, escape = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        term.send(b"\x1bOP")  # F1
        term.wait_for(b"Everywhere", timeout=20)
        f1.append(time.perf_counter() - t0)
        term.quiet(0.1)
        t0 = time.perf_counter()
        term.send(b"\x1b")
        term.wait_for(CATALOG, timeout=20)
        escape.append(time.perf_counter() - t0)
        term.quiet(0.1)
    term.send(b"q")
    quit_time = term.exit_time()
    term.close()
    latencies = f1 + escape
    print(f"  cold cache: first paint {ms(paint)}; F1/escape latency while compiling: median "
          f"{ms(statistics.median(latencies))} worst {ms(max(latencies))}; quit mid-compile {ms(quit_time)}")
    print(f"    of which F1 median {ms(statistics.median(f1))}, escape median {ms(statistics.median(escape))}"
          f" (escape includes the terminal's escape delay: a lone ESC byte is a key only after"
          f" {ESCAPE_DELAY_MS} ms without a following byte, Textual's ESCDELAY)")


def frames() -> None:
    """Every lab playing (space) at 120x36 headless: main-thread CPU of each frame (from one
    playback step to the next: the step, widget updates, style, layout, repaint, worker
    results), median and worst over the frames, with the dl-tutor command's garbage-collection
    setting."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _frame import played_frames_ms

    from tutor.labs import lab_names
    from tutor.labs.gc_hold import collect_less_often

    collect_less_often()  # the dl-tutor command's garbage-collection setting
    count = int(arg_value("--frames", "40"))
    chosen = arg_value("--labs", "")
    labs = chosen.split(",") if chosen else lab_names()
    print(f"  lab frames at 120x36 while playing (main-thread CPU per frame, {count} frames):")
    from tutor.labdemo import parse_assignments

    for lab in labs:
        try:
            name, *settings = lab.split(":")
            times = played_frames_ms(name, parse_assignments(settings), (120, 36), frames=count)
            if not times:
                print(f"    {lab:14s} no frames")
                continue
            worst = max(times)
            flag = "" if statistics.median(times) < 16 else "  > 16 ms"
            print(f"    {lab:14s} median {statistics.median(times):6.1f} ms  worst {worst:6.1f} ms"
                  f"  ({len(times)} frames){flag}", flush=True)
        except Exception as exc:  # a lab under construction must not stop the report
            print(f"    {lab:14s} failed: {exc!r}")


def arg_value(flag: str, default: str) -> str:
    """The value after `flag` on the command line, or `default`."""
    if flag in sys.argv[:-1]:
        return sys.argv[sys.argv.index(flag) + 1]
    return default


def main() -> None:
    quick = "--quick" in sys.argv
    if "--frames-only" in sys.argv:
        print("dl-tutor shell (headless 120x36)")
        frames()
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TERM": "xterm-256color", "DL_TUTOR_DATA_DIR": str(Path(tmp) / "data"),
               "PYTHONPATH": str(ROOT)}
        env.pop("NO_COLOR", None)
        print("dl-tutor shell (pseudo-terminal 120x36)")
        first_paint_and_quit(env, 3 if quick else 7)
        if "--skip-lessons" not in sys.argv:
            lessons(env, 8 if quick else None)
            lessons(env, 8 if quick else 30, read=float(arg_value("--read", "4")))
            ahead_stalls(8 if quick else 20)
        if "--skip-cold" not in sys.argv:
            cold(env, tmp)
        if "--skip-frames" not in sys.argv:
            frames()


if __name__ == "__main__":
    main()
