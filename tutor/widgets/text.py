"""`set_text`: update a Static without a whole-screen layout pass when its height cannot change."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


def set_text(static: Static, text) -> None:
    """`static.update(text)`, skipping unchanged text, and the layout pass when the height
    cannot change (same number of lines, every line fits the width).

    Labs update their texts on every step; a layout pass re-lays out the whole lesson screen
    and costs more than the lab's step.
    """
    lines = (text.plain if hasattr(text, "plain") else str(text)).split("\n")
    last = getattr(static, "_last_text", None)
    static._last_text = (text, lines)
    if last is not None and last[0] == text:
        return
    width = static.content_size.width

    def fits(rows: list[str]) -> bool:
        return width > 0 and max(cell_len(row) for row in rows) <= width

    same_height = last is not None and len(last[1]) == len(lines) and fits(lines) and fits(last[1])
    static.update(text, layout=not same_height)
