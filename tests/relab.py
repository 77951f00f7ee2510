"""A fresh lab in the same harness app: restore tests put a saved state back without a
second app boot."""

from __future__ import annotations

import json


def round_trip(state: dict) -> dict:
    """`state` as the progress file gives it back (JSON)."""
    return json.loads(json.dumps(state))


async def remount(pilot):
    """Replace the harness app's lab by a new one built from the same parameters (as when a
    lesson is opened again) and return it, mounted."""
    from tutor.widgets.footer import KeyFooter

    from tutor.labs import lab_class

    app = pilot.app
    await app.query_one("#lab").remove()
    lab = lab_class(app.lab)(app.lab_params, id="lab")
    await app.mount(lab, before=app.query_one(KeyFooter))
    lab.focus()
    await pilot.pause()
    return lab
