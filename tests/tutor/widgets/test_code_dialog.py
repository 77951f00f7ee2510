"""CodeDialog: shows highlighted code, copies it with c, closes with escape or q."""

from __future__ import annotations

import pytest
from textual.app import App

from tests.screen import screen_text
from tutor.screens.code_dialog import CodeDialog

CODE = "import torch\n\nw = torch.tensor(2.0, requires_grad=True)\nloss = w ** 2\nloss.backward()\n"


class DialogApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.results: list = []

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.push_screen(CodeDialog("PyTorch: backprop", CODE), self.results.append)


async def test_shows_title_and_code():
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CodeDialog)
        text = app.export_screenshot()
        assert "PyTorch" in text and "requires_grad" in text and "backward" in text


async def test_c_copies_to_clipboard_and_notifies():
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == CODE
        assert any("Copied 5 lines" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("key", ["escape", "q"])
async def test_escape_and_q_close(key):
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, CodeDialog)
        assert app.results == [None]


async def test_long_code_in_a_tiny_terminal():
    app = App()
    async with app.run_test(size=(10, 3)) as pilot:
        app.push_screen(CodeDialog("t", "x = 1\n" * 500 + "y = '" + "a" * 300 + "'"))
        await pilot.pause()
        assert "╭" in screen_text(app)  # the dialog's frame, clipped, and no exception
        await pilot.press("down", "end")
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert "x = 1" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CodeDialog)
