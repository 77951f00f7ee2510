"""Shared fixtures: an isolated data dir, one numba warm-up per session, a lab harness app."""

from __future__ import annotations

import os

# Each xdist worker gets a core; BLAS threads on top only fight over them (as in the app, which
# sets the same before NumPy loads). The user's own setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest

# Keep the terminal's settings out of the tests (they change colours and themes), but not the
# TEXTUAL_SNAPSHOT_* variables pytest-textual-snapshot passes to its xdist workers.
os.environ.pop("NO_COLOR", None)
for _key in [k for k in os.environ if k.startswith("TEXTUAL_") and not k.startswith("TEXTUAL_SNAPSHOT")]:
    os.environ.pop(_key)
# Errors in labs propagate in tests (the app would report them and go on); tests of that
# recovery unset it.
os.environ["DL_TUTOR_STRICT"] = "1"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session", autouse=True)
def _warm_kernels():
    """Compile (or load from numba's cache) every kernel once, before any test times out on it.

    `DL_TUTOR_TEST_NO_WARMUP=1` skips it when running only tests that need no kernels.
    """
    if os.environ.get("DL_TUTOR_TEST_NO_WARMUP") == "1":
        return
    import core

    failures = core.warmup()
    assert not failures, f"kernels failed to compile: {failures}"


def make_lab_app(lab: str, **params):
    """A minimal app that shows one lab with validated `params`, for Pilot and snapshot tests."""
    from tutor.labdemo import LabApp

    return LabApp(lab, params)


@pytest.fixture
def lab_app():
    """`lab_app("backprop", preset="notes")` builds the harness app for a lab."""
    return make_lab_app


def pytest_collection_modifyitems(config, items):
    """Mark every test that boots a Textual app (async Pilot tests, snapshots) as `ui`."""
    import inspect

    ui = pytest.mark.ui
    for item in items:
        function = getattr(item, "function", None)
        if inspect.iscoroutinefunction(function) or "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(ui)
