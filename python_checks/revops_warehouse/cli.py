"""The project's commands: demo data, refresh, checks, summary. `python -m revops_warehouse --help`."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from revops_warehouse import exit_codes, settings
from revops_warehouse.refresh import refresh


def run_dbt(args: list[str], database: Path, as_of: str | None, target_dir: Path | None = None) -> int:
    """Run dbt in its own process (DuckDB allows one writer, and one configuration per process)."""
    command = [settings.dbt_executable(), *args, "--project-dir", str(settings.PROJECT_DIR)]
    if as_of:
        command += ["--vars", f"{{as_of: '{as_of}'}}"]
    if target_dir is not None:
        command += ["--target-path", str(target_dir)]
    print("$ " + " ".join(command), flush=True)
    return subprocess.call(command, cwd=settings.PROJECT_DIR, env=settings.dbt_env(database))


def generate(database: Path, scale: float, seed: int, anchor: str) -> dict:
    from revops_warehouse import demo_data

    database.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    facts = demo_data.generate(str(database), scale=scale, seed=seed, anchor=anchor)
    print(f"demo data written to {database} in {time.perf_counter() - started:.1f}s", flush=True)
    return facts


def summary(database: Path) -> int:
    """Print the reconciliation of raw rows and the size of the unified model."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select source_name, source_table, raw_rows, modelled_rows, excluded_rows, unaccounted_rows "
            "from audit.audit_source_row_reconciliation order by source_name, source_table"
        ).fetchall()
        print(f"\n{'source table':32} {'raw':>10} {'modelled':>10} {'excluded':>10} {'unaccounted':>12}")
        for source_name, table, raw, modelled, excluded, unaccounted in rows:
            print(f"{source_name + '.' + table:32} {raw:>10} {modelled:>10} {excluded:>10} {unaccounted:>12}")
        print()
        for model in (
            "dim_accounts",
            "dim_contacts",
            "dim_users",
            "fct_opportunities",
            "fct_opportunity_stage_history",
            "fct_lead_status_history",
            "fct_activities",
            "fct_subscriptions",
        ):
            count = con.execute(f"select count(*) from core.{model}").fetchone()[0]
            print(f"core.{model:34} {count:>10} rows")
        print("\nSLA status by policy:")
        for policy, status, count in con.execute(
            "select policy_id, sla_status, count(*) from sla.fct_sla_instances group by 1, 2 order by 1, 2"
        ).fetchall():
            print(f"  {policy:24} {status:20} {count:>8}")
        print("\nfailing records by rule type (hygiene_failing_records):")
        for failure_type, count in con.execute(
            "select failure_type, count(*) from hygiene.hygiene_failing_records group by 1 order by 2 desc"
        ).fetchall():
            print(f"  {failure_type:24} {count:>8}")
        bad = [r for r in rows if r[5] != 0]
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="revops", description=__doc__)
    parser.add_argument("--database", help="DuckDB file (default: $REVOPS_DUCKDB_PATH or warehouse/revops.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="main job: demo data -> refresh (dbt build, checks, scorecard page) -> summary")
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--anchor", default=settings.DEMO_ANCHOR, help="the demo's 'now' (also the as_of var)")

    gen = sub.add_parser("generate", help="write demo raw data only")
    gen.add_argument("--scale", type=float, default=1.0)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--anchor", default=settings.DEMO_ANCHOR)

    build = sub.add_parser("build", help="plain dbt build in place (no checks, no publish; see refresh)")
    build.add_argument("--as-of", default=None, help="fix 'now' (default: the run's start time)")

    ref = sub.add_parser("refresh", help="for schedulers: dbt build -> checks -> scorecard page -> atomic publish")
    ref.add_argument("--as-of", default=None, help="fix 'now' (default: the run's start, UTC)")
    ref.add_argument("--retry", action="store_true", help="re-run only what failed in the kept build (dbt retry)")
    ref.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    ref.add_argument("--no-report", action="store_true", help="skip the static scorecard page")

    sub.add_parser("check", help="run the Great Expectations checks only (see python -m revops_warehouse.quality -h)")

    sub.add_parser("summary", help="print the row reconciliation of the last build")

    args, rest = parser.parse_known_args(argv)
    if args.command == "check":
        from revops_warehouse.quality.runner import main as check_main

        return check_main([*(["--database", args.database] if args.database else []), *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    database = settings.database_path(args.database)

    if args.command == "generate":
        generate(database, args.scale, args.seed, args.anchor)
        return 0
    if args.command == "build":
        return run_dbt(["build"], database, args.as_of)
    if args.command == "summary":
        return summary(database)
    if args.command == "refresh":
        return refresh(
            database, args.as_of, retry=args.retry, full_refresh=args.full_refresh, report=not args.no_report
        )
    # demo: the main job
    generate(database, args.scale, args.seed, args.anchor)
    # The demo rewrites the raw tables with loader timestamps before the same anchor: incremental
    # models would not see them as new, so the demo's refresh rebuilds them (docs/incremental.md).
    code = refresh(database, args.anchor, full_refresh=True)
    if code not in (exit_codes.OK, exit_codes.DATA_QUALITY_ERRORS):
        print(f"refresh failed (exit {code})", file=sys.stderr)
        return code
    # The demo data carries planted defects: error-severity rules fail by design (exit 1 of the
    # refresh). The main job succeeds when everything was built, checked and published.
    return summary(database)


if __name__ == "__main__":
    raise SystemExit(main())
