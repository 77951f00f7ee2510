"""The key footer: Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's Footer rebuilds all its keys (a dozen widgets, each styled) whenever the
    focus moves, also when the keys shown stay the same. Opening a lesson moves the focus two
    or three times; moving between the text and the lab, every time. This one rebuilds only
    when the shown keys (key, label, enabled) differ from the ones on screen."""

    _shown: tuple | None = None

    def bindings_changed(self, screen) -> None:
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )
        if shown == self._shown and self.is_attached and screen is self.screen and self.children:
            return
        self._shown = shown
        super().bindings_changed(screen)
