"""Handwritten-like digits 0-9 drawn from pen strokes with random shift, slant, size, thickness and noise."""

from __future__ import annotations

import numpy as np

from core._jit import kernel

SIZE_RANGE = (8, 64)
N_PER_CLASS_RANGE = (1, 2000)


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 10):
    """Points of an elliptic arc in the unit box (y points down), angles in degrees."""
    t = np.radians(np.linspace(start, stop, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


#: Each digit as polylines in the unit box [0, 1]² (x to the right, y down): the pen strokes a
#: writer would make. `digits` jitters, slants, scales and shifts them per sample.
DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.26, 0.38, 0, 360, 16)],
    1: [[(0.34, 0.26), (0.52, 0.12), (0.52, 0.88)]],
    2: [_arc(0.5, 0.33, 0.25, 0.21, 195, 360, 9) + [(0.66, 0.52), (0.24, 0.88), (0.78, 0.88)]],
    3: [_arc(0.48, 0.31, 0.24, 0.19, 200, 450, 10), _arc(0.48, 0.68, 0.27, 0.2, 270, 520, 10)],
    4: [[(0.64, 0.88), (0.64, 0.12), (0.2, 0.64), (0.82, 0.64)]],
    5: [[(0.76, 0.12), (0.34, 0.12), (0.3, 0.46)] + _arc(0.5, 0.65, 0.26, 0.23, 235, 500, 11)],
    6: [[(0.7, 0.14)] + _arc(0.66, 0.62, 0.4, 0.48, 245, 180, 5) + _arc(0.5, 0.66, 0.24, 0.22, 180, 540, 14)],
    7: [[(0.22, 0.12), (0.8, 0.12), (0.44, 0.88)]],
    8: [_arc(0.5, 0.3, 0.2, 0.18, 90, 450, 12), _arc(0.5, 0.69, 0.25, 0.2, -90, 270, 12)],
    9: [_arc(0.5, 0.34, 0.23, 0.22, 0, 360, 14), [(0.73, 0.34), (0.66, 0.88)]],
}


def _segments(d: int) -> np.ndarray:
    """The strokes of digit `d` as segments (k, 4): x0, y0, x1, y1 in the unit box."""
    segs = []
    for line in DIGIT_STROKES[d]:
        pts = np.asarray(line, dtype=np.float64)
        segs.append(np.concatenate([pts[:-1], pts[1:]], axis=1))
    return np.concatenate(segs)


_SEGMENTS = [_segments(d) for d in range(10)]
_MAX_SEGMENTS = max(len(s) for s in _SEGMENTS)


@kernel(example=lambda: (np.zeros((2, 3, 4)), np.array([3, 1]), np.ones(2), np.ones(2), 8))
def _render_strokes(segs, counts, half_width, ink, size):
    """segs (n, M, 4) in pixel units, counts (n,) -> images (n, size, size).

    pixel = ink · clip(half_width + 0.5 − d, 0, 1), d the distance from the pixel centre to the
    nearest segment: a pen of width 2·half_width with a one-pixel anti-aliased edge.
    """
    n = segs.shape[0]
    out = np.zeros((n, size, size))
    for i in range(n):
        reach = half_width[i] + 0.5
        for k in range(counts[i]):
            x0 = segs[i, k, 0]
            y0 = segs[i, k, 1]
            dx = segs[i, k, 2] - x0
            dy = segs[i, k, 3] - y0
            length2 = dx * dx + dy * dy
            # Only pixels whose centre lies within `reach` of the segment's bounding box can
            # get ink from it: max over segments of clip(reach − d) = clip(reach − min d).
            r_lo = max(0, int(np.floor(min(y0, y0 + dy) - reach - 0.5)))
            r_hi = min(size - 1, int(np.ceil(max(y0, y0 + dy) + reach - 0.5)))
            c_lo = max(0, int(np.floor(min(x0, x0 + dx) - reach - 0.5)))
            c_hi = min(size - 1, int(np.ceil(max(x0, x0 + dx) + reach - 0.5)))
            for r in range(r_lo, r_hi + 1):
                py = r + 0.5
                for c in range(c_lo, c_hi + 1):
                    px = c + 0.5
                    t = 0.0
                    if length2 > 0.0:
                        t = ((px - x0) * dx + (py - y0) * dy) / length2
                        t = min(1.0, max(0.0, t))
                    ex = px - x0 - t * dx
                    ey = py - y0 - t * dy
                    v = reach - np.sqrt(ex * ex + ey * ey)
                    if v > 0.0:
                        v = ink[i] * min(1.0, v)
                        if v > out[i, r, c]:
                            out[i, r, c] = v
    return out


