"""Benchmark of the daily refresh: an incremental `dbt build` after 1 % new and changed source rows,
against a full build.

    .venv/bin/python benchmarks/benchmark_refresh.py --scale 1 [--workdir DIR] [--fraction 0.01]

Steps at one scale: generate the demo data; full `dbt build` as of the demo anchor (timed);
apply_changes (revops_warehouse.demo_changes: about `fraction` of each raw table new or changed,
synced after the previous sync, as-of a day later); incremental `dbt build` as of the new as-of
(timed); then, for reference, `dbt build --full-refresh` on the same changed data (timed). Before
the reference build the incremental models' tables are copied aside and compared with the rebuilt
ones afterwards (EXCEPT ALL both ways), so the figures are for a refresh that gave the same rows.

Peak memory is the max RSS of the dbt process (DuckDB runs inside it): each dbt command runs under
its own small wrapper process, whose RUSAGE_CHILDREN maximum is then that command's alone (dbt is
one process; its threads share the RSS). Results go to artifacts/benchmarks/refresh-<scale>.json
and .md (not committed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

from revops_warehouse import demo_changes, demo_data, settings

OUT_DIR = settings.PROJECT_DIR / "artifacts" / "benchmarks"
LOOKBACK_MINUTES = int(
    yaml.safe_load((settings.PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["incremental_lookback_minutes"]
)
INCREMENTAL_MODELS = {
    "intermediate": ["int_opportunity_stages_intervaled", "int_lead_statuses_intervaled"],
    "core": ["fct_activities"],
}
# Runs one command and prints the peak RSS (KiB) of its process: a fresh parent per measurement.
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def timed_dbt(args: list[str], database: Path, target: Path, as_of: str, log: Path) -> dict:
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
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, *command],
            cwd=settings.PROJECT_DIR,
            env=settings.dbt_env(database),
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
    wall = time.perf_counter() - started
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-4000:])
    run_results = json.loads((target / "run_results.json").read_text())
    nodes = {r["unique_id"]: r for r in run_results["results"]}
    slowest = sorted(nodes.values(), key=lambda r: -r["execution_time"])[:10]
    models = {uid.split(".")[-1]: round(r["execution_time"], 2) for uid, r in nodes.items() if uid.startswith("model.")}
    return {
        "command": "dbt " + " ".join(args),
        "as_of": as_of,
        "seconds": round(wall, 1),
        "exit_code": proc.returncode,
        "peak_rss_mib": peak_kib // 1024,
        "nodes": len(nodes),
        "summed_model_seconds": round(sum(models.values()), 1),
        "summed_test_seconds": round(
            sum(r["execution_time"] for uid, r in nodes.items() if not uid.startswith("model.")), 1
        ),
        "slowest_nodes_seconds": {r["unique_id"]: round(r["execution_time"], 2) for r in slowest},
        "model_seconds": models,
    }


def raw_row_counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('salesforce', 'stripe') order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
            for schema, table in tables
        }


def copy_incremental_tables(database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists bench_incremental").fetchall()
        for schema, tables in INCREMENTAL_MODELS.items():
            for table in tables:
                con.execute(
                    f"create or replace table bench_incremental.{table} as select * from {schema}.{table}"
                ).fetchall()


PARENT_KEYS = {
    "int_opportunity_stages_intervaled": "opportunity_id",
    "int_lead_statuses_intervaled": "lead_id",
    "fct_activities": "activity_id",
}


def watermarks(database: Path) -> dict[str, object]:
    """Each incremental model's newest source_synced_at (the watermark before the lookback)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            table: con.execute(f"select max(source_synced_at) from {schema}.{table}").fetchall()[0][0]
            for schema, tables in INCREMENTAL_MODELS.items()
            for table in tables
        }


def reprocessed_parents(database: Path, before: dict[str, object], lookback_minutes: int) -> dict[str, dict]:
    """Parents (opportunities, leads, tasks) whose source rows were synced after the watermark minus
    the lookback, i.e. the ones the refresh rebuilt (for fct_activities, without the tasks it
    re-resolved because a referenced record changed)."""
    result = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, tables in INCREMENTAL_MODELS.items():
            for table in tables:
                key = PARENT_KEYS[table]
                changed, total = con.execute(
                    f"select count(distinct case when source_synced_at > cast(? as timestamp) "
                    f"- to_minutes({lookback_minutes}) then {key} end), count(distinct {key}) "
                    f"from {schema}.{table}",
                    [before[table]],
                ).fetchall()[0]
                result[table] = {"parents_rebuilt": changed, "parents": total, "share": round(changed / total, 4)}
    return result


def compare_incremental_tables(database: Path) -> dict[str, dict[str, int]]:
    """Rows only in the incremental result, rows only in the full rebuild, per model."""
    result = {}
    with duckdb.connect(str(database)) as con:
        for schema, tables in INCREMENTAL_MODELS.items():
            for table in tables:
                a, b = f"bench_incremental.{table}", f"{schema}.{table}"
                only_incremental = con.execute(
                    f"select count(*) from (select * from {a} except all select * from {b})"
                ).fetchall()[0][0]
                only_full = con.execute(
                    f"select count(*) from (select * from {b} except all select * from {a})"
                ).fetchall()[0][0]
                rows = con.execute(f"select count(*) from {b}").fetchall()[0][0]
                result[table] = {"rows": rows, "only_incremental": only_incremental, "only_full": only_full}
        con.execute("drop schema bench_incremental cascade").fetchall()
    return result


