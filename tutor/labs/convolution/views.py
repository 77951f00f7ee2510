"""The pixels of each view of the convolution lab (no Textual): the left and right panels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.vision import pad2d
from tutor.labs.convolution import render as R

if TYPE_CHECKING:  # the model draws with these functions: no import back at run time
    from tutor.labs.convolution.model import ConvModel


def render_views(m: ConvModel, lw: int, lh: int, rw: int, rh: int) -> tuple[np.ndarray, np.ndarray]:
    """(left pixels, right pixels) for the current view, fitted to lw x lh and rw x rh."""
    v = m.view
    if v == "slide":
        return _slide_pixels(m, lw, lh, rw, rh)
    if v == "bank":
        maps = [mp for _, mp in m.bank()]
        return R.image_pixels(m.image, lw, lh)[0], R.image_pixels(R.mosaic(maps, 2), rw, rh, signed=True)[0]
    if v == "stack":
        left, s = R.image_pixels(m.image, lw, lh)
        _, r0, r1, c0, c1 = m.receptive()
        R.outline(left, r0, r1, c0, c1, s)
        out = m.stacked()
        right, s2 = R.image_pixels(out, rw, rh, signed=True)
        fr, fc = m.focus
        R.outline(right, fr, fr + 1, fc, fc + 1, s2, R.CURSOR)
        return left, right
    if v == "pool":
        d = m.pooling()
        left = R.mosaic([d["map"], d["shifted_map"]], 1)
        right = R.mosaic([d["pooled"], d["pooled_shifted"]], 1)
        return R.image_pixels(left, lw, lh, signed=True)[0], R.image_pixels(right, rw, rh, signed=True)[0]
    if v == "lenet":
        img, acts, _ = m.lenet()
        c1, c3 = R.mosaic(list(acts[0]), 3), R.mosaic([np.kron(a, np.ones((2, 2))) for a in acts[2]], 4)
        width = max(c1.shape[1], c3.shape[1])
        pad = lambda a: np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=np.nan)  # noqa: E731
        both = np.vstack([pad(c1), np.full((2, width), np.nan), pad(c3)])
        return R.image_pixels(img, lw, lh)[0], R.image_pixels(both, rw, rh, signed=True)[0]
    return R.image_pixels(m.image, lw, lh)[0], R.image_pixels(m.convolve(), rw, rh, signed=True)[0]


def _slide_pixels(m: ConvModel, lw, lh, rw, rh):
    """The padded input with the window outlined; the output computed so far, current pixel lit."""
    P = int(m.params["padding"])
    padded = pad2d(m.image[None, None], P, m.params["padding_mode"])[0, 0] if P else m.image
    left, s = R.image_pixels(padded, lw, lh)
    w = m.window()
    r0, r1, c0, c1 = m.window_rect(w)
    R.outline(left, r0 + P, r1 + P, c0 + P, c1 + P, s)
    out = m.convolve()
    shown = out.copy().ravel()
    shown[w.i * out.shape[1] + w.j :] = np.nan  # not computed yet
    shown = shown.reshape(out.shape)
    vmin, vmax, name = R.signed_limits(out)
    fitted, s2 = R.fit(shown, rw, rh, "maxabs")
    right = R.to_rgb(fitted, vmin, vmax, name)
    R.fill(right, w.i, w.i + 1, w.j, w.j + 1, s2, R.HIGHLIGHT)
    return left, right


def frame_benchmark(repeat: int = 20) -> float:
    """Milliseconds for one lab frame: a 128 x 128 image convolved and both panels drawn at the
    size they get at 120 x 36 (best of `repeat`); used by benchmarks/vision.py."""
    import time

    from tutor.labs import validate_lab
    from tutor.labs.convolution.model import ConvModel

    m = ConvModel(validate_lab("convolution", {"size": 128, "image": "scene"}))
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        render_views(m, 44, 46, 44, 46)
        best = min(best, time.perf_counter() - t0)
    return best * 1e3
