"""Textual's `Strip` (one line of a widget, as drawn) with its caches made when first used.

Every `Strip` Textual makes, and it makes thousands per lesson opened (each line of each widget,
and every cut and restyle of one), built seven small caches at once (`FIFOCache`s for its
cuts, crops, styles, filters...), though most strips are drawn once and never cut. They were a
fifth of the objects of the app (70,000 of 360,000 with four lessons built), slowed every
strip made, and every object is one more for Python's garbage collections to walk: opening a
lesson made about twice as many young collections, and the full ones took longer.

`install()` makes each cache when a strip first uses it, as Textual's `Content` already does
for its own. A strip that is cut or restyled behaves as before, with a cache of the same size.
`Strip` is Textual's: `install` checks that it is the one this was written against (Textual
8.2) and otherwise leaves it as it is.
"""

from __future__ import annotations

import inspect
import re

from tutor.textual_patch import checked_patch

CACHES = {
    "_divide_cache": 4,
    "_crop_cache": 16,
    "_style_cache": 16,
    "_filter_cache": 4,
    "_line_length_cache": 4,
    "_crop_extend_cache": 4,
    "_offsets_cache": 4,
}
"""The caches of a `Strip` (slot name: size, as `Strip.__init__` makes them)."""


class _CacheWhenUsed:
    """A `Strip` slot holding a `FIFOCache` of `size`, made on the first read of the slot."""

    __slots__ = ("slot", "size", "make")

    def __init__(self, slot, size: int, make) -> None:
        self.slot = slot  # the slot's own descriptor: where the cache is kept
        self.size = size
        self.make = make

    def __get__(self, strip, owner=None):
        if strip is None:
            return self
        try:
            return self.slot.__get__(strip, owner)
        except AttributeError:  # not used yet
            cache = self.make(self.size)
            self.slot.__set__(strip, cache)
            return cache

    def __set__(self, strip, value) -> None:
        self.slot.__set__(strip, value)


def _expected_api() -> bool:
    """Whether `Strip` makes exactly these caches in `__init__`, and keeps nothing else there
    but what the replacement sets."""
    from textual.strip import Strip

    try:
        source = inspect.getsource(Strip.__init__)
        params = list(inspect.signature(Strip.__init__).parameters)
    except (TypeError, ValueError, OSError):
        return False
    slots = set(getattr(Strip, "__slots__", ()))
    assigned = {line.split(":")[0].split("=")[0].strip()[len("self."):]
                for line in source.splitlines() if line.strip().startswith("self.")}
    return (params == ["self", "segments", "cell_length"]
            and assigned == set(CACHES) | {"_segments", "_cell_length", "_render_cache",
                                           "_link_ids", "_cell_count"}
            and set(CACHES) <= slots
            and all(re.search(rf"self\.{name}\b[^=]*=\s*FIFOCache\({size}\)", source)
                    for name, size in CACHES.items())
            and all(type(Strip.__dict__.get(name)).__name__ == "member_descriptor"
                    for name in CACHES))


@checked_patch(_expected_api)
def install() -> None:
    """Make `Strip`'s caches when first used (`install()` returns False when `Strip` differs)."""
    from textual.cache import FIFOCache
    from textual.strip import Strip

    def __init__(self, segments, cell_length: int | None = None) -> None:
        self._segments = list(segments)
        self._cell_length = cell_length
        self._render_cache = None
        self._link_ids = None
        self._cell_count = None

    __init__.__doc__ = Strip.__init__.__doc__
    for name, size in CACHES.items():
        setattr(Strip, name, _CacheWhenUsed(Strip.__dict__[name], size, FIFOCache))
    Strip.__init__ = __init__
