"""tutor.strips: a Textual `Strip` makes its caches when first used; it draws, cuts and
restyles as before, and a strip drawn once holds no cache at all."""

from __future__ import annotations

import gc

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache
from textual.strip import Strip

from tutor import strips

STYLES = [None, Style(bold=True), Style(color="red"), Style(bgcolor="blue", italic=True)]

segments = st.lists(
    st.tuples(st.text("ab c∂é世", min_size=1, max_size=6), st.sampled_from(STYLES)),
    min_size=1, max_size=6,
).map(lambda parts: [Segment(text, style) for text, style in parts])


def _look(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(segment.text, segment.style) for segment in strip]


def test_a_strip_drawn_once_holds_no_cache():
    assert strips.install()
    strip = Strip([Segment("hello", Style(bold=True))])
    assert not any(isinstance(x, FIFOCache) for x in gc.get_referents(strip))
    assert strip.text == "hello" and strip.cell_length == 5
    cut = strip.crop(1, 3)
    assert [type(x) for x in gc.get_referents(strip)].count(FIFOCache) == 1  # the crop cache
    assert strip.crop(1, 3) is cut, "cached: the same strip again"
    assert strip._crop_cache._maxsize == strips.CACHES["_crop_cache"]
    other = Strip([Segment("hello", Style(bold=True))])
    other.crop(1, 3)
    assert other._crop_cache is not strip._crop_cache, "each strip its own caches"


@settings(max_examples=60, deadline=None)
@given(segments, st.integers(0, 12), st.integers(0, 12), st.sampled_from(STYLES[1:]))
def test_cuts_and_styles_are_what_textuals_own_strip_gives(parts, a, b, style):
    """The same operations on a strip with Textual's own `__init__` (every cache made up front)
    and on one with the caches made when used give the same lines, also when asked twice."""
    assert strips.install()
    lazy = Strip(parts)
    eager = Strip(parts)
    for name, size in strips.CACHES.items():
        setattr(eager, name, FIFOCache(size))
    start, end = min(a, b), max(a, b)
    for _ in range(2):
        for strip_ in (lazy, eager):
            assert strip_.cell_length == sum(s.cell_length for s in parts)
        assert _look(lazy.crop(start, end)) == _look(eager.crop(start, end))
        assert ([_look(s) for s in lazy.divide([start, end])]
                == [_look(s) for s in eager.divide([start, end])])
        assert _look(lazy.apply_style(style)) == _look(eager.apply_style(style))
        assert _look(lazy.adjust_cell_length(end)) == _look(eager.adjust_cell_length(end))
        assert _look(lazy.crop_extend(start, end, style)) == _look(eager.crop_extend(start, end, style))
        assert (_look(lazy.apply_offsets(start, end))
                == _look(eager.apply_offsets(start, end)))
        assert lazy.render(_console()) == eager.render(_console())


def _console():
    from rich.console import Console

    return Console(width=40, force_terminal=True, color_system="truecolor")


def test_a_strip_that_differs_is_left_as_textual_made_it(monkeypatch):
    """Against another Textual (here: a Strip.__init__ that makes one more cache) nothing is
    replaced."""
    import inspect

    monkeypatch.setattr(inspect, "getsource",
                        lambda obj: "self._segments = list(segments)\nself._extra = FIFOCache(2)\n")
    assert strips._expected_api() is False
