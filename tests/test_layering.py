"""The layering, checked: import-linter's contracts (pyproject.toml) and no private core names
used outside core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         "sys.exit(lint_imports())"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROKEN" not in out.stdout and "KEPT" in out.stdout


def _private_core_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "core":
            parts = node.module.split(".")
            names = [alias.name for alias in node.names]
            if any(p.startswith("_") for p in parts) or any(n.startswith("_") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import "
                             + ", ".join(names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "core" and any(
                    p.startswith("_") for p in alias.name.split(".")
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} import {alias.name}")
    return found


def test_nothing_outside_core_uses_a_private_core_name():
    uses = [use for folder in ("tutor", "benchmarks") for path in sorted((ROOT / folder).rglob("*.py"))
            for use in _private_core_uses(path)]
    assert uses == [], "use core's public API instead:\n" + "\n".join(uses)
