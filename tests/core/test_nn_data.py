"""core.nn data: the 2-D generators, the train/test split, and CSV loading with its errors."""

from __future__ import annotations

import numpy as np
import pytest

from core.nn import CsvError, DATASETS, load_csv, make_dataset, parse_csv, train_test_split
from core.nn.data import make_circles, make_xor


@pytest.mark.parametrize("name", DATASETS)
def test_generators_shape_balance_and_seed(name):
    classes = 3 if name in ("spirals", "blobs") else 2
    X, y = make_dataset(name, n=101, noise=0.05, seed=4, classes=classes)
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert counts.max() - counts.min() <= 1 and counts.size == classes
    assert np.all(np.abs(X) < 2.0)
    X2, y2 = make_dataset(name, n=101, noise=0.05, seed=4, classes=classes)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_dataset(name, n=101, noise=0.05, seed=5, classes=classes)
    assert not np.array_equal(X, X3)


def test_circles_and_xor_geometry_without_noise():
    X, y = make_circles(100, noise=0.0, seed=0, factor=0.5)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.5)
    X, y = make_xor(100, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_noise_spreads_points():
    X0, _ = make_circles(200, noise=0.0, seed=0)
    X1, _ = make_circles(200, noise=0.2, seed=0)
    r0, r1 = np.hypot(*X0.T), np.hypot(*X1.T)
    assert r1.std() > r0.std() + 0.05


def test_generator_validation():
    with pytest.raises(ValueError, match="dataset must be one of"):
        make_dataset("swissroll")
    with pytest.raises(ValueError, match="noise"):
        make_dataset("xor", noise=-1)
    with pytest.raises(ValueError, match="classes"):
        make_dataset("blobs", classes=1)
    with pytest.raises(ValueError, match="n must be"):
        make_dataset("moons", n=1)


def test_train_test_split_is_a_partition():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    Xtr, ytr, Xte, yte = train_test_split(X, y, 0.3, seed=0)
    assert len(yte) == 3 and len(ytr) == 7
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    np.testing.assert_array_equal(Xtr[:, 0], 2 * ytr)  # rows stay with their labels
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(X, y, 1.0)
    assert len(train_test_split(X[:2], y[:2], 0.01)[3]) == 1  # both sides non-empty


def test_parse_csv_with_header_comments_and_blank_lines():
    text = "x,y,label\n# a comment\n0.5, -1, 0\n\n1e-1,2,1\n3,4,2.0\n"
    X, y = parse_csv(text)
    np.testing.assert_allclose(X, [[0.5, -1], [0.1, 2], [3, 4]])
    assert y.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2\n3,4,1\n", r"line 1: expected 3 values \(x, y, label\), got 2"),
        ("1,2,0\n3,4,1,5\n", "line 2: expected 3 values"),
        ("1,2,0\nabc,4,1\n", "line 2: x must be a number, got 'abc'"),
        ("1,2,0\n3,nan,1\n", "line 2: y must be finite"),
        ("1,2,0\n3,4,1.5\n", "line 2: label must be a whole number"),
        ("1,2,0\n3,4,-1\n", "line 2: label must be a whole number"),
        ("1,2,0\n3,4,cat\n", "line 2: label must be a number"),
        ("1,2,0\n3,4,99\n", "label 99 is too large"),
        ("x,y,label\n1,2,0\n", "at least 2 rows"),
        ("", "at least 2 rows"),
        ("x,y,label\nx,y,label\n1,2,0\n", "line 2: x must be a number"),
    ],
)
def test_parse_csv_errors_name_the_line(text, message):
    with pytest.raises(CsvError, match=message):
        parse_csv(text)


def test_load_csv_reads_files_and_reports_the_file(tmp_path):
    good = tmp_path / "points.csv"
    good.write_text("\ufeffx,y,label\r\n0,0,0\r\n1,1,1\r\n", encoding="utf-8")
    X, y = load_csv(good)
    assert X.shape == (2, 2) and y.tolist() == [0, 1]
    bad = tmp_path / "bad.csv"
    bad.write_text("0,0,0\n1,oops,1\n")
    with pytest.raises(CsvError, match=r"bad\.csv: line 2: y must be a number"):
        load_csv(bad)
    with pytest.raises(CsvError, match="no such file"):
        load_csv(tmp_path / "missing.csv")
    binary = tmp_path / "img.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x82")
    with pytest.raises(CsvError, match="not a text file"):
        load_csv(binary)
    assert issubclass(CsvError, ValueError)
