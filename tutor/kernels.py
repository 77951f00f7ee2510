"""Kernel warm-up off the app's process: a child compiles into numba's on-disk cache, the app
then only loads each package from the cache (no compile competes with the UI for the GIL).

`python -m tutor.kernels PACKAGE...` is the child: it prints one line per kernel
(`kernel DONE TOTAL NAME`), one per finished package (`package NAME`) and one per failure
(`failed NAME: MESSAGE`). `KernelCompiler` runs it and reads those lines; `stop()` ends it at
once (quitting never waits for a compile).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class KernelCompiler:
    """The child process compiling `packages`, one at a time, in order."""

    def __init__(self, packages: list[str]) -> None:
        self.packages = list(packages)
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def lines(self) -> Iterator[str]:
        """Start the child and yield its lines until it ends (or `stop()` is called)."""
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        with self._lock:
            if self._stopped:
                return
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tutor.kernels", *self.packages],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, env=env, start_new_session=True,
            )
        proc = self._proc
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if self._stopped:
                    return
                yield line.rstrip("\n")
        finally:
            proc.stdout.close()
            if self._stopped and proc.poll() is None:
                proc.kill()
            proc.wait()

    def stop(self) -> None:
        """End the child now (safe to call from any thread, any number of times)."""
        with self._lock:
            self._stopped = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass


def run_child(packages: list[str], out: Callable[[str], None]) -> int:
    """Compile the kernels of `packages` in order, reporting on `out` (the child's body)."""
    import core

    total = len(core.kernel_names(packages))
    done_before = 0
    for package in packages:
        count = [0]

        def progress(done: int, _total: int, name: str, _before=done_before) -> None:
            count[0] = done
            out(f"kernel {_before + done} {total} {name}")

        for name, exc in core.warmup(progress, packages=[package]):
            out(f"failed {name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        done_before += count[0]
        out(f"package {package}")
    return 0


def main(argv: list[str]) -> int:
    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        return run_child(argv, out)
    except BrokenPipeError:  # the app went away: nothing to report to
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
