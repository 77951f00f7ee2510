"""PixelView: half-block cells with the right colours, overlays, clicks, ASCII, tiny sizes."""

from __future__ import annotations

import numpy as np
import pytest
from rich.color import Color
from textual.app import App, ComposeResult

from tutor.widgets.colormap import colormap
from tutor.widgets.pixel_view import ASCII_RAMP, PixelView

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def two_by_two() -> np.ndarray:
    """A 2x2 image: red green / blue white -> one row of two cells."""
    return np.array([[RED, GREEN], [BLUE, WHITE]], dtype=np.uint8)


class PixelApp(App):
    """Shows one PixelView and records its clicks."""

    def __init__(self, pixels: np.ndarray | None = None, ascii_mode: bool = False) -> None:
        super().__init__()
        self.pixels = pixels
        self.ascii_mode = ascii_mode
        self.clicks: list[PixelView.Clicked] = []

    def compose(self) -> ComposeResult:
        yield PixelView(self.pixels)

    def on_pixel_view_clicked(self, message: PixelView.Clicked) -> None:
        self.clicks.append(message)


def cells(strip) -> list[tuple[str, Color | None, Color | None]]:
    """(character, foreground, background) for each cell of a strip."""
    out = []
    for segment in strip:
        for char in segment.text:
            style = segment.style
            out.append((char, style.color if style else None, style.bgcolor if style else None))
    return out


async def test_two_by_two_renders_half_blocks_with_colours():
    app = PixelApp(two_by_two())
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        view = app.query_one(PixelView)
        assert (view.size.width, view.size.height) == (2, 1)
        row = cells(view.render_line(0))
        assert [c[0] for c in row] == ["▀", "▀"]
        assert row[0][1] == Color.from_rgb(*RED) and row[0][2] == Color.from_rgb(*BLUE)
        assert row[1][1] == Color.from_rgb(*GREEN) and row[1][2] == Color.from_rgb(*WHITE)
        # Below the data: blank, no IndexError.
        assert view.render_line(5).cell_length == view.size.width


async def test_screen_text_and_odd_height_padding():
    image = np.zeros((3, 4, 3), dtype=np.uint8)
    image[2] = WHITE
    app = PixelApp(image)
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        view = app.query_one(PixelView)
        assert view.rows == 2 and view.size.height == 2
        last = cells(view.render_line(1))
        assert all(fg == Color.from_rgb(*WHITE) for _, fg, _ in last)
        assert "▀▀▀▀" in app.export_screenshot()


async def test_only_changed_rows_are_rebuilt():
    image = np.zeros((6, 3, 3), dtype=np.uint8)
    app = PixelApp(image)
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        view = app.query_one(PixelView)
        for y in range(3):
            view.render_line(y)
        cached = list(view._strips)
        image[4, 1] = RED  # row 2 only
        view.set_pixels(image)
        assert view._strips[0] is cached[0] and view._strips[1] is cached[1]
        assert view._strips[2] is None
        row = cells(view.render_line(2))
        assert row[1][1] == Color.from_rgb(*RED)


async def test_overlay_text_colour_and_contrast():
    image = np.zeros((2, 6, 3), dtype=np.uint8)
    image[:, 3:] = WHITE
    app = PixelApp(image)
    async with app.run_test(size=(20, 5)) as pilot:
        view = app.query_one(PixelView)
        view.set_overlay({(0, 0): ("ab", "#ff0000"), (0, 3): ("x", None), (0, 5): ("long", None), (7, 0): ("?", None)})
        await pilot.pause()
        row = cells(view.render_line(0))
        assert "".join(c[0] for c in row) == "ab▀x▀l"
        assert row[0][1] == Color.parse("#ff0000") and row[0][2] == Color.from_rgb(0, 0, 0)
        assert row[3][1] == Color.from_rgb(0, 0, 0)  # black on white
        assert row[3][2] == Color.from_rgb(*WHITE)
        assert len(row) == 6  # "long" was cut at the edge
        view.clear_overlay()
        assert "".join(c[0] for c in cells(view.render_line(0))) == "▀" * 6


