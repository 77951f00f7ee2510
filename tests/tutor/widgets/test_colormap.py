"""colormap: shapes, ends of each map, NaN/inf handling, a degenerate range."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.widgets.colormap import COLORMAPS, NAN_COLOR, colormap, normalize, to_hex


@pytest.mark.parametrize("name", COLORMAPS)
def test_shape_dtype_and_ends(name):
    values = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    rgb = colormap(values, -1.0, 1.0, name)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    low, high = colormap([-5.0, 5.0], -1.0, 1.0, name)  # clipped to the ends
    assert tuple(low) == tuple(rgb[0, 0]) and tuple(high) == tuple(rgb[-1, -1])
    assert tuple(low) != tuple(high)


def test_known_colours():
    assert tuple(colormap(0.0, 0.0, 1.0, "gray")) == (0, 0, 0)
    assert tuple(colormap(1.0, 0.0, 1.0, "gray")) == (255, 255, 255)
    assert tuple(colormap(0.5, 0.0, 1.0, "gray")) == (128, 128, 128)
    assert tuple(colormap(0.0, -1.0, 1.0, "diverging")) == (247, 247, 247)  # zero is white
    assert tuple(colormap(0.0, 0.0, 1.0, "viridis")) == (68, 1, 84)
    assert tuple(colormap(1.0, 0.0, 1.0, "viridis")) == (253, 231, 37)


def test_viridis_gets_brighter():
    rgb = colormap(np.linspace(0, 1, 50), 0, 1).astype(float)
    luminance = rgb @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(luminance) > -1.0)


def test_nan_inf_and_degenerate_range():
    rgb = colormap([np.nan, np.inf, -np.inf, 0.3], 0.0, 1.0, "gray")
    assert tuple(rgb[0]) == NAN_COLOR
    assert tuple(rgb[1]) == (255, 255, 255) and tuple(rgb[2]) == (0, 0, 0)
    same = colormap([1.0, 2.0, np.nan], 3.0, 3.0, "gray")
    assert tuple(same[0]) == tuple(same[1]) == (128, 128, 128)
    assert tuple(same[2]) == NAN_COLOR
    assert np.isnan(normalize([np.nan], 0, 1)[0])
    # NaN limits do not raise either.
    assert colormap([0.5], np.nan, 1.0).shape == (1, 3)


def test_unknown_map_and_hex():
    with pytest.raises(ValueError, match="viridis"):
        colormap([0.0], 0, 1, "jet")
    assert to_hex((255, 0, 16)) == "#ff0010"
