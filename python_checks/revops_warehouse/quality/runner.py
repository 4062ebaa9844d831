"""Run every Great Expectations suite against the warehouse, record and summarize the results.

`python -m revops_warehouse.quality` (or `revops check`): generates the suites from the rules the
warehouse holds (see suites.py), validates them inside the warehouse (SQL pushed down through
SQLAlchemy: DuckDB via duckdb-engine, PostgreSQL via psycopg2), prints a summary (rule, object,
stage, failing count and rate, owner role), appends every result to `quality.gx_validation_results`
and builds Data Docs.

A rule that failed to *run* (GX caught an exception while computing it) is not a rule that failed
on the data: the runner stops at the first such rule, records it (ran = false) and raises
ChecksDidNotRun, exit code 3. Otherwise the exit code is 1 when an error-severity rule failed on the
data, else 0; the results are written either way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from revops_warehouse import exit_codes, settings
from revops_warehouse.quality import gx_compat
from revops_warehouse.quality.suites import (
    Check,
    Plan,
    Relation,
    RuleError,
    RuleSet,
    build_plan,
    load_object_specs,
    rows_as_dicts,
)

RESULTS_SCHEMA = "quality"
RESULTS_TABLE = "gx_validation_results"
SAMPLE_SIZE = 20
RULE_SEEDS = ("data_dictionary", "duplicate_rules", "duplicate_rule_keys", "stage_definitions", "value_formats")

RESULT_COLUMNS = (
    ("run_id", "varchar"),
    ("run_at", "timestamp"),
    ("as_of", "timestamp"),
    ("suite_name", "varchar"),
    ("expectation_type", "varchar"),
    ("rule_id", "varchar"),
    ("rule_type", "varchar"),
    ("object_name", "varchar"),
    ("column_name", "varchar"),
    ("stage_name", "varchar"),
    ("severity", "varchar"),
    ("owner_role", "varchar"),
    ("ran", "boolean"),
    ("success", "boolean"),
    ("element_count", "bigint"),
    ("unexpected_count", "bigint"),
    ("unexpected_percent", "double precision"),
    ("failing_sample", "varchar"),
    ("exception_message", "varchar"),
)


class ChecksDidNotRun(RuntimeError):
    """A rule could not be evaluated (not a data failure): the message names it and the cause."""


@dataclass
class CheckResult:
    check: Check
    ran: bool
    success: bool | None
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    failing_sample: list[str] = field(default_factory=list)
    exception_message: str | None = None

    @property
    def failed_on_data(self) -> bool:
        return self.ran and self.success is False


@dataclass
class RunOutcome:
    run_id: str
    run_at: datetime
    as_of: datetime | None
    results: list[CheckResult]
    data_docs_index: Path | None
    seconds: float

    @property
    def error_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.failed_on_data and r.check.severity == "error"]

    @property
    def exit_code(self) -> int:
        if any(not r.ran for r in self.results):
            return exit_codes.CHECKS_DID_NOT_RUN
        return exit_codes.DATA_QUALITY_ERRORS if self.error_failures else exit_codes.OK


def duckdb_url(database: Path) -> str:
    return f"duckdb:///{Path(database).resolve()}"


def _quiet_gx() -> None:
    # GX's progress bars and INFO logging would drown the summary a scheduler logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def load_rules(connection: sa.Connection, rules_schema: str = "rules") -> RuleSet:
    tables = {}
    for seed in RULE_SEEDS:
        try:
            result = connection.execute(sa.text(f"select * from {rules_schema}.{seed}"))
        except sa.exc.DBAPIError as error:
            raise ChecksDidNotRun(
                f"rule seed {rules_schema}.{seed} is not in the warehouse (run `dbt seed`/`dbt build` first): "
                f"{str(error.orig).splitlines()[0]}"
            ) from error
        tables[seed] = rows_as_dicts(result.keys(), result.fetchall())
    # Seeds are read in a stable order so suites and results are reproducible.
    order = {"data_dictionary": "rule_id", "duplicate_rules": "rule_id", "stage_definitions": "stage_order"}
    for seed, key in order.items():
        tables[seed].sort(key=lambda r, k=key: (r.get("object") or "", float(r[k]) if k == "stage_order" else r[k]))
    tables["duplicate_rule_keys"].sort(key=lambda r: (r["rule_id"], float(r["key_order"])))
    return RuleSet(**tables)


def load_relations(connection: sa.Connection, models: set[str]) -> dict[str, Relation]:
    """Where each model is in the warehouse (schema.table) and its columns."""
    rows = connection.execute(
        sa.text(
            "select table_schema, table_name, lower(column_name) from information_schema.columns "
            "where lower(table_name) in :names and table_schema not like 'dbt_test%'"
        ).bindparams(sa.bindparam("names", expanding=True)),
        {"names": sorted(models)},
    ).fetchall()
    found: dict[str, dict[str, set[str]]] = {}
    for schema, table, column in rows:
        found.setdefault(table.lower(), {}).setdefault(schema, set()).add(column)
    relations = {}
    for model in models:
        schemas = found.get(model, {})
        if len(schemas) > 1:
            raise ChecksDidNotRun(f"model {model} exists in several schemas: {', '.join(sorted(schemas))}")
        for schema, columns in schemas.items():
            relations[model] = Relation(f"{schema}.{model}", frozenset(columns))
    return relations


def plan_from_warehouse(engine: sa.Engine, project_dir: Path = settings.PROJECT_DIR) -> Plan:
    objects = load_object_specs(project_dir)
    with engine.connect() as connection:
        rules = load_rules(connection)
        relations = load_relations(connection, {o.model for o in objects.values()} | {"int_duplicate_keys_normalized"})
    if "int_duplicate_keys_normalized" not in relations:
        raise ChecksDidNotRun(
            "intermediate model int_duplicate_keys_normalized is not in the warehouse (run dbt build first)"
        )
    return build_plan(
        rules, objects, relations, duplicate_keys_relation=relations["int_duplicate_keys_normalized"].qualified_name
    )


def _exception_message(result) -> str | None:
    """The exception GX caught while computing an expectation, if any (GX reports it two ways)."""
    info = result.exception_info or {}
    if isinstance(info, dict):
        if info.get("raised_exception"):
            return info.get("exception_message") or "raised an exception"
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                return value.get("exception_message") or "raised an exception"
    if not result.success and "unexpected_count" not in (result.result or {}):
        return "no result: the expectation returned no unexpected_count"
    return None


def _expectation(check: Check):
    import great_expectations.expectations as gxe

    classes = {
        "expect_column_values_to_not_be_null": gxe.ExpectColumnValuesToNotBeNull,
        "expect_column_values_to_be_in_set": gxe.ExpectColumnValuesToBeInSet,
        "expect_column_values_to_match_regex": gxe.ExpectColumnValuesToMatchRegex,
        "expect_column_values_to_be_unique": gxe.ExpectColumnValuesToBeUnique,
    }
    meta = {
        "rule_id": check.rule_id,
        "rule_type": check.rule_type,
        "object": check.object_name,
        "stage": check.stage_name,
        "severity": check.severity,
        "owner_role": check.owner_role,
    }
    return classes[check.expectation_type](**dict(check.expectation_kwargs), meta=meta)


def validate(
    url: str, plan: Plan, data_docs_dir: Path | None, sample_size: int = SAMPLE_SIZE
) -> tuple[list[CheckResult], Path | None]:
    """Validate every suite of the plan in the warehouse at `url`; stop at the first rule that did not run."""
    import great_expectations as gx

    _quiet_gx()
    gx_compat.apply()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if data_docs_dir is not None:
        data_docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name="revops_checks",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    datasource = context.data_sources.add_sql(name="warehouse", connection_string=url)
    result_format = {
        "result_format": "SUMMARY",
        "unexpected_index_column_names": ["record_id"],
        "partial_unexpected_count": sample_size,
    }
    results: list[CheckResult] = []
    try:
        for suite_name, checks in plan.suites().items():
            asset = datasource.add_query_asset(name=suite_name, query=plan.assets[suite_name].query)
            batch = asset.add_batch_definition_whole_table("every_row")
            suite = context.suites.add(
                gx.ExpectationSuite(name=suite_name, expectations=[_expectation(c) for c in checks])
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
            )
            validation = definition.run(result_format=result_format)
            by_key = {}
            for item in validation.results:
                meta = item.expectation_config.meta or {}
                by_key[(meta.get("rule_id"), item.expectation_config.type)] = item
            for check in checks:
                item = by_key.get((check.rule_id, check.expectation_type))
                problem = "GX returned no result for it" if item is None else _exception_message(item)
                if problem is not None:
                    # Stop at the first rule that did not run: it is recorded, never counted as data.
                    results.append(CheckResult(check, False, None, None, None, None, [], problem))
                    return results, _build_docs(context, data_docs_dir)
                values = item.result
                sample = sorted(
                    {
                        str(row["record_id"])
                        for row in values.get("partial_unexpected_index_list") or []
                        if row.get("record_id") is not None
                    }
                )
                results.append(
                    CheckResult(
                        check,
                        True,
                        bool(item.success),
                        int(values.get("element_count") or 0),
                        int(values.get("unexpected_count") or 0),
                        float(values.get("unexpected_percent") or 0.0),
                        sample[:sample_size],
                    )
                )
        return results, _build_docs(context, data_docs_dir)
    finally:
        _close(datasource)


def _close(datasource) -> None:
    """Close what GX keeps open: the execution engine's persisted connection (a StaticPool for
    DuckDB) and the datasource's engine. DuckDB then lets this process open the file again with
    another configuration (e.g. read-only), and nothing is left for interpreter shutdown."""
    execution_engine = getattr(datasource, "_execution_engine", None)
    for resource in (
        getattr(execution_engine, "_connection", None),
        getattr(execution_engine, "engine", None),
        getattr(datasource, "_engine", None),
    ):
        if resource is None:
            continue
        with contextlib.suppress(Exception):
            (resource.dispose if hasattr(resource, "dispose") else resource.close)()
    if execution_engine is not None:
        execution_engine._connection = None
    datasource._execution_engine = None
    datasource._engine = None


def _build_docs(context, data_docs_dir: Path | None) -> Path | None:
    """Build Data Docs and make them open offline (the CDN assets vendored into the site)."""
    from revops_warehouse.quality.offline_docs import OfflineDocsError, make_offline

    if data_docs_dir is None:
        return None
    context.build_data_docs()
    try:
        make_offline(data_docs_dir)
    except OfflineDocsError as error:
        # The results stand; only the pages' styling and scripts would need the network.
        print(f"warning: Data Docs built, but not made offline: {error}", file=sys.stderr)
    index = data_docs_dir / "index.html"
    return index if index.exists() else None


def _did_not_run(check: Check, problem: str) -> str:
    return (
        f"rule {check.rule_id} ({check.expectation_type} on {check.object_name}.{check.column_name}, "
        f"suite {check.suite_name}) failed to RUN - this is not a data failure: {problem}"
    )


def write_results(engine: sa.Engine, outcome: RunOutcome) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in RESULT_COLUMNS)
    names = [name for name, _ in RESULT_COLUMNS]
    rows = [
        {
            "run_id": outcome.run_id,
            "run_at": outcome.run_at.replace(tzinfo=None),
            "as_of": outcome.as_of,
            "suite_name": r.check.suite_name,
            "expectation_type": r.check.expectation_type,
            "rule_id": r.check.rule_id,
            "rule_type": r.check.rule_type,
            "object_name": r.check.object_name,
            "column_name": r.check.column_name,
            "stage_name": r.check.stage_name,
            "severity": r.check.severity,
            "owner_role": r.check.owner_role,
            "ran": r.ran,
            "success": r.success,
            "element_count": r.element_count,
            "unexpected_count": r.unexpected_count,
            "unexpected_percent": r.unexpected_percent,
            "failing_sample": json.dumps(r.failing_sample),
            "exception_message": r.exception_message,
        }
        for r in outcome.results
    ]
    with engine.begin() as connection:
        connection.execute(sa.text(f"create schema if not exists {RESULTS_SCHEMA}"))
        connection.execute(sa.text(f"create table if not exists {RESULTS_SCHEMA}.{RESULTS_TABLE} ({columns})"))
        # Re-running a run id replaces its rows (idempotent).
        connection.execute(
            sa.text(f"delete from {RESULTS_SCHEMA}.{RESULTS_TABLE} where run_id = :run_id"), {"run_id": outcome.run_id}
        )
        if rows:
            connection.execute(
                sa.text(
                    f"insert into {RESULTS_SCHEMA}.{RESULTS_TABLE} ({', '.join(names)}) "
                    f"values ({', '.join(':' + n for n in names)})"
                ),
                rows,
            )


def format_summary(outcome: RunOutcome) -> str:
    ran = [r for r in outcome.results if r.ran]
    failed = [r for r in ran if not r.success]
    lines = [
        f"Great Expectations run {outcome.run_id}: {len(ran)} rules ran, {len(ran) - len(failed)} passed, "
        f"{len(failed)} failed ({len(outcome.error_failures)} error, {len(failed) - len(outcome.error_failures)} warn)"
        f", {len(outcome.results) - len(ran)} did not run; {outcome.seconds:.1f}s",
    ]
    if failed:
        header = (
            f"  {'severity':8} {'rule':22} {'type':15} {'object.column':34} {'stage':22} "
            f"{'failing':>8} {'rate':>7}  owner role"
        )
        lines.append(header)
        for r in sorted(
            failed, key=lambda r: (r.check.severity != "error", -(r.unexpected_count or 0), r.check.rule_id)
        ):
            c = r.check
            lines.append(
                f"  {c.severity:8} {c.rule_id:22} {c.rule_type:15} {c.object_name + '.' + c.column_name:34} "
                f"{c.stage_name or 'every stage':22} {r.unexpected_count:>8} {r.unexpected_percent:>6.2f}%  "
                f"{c.owner_role or '-'}"
            )
    for r in outcome.results:
        if not r.ran:
            lines.append(f"  DID NOT RUN: {_did_not_run(r.check, r.exception_message or '')}")
    if outcome.data_docs_index:
        lines.append(f"Data Docs: {outcome.data_docs_index}")
    return "\n".join(lines)


def run_checks(
    url: str,
    *,
    run_id: str | None = None,
    as_of: datetime | None = None,
    data_docs_dir: Path | None = None,
    project_dir: Path = settings.PROJECT_DIR,
    sample_size: int = SAMPLE_SIZE,
    write: bool = True,
) -> RunOutcome:
    """Generate the suites, validate, write the results. Raises ChecksDidNotRun / RuleError."""
    started = time.perf_counter()
    run_at = datetime.now(UTC)
    run_id = run_id or f"{run_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    try:
        plan = plan_from_warehouse(engine, project_dir)
        results, index = validate(url, plan, data_docs_dir, sample_size)
        outcome = RunOutcome(run_id, run_at, as_of, results, index, time.perf_counter() - started)
        if write:
            write_results(engine, outcome)
        not_run = [r for r in results if not r.ran]
        if not_run:
            error = ChecksDidNotRun(_did_not_run(not_run[0].check, not_run[0].exception_message or ""))
            error.outcome = outcome  # type: ignore[attr-defined]
            raise error
        return outcome
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="revops check", description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="DuckDB file (default: $REVOPS_DUCKDB_PATH or warehouse/revops.duckdb)")
    parser.add_argument(
        "--url",
        help="SQLAlchemy URL of the warehouse instead (default on REVOPS_TARGET=postgres: from REVOPS_PG_*)",
    )
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--as-of", default=None, help="the build's as_of, recorded with the results")
    parser.add_argument("--data-docs-dir", default=None, help="where to build Data Docs (default: none)")
    parser.add_argument("--no-write", action="store_true", help="do not write quality.gx_validation_results")
    args = parser.parse_args(argv)
    if args.url:
        url = args.url
    elif settings.target() == "postgres" and not args.database:
        url = settings.postgres_url()  # from REVOPS_PG_*: no password on a command line
    else:
        url = duckdb_url(settings.database_path(args.database))
    as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    docs = Path(args.data_docs_dir).resolve() if args.data_docs_dir else None
    try:
        outcome = run_checks(url, run_id=args.run_id, as_of=as_of, data_docs_dir=docs, write=not args.no_write)
    except RuleError as error:
        print(f"checks cannot be generated: {error}", file=sys.stderr)
        return exit_codes.CHECKS_DID_NOT_RUN
    except ChecksDidNotRun as error:
        outcome = getattr(error, "outcome", None)
        if outcome is not None:
            print(format_summary(outcome))
        print(f"checks stopped: {error}", file=sys.stderr)
        return exit_codes.CHECKS_DID_NOT_RUN
    except Exception as error:  # noqa: BLE001 - any other failure is "did not run", never exit 1 (= data)
        print(f"checks could not run: {type(error).__name__}: {error}", file=sys.stderr)
        return exit_codes.CHECKS_DID_NOT_RUN
    print(format_summary(outcome))
    return outcome.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
