"""core.vision.images: built-in pictures and loading the student's files, edge cases included."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from core.vision import images
from core.vision.images import ImageError, builtin, digit, downscale, load_image, save_pgm


@pytest.mark.parametrize("name", list(images.BUILTIN))
def test_builtins_are_gray_images_in_range(name):
    img = builtin(name, 48)
    assert img.shape == (48, 48) and img.dtype == np.float64
    assert img.min() >= 0 and img.max() <= 1 and img.std() > 0.05


def test_digits_differ_and_are_centred():
    ds = [digit(d, 32) for d in range(10)]
    for a in range(10):
        for b in range(a + 1, 10):
            assert not np.array_equal(ds[a], ds[b])
    rows, cols = np.nonzero(ds[8])
    assert abs((rows.min() + rows.max()) / 2 - 15.5) <= 1.5
    assert abs((cols.min() + cols.max()) / 2 - 15.5) <= 1.5


def test_scene_has_edges_in_several_directions():
    from core.vision import conv2d

    img = builtin("scene", 128)[None, None]
    sx = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)[None, None]
    gx = conv2d(img, sx)[0, 0]
    gy = conv2d(img, np.swapaxes(sx, 2, 3))[0, 0]
    strong = np.hypot(gx, gy) > 0.5
    angles = np.degrees(np.arctan2(gy[strong], gx[strong])) % 180
    counts = np.histogram(angles, bins=4, range=(0, 180))[0]
    assert (counts > 20).all(), counts  # horizontal, vertical and both diagonals


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: digit(10), "0 to 9"),
        (lambda: builtin("cat"), "no built-in image"),
        (lambda: builtin("scene", 4), "size"),
        (lambda: images.gradient(16, "spiral"), "direction"),
        (lambda: images.checkerboard(16, 0), "cell"),
    ],
)
def test_builtin_errors(call, message):
    with pytest.raises(ImageError, match=message):
        call()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_binary_pgm_round_trip(tmp_path):
    img = np.linspace(0, 1, 12 * 10).reshape(12, 10)
    save_pgm(tmp_path / "a.pgm", img)
    got = load_image(tmp_path / "a.pgm")
    np.testing.assert_allclose(got, img, atol=1 / 255)


def test_ascii_pgm_with_comments_and_16_bit(tmp_path):
    p = _write(tmp_path / "b.pgm", b"P2\n# a comment\n3 2\n# another\n65535\n0 65535 0\n65535 0 65535\n")
    np.testing.assert_array_equal(load_image(p), [[0, 1, 0], [1, 0, 1]])
    raw = np.array([[0, 1000], [2000, 4000]], dtype=">u2").tobytes()
    p16 = _write(tmp_path / "c.pgm", b"P5 2 2 4000\n" + raw)
    np.testing.assert_allclose(load_image(p16), [[0, 0.25], [0.5, 1]])


def test_ppm_colour_and_gray(tmp_path):
    p = _write(tmp_path / "d.ppm", b"P6\n2 1\n255\n" + bytes([255, 0, 0, 0, 0, 255]))
    rgb = load_image(p, gray=False)
    assert rgb.shape == (1, 2, 3)
    np.testing.assert_allclose(rgb[0, 0], [1, 0, 0])
    np.testing.assert_allclose(load_image(p)[0], [0.299, 0.114])
    p3 = _write(tmp_path / "e.ppm", b"P3 1 1 255 0 255 0")
    np.testing.assert_allclose(load_image(p3, gray=False)[0, 0], [0, 1, 0])


def test_large_images_are_downscaled(tmp_path):
    img = np.zeros((300, 500))
    img[:, 250:] = 1
    save_pgm(tmp_path / "big.pgm", img)
    small = load_image(tmp_path / "big.pgm", max_size=100)
    assert max(small.shape) <= 100 and small.shape == (60, 100)
    assert small[:, :40].max() == 0 and small[:, 60:].min() == 1


def test_downscale_averages_blocks():
    np.testing.assert_allclose(downscale(np.arange(16.0).reshape(4, 4), 2), [[2.5, 4.5], [10.5, 12.5]])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, I am a text file", "not an image"),
        (b"", "not an image"),
        (b"P5\n100000 100000\n255\n\x00", "at most"),  # a decompression bomb: claims 10^10 pixels
        (b"P5\n4 4\n255\n\x00\x00", "truncated"),
        (b"P2\n2 1\n255\n1", "truncated"),
        (b"P2\n2 1\n10\n5 11", "exceeds"),
        (b"P5\nx y\n255\n", "malformed"),
        (b"P5\n0 4\n255\n", "size of 0"),
        (b"P2\n1 1\n0\n0", "maxval"),
    ],
)
def test_bad_files_get_a_message(tmp_path, data, message):
    p = _write(tmp_path / "bad.pgm", data)
    with pytest.raises(ImageError, match=message):
        load_image(p)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.pgm")
    with pytest.raises(ImageError, match="not a regular file"):
        load_image(tmp_path)
    with pytest.raises(ImageError, match="max_size"):
        load_image(tmp_path / "x.pgm", max_size=0)


def test_png_without_pillow_says_how_to_install(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no PIL")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    p = _write(tmp_path / "a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    with pytest.raises(ImageError, match=r"dl-tutor\[images\]"):
        load_image(p)


def test_png_and_jpeg_with_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    arr = (np.linspace(0, 255, 40 * 30).reshape(30, 40)).astype(np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    np.testing.assert_allclose(load_image(tmp_path / "a.png"), arr / 255, atol=1e-6)
    Image.fromarray(arr).convert("RGB").save(tmp_path / "a.jpg", quality=95)
    got = load_image(tmp_path / "a.jpg")
    assert got.shape == (30, 40) and np.abs(got - arr / 255).mean() < 0.05
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    with pytest.raises(ImageError):
        load_image(tmp_path / "broken.png")


def test_png_bomb_is_refused_before_decoding(tmp_path):
    pytest.importorskip("PIL.Image")
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    idat = zlib.compress(b"\x00" * 64)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    p = _write(tmp_path / "bomb.png", data)
    with pytest.raises(ImageError, match="too large|at most"):
        load_image(p)
