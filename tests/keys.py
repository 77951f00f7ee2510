"""Pressing keys in Pilot tests without Pilot's idle waits, for the long key walks."""

from __future__ import annotations

from textual import events
from textual.keys import key_to_character

HOPS = 3
"""Rounds of message processing after a key: the app, the screen, the focused widget."""


async def press(pilot, *keys: str) -> None:
    """Press `keys` as a student would, like `Pilot.press`, but without its wait for the
    process to look idle after each key (a 20 ms window with no CPU, up to 1 s, twice a key).
    A playing lab is never idle, so each key pressed while a lab played took 2 s: most of the
    course walk's and the random-key walks' time. Here every message the key causes is
    processed (`pilot.pause(0)` waits for every widget's queue, `HOPS` times) before the next
    key; the timers of a playing lab get no extra wall-clock time."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key_to_character(key)))
        for _ in range(HOPS):
            await pilot.pause(0)
