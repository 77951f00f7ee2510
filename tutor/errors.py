"""Errors the student should never see as a traceback: logged to a file, reported in one line.

Plain Python (no Textual). The log lives in the user's state folder (`DL_TUTOR_STATE_DIR`, else
`DL_TUTOR_DATA_DIR`, else the platform's user state dir), so a bug report can attach it.
`report_error` logs an error and tells the student in one notification of any app; `strict()`
says when errors should propagate instead (the test suite sets `DL_TUTOR_STRICT=1`). The app's
guard (`tutor/guard.py`) and the labs' base class both use them.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

MAX_LOG_BYTES = 1_000_000
"""The log is cut back to its newer half once it grows past this size."""


def state_dir() -> Path:
    """Where the error log lives (see the module docstring)."""
    for name in ("DL_TUTOR_STATE_DIR", "DL_TUTOR_DATA_DIR"):
        override = os.environ.get(name)
        if override:
            return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("dl-tutor", appauthor=False))


def log_path() -> Path:
    return state_dir() / "errors.log"


def log_error(exc: BaseException, where: str = "") -> Path | None:
    """Append `exc` with its traceback to the error log; return the log's path (None if the
    log could not be written: the caller still reports the error in one line)."""
    path = log_path()
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            with path.open("rb") as f:
                f.seek(-MAX_LOG_BYTES // 2, os.SEEK_END)
                tail = f.read()
            path.write_bytes(tail)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {stamp} {where}\n{text}\n")
    except OSError:
        return None
    return path


def one_line(exc: BaseException) -> str:
    """`ValueError: cell (2, 2) is outside …`, at most 200 characters."""
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def strict() -> bool:
    """Whether errors should propagate (tests) instead of being reported and survived."""
    return os.environ.get("DL_TUTOR_STRICT") == "1"


def report_error(app, error: BaseException, where: str, outcome: str = "") -> None:
    """Log `error` and tell the student in one notification (with the log's path) of `app`,
    a Textual app (anything with its `notify`)."""
    path = log_error(error, where)
    errors = getattr(app, "reported_errors", None)
    if errors is not None:
        errors.append(error)
    details = f" Details were written to {path}." if path else ""
    app.notify(
        f"{one_line(error)}. {outcome}{details}".replace(". .", "."),
        title=f"Something went wrong in {where}",
        severity="error",
        timeout=30,
        markup=False,
    )
