"""The core stays headless, survives an unusable cache folder, and warms every kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _run(code: str, env_extra: dict | None = None, script=None) -> str:
    env = {**os.environ, **(env_extra or {})}
    if script is not None:  # numba caches only functions defined in files
        script.write_text(code)
    args = [str(script)] if script is not None else ["-c", code]
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_importing_core_never_imports_textual_rich_or_tutor():
    code = (
        "import sys, json, core\n"
        "for name in core.SUBPACKAGES: __import__('core.' + name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tutor'))))"
    )
    assert json.loads(_run(code)) == []


def test_unusable_cache_folders_fall_back_and_kernels_still_run(tmp_path):
    # A file where the cache folder should be: nothing can be created below it (even as root).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code = (
        "import core, numpy as np\n"
        "from core._jit import jit\n"
        "@jit\n"
        "def twice(a):\n"
        "    return a * 2.0\n"
        "print(core.cache_dir(), twice(np.ones(2)).sum())"
    )
    env = {"NUMBA_CACHE_DIR": str(blocker / "numba"), "XDG_CACHE_HOME": str(blocker)}
    out = _run(code, env, script=tmp_path / "script.py").split()
    assert out[-1] == "4.0"
    assert not out[0].startswith(str(blocker)), "the unusable folder was not used"


def test_warmup_reports_progress_for_every_kernel():
    import core
    from core import _jit

    seen = []
    failures = core.warmup(lambda done, total, name: seen.append((done, total, name)))
    assert failures == []
    assert len(seen) == len(_jit.registered()) > 0
    assert seen[-1][0] == seen[-1][1]
    packages = {name.split(".")[1] for _, _, name in seen}
    assert packages == set(core.SUBPACKAGES), "every core package registers kernels"
