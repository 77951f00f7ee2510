"""Driving a lab that computes ahead while it plays (the kit's `PlayAhead`), in Pilot tests."""

from __future__ import annotations


async def play_a_frame_and_compute_ahead(pilot, lab) -> None:
    """Play one frame by hand (the first: a step on the event loop), start the worker that
    computes the next states as the frame's paint would, wait for it, and pause the lab."""
    lab.fps = 1.0
    lab.playing = True
    lab._tick()                  # the first frame: a step, and the worker starts
    lab.keep_ahead()             # (after the frame's paint)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    lab.playing = False
