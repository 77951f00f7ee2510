"""Snapshots of the catalog and a lesson at 120x36 (plain `def`: snap_compare needs it)."""

from __future__ import annotations

from tutor.app import DlTutorApp
from tutor.progress import Progress


def _app() -> DlTutorApp:
    progress = Progress.load()
    progress.set_done("how-to-use")
    progress.open_lesson("what-is-deep-learning")
    app = DlTutorApp(progress=progress, warm=False, resume=False)
    app.animation_level = "none"
    return app


def test_catalog_snapshot(snap_compare):
    assert snap_compare(_app(), terminal_size=(120, 36))


def test_lesson_snapshot(snap_compare):
    async def open_lesson(pilot):
        pilot.app.open_lesson("training-objective")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(120, 36), run_before=open_lesson)
