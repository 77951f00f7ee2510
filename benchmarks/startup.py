"""Time from launching `dl-tutor` to its first painted catalog, with a cold and a warm numba cache.

Runs the real command in a pseudo-terminal (120x36) and watches its output for the catalog's
title; also times `dl-tutor --warmup` (compiling every kernel) cold and warm. Goal: first
screen under 1 s with a warm cache; the first screen never waits for compilation.
Usage: python benchmarks/startup.py [repeats]
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

MARKER = b"Chapters and lessons"


def dl_tutor() -> list[str]:
    exe = shutil.which("dl-tutor")
    return [exe] if exe else [sys.executable, "-m", "tutor"]


def first_paint(env: dict, timeout: float = 120.0) -> float:
    """Seconds from spawn until the catalog's title has been written to the terminal."""
    pid, fd = pty.fork()
    if pid == 0:  # child: become dl-tutor
        os.execvpe(dl_tutor()[0], dl_tutor() + ["--no-resume"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    start = time.perf_counter()
    seen = b""
    elapsed = float("nan")
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                seen = (seen + chunk)[-4096:]
                if MARKER in seen:
                    elapsed = time.perf_counter() - start
                    break
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    return elapsed


def warmup_time(env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(dl_tutor() + ["--warmup"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "DL_TUTOR_DATA_DIR": str(Path(tmp) / "data"),
            "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cold"),
        }
        cold_paint = first_paint(env)
        cold_warmup = warmup_time({**env, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cold2")})
        warm_warmup = warmup_time({**env, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cold2")})
        env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba-cold2")
        warm = sorted(first_paint(env) for _ in range(repeats))
    print("dl-tutor start-up (pseudo-terminal 120x36)")
    print(f"  first catalog paint, cold numba cache : {cold_paint * 1000:7.0f} ms")
    print(f"  first catalog paint, warm cache (median of {repeats}): {warm[len(warm) // 2] * 1000:7.0f} ms"
          f"  (min {warm[0] * 1000:.0f}, max {warm[-1] * 1000:.0f})")
    print(f"  dl-tutor --warmup, cold cache (compile every kernel): {cold_warmup:7.1f} s")
    print(f"  dl-tutor --warmup, warm cache (load every kernel)   : {warm_warmup:7.1f} s")
    print("  goal: warm first paint < 1000 ms:", "met" if warm[len(warm) // 2] < 1.0 else "NOT met")


if __name__ == "__main__":
    main()
