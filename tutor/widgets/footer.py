"""The key footer: the keys of the focused widget and its screen, drawn as one line.

Textual's Footer is a container of one widget per key (a dozen, each styled and laid out) and
recomposes them whenever the focus moves: every ctrl+o between the lesson text and the lab cost
two layout passes of the whole screen (~120 ms of the ~130 ms the key took). This footer is one
widget of height 1 that looks the same (the key in bold, its description, the command palette's
key on the right) and answers the mouse the same (a click presses the key, hovering shows it):
when the keys change it is only repainted.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tutor.widgets.parts import ClickableParts


@dataclass(frozen=True)
class FooterItem:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    palette: bool = False

    def label(self) -> tuple[str, str]:
        """The key's part and the description's part, padded as Textual's footer pads them
        (the palette's key is drawn compact: no padding round the key)."""
        if self.palette:
            return self.display, (f" {self.description}" if self.description else "")
        return f" {self.display} ", (f"{self.description} " if self.description else "")

    @property
    def width(self) -> int:
        key, description = self.label()
        return cell_len(key) + cell_len(description)


class KeyFooter(ClickableParts, Widget, can_focus=False):
    """The keys the student can press here, on the screen's last line."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--item",
        "key-footer--hover",
        "key-footer--palette-border",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--item { background: $footer-item-background; }
        & > .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-footer--hover { color: $footer-key-foreground; background: $block-hover-background; }
        & > .key-footer--palette-border { color: $foreground 20%; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: tuple[FooterItem, ...] = ()
        self._spans: list[tuple[int, int, FooterItem]] = []  # (start, end, item) as drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    @property
    def items(self) -> tuple[FooterItem, ...]:
        """The keys shown, in order (the palette's last)."""
        return self._items

    def bindings_changed(self, screen) -> None:
        """The focus or a binding changed: repaint if the keys shown differ."""
        if not self.is_attached or screen is not self.screen:
            return
        items = self._collect(screen)
        if items != self._items:
            self._items = items
            self.refresh()

    def _collect(self, screen) -> tuple[FooterItem, ...]:
        app = self.app
        bindings = screen.active_bindings
        seen_actions: set[str] = set()
        items = []
        for _node, binding, enabled, tooltip in bindings.values():
            if not binding.show or binding.action in seen_actions:
                continue  # one key per action, as Textual's footer shows it
            seen_actions.add(binding.action)
            items.append(FooterItem(binding.key, app.get_key_display(binding),
                                    binding.description, enabled, tooltip or ""))
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in bindings:
            _node, binding, enabled, tooltip = bindings[app.COMMAND_PALETTE_BINDING]
            items = [item for item in items if item.key != binding.key]
            items.append(FooterItem(binding.key, app.get_key_display(binding), binding.description,
                                    enabled, binding.tooltip or binding.description, palette=True))
        return tuple(items)

    def render(self) -> Text:
        width = self.size.width
        item_style = self.get_component_rich_style("key-footer--item")
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        hover_style = self.get_component_rich_style("key-footer--hover")
        border_style = self.get_component_rich_style("key-footer--palette-border")
        keys = [item for item in self._items if not item.palette]
        palette = next((item for item in self._items if item.palette), None)
        room = width - (palette.width + 2 if palette else 0)  # border and right padding
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, FooterItem]] = []
        x = 0
        for item in keys:
            if x >= room:
                break
            self._draw(line, item, item_style, key_style, description_style, hover_style)
            spans.append((x, min(x + item.width, room), item))
            x += item.width
        line.truncate(max(room, 0))
        line.append(" " * (room - line.cell_len), Style(bgcolor=self.rich_style.bgcolor))
        if palette is not None and width > palette.width + 2:
            line.append("▏", item_style + border_style)
            self._draw(line, palette, item_style, key_style, description_style, hover_style)
            line.append(" ", item_style)
            spans.append((room + 1, width - 1, palette))
        self._spans = spans
        return line

    def _draw(self, line: Text, item: FooterItem, item_style: Style, key_style: Style,
              description_style: Style, hover_style: Style) -> None:
        key, description = self.label_styles(item, item_style, key_style, description_style,
                                             hover_style)
        key_text, description_text = item.label()
        line.append(key_text, key)
        if description_text:
            line.append(description_text, description)

    def label_styles(self, item: FooterItem, item_style: Style, key_style: Style,
                     description_style: Style, hover_style: Style) -> tuple[Style, Style]:
        # Hovered, the key's whole cell takes the hover background (as Textual's :hover).
        hover = Style(bgcolor=hover_style.bgcolor) if item == self.hovered else Style()
        dim = Style(dim=True) if not item.enabled else Style()
        return (item_style + key_style + dim + hover,
                item_style + description_style + dim + hover)

    # --- the mouse (ClickableParts) -----------------------------------------------------
    def part_at(self, x: int, y: int) -> FooterItem | None:
        return next((item for start, end, item in self._spans if start <= x < end), None)

    def part_tooltip(self, item: FooterItem) -> str | None:
        return item.tooltip or None

    def press_part(self, item: FooterItem) -> None:
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
