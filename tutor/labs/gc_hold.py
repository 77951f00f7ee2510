"""Python's full garbage collections held off while a lab plays.

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