def _check_int(name: str, value, lo: int, hi: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        limits = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name} must be {limits}, got {value}")
    return value


def digits(n_per_class: int = 100, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Handwritten-like digits: X (10·n_per_class, 1, size, size) float64 in [0, 1], y int64.

    Each image is its digit's pen strokes (`DIGIT_STROKES`) with every point jittered, then a
    random affine map: scale 0.75-1.0 (and aspect ±10 %), rotation ±10°, slant (shear) ±0.35,
    shift ±10 % of the image; a pen half-width of 0.5-1.2 pixels at size 16 (proportional to
    size), ink 0.75-1.0, and Gaussian pixel noise σ = 0.04, clipped to [0, 1]. Every class
    appears `n_per_class` times, in a shuffled order; the same seed gives the same arrays.
    Limits: `n_per_class` 1-2000, `size` 8-64, `seed` ≥ 0.
    """
    n_per_class = _check_int("n_per_class", n_per_class, *N_PER_CLASS_RANGE)
    size = _check_int("size", size, *SIZE_RANGE)
    seed = _check_int("seed", seed, 0, None)
    rng = np.random.default_rng(seed)
    n = 10 * n_per_class
    y = rng.permutation(np.repeat(np.arange(10, dtype=np.int64), n_per_class))

    counts = np.array([len(_SEGMENTS[d]) for d in y], dtype=np.int64)
    segs = np.zeros((n, _MAX_SEGMENTS, 4))
    for d in range(10):
        segs[y == d, : len(_SEGMENTS[d])] = _SEGMENTS[d]
    # A smooth random wobble (the same function of position for every point) keeps strokes connected.
    pts = segs.reshape(n, _MAX_SEGMENTS * 2, 2) - 0.5
    wobble = rng.standard_normal((n, 4))
    pts = pts + 0.03 * np.stack(
        [
            wobble[:, 0:1] * np.sin(3.0 * pts[..., 1] + wobble[:, 2:3]),
            wobble[:, 1:2] * np.sin(3.0 * pts[..., 0] + wobble[:, 3:4]),
        ],
        axis=-1,
    )
    scale = rng.uniform(0.75, 1.0, n)
    aspect = rng.uniform(0.9, 1.1, n)
    angle = np.radians(rng.uniform(-10.0, 10.0, n))
    slant = rng.uniform(-0.35, 0.35, n)
    shift = rng.uniform(-0.1, 0.1, (n, 2))
    sx, sy = scale * aspect, scale / aspect
    cos, sin = np.cos(angle), np.sin(angle)
    # A = R(angle) · Shear(slant) · diag(sx, sy); x' = A x + 0.5 + shift (unit box).
    a00, a01 = cos * sx, (cos * slant - sin) * sy
    a10, a11 = sin * sx, (sin * slant + cos) * sy
    x, yy = pts[..., 0], pts[..., 1]
    px = a00[:, None] * x + a01[:, None] * yy + 0.5 + shift[:, 0:1]
    py = a10[:, None] * x + a11[:, None] * yy + 0.5 + shift[:, 1:2]
    pix = np.stack([px, py], axis=-1).reshape(n, _MAX_SEGMENTS, 4) * size

    half_width = rng.uniform(0.5, 1.2, n) * (size / 16.0)
    ink = rng.uniform(0.75, 1.0, n)
    images = _render_strokes(np.ascontiguousarray(pix), counts, half_width, ink, size)
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    noise *= np.float32(0.04)
    images += noise
    np.clip(images, 0.0, 1.0, out=images)
    return images[:, None], y
