"""A seeded random-key walk over every lab: no exception reaches the app, the lab stays shown.

Keys: the lab's own bindings, the shared lab keys, printable characters, tab, shift+tab, escape,
enter, arrows and backspace, with a few terminal resizes. A few hundred keys per lab, no sleeps.
"""

from __future__ import annotations

import random

import pytest

from tests.keys import press

from tutor.labs import lab_names
from tutor.labs.base import Lab

SHARED = ["space", "n", "b", "r", "plus", "minus", "y"]
MOVES = ["tab", "shift+tab", "escape", "enter", "up", "down", "left", "right", "backspace"]
PRINTABLE = list("0123456789.-e,aAzZ ") + ["full_stop", "comma", "minus"]
SIZES = [(120, 36), (80, 30), (60, 16), (100, 24)]
KEYS_PER_LAB = 100


def _lab_keys(lab_cls) -> list[str]:
    keys = []
    for cls in lab_cls.__mro__:
        for binding in getattr(cls, "BINDINGS", []) if isinstance(getattr(cls, "BINDINGS", None), list) else []:
            key = binding.key if hasattr(binding, "key") else binding[0]
            keys += [k.strip() for k in key.split(",")]
    return [k for k in keys if k not in ("q", "ctrl+q", "ctrl+p", "ctrl+c")]


async def _close_dialogs(pilot) -> None:
    app = pilot.app
    for _ in range(4):
        if len(app.screen_stack) <= 1:
            return
        await pilot.press("escape")
        await pilot.pause()


@pytest.mark.parametrize("lab", lab_names())
async def test_random_keys_never_break_a_lab(lab_app, lab):
    from tutor.labs import lab_class

    rng = random.Random(f"random-keys-{lab}")
    pool = _lab_keys(lab_class(lab)) * 3 + SHARED * 2 + MOVES * 2 + PRINTABLE
    app = lab_app(lab)
    async with app.run_test(size=SIZES[0]) as pilot:
        await pilot.pause()
        for k in range(KEYS_PER_LAB):
            if k % 40 == 39:
                await pilot.resize_terminal(*rng.choice(SIZES))
            key = rng.choice(pool)
            await press(pilot, key)
            if k % 20 == 19:
                await pilot.pause()
                await _close_dialogs(pilot)
                widget = app.query_one(Lab)
                assert widget.is_attached and widget.display, f"{lab}: the lab is gone after {key!r}"
                assert app.screen is app.screen_stack[0]
        app.query_one(Lab).playing = False
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.reported_errors == [], f"{lab}: errors were reported: {app.reported_errors}"


async def test_random_shell_keys_across_lessons():
    """The shell's own keys too: [ ] d f ctrl+o escape enter c, with lab keys in between, over
    lessons kept built, left, restored: no exception, always a catalog or a lesson on screen."""
    from tutor.app import DlTutorApp
    from tutor.screens.catalog import CatalogScreen
    from tutor.screens.lesson import LessonScreen

    rng = random.Random("random-shell-keys")
    shell = ["left_square_bracket", "right_square_bracket", "d", "f", "ctrl+o", "escape",
             "enter", "c", "down", "up"]
    pool = shell * 3 + SHARED + MOVES + ["w", "m", "v", "k", "1", "minus"]
    app = DlTutorApp(warm=False, resume=False, open_lesson="rl-mdp")
    app.animation_level = "none"
    async with app.run_test(size=SIZES[0]) as pilot:
        await pilot.pause()
        for k in range(100):
            await press(pilot, rng.choice(pool))
            if k % 15 == 14:
                await pilot.pause()
                await _close_dialogs(pilot)
                assert isinstance(app.screen, (CatalogScreen, LessonScreen)), app.screen
        for screen in app.screen_stack:
            for lab in screen.query(Lab):
                lab.playing = False
        await pilot.pause()
        assert app.reported_errors == []
