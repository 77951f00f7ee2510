"""Python's full garbage collections: one in `FULL_COLLECTION_EVERY` young ones, none while a
lab plays, and in the dl-tutor command the big ones while the student reads.

A full (oldest-generation) collection walks every object of the app, about 190,000 with a lab
open: 100-150 ms on this machine, one every 40 or so frames of a playing lab, each a frame 6-9
times over its 16 ms. While a lab plays, the objects that exist when it starts (the app, its
screens, the lesson and the lab) are frozen (`gc.freeze`): collections walk only what was made
since. When no lab plays any more they are unfrozen, and the next full collection, with nothing
animating, finds whatever of them became garbage. Reference counting frees everything that is
not in a cycle in the meantime.

In the dl-tutor command (`idle_collection`), the app calls `collect_when_idle` when the student
has been quiet a while: a full collection is run there, when due, and what survives it is
frozen. Python's own full collections, which come when objects are made (while a lesson is
built: when `]` is pressed), then walk only what was made since, and no more every object of
the kept lessons (~650,000 objects with four built: 0.2-0.5 s, up to 1.9 s on a busy machine).
A student who goes from lesson to lesson without a pause never gives it that moment, so each
lesson built is frozen too (`settled`); the screens of lessons left behind then wait, frozen,
for the next quiet moment (`dropped` counts them; past a limit they are collected as soon as
the next lesson is built).
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


IDLE_COLLECTION_AFTER = 900
"""Young-generation collections (each ~700 objects made) since the last full collection at an
idle moment before another one is due (Python's own: 1,000; building one lesson makes ~150)."""

QUIET_BEFORE_COLLECTING = 3.0
"""Seconds without a key before a full collection (0.3-0.8 s of the event loop) is run: a
student quiet that long is reading, and the next key seldom comes in the middle of it."""

idle_collection = False
"""Set by the dl-tutor command, whose app calls `collect_when_idle` while the student reads:
objects frozen stay frozen until then (else they are unfrozen when no lab plays)."""

DROPPED_BEFORE_COLLECTING = 8
"""Lesson screens dropped since the last full collection (garbage, but frozen: ~10 MB each)
after which one is run at the app's next quiet moment (0.6 s), not only after
`QUIET_BEFORE_COLLECTING` s."""

DROPPED_AT_MOST = 12
"""Dropped screens after which a full collection runs as soon as the next lesson is built
(`settled`: its text and lab are on screen), quiet or not. A student who never pauses then
waits for one collection of a dozen dropped screens once in a while (~0.5-0.8 s), instead of
for Python's own full collections of everything, garbage included (1.2-1.4 s each, at any key,
when the frozen objects used to be thawed at 24)."""

_playing: set[int] = set()
_young_at_last = 0
_dropped = 0


def collect_when_idle(quiet: float) -> bool:
    """The student has been quiet for `quiet` seconds (no lab playing): if that is at least
    `QUIET_BEFORE_COLLECTING` and a collection is due, or `DROPPED_BEFORE_COLLECTING` lesson
    screens wait frozen, unfreeze, run a full collection and freeze what survives. True when
    it ran."""
    global _young_at_last, _dropped
    young = gc.get_stats()[0]["collections"]
    due = quiet >= QUIET_BEFORE_COLLECTING and young - _young_at_last >= IDLE_COLLECTION_AFTER
    if _playing or not (due or _dropped >= DROPPED_BEFORE_COLLECTING):
        return False
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _young_at_last = gc.get_stats()[0]["collections"]
    _dropped = 0
    return True


def settled() -> None:
    """A lesson was built (shown, or ahead), its lab too: in the dl-tutor command freeze what
    exists now, so that Python's own full collections, which come while the next lesson is
    built, walk only what is made after it (a few thousand objects, not ~400,000). With
    `DROPPED_AT_MOST` dropped screens waiting (no quiet moment came), collect them first."""
    global _young_at_last, _dropped
    if not idle_collection:
        return
    if _dropped >= DROPPED_AT_MOST and not _playing:
        gc.unfreeze()
        gc.collect()
        _young_at_last = gc.get_stats()[0]["collections"]
        _dropped = 0
    gc.freeze()


def dropped() -> None:
    """A lesson screen was let go (garbage, and frozen if `settled` froze it)."""
    global _dropped
    _dropped += 1


def hold(owner: object) -> None:
    """`owner` (a lab) started playing: freeze the objects that exist now."""
    if not _playing:
        gc.freeze()
    _playing.add(id(owner))


def release(owner: object) -> None:
    """`owner` stopped playing (or left the screen); unfreeze when no lab plays (unless the
    app collects while idle: then at its next idle collection)."""
    if id(owner) not in _playing:
        return
    _playing.discard(id(owner))
    if not _playing and not idle_collection:
        gc.unfreeze()
