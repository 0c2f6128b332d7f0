"""The architecture holds: the layers import one way (import-linter), the types check (mypy).

The contracts and the mypy settings live in pyproject.toml; these tests only run the tools, so
a broken contract or a type error fails the suite with the tool's own explanation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(list(cmd), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_layers_import_one_way():
    """cli > course > views > sim|linux > request > network > paths > errors, db apart (pyproject)."""
    out = _run(str(BIN / "lint-imports"), "--no-cache", "--no-logo")
    broken = out.stdout.partition("Broken contracts")[2] or out.stdout
    assert out.returncode == 0, broken[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_mypy_reports_no_errors_over_tierlab():
    """Strict on network, request and the top-level modules; see [tool.mypy] in pyproject.toml."""
    out = _run(sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"))
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    assert out.returncode == 0 and not errors, "\n".join(errors[:60]) + out.stderr[-2000:]
