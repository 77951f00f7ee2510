"""Kernel warm-up off the app's process: a child compiles into numba's on-disk cache, the app
then only loads each package from the cache (no compile competes with the UI for the GIL).

`python -m tutor.kernels PACKAGE...` is the child: it prints one line per kernel
(`kernel DONE TOTAL NAME`), one per finished package (`package NAME`) and one per failure
(`failed NAME: MESSAGE`). `KernelCompiler` runs it and reads those lines; `stop()` ends it at
once (quitting never waits for a compile).

The child also notes each package it cached without a failure (`mark_cached`), with a stamp
of the core's sources, numba and Python (`sources_stamp`). On the next start the app loads
the packages so noted at once (`known_cached`), without waiting for the child to start and
confirm them (~1 s of a lesson opened with `--open`): numba's cache for them was filled from
the same sources. A changed source, numba or Python changes the stamp, and the app waits for
the child as on a first run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

MARKS = "dl-tutor-cached"
"""The folder, inside numba's cache folder, of the packages noted as cached (one file each)."""


def sources_stamp() -> str:
    """A digest of what numba's cache of the core depends on: every source file of `core`
    (path, size, modification time), numba's and Python's versions."""
    import core

    root = Path(core.__file__).resolve().parent
    digest = hashlib.sha256(f"{sys.version}|{_numba_version()}".encode())
    for path in sorted(root.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _numba_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("numba")
    except metadata.PackageNotFoundError:
        return "0"


def _marks_dir() -> Path | None:
    import core

    folder = core.cache_dir()
    return None if folder is None else folder / MARKS


def mark_cached(package: str, stamp: str) -> None:
    """Note that `package` is in numba's cache, built from sources with `stamp` (the child,
    after compiling it without a failure). Never raises: a note not written is only a slower
    next start."""
    folder = _marks_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{package}.{os.getpid()}"
        temporary.write_text(stamp)
        temporary.replace(folder / package)
    except OSError:
        pass


def known_cached(packages: Iterable[str], stamp: str | None = None) -> set[str]:
    """Those of `packages` noted as cached from sources with the current stamp."""
    folder = _marks_dir()
    if folder is None or not folder.is_dir():
        return set()
    stamp = sources_stamp() if stamp is None else stamp
    found = set()
    for package in packages:
        try:
            if (folder / package).read_text() == stamp:
                found.add(package)
        except (OSError, UnicodeDecodeError):
            continue
    return found


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
    stamp = sources_stamp()
    done_before = 0
    for package in packages:
        count = [0]

        def progress(done: int, _total: int, name: str, _before=done_before) -> None:
            count[0] = done
            out(f"kernel {_before + done} {total} {name}")

        failures = core.warmup(progress, packages=[package])
        for name, exc in failures:
            out(f"failed {name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        done_before += count[0]
        if not failures and not os.environ.get("DL_TUTOR_NO_CACHE"):
            mark_cached(package, stamp)
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
