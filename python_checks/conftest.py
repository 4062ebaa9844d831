"""Session fixtures: a demo warehouse built once by the real `dbt build`, in a temporary folder.

The tests then assert the unified model against what the generator says it planted.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from revops_warehouse import settings

TEST_SCALE = float(os.environ.get("REVOPS_TEST_SCALE", "1"))


@dataclass
class Build:
    database: Path
    target_dir: Path
    facts: dict
    returncode: int
    output: str
    planted: list[dict] = field(default_factory=list)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.database), read_only=True)

    def manifest(self) -> dict:
        return json.loads((self.target_dir / "manifest.json").read_text())

    def facts_where(self, **match) -> list[dict]:
        return [f for f in self.planted if all(f.get(k) == v for k, v in match.items())]

    def planted_ids(self, **match) -> set[str]:
        """Record ids of the planted facts matching `match`, together."""
        ids: set[str] = set()
        for fact in self.facts_where(**match):
            ids.update(fact.get("record_ids") or [])
        return ids

    def planted_count(self, **match) -> int:
        return sum(int(f["expected_count"]) for f in self.facts_where(**match))


def dbt(
    args: list[str],
    database: Path,
    target_dir: Path | None = None,
    vars_: dict | None = None,
    project_dir: Path = settings.PROJECT_DIR,
) -> subprocess.CompletedProcess:
    """Run dbt in its own process on `database`, for the project (or a copy of it) in project_dir."""
    command = [settings.dbt_executable(), *args, "--project-dir", str(project_dir)]
    if target_dir is not None:
        command += ["--target-path", str(target_dir)]
    if vars_:
        command += ["--vars", json.dumps(vars_)]
    env = settings.dbt_env(database, {"DBT_PROFILES_DIR": str(project_dir), "DBT_PROJECT_DIR": str(project_dir)})
    return subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True)


def build_demo(tmp: Path, vars_: dict | None = None, **generate_kwargs) -> Build:
    from revops_warehouse import demo_data

    database = tmp / "warehouse.duckdb"
    target_dir = tmp / "target"
    generate_kwargs.setdefault("scale", TEST_SCALE)
    generate_kwargs.setdefault("anchor", settings.DEMO_ANCHOR)
    facts = demo_data.generate(str(database), **generate_kwargs)
    run_vars = {"as_of": generate_kwargs["anchor"], **(vars_ or {})}
    result = dbt(["build"], database, target_dir, run_vars)
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute("select * from demo_meta.planted")
        names = [d[0] for d in cursor.description]
        planted = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return Build(database, target_dir, facts, result.returncode, result.stdout + result.stderr, planted)


_DEMO_BUILD: list[Build] = []


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> Build:
    # Built once per session, even when it failed (pytest re-runs a failed session fixture per test).
    if not _DEMO_BUILD:
        _DEMO_BUILD.append(build_demo(tmp_path_factory.mktemp("demo")))
    build = _DEMO_BUILD[0]
    if build.returncode != 0:
        tail = "\n".join(build.output.splitlines()[-60:])
        pytest.fail(f"dbt build on the demo data failed (exit {build.returncode}):\n{tail}")
    return build


@pytest.fixture(scope="session")
def empty_raw_warehouse(tmp_path_factory) -> Path:
    """A warehouse holding every contract table, empty: enough for dbt to compile and lint."""
    from revops_warehouse.contract import create_empty_raw_tables

    database = tmp_path_factory.mktemp("empty") / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        create_empty_raw_tables(con)
    return database
