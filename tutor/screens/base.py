"""What every dl-tutor screen shares: the size classes set before the first layout."""

from __future__ import annotations

from textual import events
from textual.screen import Screen


def breakpoint_classes(app, width: int, height: int) -> dict[str, bool]:
    """The app's breakpoint classes (-narrow, -tall-enough...) for a terminal of this size,
    as Textual's `Screen._on_resize` sets them: the largest breakpoint not above the size."""
    classes: dict[str, bool] = {}
    for points, size in ((app.HORIZONTAL_BREAKPOINTS or [], width),
                         (app.VERTICAL_BREAKPOINTS or [], height)):
        for _, name in points:
            classes[name] = False
        fitting = [(at, name) for at, name in points if size >= at]
        if fitting:
            classes[max(fitting)[1]] = True
    return classes


class TutorScreen(Screen):
    """A screen styled once when it is built, not three times.

    - Its size classes are right from its first layout. Textual sets them on the screen's first
      Resize, after the screen is composed, and a change of class restyles every widget on it: a
      second full restyle on every lesson opened (measured ~15% of the CPU of opening one). Set
      here, the Resize finds nothing to change.
    - Shown for the first time, it is not restyled: Textual restyles a screen whenever it is
      shown (a kept lesson may have missed a theme change while away), also the first time, a
      moment after every widget on it was styled as it was mounted.
    - Its first layout is not done twice: the first layout sends the screen, a widget new to
      it, a Resize to its own size, and Textual's handler lays the whole screen out again
      (~25 ms of a lesson opened). A resize of the terminal is laid out as before.
    """

    _shown_before = False
    _resized_before = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        try:
            app = self.app
        except Exception:  # built outside a running app (a test): Textual sets them on resize
            return
        width, height = app.size
        self.update_classes(breakpoint_classes(app, width, height), update=False)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (Textual calls each class's handler, subclass first).
        if not self._shown_before:
            self._shown_before = True
            event.refresh_styles = False

    async def _on_resize(self, event: events.Resize) -> None:
        # Runs before Screen's own handler, which prevent_default() skips.
        first, self._resized_before = not self._resized_before, True
        if not first or event.size != self._compositor.size:
            return
        # A screen built ahead may have been built at another size: its classes must fit.
        fitting = breakpoint_classes(self.app, event.size.width, event.size.height)
        if all(self.has_class(name) == on for name, on in fitting.items()):
            event.prevent_default()
