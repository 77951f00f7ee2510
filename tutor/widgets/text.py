"""`set_text`: update a Static without a whole-screen layout pass when its height stays the same."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from rich.cells import cell_len
from textual.widgets import Static

#: What each Static was last given by `set_text`: (text, its lines, content width, height or None).
_SHOWN: WeakKeyDictionary[Static, tuple] = WeakKeyDictionary()


def _lines(text) -> list[str]:
    return (text.plain if hasattr(text, "plain") else str(text)).split("\n")


def set_text(static: Static, text) -> None:
    """`static.update(text)`, skipping unchanged text, and the layout pass when the height of
    the text at the Static's width stays the same.

    Labs update their texts on every step; a layout pass re-lays out the whole lesson screen
    and costs more than the lab's step. The height is known without measuring when every line
    fits the width (no wrapping) before and after; otherwise it is measured with Textual's
    public `get_content_height`, so text that wraps, or a Static with a max-height, relays out
    only when its content height really changes.
    """
    shown = _SHOWN.get(static)
    if shown is not None and shown[0] == text:
        return
    lines = _lines(text)
    width = static.content_size.width

    def fits(rows: list[str]) -> bool:
        return width > 0 and max(cell_len(row) for row in rows) <= width

    if shown is not None and shown[2] == width and len(shown[1]) == len(lines) \
            and fits(lines) and fits(shown[1]):
        static.update(text, layout=False)  # no line wraps, as many lines: the same height
        height = len(lines)
    elif width <= 0 or not static.is_mounted:
        static.update(text)
        height = None
    else:
        static.update(text, layout=False)
        size = static.app.size
        height = static.get_content_height(size, size, width)
        before = shown[3] if shown is not None and shown[2] == width else static.content_size.height
        if height != before:
            static.refresh(layout=True)
    _SHOWN[static] = (text, lines, width, height)