def run(scale: float, workdir: Path, fraction: float, seed: int) -> dict:
    database = workdir / f"refresh-{scale:g}.duckdb"
    target = workdir / f"target-refresh-{scale:g}"
    for stale in (database, Path(str(database) + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    demo_data.generate(str(database), scale=scale)
    generate_seconds = time.perf_counter() - started
    raw_before = raw_row_counts(database)
    anchor = settings.DEMO_ANCHOR

    full = timed_dbt(["build"], database, target, anchor, workdir / "full.log")
    started = time.perf_counter()
    changes = demo_changes.apply_changes(str(database), fraction=fraction, seed=seed, anchor=anchor)
    change_seconds = time.perf_counter() - started
    raw_after = raw_row_counts(database)
    as_of = changes["as_of"]
    before = watermarks(database)
    incremental = timed_dbt(["build"], database, target, as_of, workdir / "incremental.log")
    lookback = LOOKBACK_MINUTES
    reprocessed = reprocessed_parents(database, before, lookback)
    copy_incremental_tables(database)
    reference = timed_dbt(["build", "--full-refresh"], database, target, as_of, workdir / "full-refresh.log")
    comparison = compare_incremental_tables(database)

    new_rows = sum(raw_after.values()) - sum(raw_before.values())
    touched = sum(c["row_count"] for c in changes["changes"] if c["change"] != "new")
    return {
        "scale": scale,
        "fraction": fraction,
        "seed": seed,
        "raw_rows_before": sum(raw_before.values()),
        "raw_rows_after": sum(raw_after.values()),
        "raw_rows_by_table_after": raw_after,
        "new_raw_rows": new_rows,
        "changed_raw_rows": touched,
        "changes": changes["changes"],
        "generate_seconds": round(generate_seconds, 1),
        "apply_changes_seconds": round(change_seconds, 1),
        "full_build": full,
        "incremental_build": incremental,
        "full_refresh_build_on_changed_data": reference,
        "incremental_over_full_ratio": round(incremental["seconds"] / full["seconds"], 3),
        "incremental_over_full_refresh_ratio": round(incremental["seconds"] / reference["seconds"], 3),
        "incremental_equals_full_refresh": comparison,
        "incremental_lookback_minutes": lookback,
        "incremental_parents_rebuilt": reprocessed,
        "incremental_models": {
            model: {
                "full_build_seconds": full["model_seconds"].get(model),
                "incremental_seconds": incremental["model_seconds"].get(model),
                "full_refresh_seconds": reference["model_seconds"].get(model),
            }
            for tables in INCREMENTAL_MODELS.values()
            for model in tables
        },
        "threads": settings.dbt_env(database).get("REVOPS_THREADS", "4 (profile default)"),
    }


def markdown(result: dict) -> str:
    full, inc, ref = result["full_build"], result["incremental_build"], result["full_refresh_build_on_changed_data"]
    lines = [
        f"# Refresh benchmark, scale {result['scale']:g}",
        "",
        f"Raw rows {result['raw_rows_before']:,} -> {result['raw_rows_after']:,} after apply_changes "
        f"(fraction {result['fraction']}): {result['new_raw_rows']:,} new, "
        f"{result['changed_raw_rows']:,} changed/deleted/merged/re-synced. Threads: {result['threads']}.",
        "",
        "| build | as_of | wall s | peak RSS MiB | model s (sum) | test s (sum) | exit |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, b in (("full build", full), ("incremental refresh", inc), ("full refresh on changed data", ref)):
        lines.append(
            f"| {name} | {b['as_of']} | {b['seconds']} | {b['peak_rss_mib']} | {b['summed_model_seconds']} "
            f"| {b['summed_test_seconds']} | {b['exit_code']} |"
        )
    lines += [
        "",
        f"Ratio incremental / full build: **{result['incremental_over_full_ratio']}**; "
        f"incremental / full refresh on the same data: **{result['incremental_over_full_refresh_ratio']}**.",
        "",
        f"Incremental models (lookback {result['incremental_lookback_minutes']} min):",
        "",
        "| incremental model | full build s | incremental s | full refresh s | rows | parents rebuilt "
        "| differing rows |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model, t in result["incremental_models"].items():
        c = result["incremental_equals_full_refresh"][model]
        p = result["incremental_parents_rebuilt"][model]
        lines.append(
            f"| {model} | {t['full_build_seconds']} | {t['incremental_seconds']} | {t['full_refresh_seconds']} "
            f"| {c['rows']:,} | {p['parents_rebuilt']:,} of {p['parents']:,} ({p['share']:.1%}) "
            f"| {c['only_incremental'] + c['only_full']} |"
        )
    for name, b in (("full build", full), ("incremental refresh", inc)):
        lines += ["", f"Slowest nodes, {name}:", "", "| node | s |", "|---|---:|"]
        lines += [f"| {node} | {s} |" for node, s in b["slowest_nodes_seconds"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workdir", default=None, help="folder for the benchmark warehouse (default: temp)")
    parser.add_argument("--fraction", type=float, default=0.01, help="share of each raw table new / changed")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="revops-refresh-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(args.scale, workdir, args.fraction, args.seed)
    (OUT_DIR / f"refresh-{args.scale:g}.json").write_text(json.dumps(result, indent=2))
    (OUT_DIR / f"refresh-{args.scale:g}.md").write_text(markdown(result))
    print(markdown(result), flush=True)
    builds = ("full_build", "incremental_build", "full_refresh_build_on_changed_data")
    failed = any(result[k]["exit_code"] for k in builds)
    differing = any(c["only_incremental"] or c["only_full"] for c in result["incremental_equals_full_refresh"].values())
    return 1 if failed or differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
