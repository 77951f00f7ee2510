"""Data files named by a lesson or typed by the student, read once per file version.

A lab widget reads the file in a thread worker (`tutor.labs.kit.read_data_file`); its model,
rebuilt afterwards on the event loop, finds the result here instead of reading again. The core's
readers refuse devices and files over their byte limits before reading anything. Plain Python
(no Textual): models import it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Callable

_CACHE: OrderedDict[tuple, object] = OrderedDict()
_CACHE_SIZE = 4


def _key(read: Callable, path: str, args: tuple) -> tuple | None:
    try:
        st = os.stat(os.path.expanduser(path))
    except OSError:
        return None  # the reader says why the file cannot be read
    return (read, path, args, st.st_mtime_ns, st.st_size)


def is_cached(read: Callable, path: str, *args) -> bool:
    """Whether `read(path, *args)` would come from the cache (no file read on this thread)."""
    key = _key(read, path, args)
    return key is not None and key in _CACHE


def cached_read(read: Callable, path: str, *args):
    """`read(path, *args)`, once per version (mtime, size) of the file: a later call returns the
    same object (callers copy what they change). Thread-safe enough: a race reads twice and
    keeps one. Errors (ValueError) are not cached."""
    key = _key(read, path, args)
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    result = read(path, *args)
    if key is not None:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result
