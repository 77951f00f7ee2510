"""One lab at full screen, without a lesson: `python -m tutor.labdemo backprop preset=notes`.

Used by the tests (a deterministic harness) and by teachers trying a lab's parameters.
"""

from __future__ import annotations

import sys
import tomllib

from textual.app import ComposeResult
from tutor.widgets.footer import KeyFooter

from tutor.guard import GuardedApp
from tutor.labs import lab_class, validate_lab


class LabApp(GuardedApp):
    """Shows one lab, validated parameters filled with defaults, and a footer of its keys."""

    CSS = "Screen { layout: vertical; }"

    def __init__(self, lab: str, params: dict | None = None) -> None:
        super().__init__()
        self.lab = lab
        self.lab_params = validate_lab(lab, params or {})
        self.animation_level = "none"
        self.ascii_mode = False
        self.kernels_ready = True

    def compose(self) -> ComposeResult:
        yield lab_class(self.lab)(self.lab_params, id="lab")
        yield KeyFooter()

    def on_lab_show_code(self, message) -> None:
        """A lab's `y`: its PyTorch code in a dialog."""
        from tutor.screens.code_dialog import CodeDialog

        self.push_screen(CodeDialog(message.title, message.code))

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.query_one("#lab").focus()


def parse_assignments(items: list[str]) -> dict:
    """Turn `key=value` strings (values in TOML syntax, bare words as strings) into a dict."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {item!r}")
        try:
            params[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            params[key] = value
    return params


def main(argv: list[str] | None = None) -> int:
    """`python -m tutor.labdemo LAB key=value ...` is `dl-tutor --lab LAB key=value ...`."""
    from tutor.__main__ import main as dl_tutor

    argv = sys.argv[1:] if argv is None else argv
    return dl_tutor(["--lab", *argv[:1], *argv[1:]] if argv else ["--help"])


if __name__ == "__main__":
    sys.exit(main())
