"""dl-tutor's headless numerical core: NumPy in, NumPy out, numba kernels inside.

Importing `core` is cheap: it only points numba's on-disk cache at a writable, versioned folder
(before numba is first imported, since numba reads the setting once) and exposes the subpackages
lazily. `core.warmup()` compiles every registered kernel ahead of use.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

#: The public subpackages, in the order the course meets them.
SUBPACKAGES = ("autodiff", "optim", "nn", "vision", "data", "tensor", "recurrent", "robust", "rl",
               "generative")

__all__ = ["SUBPACKAGES", "cache_dir", "kernel_names", "warmup", *SUBPACKAGES]

_CACHE_ENV = "NUMBA_CACHE_DIR"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "0"


def _writable(folder: Path) -> bool:
    """True when `folder` exists (or can be made) and a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _choose_cache_dir() -> Path | None:
    """The first writable candidate: the user's setting, the user cache dir, the temp dir."""
    tag = f"numba-{_version('dl-tutor')}-{_version('numba')}"
    candidates: list[Path] = []
    if os.environ.get(_CACHE_ENV):
        candidates.append(Path(os.environ[_CACHE_ENV]))
    try:
        from platformdirs import user_cache_dir

        candidates.append(Path(user_cache_dir("dl-tutor", appauthor=False)) / tag)
    except Exception:  # platformdirs missing or the home folder unusable
        pass
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(Path(tempfile.gettempdir()) / f"dl-tutor-{uid}" / tag)
    for folder in candidates:
        if _writable(folder):
            return folder
    return None


def _configure_cache() -> Path | None:
    folder = _choose_cache_dir()
    if folder is None:
        # No writable folder anywhere: numba would raise at decoration time with cache=True,
        # so _jit falls back to cache=False (slower starts, never a crash).
        os.environ.pop(_CACHE_ENV, None)
        os.environ["DL_TUTOR_NO_CACHE"] = "1"
        return None
    os.environ[_CACHE_ENV] = str(folder)
    return folder


_CACHE_DIR = _configure_cache()


def cache_dir() -> Path | None:
    """The folder numba caches compiled kernels in, or None when nothing was writable."""
    return _CACHE_DIR


def warmup(progress_callback=None, packages=None) -> list[tuple[str, BaseException]]:
    """Compile (or load from cache) every registered kernel of `packages` (default: all).

    `progress_callback(done, total, name)` is called after each kernel. Returns the kernels that
    failed with their exceptions; a failure never stops the others.
    """
    packages = SUBPACKAGES if packages is None else tuple(packages)
    unknown = sorted(set(packages) - set(SUBPACKAGES))
    if unknown:
        raise ValueError(f"unknown core package {unknown[0]!r}; expected some of {SUBPACKAGES}")
    for name in packages:
        importlib.import_module(f"core.{name}")
    from core import _jit

    return _jit.compile_all(progress_callback, packages)


def kernel_names(packages=None) -> list[str]:
    """The names of the registered kernels of `packages` (default: all), importing them first."""
    packages = SUBPACKAGES if packages is None else tuple(packages)
    for name in packages:
        importlib.import_module(f"core.{name}")
    from core import _jit

    return [k.name for k in _jit.registered() if k.name.split(".")[1] in packages]


def __getattr__(name: str):
    if name in SUBPACKAGES:
        return importlib.import_module(f"core.{name}")
    raise AttributeError(f"module 'core' has no attribute {name!r}")
