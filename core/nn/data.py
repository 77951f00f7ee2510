"""Two-dimensional toy data sets for classification, a train/test split, and CSV loading.

Every generator returns (X, y): X (n, 2) float64 points, y (n,) int64 class labels in
[0, classes), with the classes as balanced as n allows. `noise` is the standard deviation of
Gaussian jitter added to the points (in the data's own units, the shapes span about [-1, 1]).
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from core._files import read_regular_file

#: The generators by name, and which of them take a class count.
DATASETS = ("circles", "xor", "moons", "spirals", "blobs")
MULTICLASS = ("spirals", "blobs")
MAX_CLASSES = 8
MAX_POINTS = 1_000_000
"""The most points a generated data set has."""
MAX_CSV_BYTES = 20_000_000
"""The largest CSV file `load_csv` reads (a 300 MB file hung the lab)."""


class CsvError(ValueError):
    """A CSV file of points is malformed; the message names the line and what was expected."""


def _check(n: int, noise: float, seed: int, classes: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be a whole number of points, at least 2; got {n!r}")
    if n > MAX_POINTS:
        raise ValueError(f"n must be at most MAX_POINTS = {MAX_POINTS:,} points, got {n:,}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"classes must be a whole number from 2 to {MAX_CLASSES}, got {classes!r}")


def _counts(n: int, classes: int) -> np.ndarray:
    """How many points each class gets: n split as evenly as possible."""
    return np.array([n // classes + (1 if c < n % classes else 0) for c in range(classes)])


def _finish(parts: list[np.ndarray], rng, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate(parts)
    y = np.concatenate([np.full(len(p), c, dtype=np.int64) for c, p in enumerate(parts)])
    x = x + rng.normal(0.0, noise, x.shape) if noise > 0 else x
    order = rng.permutation(len(y))
    return np.ascontiguousarray(x[order]), np.ascontiguousarray(y[order])


def make_circles(n: int = 200, noise: float = 0.05, seed: int = 0, factor: float = 0.5):
    """Two concentric rings: class 0 on the outer circle (radius 1), class 1 on radius `factor`."""
    _check(n, noise, seed)
    if not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    parts = []
    for c, radius in enumerate((1.0, factor)):
        angle = rng.uniform(0, 2 * np.pi, _counts(n, 2)[c])
        parts.append(radius * np.column_stack([np.cos(angle), np.sin(angle)]))
    return _finish(parts, rng, noise)


def make_xor(n: int = 200, noise: float = 0.05, seed: int = 0):
    """Points in the four quadrants of [-1, 1]²: class 1 where x·y < 0 (the XOR of the signs).

    Points keep a margin of 0.1 from the axes before noise, so noise 0 is separable."""
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    parts = []
    for c, count in enumerate(_counts(n, 2)):
        mag = rng.uniform(0.1, 1.0, (count, 2))
        sx = rng.choice([-1.0, 1.0], count)
        sy = sx if c == 0 else -sx
        parts.append(mag * np.column_stack([sx, sy]))
    return _finish(parts, rng, noise)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (as scikit-learn's make_moons), centred on the origin."""
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    c0, c1 = _counts(n, 2)
    a0 = rng.uniform(0, np.pi, c0)
    a1 = rng.uniform(0, np.pi, c1)
    upper = np.column_stack([np.cos(a0) - 0.5, np.sin(a0) - 0.25])
    lower = np.column_stack([0.5 - np.cos(a1), 0.25 - np.sin(a1)])
    return _finish([upper, lower], rng, noise)


def make_spirals(n: int = 300, noise: float = 0.05, seed: int = 0, classes: int = 2):
    """`classes` interleaved spiral arms from the origin out to radius 1, 1.25 turns each."""
    _check(n, noise, seed, classes)
    rng = np.random.default_rng(seed)
    parts = []
    for c, count in enumerate(_counts(n, classes)):
        r = np.sqrt(rng.uniform(0.0025, 1.0, count))
        angle = 2.5 * np.pi * r + 2 * np.pi * c / classes
        parts.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
    return _finish(parts, rng, noise)


