"""sqlfluff (dbt templater, DuckDB dialect, config in .sqlfluff) and ruff, as part of the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from revops_warehouse import settings

BIN = Path(sys.executable).parent


def test_sqlfluff_lint_passes(empty_raw_warehouse):
    result = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "tests", "--disable-progress-bar"],
        cwd=settings.PROJECT_DIR,
        env=settings.dbt_env(empty_raw_warehouse),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_ruff_passes():
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "python_checks", "models"],
        cwd=settings.PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-5000:]
