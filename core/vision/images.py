"""Images for the convolution lab: built-in pictures drawn in code, and the student's own files.

Built-ins need no download: digits from a 5 x 7 bitmap font, simple shapes, gradients, a
checkerboard and a synthetic scene with edges in many directions. `load_image` reads PGM/PPM
natively and PNG/JPEG (and what else Pillow knows) through the optional `dl-tutor[images]` extra.
Every image is a float64 array in [0, 1], (H, W) in gray or (H, W, 3) in color.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from core._files import check_regular_file, read_regular_file


class ImageError(ValueError):
    """An image could not be made or loaded; the message says why and what to do."""


#: Images with more pixels than this are refused before their pixels are decoded
#: (a guard against decompression bombs: a tiny file that claims a gigantic image).
MAX_PIXELS = 40_000_000
#: Files larger than this are refused before they are read.
MAX_FILE_BYTES = 200 * 1024 * 1024

_FONT = {
    "0": ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    "1": ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
    "2": ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    "3": ["11111", "00010", "00100", "00010", "00001", "10001", "01110"],
    "4": ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    "5": ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    "6": ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
    "7": ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    "8": ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
    "9": ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
}


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 8 <= size <= 1024:
        raise ImageError(f"size must be an integer from 8 to 1024, got {size!r}")
    return int(size)


def digit(d: int, size: int = 32) -> np.ndarray:
    """The digit `d` (0-9) drawn from a 5 x 7 bitmap font, white on black, size x size."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= 9:
        raise ImageError(f"a digit is an integer from 0 to 9, got {d!r}")
    size = _check_size(size)
    glyph = np.array([[c == "1" for c in row] for row in _FONT[str(int(d))]], dtype=np.float64)
    f = max(1, (size * 3 // 4) // 7)
    big = np.kron(glyph, np.ones((f, f)))
    img = np.zeros((size, size))
    h, w = min(big.shape[0], size), min(big.shape[1], size)
    r0, c0 = (size - h) // 2, (size - w) // 2
    img[r0 : r0 + h, c0 : c0 + w] = big[:h, :w]
    return img


def checkerboard(size: int = 64, cell: int = 8) -> np.ndarray:
    """Alternating black and white squares of `cell` pixels."""
    size = _check_size(size)
    if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or cell < 1:
        raise ImageError(f"cell must be a positive integer, got {cell!r}")
    r, c = np.indices((size, size))
    return (((r // cell) + (c // cell)) % 2).astype(np.float64)


def gradient(size: int = 64, direction: str = "horizontal") -> np.ndarray:
    """A ramp from 0 to 1: horizontal, vertical, diagonal or radial."""
    size = _check_size(size)
    t = np.linspace(0.0, 1.0, size)
    r, c = np.meshgrid(t, t, indexing="ij")
    if direction == "horizontal":
        return c.copy()
    if direction == "vertical":
        return r.copy()
    if direction == "diagonal":
        return (r + c) / 2
    if direction == "radial":
        return np.clip(1 - np.hypot(r - 0.5, c - 0.5) / 0.5, 0, 1)
    raise ImageError(f"direction must be horizontal, vertical, diagonal or radial; got {direction!r}")


def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    t = (np.arange(size) + 0.5) / size
    return np.meshgrid(t, t, indexing="ij")


def shapes(size: int = 64) -> np.ndarray:
    """A square, a disc and a triangle on a dark background."""
    size = _check_size(size)
    y, x = _coords(size)
    img = np.full((size, size), 0.1)
    img[(np.abs(x - 0.25) < 0.15) & (np.abs(y - 0.28) < 0.15)] = 0.9
    img[np.hypot(x - 0.72, y - 0.3) < 0.17] = 0.6
    tri = (y > 0.55) & (y < 0.9) & (np.abs(x - 0.5) < (y - 0.55) * 0.9)
    img[tri] = 1.0
    return img


def scene(size: int = 128) -> np.ndarray:
    """A synthetic scene with edges in many directions: a shaded sky and ground, a house with
    vertical and horizontal walls and a sloped roof, a sun (every direction), a tilted stripe
    pattern and a diagonal road."""
    size = _check_size(size)
    y, x = _coords(size)
    img = 0.35 + 0.25 * (1 - y)  # sky, lighter at the top
    ground = y > 0.68
    img[ground] = 0.25 + 0.1 * x[ground]
    img[np.hypot(x - 0.82, y - 0.16) < 0.09] = 1.0  # sun
    wall = (x > 0.12) & (x < 0.46) & (y > 0.42) & (y <= 0.7)
    img[wall] = 0.75
    roof = (y > 0.24) & (y <= 0.42) & (np.abs(x - 0.29) < (y - 0.24) * 1.05)
    img[roof] = 0.15
    img[(x > 0.24) & (x < 0.33) & (y > 0.55) & (y <= 0.7)] = 0.05  # door
    img[(x > 0.37) & (x < 0.43) & (y > 0.47) & (y < 0.53)] = 0.95  # window
    road = ground & (np.abs((x - 0.62) - (y - 0.68) * 0.8) < 0.05)
    img[road] = 0.85
    field = (x > 0.58) & (x < 0.95) & (y > 0.36) & (y < 0.64)
    stripes = np.sin((x * np.cos(0.5) + y * np.sin(0.5)) * 60) > 0
    img[field & stripes] = 0.55
    img[field & ~stripes] = 0.3
    return np.clip(img, 0.0, 1.0)


#: The built-in images by name, each a function of the size.
BUILTIN = {
    "scene": scene,
    "shapes": shapes,
    "checkerboard": lambda size: checkerboard(size, max(1, size // 8)),
    "gradient": lambda size: gradient(size, "horizontal"),
    "radial": lambda size: gradient(size, "radial"),
    **{f"digit{d}": (lambda size, d=d: digit(d, size)) for d in range(10)},
}


def builtin(name: str, size: int = 64) -> np.ndarray:
    """The built-in image `name` (see `BUILTIN`) at size x size."""
    if name not in BUILTIN:
        raise ImageError(f"there is no built-in image {name!r}; choose one of {', '.join(BUILTIN)}")
    return BUILTIN[name](_check_size(size))


def downscale(img: np.ndarray, max_size: int) -> np.ndarray:
    """Shrink by averaging f x f blocks (f the smallest integer that fits `max_size`).

    A side shorter than f is averaged whole (a 4,000,000 x 1 image padded to f columns would
    have needed 931 GiB), so the padded copy is never more than 4 times the image."""
    h, w = img.shape[:2]
    f = max(1, -(-max(h, w) // max_size))
    if f == 1:
        return img
    fh, fw = min(f, h), min(f, w)
    hh, ww = -(-h // fh) * fh, -(-w // fw) * fw
    pad = [(0, hh - h), (0, ww - w)] + [(0, 0)] * (img.ndim - 2)
    padded = np.pad(img, pad, mode="edge")
    shape = (hh // fh, fh, ww // fw, fw) + img.shape[2:]
    return padded.reshape(shape).mean(axis=(1, 3))


def to_gray(img: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of an (H, W, 3) image; gray images pass through."""
    if img.ndim == 2:
        return img
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


# --- files ------------------------------------------------------------------------------------


def _netpbm_tokens(data: bytes, count: int) -> tuple[list[int], int]:
    """The first `count` integers of a Netpbm header (comments skipped) and the offset after."""
    tokens: list[int] = []
    i, n = 2, len(data)
    while len(tokens) < count:
        while i < n and data[i : i + 1].isspace():
            i += 1
        if i < n and data[i : i + 1] == b"#":
            while i < n and data[i : i + 1] not in (b"\n", b"\r"):
                i += 1
            continue
        start = i
        while i < n and data[i : i + 1].isdigit():
            i += 1
        if start == i:
            raise ImageError("the PGM/PPM header is malformed (expected width, height, maxval)")
        tokens.append(int(data[start:i]))
    return tokens, i + 1  # one whitespace byte ends the header


def _read_netpbm(data: bytes) -> np.ndarray:
    kind = data[:2]
    channels = 3 if kind in (b"P3", b"P6") else 1
    (width, height, maxval), offset = _netpbm_tokens(data, 3)
    if width < 1 or height < 1:
        raise ImageError(f"the image claims a size of {width} x {height}")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"the image is {width} x {height} pixels; at most {MAX_PIXELS:,} pixels are accepted"
        )
    if not 1 <= maxval <= 65535:
        raise ImageError(f"the PGM/PPM maxval must be from 1 to 65535, got {maxval}")
    count = width * height * channels
    if kind in (b"P5", b"P6"):
        dtype = np.dtype(">u2") if maxval > 255 else np.dtype("u1")
        body = data[offset : offset + count * dtype.itemsize]
        if len(body) < count * dtype.itemsize:
            raise ImageError("the file ends before all its pixels (truncated PGM/PPM)")
        values = np.frombuffer(body, dtype=dtype).astype(np.float64)
    else:
        words = data[offset:].split()
        if len(words) < count:
            raise ImageError("the file ends before all its pixels (truncated PGM/PPM)")
        try:
            values = np.array([int(wd) for wd in words[:count]], dtype=np.float64)
        except ValueError:
            raise ImageError("the PGM/PPM pixel values must be integers") from None
    if values.max(initial=0) > maxval:
        raise ImageError(f"a pixel value exceeds the declared maxval {maxval}")
    shape = (height, width, 3) if channels == 3 else (height, width)
    return values.reshape(shape) / maxval


def _read_with_pillow(path: Path, max_size: int) -> np.ndarray:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ImageError(
            f"{path.name} is a PNG or JPEG: reading it needs Pillow; install it with "
            "`pip install 'dl-tutor[images]'` (PGM and PPM files work without it)"
        ) from None
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise ImageError(
                        f"the image is {im.width} x {im.height} pixels; "
                        f"at most {MAX_PIXELS:,} pixels are accepted"
                    )
                im.draft("RGB", (max_size, max_size))  # JPEG: decode at a reduced scale
                rgb = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{path.name} is too large (more than {MAX_PIXELS:,} pixels)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path.name} is not an image Pillow can read") from None
    except OSError as exc:
        raise ImageError(f"{path.name} could not be decoded: {exc}") from None
    return rgb


_PILLOW_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _pillow_format(head: bytes) -> bool:
    return head.startswith(_PILLOW_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def load_image(path, max_size: int = 128, gray: bool = True) -> np.ndarray:
    """Read an image file into floats in [0, 1], shrunk to fit max_size x max_size.

    PGM (P2, P5) and PPM (P3, P6) are read natively; PNG, JPEG, GIF, BMP and WebP through
    Pillow (`pip install 'dl-tutor[images]'`). Raises `ImageError` with a readable message for
    a missing file, a file that is not an image, a truncated file, an image over `MAX_PIXELS`,
    or a PNG/JPEG without Pillow; a device (/dev/zero), a folder or a file over
    `MAX_FILE_BYTES` is refused before it is read. Returns (H, W) when `gray`, otherwise (H, W, 3).
    """
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise ImageError(f"max_size must be a positive integer, got {max_size!r}")
    path = Path(path).expanduser()
    check_regular_file(path, MAX_FILE_BYTES, "MAX_FILE_BYTES", ImageError)
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[:2] in (b"P2", b"P3", b"P5", b"P6") and len(head) > 2 and head[2:3].isspace():
        img = _read_netpbm(read_regular_file(path, MAX_FILE_BYTES, "MAX_FILE_BYTES", ImageError))
    elif _pillow_format(head):
        img = _read_with_pillow(path, max_size)
    else:
        raise ImageError(
            f"{path.name} is not an image (expected PGM, PPM, PNG or JPEG)"
        )
    if gray:
        img = to_gray(img)
    elif img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(downscale(img, max_size))


def save_pgm(path, img: np.ndarray) -> None:
    """Write a gray image in [0, 1] as a binary PGM (P5), e.g. an activation map."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise ImageError(f"save_pgm takes a 2-D image, got shape {img.shape}")
    data = np.clip(np.round(np.nan_to_num(img) * 255), 0, 255).astype(np.uint8)
    h, w = data.shape
    Path(path).write_bytes(f"P5\n{w} {h}\n255\n".encode() + data.tobytes())
