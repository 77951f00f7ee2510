"""Keep the app alive through a lab's error: actions guarded, errors logged, no traceback shown.

`GuardedApp` is mixed into every app that shows labs (the tutor and the one-lab harness); the
`Lab` base class guards its own message handlers, timer and workers. With `DL_TUTOR_STRICT=1`
(set by the test suite) errors propagate as before, so a test still fails on them.
"""

from __future__ import annotations

from textual.app import App

from tutor.errors import log_error, one_line, report_error, strict


def lab_of(node) -> object | None:
    """The `Lab` that `node` is or sits in, if any."""
    from tutor.labs.base import Lab

    for ancestor in getattr(node, "ancestors_with_self", ()):
        if isinstance(ancestor, Lab):
            return ancestor
    return None


class GuardedApp(App):
    """An app whose key actions cannot take it down, and whose last words are one line."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from tutor import paint, relayout, strips, widget_classes

        paint.install()  # partial repaints draw only the widgets that changed (a lab's frame)
        strips.install()  # a line's caches made when it is first cut or restyled
        relayout.install()  # new widgets that cannot scroll: one layout pass, not two
        widget_classes.install()  # no restyle of inputs and buttons being built or mounted
        self.reported_errors: list[BaseException] = []
        """Errors reported to the student and survived (tests assert it stays empty)."""
        self.fatal_log: str | None = None

    async def _dispatch_action(self, namespace, action_name, params) -> bool:
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as error:
            if strict():
                raise
            lab = lab_of(namespace)
            if lab is not None:
                lab.report_error(error)
            else:
                report_error(self, error, f"'{action_name}'", "Nothing was changed.")
            return True

    def _handle_exception(self, error: Exception) -> None:
        """An error reached Textual's last resort. When it came from inside a lab (a worker, a
        widget of the lab) the lab's pane rebuilds the lab and the app goes on; otherwise the
        app cannot go on: log the traceback and exit non-zero with one line instead."""
        if not strict() and self._recover(error):
            return
        path = log_error(error, "fatal")
        self.fatal_log = f"dl-tutor stopped: {one_line(error)}" + (
            f"\nThe details were written to {path}" if path else "")
        super()._handle_exception(error)

    def _recover(self, error: Exception) -> bool:
        from textual.worker import WorkerFailed, active_worker

        if isinstance(error, WorkerFailed):  # the lab's worker-state handler reports it
            worker = active_worker.get(None)
            return worker is not None and lab_of(worker.node) is not None
        lab = _lab_in_traceback(error)
        if lab is None:
            return False
        pane = lab.parent
        rebuild = getattr(pane, "rebuild_lab", None)
        if rebuild is None:
            return False
        report_error(self, error, f"the {lab.lab_name} lab", "The lab was started again.")
        lab.playing = False
        self.call_later(rebuild, lab)  # from the app's own loop: the failing widget's has ended
        return True

    def _fatal_error(self) -> None:
        from rich.text import Text

        if strict() or self.fatal_log is None:
            super()._fatal_error()
            return
        self.bell()
        self._exit_renderables.append(Text(self.fatal_log))
        self._close_messages_no_wait()


def _lab_in_traceback(error: BaseException):
    """The innermost mounted `Lab` whose code (or whose widgets' code) raised `error`."""
    tb = error.__traceback__
    found = None
    while tb is not None:
        node = tb.tb_frame.f_locals.get("self")
        lab = lab_of(node) if node is not None else None
        if lab is not None and lab.is_attached:
            found = lab
        tb = tb.tb_next
    return found