async def test_click_posts_pixel_coordinates():
    image = np.zeros((8, 10, 3), dtype=np.uint8)
    app = PixelApp(image)
    async with app.run_test(size=(20, 6)) as pilot:
        await pilot.click(PixelView, offset=(3, 2))
        await pilot.pause()
        assert len(app.clicks) == 1
        click = app.clicks[0]
        assert (click.x, click.y, click.row, click.col) == (3, 4, 2, 3)
        await pilot.click(PixelView, offset=(15, 2))  # outside the image: nothing
        await pilot.pause()
        assert len(app.clicks) == 1


async def test_ascii_mode_uses_the_ramp():
    gray = np.repeat(np.array([0, 128, 255], dtype=np.uint8)[None, :, None], 3, axis=2)
    image = np.concatenate([gray, gray])  # 2 x 3
    app = PixelApp(image, ascii_mode=True)
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        text = "".join(c[0] for c in cells(app.query_one(PixelView).render_line(0)))
        assert text == f"{ASCII_RAMP[0]}{ASCII_RAMP[5]}{ASCII_RAMP[-1]}"


async def test_no_color_env_switches_to_ascii(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = PixelApp(np.full((2, 2, 3), 255, dtype=np.uint8))
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        assert "".join(c[0] for c in cells(app.query_one(PixelView).render_line(0))) == "@@"


@pytest.mark.parametrize("size", [(1, 1), (10, 3), (3, 10)])
async def test_tiny_terminals_do_not_raise(size):
    image = colormap(np.random.default_rng(0).normal(size=(40, 60)), -2, 2)
    app = PixelApp(image)
    async with app.run_test(size=size) as pilot:
        view = app.query_one(PixelView)
        view.set_overlay({(0, 0): ("⣿⣿", "#ffffff"), (19, 59): ("x", None)})
        await pilot.pause()
        for y in range(-1, 25):
            assert view.render_line(y).cell_length == view.size.width
        app.export_screenshot()


async def test_empty_and_bad_input():
    app = PixelApp()
    async with app.run_test(size=(10, 3)) as pilot:
        view = app.query_one(PixelView)
        await pilot.pause()
        assert view.render_line(0).cell_length == view.size.width
        with pytest.raises(TypeError):
            view.set_pixels(np.zeros((2, 2, 3)))
        with pytest.raises(ValueError):
            view.set_pixels(np.zeros((2, 2), dtype=np.uint8))
        view.set_pixels(np.zeros((4, 5, 3), dtype=np.uint8))
        await pilot.pause()
        assert (view.size.width, view.size.height) == (5, 2)


class _RefreshSpy:
    """Records PixelView.refresh calls (regions and the layout flag)."""

    def __init__(self, view: PixelView, monkeypatch) -> None:
        self.calls: list[tuple[tuple, bool]] = []
        original = view.refresh

        def refresh(*regions, **kwargs):
            self.calls.append((regions, bool(kwargs.get("layout", False))))
            return original(*regions, **kwargs)

        monkeypatch.setattr(view, "refresh", refresh)


async def test_unchanged_image_and_overlay_refresh_nothing(monkeypatch):
    image = colormap(np.random.default_rng(1).normal(size=(7, 9)), -2, 2)  # odd height too
    app = PixelApp(image)
    async with app.run_test(size=(20, 8)) as pilot:
        await pilot.pause()
        view = app.query_one(PixelView)
        view.set_overlay({(1, 2): ("ab", None)})
        for y in range(view.rows):
            view.render_line(y)
        cached = list(view._strips)
        spy = _RefreshSpy(view, monkeypatch)
        view.set_pixels(image.copy())
        view.set_overlay({(1, 2): ("ab", None)})
        assert spy.calls == []
        assert view._strips == cached  # nothing was dropped
        changed = image.copy()
        changed[6, 0] = 255 - changed[6, 0]  # the odd last row only
        view.set_pixels(changed)
        assert len(spy.calls) == 1 and spy.calls[0][1] is False  # same size: no layout
        assert view._strips[:3] == cached[:3] and view._strips[3] is None


async def test_changed_rows_are_refreshed_as_merged_regions_without_layout(monkeypatch):
    image = np.zeros((12, 4, 3), dtype=np.uint8)
    app = PixelApp(image)
    async with app.run_test(size=(20, 8)) as pilot:
        await pilot.pause()
        view = app.query_one(PixelView)
        spy = _RefreshSpy(view, monkeypatch)
        changed = image.copy()
        changed[[2, 4, 10], 1] = RED  # rows 1, 2 and 5
        view.set_pixels(changed)
        (regions, layout), = spy.calls
        assert not layout
        assert [(r.y, r.height) for r in regions] == [(1, 2), (5, 1)]
        spy.calls.clear()
        view.set_pixels(np.zeros((14, 4, 3), dtype=np.uint8))  # one more row: a new size
        assert spy.calls[-1][1] is True


async def test_rows_match_a_cell_by_cell_reference():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 3, (9, 12, 3), dtype=np.uint8) * 120  # runs of equal cells
    image[2:4, :] = 40  # one long run on row 1
    overlay = {(0, 3): ("x", "#ff0000"), (1, 0): ("ab", None), (1, 5): ("c", "#00ff00"),
               (1, 11): ("zz", None), (2, 4): ("◆", None), (4, 1): ("q", "#0000ff")}
    app = PixelApp(image)
    async with app.run_test(size=(20, 8)) as pilot:
        view = app.query_one(PixelView)
        view.set_overlay(overlay)
        await pilot.pause()
        background = view.rich_style.bgcolor
        padded = np.concatenate([image, np.zeros((1, 12, 3), dtype=np.uint8)]).astype(int)
        texts = {}
        for (row, col), (text, color) in overlay.items():
            for i, char in enumerate(text):
                texts[(row, col + i)] = (char, color)
        for row in range(5):
            got = cells(view.render_line(row))
            assert len(got) == 12
            for col in range(12):
                char, fg, bg = got[col]
                top, bottom = padded[2 * row, col], padded[2 * row + 1, col]
                if (row, col) in texts:
                    want_char, color = texts[(row, col)]
                    back = top if row == 4 else (top + bottom) // 2
                    assert char == want_char and bg == Color.from_rgb(*back.tolist())
                    if color is not None:
                        assert fg == Color.parse(color)
                    else:
                        light = (0.2126 * back[0] + 0.7152 * back[1] + 0.0722 * back[2]) / 255 > 0.5
                        assert fg == Color.from_rgb(*((0, 0, 0) if light else (255, 255, 255)))
                    continue
                assert char == "▀"
                assert fg == Color.from_rgb(*top.tolist())
                assert bg == (background if row == 4 else Color.from_rgb(*bottom.tolist()))


