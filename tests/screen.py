"""What the student sees: the text of an app's screen, for assertions in Pilot tests."""

from __future__ import annotations


def screen_text(app) -> str:
    """The screen as plain text, one line per terminal row (colours and styles dropped)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
