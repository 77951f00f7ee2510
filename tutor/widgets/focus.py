"""Containers whose focus changes only their own look, not their contents'."""

from __future__ import annotations


class RestyleSelfOnFocus:
    """Mix into a focusable container (before `Widget`) whose own focus no CSS rule of its
    contents depends on: the lesson text, a lab.

    Textual restyles a widget *and everything inside it* when its focus changes, in case a rule
    like `Lab:focus Button` exists. dl-tutor has no such rule, so moving between the text and the
    lab restyled ~100 Markdown blocks and the lab's widgets for nothing (about a third of the CPU
    of a ctrl+o). Here only the widget itself (and its scrollbars) is restyled. A rule that does
    depend on such a container's focus must not be written; `tests/tutor/test_every_lesson.py`
    checks, for every lab, that a full restyle changes nothing on screen.
    """

    def watch_has_focus(self, _has_focus: bool) -> None:
        try:
            app = self.app
        except Exception:  # not running in an app
            return
        app.stylesheet.update_nodes([self], animate=True)
