"""The warehouse file is one file whatever the caller's working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from revops_warehouse import settings


def test_default_database_is_inside_the_project(monkeypatch, tmp_path):
    monkeypatch.delenv("REVOPS_DUCKDB_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    assert settings.database_path() == settings.PROJECT_DIR / "warehouse" / "revops.duckdb"


def test_relative_env_path_is_resolved_once_against_the_caller(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVOPS_DUCKDB_PATH", "data/w.duckdb")
    resolved = settings.database_path()
    assert resolved == tmp_path / "data" / "w.duckdb"
    assert settings.dbt_env(resolved)["REVOPS_DUCKDB_PATH"] == str(tmp_path / "data" / "w.duckdb")


def test_dbt_resolves_the_profile_path_to_the_same_file_from_another_directory(tmp_path):
    """dbt called by a scheduler from elsewhere, with the env the project's commands set, debugs the
    same absolute file (no second, empty warehouse in the caller's directory)."""
    database = tmp_path / "w.duckdb"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [settings.dbt_executable(), "debug", "--project-dir", str(settings.PROJECT_DIR)],
        cwd=elsewhere,
        env=settings.dbt_env(database),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert str(database) in result.stdout
    assert list(elsewhere.iterdir()) in ([], [elsewhere / "logs"])


def test_cli_rejects_unknown_commands():
    result = subprocess.run(
        [sys.executable, "-m", "revops_warehouse", "frobnicate"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_bootstrap_script_refuses_a_python_that_is_not_3_11(tmp_path):
    fake = tmp_path / "python-fake"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", str(settings.PROJECT_DIR / "scripts" / "bootstrap")],
        env={**os.environ, "REVOPS_PYTHON": str(fake)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "needs Python 3.11" in result.stderr
    assert Path(settings.PROJECT_DIR / ".venv").exists()
