"""Reading a data file a lesson or a student names: regular files under a byte limit only."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _size_text(n: int) -> str:
    return f"{n:,} bytes"


def check_regular_file(path, max_bytes: int, limit_name: str, error=ValueError) -> int:
    """Refuse, without opening it, anything but a regular file of at most `max_bytes`.

    A device (/dev/zero), a pipe or a folder, a missing file, and a file larger than the limit
    (a sparse 300 MB file too) raise `error` (a ValueError subclass) with the path and, for the
    size, the limit's name and value (`MAX_CSV_BYTES = 20,000,000 bytes`). Returns the file's size."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: not a regular file (a folder or a device)")
    if st.st_size > max_bytes:
        raise error(f"{path}: {_size_text(st.st_size)}, larger than {limit_name} = "
                    f"{_size_text(max_bytes)}")
    return st.st_size


def read_regular_file(path, max_bytes: int, limit_name: str, error=ValueError) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (see `check_regular_file`); at most
    `max_bytes + 1` bytes are ever read, even if the file grows or is swapped meanwhile."""
    check_regular_file(path, max_bytes, limit_name, error)
    try:
        # O_NONBLOCK: a pipe put in the file's place after the check must not block the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise error(f"{path}: not a regular file (a folder or a device)")
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise error(f"{path}: larger than {limit_name} = {_size_text(max_bytes)}")
    return data
