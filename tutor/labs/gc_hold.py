"""Python's full garbage collections: one in `FULL_COLLECTION_EVERY` young ones, and none
while a lab plays.

A full (oldest-generation) collection walks every object of the app, about 190,000 with a lab
open: 100-150 ms on this machine, one every 40 or so frames of a playing lab, each a frame 6-9
times over its 16 ms. While a lab plays, the objects that exist when it starts (the app, its
screens, the lesson and the lab) are frozen (`gc.freeze`): collections walk only what was made
since. When no lab plays any more they are unfrozen, and the next full collection, with nothing
animating, finds whatever of them became garbage. Reference counting frees everything that is
not in a cycle in the meantime.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 100
"""Young-generation collections between two of Python's full garbage collections (Python's
default: 10). A full collection walks every live object: with a few lessons built (~700,000
objects, mostly Textual's widgets and their cached lines) it took 0.6 s, and opening lessons
one after another ran one every two lessons: 26 of the 68 s of CPU of opening all 84 lessons
(headless). One in a hundred: 11 s in 11 collections, 50 s in all. The garbage of left
lessons (reference cycles) still goes, less often."""


def collect_less_often() -> None:
    """Full collections one in `FULL_COLLECTION_EVERY` young ones (the `dl-tutor` command and
    the test suite's processes; the young generations keep their thresholds)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)

_playing: set[int] = set()


def hold(owner: object) -> None:
    """`owner` (a lab) started playing: freeze the objects that exist now."""
    if not _playing:
        gc.freeze()
    _playing.add(id(owner))


def release(owner: object) -> None:
    """`owner` stopped playing (or left the screen); unfreeze when no lab plays."""
    if id(owner) not in _playing:
        return
    _playing.discard(id(owner))
    if not _playing:
        gc.unfreeze()
