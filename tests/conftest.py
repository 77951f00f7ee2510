"""Shared fixtures: an isolated data dir, one numba warm-up per session, a lab harness app."""

from __future__ import annotations

import os

# Each xdist worker gets a core; BLAS threads on top only fight over them (as in the app, which
# sets the same before NumPy loads). The user's own setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest

from tutor.labs.gc_hold import collect_less_often

# Python's full (oldest-generation) garbage collections walk every live object. A test worker
# builds hundreds of apps, each ~200,000 objects in reference cycles (Textual's widget tree),
# so a full collection took 0.3-1 s and ran every ten young ones: measured over the whole
# suite, 156 of 447 s of the workers' CPU. One in a hundred, as the `dl-tutor` command runs
# them, left 48 s, for at most ~1 GB per worker.
collect_less_often()

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


def pytest_configure(config):
    """Under xdist, compile the kernels once in the controller before the workers start: on a
    cold numba cache every worker compiled every kernel at the same time (none finds the others'
    cache files yet), three times the work on a fresh CI machine. The workers then load them."""
    if (hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)
            or os.environ.get("DL_TUTOR_TEST_NO_WARMUP") == "1"):
        return
    _compile_on_every_core(config.rootpath)
    _warm_up()


def _compile_on_every_core(root) -> None:
    """Fill numba's cache with one process per core, each compiling a share of the core
    packages (a cold cache took 31 s on one core while the other idled; ~18 s on two). The
    controller's `_warm_up` then loads them, and compiles and reports any that failed here."""
    import subprocess
    import sys

    import core

    cores = min(os.cpu_count() or 1, len(core.SUBPACKAGES))
    if cores < 2:
        return
    code = "import sys, core; sys.exit(1 if core.warmup(packages=sys.argv[1:]) else 0)"
    children = [subprocess.Popen([sys.executable, "-c", code, *core.SUBPACKAGES[k::cores]],
                                 cwd=root, stdout=subprocess.DEVNULL)
                for k in range(cores)]
    for child in children:
        child.wait()


@pytest.fixture(scope="session", autouse=True)
def _warm_kernels():
    """Compile (or load from numba's cache) every kernel once, before any test times out on it.

    `DL_TUTOR_TEST_NO_WARMUP=1` skips it when running only tests that need no kernels.
    """
    if os.environ.get("DL_TUTOR_TEST_NO_WARMUP") == "1":
        return
    _warm_up()


def _warm_up() -> None:
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


LONG_FIRST = ("tests/tutor/test_every_lesson.py", "tests/tutor/test_random_keys.py",
              "tests/tutor/labs/test_lab_contract.py")
"""The files of the longest tests (10-30 s each: the course walk, the random-key walks, the lab
contract): run first, so parallel workers finish together instead of one waiting on the other
for the last long test."""


def pytest_collection_modifyitems(config, items):
    """Mark every test that boots a Textual app (async Pilot tests, snapshots) as `ui`; put
    the long ones first."""
    import inspect

    ui = pytest.mark.ui
    for item in items:
        function = getattr(item, "function", None)
        if inspect.iscoroutinefunction(function) or "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(ui)

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a file is kept


@pytest.hookimpl(optionalhook=True)  # known only when pytest-xdist is loaded
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than there are cores. A Pilot test waits for the screen's
    refresh timer after each key, so a worker per core left a third of the CPU idle (user +
    system 13.7 min in a 9.7 min run on 2 cores)."""
    return (os.cpu_count() or 1) + 1


@pytest.hookimpl(optionalhook=True)  # known only when pytest-xdist is loaded
def pytest_xdist_make_scheduler(config, log):
    """`-n`: idle workers take pending tests from busy ones (xdist's work stealing). With
    the default scheduling one worker was left with a queue of long tests at the end while
    the others idled (a run's last 9% took 3 of its 11 minutes, one worker at 100%)."""
    if config.getoption("dist") != "load":
        return None  # a --dist the runner asked for explicitly
    from xdist.scheduler import WorkStealingScheduling

    return WorkStealingScheduling(config, log)
