"""Benchmark of the foundation: demo data at a stated scale -> `dbt build`, timed and measured.

    .venv/bin/python benchmarks/benchmark_build.py --scale 1 --scale 400

For each scale it reports rows per raw table, generation time, `dbt build` wall time and peak
memory (max RSS of the dbt process, which holds DuckDB in-process), and how the build's wall time
splits between dbt itself (parse, compile, scheduling, Python) and DuckDB executing SQL: the union
of the execute intervals in run_results.json is time with at least one query in DuckDB; the rest
is dbt outside the database. `dbt parse` alone is timed too. Results go to
artifacts/benchmarks/build-<scale>.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from revops_warehouse import demo_data, settings

OUT_DIR = settings.PROJECT_DIR / "artifacts" / "benchmarks"


def timed_dbt(args: list[str], database: Path, target: Path, as_of: str) -> tuple[float, int, int]:
    """(wall seconds, exit code, peak RSS in MiB of this child) for one dbt command."""
    command = [
        settings.dbt_executable(),
        *args,
        "--project-dir",
        str(settings.PROJECT_DIR),
        "--target-path",
        str(target),
        "--vars",
        json.dumps({"as_of": as_of}),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        command, cwd=settings.PROJECT_DIR, env=settings.dbt_env(database), capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
    # ru_maxrss of children is the max over all children so far: report it only if it grew.
    return wall, proc.returncode, max(peak, before) // 1024


def execute_union_seconds(run_results: dict) -> tuple[float, float, float]:
    """(seconds with >= 1 node executing, summed execute seconds, summed compile seconds)."""
    spans, execute_sum, compile_sum = [], 0.0, 0.0
    for result in run_results["results"]:
        for timing in result.get("timing", []):
            if not timing.get("started_at") or not timing.get("completed_at"):
                continue
            start = datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["completed_at"].replace("Z", "+00:00"))
            seconds = (end - start).total_seconds()
            if timing["name"] == "execute":
                spans.append((start, end))
                execute_sum += seconds
            elif timing["name"] == "compile":
                compile_sum += seconds
    spans.sort()
    union, current_start, current_end = 0.0, None, None
    for start, end in spans:
        if current_end is None or start > current_end:
            if current_end is not None:
                union += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        union += (current_end - current_start).total_seconds()
    return union, execute_sum, compile_sum


def run(scale: float, workdir: Path) -> dict:
    database = workdir / f"bench-{scale:g}.duckdb"
    target = workdir / f"target-{scale:g}"
    for stale in (database, Path(str(database) + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    demo_data.generate(str(database), scale=scale)
    generate_seconds = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('salesforce', 'stripe') order by 1, 2"
        ).fetchall()
        raw_rows = {
            f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        }
    as_of = settings.DEMO_ANCHOR
    parse_wall, _, _ = timed_dbt(["parse", "--no-partial-parse"], database, target, as_of)
    build_wall, code, peak_mib = timed_dbt(["build"], database, target, as_of)
    run_results = json.loads((target / "run_results.json").read_text())
    in_db, execute_sum, compile_sum = execute_union_seconds(run_results)
    node_seconds = {r["unique_id"]: r["execution_time"] for r in run_results["results"]}
    slowest = sorted(node_seconds.items(), key=lambda kv: -kv[1])[:8]
    return {
        "scale": scale,
        "raw_rows": raw_rows,
        "generate_seconds": round(generate_seconds, 1),
        "dbt_parse_seconds": round(parse_wall, 1),
        "dbt_build_seconds": round(build_wall, 1),
        "dbt_build_exit_code": code,
        "dbt_build_peak_rss_mib": peak_mib,
        "seconds_with_duckdb_executing": round(in_db, 1),
        "seconds_dbt_outside_database": round(build_wall - in_db, 1),
        "share_outside_database": round((build_wall - in_db) / build_wall, 3),
        "summed_node_execute_seconds": round(execute_sum, 1),
        "summed_node_compile_seconds": round(compile_sum, 1),
        "slowest_nodes_seconds": {k: round(v, 2) for k, v in slowest},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, action="append", help="repeatable; default 1")
    parser.add_argument("--workdir", default=None, help="folder for the benchmark warehouses (default: temp)")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="revops-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for scale in args.scale or [1.0]:
        # ru_maxrss of children is a running maximum: give the scales smallest first, or run one
        # scale per invocation for an isolated peak.
        result = run(scale, workdir)
        (OUT_DIR / f"build-{scale:g}.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
