"""The whole `postgres` target path in one call: raw data in, holidays written, `dbt build` run.

    with PgServer() as server:
        result = build_on_postgres(server, "/tmp/demo.duckdb", target_dir, {"as_of": "2026-11-02 12:00:00"})

Steps (docs/postgres.md): copy the raw schemas of a DuckDB file into PostgreSQL (pg_load), write
the holiday rows (pg_holidays, the portable path of the dbt Python model), run `dbt build
--target postgres` in its own process. Reused by the tests and by anything that wants a built
PostgreSQL warehouse (e.g. checks run on it afterwards: server.owner_url()).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from revops_warehouse import settings
from revops_warehouse.pg_holidays import write_holiday_rows
from revops_warehouse.pg_load import DEFAULT_SCHEMAS, copy_duckdb_to_postgres
from revops_warehouse.pg_server import PgServer


@dataclass
class PostgresBuild:
    returncode: int
    output: str
    target_dir: Path
    loaded: dict[str, int]
    holiday_rows: int
    seconds: dict[str, float] = field(default_factory=dict)

    def manifest(self) -> dict:
        return json.loads((self.target_dir / "manifest.json").read_text())


def dbt_on_postgres(
    server: PgServer,
    args: list[str],
    target_dir: Path | None = None,
    vars_: dict | None = None,
    project_dir: Path = settings.PROJECT_DIR,
) -> subprocess.CompletedProcess:
    """Run dbt against the server's `postgres` target, in its own process."""
    command = [settings.dbt_executable(), *args, "--project-dir", str(project_dir)]
    if target_dir is not None:
        command += ["--target-path", str(target_dir)]
    if vars_:
        command += ["--vars", json.dumps(vars_)]
    env = dict(os.environ)
    env.pop("REVOPS_DUCKDB_PATH", None)
    env.update(server.dbt_env())
    env.update({"DBT_PROFILES_DIR": str(project_dir), "DBT_PROJECT_DIR": str(project_dir)})
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True)


def build_on_postgres(
    server: PgServer,
    duckdb_file: str | os.PathLike[str],
    target_dir: Path,
    vars_: dict | None = None,
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
) -> PostgresBuild:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    con = server.connect()
    try:
        loaded = copy_duckdb_to_postgres(duckdb_file, con, schemas)
        seconds["load"] = time.perf_counter() - started
        started = time.perf_counter()
        first_year = (vars_ or {}).get("calendar_first_year")
        last_year = (vars_ or {}).get("calendar_last_year")
        holiday_count = write_holiday_rows(con, first_year=first_year, last_year=last_year)
        seconds["holidays"] = time.perf_counter() - started
    finally:
        con.close()
    started = time.perf_counter()
    result = dbt_on_postgres(server, ["build"], target_dir, vars_)
    seconds["dbt_build"] = time.perf_counter() - started
    return PostgresBuild(result.returncode, result.stdout + result.stderr, target_dir, loaded, holiday_count, seconds)
