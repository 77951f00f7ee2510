"""Widget tests need no numba kernels: skip the session-wide warm-up of core."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _warm_kernels():
    """Override the root fixture: widgets never call core, so there is nothing to compile."""
    return None
