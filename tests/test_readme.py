"""The README: its first two commands, and every Python example in it runs as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
EXAMPLES = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_starts_with_the_two_commands():
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert "pip install . && dl-tutor" in blocks[0]
    assert "pip install -e '.[test]' && python -m pytest" in blocks[1]
    run_script = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert blocks[1].strip() in run_script, ".ci/run runs the README's test command verbatim"


def test_every_core_package_has_an_example():
    import core

    for package in core.SUBPACKAGES:
        assert any(f"from core.{package} import" in block for block in EXAMPLES), package


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(EXAMPLES[index], f"README example {index + 1}", "exec"), {})
    assert out.getvalue().strip(), "each example prints what it computes"