def make_blobs(n: int = 200, noise: float = 0.15, seed: int = 0, classes: int = 3):
    """`classes` Gaussian blobs of standard deviation `noise`, centred on a circle of radius 0.7."""
    _check(n, noise, seed, classes)
    rng = np.random.default_rng(seed)
    parts = []
    for c, count in enumerate(_counts(n, classes)):
        angle = 2 * np.pi * c / classes + np.pi / 4
        centre = 0.7 * np.array([np.cos(angle), np.sin(angle)])
        parts.append(np.tile(centre, (count, 1)))
    return _finish(parts, rng, noise)


def make_dataset(name: str, n: int = 200, noise: float = 0.05, seed: int = 0, classes: int = 2):
    """Any generator by name (`DATASETS`); `classes` is used by spirals and blobs."""
    if name == "circles":
        return make_circles(n, noise, seed)
    if name == "xor":
        return make_xor(n, noise, seed)
    if name == "moons":
        return make_moons(n, noise, seed)
    if name == "spirals":
        return make_spirals(n, noise, seed, classes)
    if name == "blobs":
        return make_blobs(n, noise, seed, classes)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")


def train_test_split(X, y, test_fraction: float = 0.25, seed: int = 0):
    """Shuffle and split into (X_train, y_train, X_test, y_test); both sides non-empty."""
    x = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y)
    if x.ndim != 2 or labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        raise ValueError(f"X must be (n, d) and y (n,), got {x.shape} and {labels.shape}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 points to split, got {n}")
    n_test = min(n - 1, max(1, int(round(n * test_fraction))))
    order = np.random.default_rng(seed).permutation(n)
    test, tr = order[:n_test], order[n_test:]
    return x[tr].copy(), labels[tr].copy(), x[test].copy(), labels[test].copy()


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CsvError(f"line {line}: {column} must be a number, got {text.strip()!r}") from None
    if not math.isfinite(value):
        raise CsvError(f"line {line}: {column} must be finite, got {text.strip()!r}")
    return value


def parse_csv(text: str, max_classes: int = MAX_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Points from CSV text with three columns per row: x, y, label.

    Blank lines and lines starting with `#` are skipped; a first row whose x and y are not
    numbers is a header. Labels are whole numbers 0, 1, ... (at most `max_classes` classes).
    Raises `CsvError` naming the line of the first malformed row.
    """
    rows = []
    header_allowed = True
    for line, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
            continue
        if len(fields) != 3:
            raise CsvError(f"line {line}: expected 3 values (x, y, label), got {len(fields)}")
        if header_allowed:
            header_allowed = False
            try:
                float(fields[0]), float(fields[1])
            except ValueError:
                continue  # a header such as "x,y,label"
        x = _number(fields[0], line, "x")
        y = _number(fields[1], line, "y")
        label = _number(fields[2], line, "label")
        if label != int(label) or label < 0:
            raise CsvError(f"line {line}: label must be a whole number >= 0, got {fields[2].strip()!r}")
        if label >= max_classes:
            raise CsvError(f"line {line}: label {int(label)} is too large (at most {max_classes} classes: 0..{max_classes - 1})")
        rows.append((x, y, int(label)))
    if len(rows) < 2:
        raise CsvError(f"expected at least 2 rows of x, y, label; found {len(rows)}")
    data = np.array([(x, y) for x, y, _ in rows], dtype=np.float64)
    labels = np.array([lab for *_, lab in rows], dtype=np.int64)
    return data, labels


def load_csv(path, max_classes: int = MAX_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file of x, y, label rows (see `parse_csv`); errors name the file and line.

    Only regular files of at most `MAX_CSV_BYTES` are read: a device, a folder or a larger
    file raises CsvError (naming the limit) before any byte is read."""
    raw = read_regular_file(path, MAX_CSV_BYTES, "MAX_CSV_BYTES", CsvError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(f"{path}: not a text file (expected UTF-8 CSV)") from None
    try:
        return parse_csv(text, max_classes)
    except CsvError as exc:
        raise CsvError(f"{path}: {exc}") from None
