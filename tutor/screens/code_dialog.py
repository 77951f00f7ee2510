"""A modal showing Python code (e.g. the PyTorch version of a lab) to read and copy."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class CodeDialog(ModalScreen[None]):
    """Syntax-highlighted code in a scrollable box; `c` copies it, escape or `q` closes."""

    DEFAULT_CSS = """
    CodeDialog {
        align: center middle;
        & > #code-dialog {
            width: 90%;
            max-width: 110;
            height: 85%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        & #code-dialog--title {
            width: 1fr;
            text-style: bold;
            color: $text-primary;
        }
        & #code-dialog--scroll {
            height: 1fr;
            background: $background;
        }
        & #code-dialog--code {
            width: auto;
        }
        & #code-dialog--hint {
            width: 1fr;
            color: $text-muted;
        }
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("c", "copy", "Copy code"),
    ]

    def __init__(self, title: str, code: str) -> None:
        super().__init__()
        self.title_text = title
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical(id="code-dialog"):
            yield Label(self.title_text, id="code-dialog--title", markup=False)
            with VerticalScroll(id="code-dialog--scroll"):
                yield Static(self._syntax(), id="code-dialog--code")
            yield Label("c copy · ↑↓ scroll · esc close", id="code-dialog--hint")

    def on_mount(self) -> None:
        self.query_one("#code-dialog--scroll").focus()

    def _syntax(self) -> Syntax:
        dark = getattr(self.app.current_theme, "dark", True)
        return Syntax(
            self.code.rstrip("\n"),
            "python",
            theme="monokai" if dark else "friendly",
            line_numbers=True,
            background_color="default",
        )

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        lines = len(self.code.rstrip("\n").splitlines())
        self.notify(f"Copied {lines} lines of code to the clipboard.", title="Copied")
