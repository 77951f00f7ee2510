"""The help screen (F1 or ?): every key of the app, the lesson screen and the labs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# dl-tutor keys

## Everywhere
| key | does |
|---|---|
| `F1` or `?` | this help |
| `ctrl+p` | command palette: *go to lesson…*, change theme |
| `ctrl+t` | next colour theme (remembered) |
| `q` or `ctrl+q` | quit (your progress is saved as you go) |

## Catalog
| key | does |
|---|---|
| `↑` `↓` | move between lessons (○ new, ◐ started, ● done) |
| `enter` | open the lesson |

## Lesson
| key | does |
|---|---|
| `[` / `]` | previous / next lesson |
| `d` | mark the lesson done (again to undo) |
| `f` | show the lab at full width (again to bring the text back) |
| `ctrl+o` | move the focus between the text and the lab |
| `tab` | next control (quiz answers, lab inputs) |
| `escape` | back to the catalog |

## Every lab
| key | does |
|---|---|
| `space` | play / pause |
| `n` | one step forward |
| `b` | one step back |
| `r` | reset |
| `+` / `-` | faster / slower |
| `y` | show the same computation in PyTorch |

Each lab lists its own extra keys in the footer at the bottom of the screen.
"""


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys; escape, q or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: 80%; border: round $accent; background: $surface;
    }
    """

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def __init__(self, lab_title: str | None = None, lab_keys: list[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.lab_title = lab_title
        self.lab_keys = list(lab_keys)

    def compose(self) -> ComposeResult:
        text = HELP
        if self.lab_keys:
            rows = "\n".join(f"| `{key}` | {what} |" for key, what in self.lab_keys)
            text += f"\n## This lab: {self.lab_title}\n| key | does |\n|---|---|\n{rows}\n"
        with VerticalScroll():
            yield Markdown(text)


def lab_keys(lab) -> list[tuple[str, str]]:
    """The keys a lab adds to the shared ones, as (key, description), from its class bindings."""
    from tutor.labs.base import Lab

    shared = {b.action for b in Lab.BINDINGS if isinstance(b, Binding)}
    keys: dict[str, tuple[str, str]] = {}
    for cls in type(lab).__mro__:
        for binding in getattr(cls, "BINDINGS", []) if cls is not Lab else []:
            if isinstance(binding, tuple):
                binding = Binding(*binding)
            if binding.action in shared or not binding.description:
                continue
            keys.setdefault(binding.action, (binding.key.replace("_", " "), binding.description))
    return list(keys.values())
