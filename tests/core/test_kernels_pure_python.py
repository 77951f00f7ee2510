"""Every registered kernel gives the same numbers compiled and as plain Python.

The pure-Python run (NUMBA_DISABLE_JIT=1, in a subprocess) executes the kernels' source line by
line, so a failure here tells a numba regression (or a numba-only construct) apart from a logic
error, which the other core tests catch in both modes. Float inputs are the examples' shapes
filled with seeded random numbers in [0, 1), so the outputs are not trivially zero.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np

_RUN = r"""
import pickle, sys
import numpy as np
import core
from core import _jit

core.kernel_names()  # imports every package, so every kernel is registered
rng = np.random.default_rng(0)


def fill(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return rng.random(value.shape)
    return value.copy() if isinstance(value, np.ndarray) else value


results = {}
for k in _jit.registered():
    examples = k.example()
    outputs = []
    for args in examples if isinstance(examples, list) else [examples]:
        args = tuple(fill(a) for a in args)
        try:
            out = k.dispatcher(*args)
        except Exception as exc:
            out = ("raised", type(exc).__name__)
        outputs.append((out, args))
    results[k.name] = outputs
sys.stdout.buffer.write(pickle.dumps(results))
"""


def _run(disable_jit: bool) -> dict:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1" if disable_jit else "0"}
    out = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    return pickle.loads(out.stdout)


def _same(a, b) -> bool:
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
    if isinstance(a, float | int | np.number) and isinstance(b, float | int | np.number):
        return bool(np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
    return a == b


def test_every_kernel_gives_the_same_numbers_compiled_and_in_plain_python():
    compiled, plain = _run(False), _run(True)
    assert compiled.keys() == plain.keys() and len(compiled) > 30
    differ = [name for name in compiled if not _same(compiled[name], plain[name])]
    assert differ == [], f"compiled and plain Python differ: {differ}"
