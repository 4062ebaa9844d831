"""Benchmark of the Great Expectations checks against the same rules as plain SQL counts on DuckDB.

    .venv/bin/python benchmarks/benchmark_checks.py --scale 460 --workdir /tmp/bench-checks
    .venv/bin/python benchmarks/benchmark_checks.py --database /path/to/built.duckdb

Builds the demo warehouse at the stated scale (unless --database names a built one), then runs, each
in a fresh process so its wall time and peak RSS are its own:
  * the checks runner (`python -m revops_warehouse.quality --no-write`): suites generated from the
    seeds, validated by Great Expectations with SQL pushed down to DuckDB;
  * the reference: the same plan (same assets, same rules) as plain SQL, one aggregate query per
    asset counting each rule's failing rows.
It asserts both report the same failing count for every rule, and writes rows per checked table,
both times, both peaks and their ratio to artifacts/benchmarks/checks-<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from revops_warehouse import settings

OUT_DIR = settings.PROJECT_DIR / "artifacts" / "benchmarks"
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'wall': time.perf_counter() - t, 'code': p.returncode, 'stdout': p.stdout[-20000:],\n"
    "  'stderr': p.stderr[-4000:], 'peak_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}))\n"
)


def measured(command: list[str]) -> dict:
    """Run `command` under a fresh parent: its wall time and the peak RSS of its process tree."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def sql_reference(database: Path) -> dict:
    """The plan's rules as plain SQL counts: {rule_id/expectation: failing rows}, rows per asset."""
    import duckdb
    import sqlalchemy as sa

    from revops_warehouse.quality.runner import duckdb_url, plan_from_warehouse

    engine = sa.create_engine(duckdb_url(database))
    plan = plan_from_warehouse(engine)
    engine.dispose()
    counts, rows = {}, {}
    with duckdb.connect(str(database), read_only=True) as con:
        for name, checks in plan.suites().items():
            parts = ["count(*)"]
            for c in checks:
                col = c.expectation_kwargs["column"]
                if c.expectation_type == "expect_column_values_to_not_be_null":
                    parts.append(f"count(*) filter (where {col} is null)")
                elif c.expectation_type == "expect_column_values_to_be_in_set":
                    values = ", ".join("'" + v.replace("'", "''") + "'" for v in c.expectation_kwargs["value_set"])
                    parts.append(f"count(*) filter (where {col} is not null and {col} not in ({values}))")
                elif c.expectation_type == "expect_column_values_to_match_regex":
                    pattern = c.expectation_kwargs["regex"].replace("'", "''")
                    parts.append(
                        f"count(*) filter (where {col} is not null and not regexp_matches({col}, '{pattern}'))"
                    )
                elif c.expectation_type == "expect_column_values_to_be_unique":
                    parts.append(
                        f"count(*) filter (where {col} in (select {col} from asset group by 1 having count(*) > 1))"
                    )
            result = con.execute(
                f"with asset as ({plan.assets[name].query}) select {', '.join(parts)} from asset"
            ).fetchone()
            rows[name] = result[0]
            for c, value in zip(checks, result[1:], strict=True):
                counts[f"{c.rule_id}/{c.expectation_type}"] = value
    return {"counts": counts, "rows_per_asset": rows}


def gx_counts(database: Path) -> dict:
    from revops_warehouse.quality.runner import duckdb_url, run_checks

    outcome = run_checks(duckdb_url(database), write=False, sample_size=20)
    return {f"{r.check.rule_id}/{r.check.expectation_type}": r.unexpected_count for r in outcome.results}


def build(scale: float, workdir: Path) -> Path:
    from revops_warehouse import demo_data

    database = workdir / "warehouse.duckdb"
    if database.exists():
        return database
    workdir.mkdir(parents=True, exist_ok=True)
    demo_data.generate(str(database), scale=scale, anchor=settings.DEMO_ANCHOR)
    done = subprocess.run(
        [
            settings.dbt_executable(),
            "build",
            "--project-dir",
            str(settings.PROJECT_DIR),
            "--target-path",
            str(workdir / "target"),
            "--vars",
            json.dumps({"as_of": settings.DEMO_ANCHOR}),
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
        ],
        cwd=settings.PROJECT_DIR,
        env=settings.dbt_env(database),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:])
        raise SystemExit("dbt build failed")
    return database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workdir", default="/tmp/revops-bench-checks")
    parser.add_argument("--database", default=None, help="a built warehouse (skips generate + build)")
    parser.add_argument("--mode", choices=["gx", "sql"], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.mode:  # one measured side, in its own process; timed after its imports
        database = Path(args.database)
        if args.mode == "gx":
            import great_expectations  # noqa: F401
        import duckdb  # noqa: F401
        import sqlalchemy  # noqa: F401

        import revops_warehouse.quality.runner  # noqa: F401

        started = time.perf_counter()
        result = gx_counts(database) if args.mode == "gx" else sql_reference(database)
        print(json.dumps({"seconds_inside": time.perf_counter() - started, "result": result}))
        sys.stdout.flush()
        import os

        os._exit(0)

    started = time.perf_counter()
    database = Path(args.database).resolve() if args.database else build(args.scale, Path(args.workdir))
    build_seconds = time.perf_counter() - started
    me = [sys.executable, str(Path(__file__).resolve()), "--database", str(database)]
    sides = {}
    for mode in ("sql", "gx", "sql", "gx"):  # twice each, alternating: the second pair is reported
        run = measured([*me, "--mode", mode])
        if run["code"] != 0:
            sys.stderr.write(run["stdout"][-3000:] + run["stderr"])
            raise SystemExit(f"{mode} side failed")
        payload = json.loads(run["stdout"].strip().splitlines()[-1])
        sides[mode] = {
            "wall_seconds": round(run["wall"], 2),
            "peak_mib": run["peak_mib"],
            "seconds_inside": round(payload["seconds_inside"], 2),
            "result": payload["result"],
        }
    reference = sides["sql"]["result"]
    mismatches = {
        k: (v, sides["gx"]["result"].get(k))
        for k, v in reference["counts"].items()
        if sides["gx"]["result"].get(k) != v
    }
    if mismatches:
        raise SystemExit(f"GX and SQL disagree: {mismatches}")
    report = {
        "scale": args.scale if not args.database else None,
        "database": str(database),
        "database_gib": round(database.stat().st_size / 2**30, 2),
        "prepare_seconds": round(build_seconds, 1),
        "rules": len(reference["counts"]),
        "rows_per_checked_asset": reference["rows_per_asset"],
        "largest_checked_rows": max(reference["rows_per_asset"].values()),
        "gx": {k: v for k, v in sides["gx"].items() if k != "result"},
        "sql": {k: v for k, v in sides["sql"].items() if k != "result"},
        "ratio_wall_gx_over_sql": round(sides["gx"]["wall_seconds"] / sides["sql"]["wall_seconds"], 2),
        "ratio_inside_gx_over_sql": round(sides["gx"]["seconds_inside"] / max(sides["sql"]["seconds_inside"], 1e-9), 2),
        "ratio_peak_gx_over_sql": round(sides["gx"]["peak_mib"] / max(sides["sql"]["peak_mib"], 1), 2),
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    name = f"checks-{args.scale:g}.json" if not args.database else "checks-database.json"
    (OUT_DIR / name).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
