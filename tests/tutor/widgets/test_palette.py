"""The shared palette: the colours every lab draws with, and the ones charts default to."""

import re

from tutor.widgets import palette
from tutor.widgets.line_chart import PALETTE


def test_colours_are_hex_and_charts_default_to_the_series_palette():
    names = [n for n in dir(palette) if n.isupper() and isinstance(getattr(palette, n), str)]
    assert names and all(re.fullmatch(r"#[0-9a-f]{6}", getattr(palette, n)) for n in names)
    assert PALETTE == palette.SERIES == (palette.BLUE, palette.ORANGE, palette.GREEN,
                                         palette.RED, palette.PURPLE, palette.YELLOW)
    assert len(set(palette.SERIES)) == len(palette.SERIES)


def test_class_colours_are_distinct_rgb_triples():
    rgb = palette.CLASS_RGB
    assert len(set(rgb)) == len(rgb) >= 7
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in rgb)