async def test_theme_change_repaints_the_odd_rows_background():
    image = np.full((3, 4, 3), 200, dtype=np.uint8)
    app = PixelApp(image)
    async with app.run_test(size=(20, 8)) as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        view = app.query_one(PixelView)
        dark = cells(view.render_line(1))[0][2]
        app.theme = "textual-light"
        await pilot.pause()
        light = cells(view.render_line(1))[0][2]
        assert light == view.rich_style.bgcolor
        assert dark != light


async def test_truecolor_filter_is_skipped_only_when_nothing_needs_it():
    from textual.filter import ANSIToTruecolor

    app = PixelApp(np.full((4, 3, 3), 90, dtype=np.uint8))
    async with app.run_test(size=(20, 6)) as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        view = app.query_one(PixelView)
        app_has = any(isinstance(f, ANSIToTruecolor) for f in app.get_line_filters())
        assert app_has  # on by default (off only with ansi_color=True)
        assert not any(isinstance(f, ANSIToTruecolor) for f in view.get_line_filters())
        view.styles.border = ("solid", "ansi_red")  # an ANSI colour drawn around the image
        view.notify_style_update()
        assert any(isinstance(f, ANSIToTruecolor) for f in view.get_line_filters()) == app_has
        view.styles.border = None
        view.notify_style_update()
        assert not any(isinstance(f, ANSIToTruecolor) for f in view.get_line_filters())
        view.styles.background = "ansi_blue"  # an ANSI background (odd rows, padding)
        view.notify_style_update()
        await pilot.pause()
        assert any(isinstance(f, ANSIToTruecolor) for f in view.get_line_filters()) == app_has
        assert view.render_line(0).cell_length == view.size.width
        app.export_screenshot()
