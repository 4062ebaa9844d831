"""The `postgres` target on a real, throwaway PostgreSQL server (no mocks).

A session fixture starts a server on loopback (revops_warehouse.pg_server), copies the raw schemas
of the DuckDB demo warehouse (the `demo_build` fixture's file, so both builds read the same rows)
into it, writes the holiday rows (the portable path of the dbt Python model) and runs the real
`dbt build` with its data and unit tests. Then: the results equal the DuckDB build's, the reporting
role reads the BI-facing marts and nothing else (no email, no phone), and both holiday paths agree.

Missing PostgreSQL binaries fail the tests (scripts/system-packages installs them); never skipped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
import yaml
from psycopg2 import sql

from revops_warehouse import pg_holidays, settings
from revops_warehouse.contract import load_contract
from revops_warehouse.pg_build import PostgresBuild, build_on_postgres
from revops_warehouse.pg_server import REPORTING_ROLE, PgServer, PostgresNotInstalled, find_bin_dir

BI_SCHEMAS = {"funnel", "aging", "sla", "hygiene"}
MART_SCHEMAS = {"core", "audit", *BI_SCHEMAS}
PII_COLUMN = re.compile(r"email|phone", re.IGNORECASE)
# Marts in a BI schema that hold emails or phones in their values, so are not granted.
PII_VALUE_COLUMNS = {("sla", "fct_sla_handoff_fields", "value_at_start")}

_PG_BUILD: list[PostgresBuild] = []


@pytest.fixture(scope="session")
def pg_server():
    server = PgServer()
    try:
        server.start()
    except PostgresNotInstalled as error:
        server.stop()
        pytest.fail(f"the postgres target cannot be tested: {error}")
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_build(pg_server, demo_build, tmp_path_factory) -> PostgresBuild:
    # Built once per session, even when it failed (as demo_build).
    if not _PG_BUILD:
        target_dir = tmp_path_factory.mktemp("pg") / "target"
        _PG_BUILD.append(build_on_postgres(pg_server, demo_build.database, target_dir, {"as_of": settings.DEMO_ANCHOR}))
    build = _PG_BUILD[0]
    if build.returncode != 0:
        tail = "\n".join(build.output.splitlines()[-60:])
        pytest.fail(f"dbt build --target postgres on the demo data failed (exit {build.returncode}):\n{tail}")
    return build


@pytest.fixture(scope="session")
def pg_manifest(pg_build) -> dict:
    return pg_build.manifest()


def project_models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "revops_warehouse"
    }


def owner_query(server: PgServer, query, params=None) -> list[tuple]:
    with server.connect() as con, con.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    con.close()
    return rows


def _normalize(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | int | float):
        number = float(value)
        return None if math.isnan(number) else round(number, 6)
    if isinstance(value, dt.datetime | dt.date | str):
        return value
    if isinstance(value, list | tuple):
        return tuple(_normalize(v) for v in value)
    return str(value)


def _sorted_rows(rows) -> list[tuple]:
    normalized = [tuple(_normalize(v) for v in row) for row in rows]
    return sorted(normalized, key=lambda row: tuple((v is None, str(v)) for v in row))


def table_rows(demo_build, server: PgServer, schema: str, table: str) -> tuple[list[str], list, list]:
    """(columns, DuckDB rows, PostgreSQL rows), columns in one order, rows normalized and sorted."""
    with demo_build.connect() as con:
        duck_columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()
        ]
        columns = sorted(duck_columns)
        select = ", ".join(f'"{c}"' for c in columns)
        duck = _sorted_rows(con.execute(f'select {select} from "{schema}"."{table}"').fetchall())
    pg_columns = sorted(
        r[0]
        for r in owner_query(
            server,
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table),
        )
    )
    assert pg_columns == columns, f"{schema}.{table}: columns differ between DuckDB and PostgreSQL"
    pg = _sorted_rows(owner_query(server, f'select {select} from "{schema}"."{table}"'))
    return columns, duck, pg


# ---- the build ------------------------------------------------------------------------------------


def test_postgres_build_passes_with_data_and_unit_tests(pg_build, pg_manifest):
    assert "Completed successfully" in pg_build.output
    kinds = {node["resource_type"] for node in pg_manifest["nodes"].values()}
    unit_tests = pg_manifest.get("unit_tests", {})
    assert "test" in kinds and unit_tests, "data tests and unit tests ran"
    assert re.search(r"ERROR=0 SKIP=0", pg_build.output), pg_build.output[-2000:]
    print(f"postgres build timings: {pg_build.seconds}")


def test_unit_test_names_fit_postgres_identifiers():
    # dbt names a unit test's temporary relation after the test; PostgreSQL cuts identifiers at 63.
    too_long = []
    for path in (settings.PROJECT_DIR / "models").rglob("_*unit_tests.yml"):
        for unit_test in yaml.safe_load(path.read_text()).get("unit_tests", []):
            if len(unit_test["name"]) > 63:
                too_long.append(f"{path.name}: {unit_test['name']} ({len(unit_test['name'])})")
    assert too_long == []


def test_missing_binaries_name_the_install_script(tmp_path):
    with pytest.raises(PostgresNotInstalled, match="scripts/system-packages"):
        find_bin_dir([tmp_path])


# ---- raw data in PostgreSQL ---------------------------------------------------------------------


def test_loader_copies_every_raw_table_with_its_types(pg_build, pg_server, demo_build):
    with demo_build.connect() as con:
        for name, rows in pg_build.loaded.items():
            schema, table = name.split(".")
            assert con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0] == rows, name
    for source_name, tables in load_contract().items():
        for table in tables:
            assert f"{source_name}.{table}" in pg_build.loaded
    types = dict(
        ((schema, table, column), data_type)
        for schema, table, column, data_type in owner_query(
            pg_server,
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_schema in ('salesforce', 'stripe', 'demo_meta')",
        )
    )
    expected = {
        "timestamp": "timestamp without time zone",
        "boolean": "boolean",
        "numeric": "numeric",
        "integer": "bigint",
        "date": "date",
        "string": "text",
    }
    for source_name, tables in load_contract().items():
        for table, columns in tables.items():
            for column in columns:
                key = (source_name, table, column.name)
                if key in types:
                    assert types[key] == expected[column.type], key
    assert types[("demo_meta", "planted", "record_ids")] == "ARRAY"
    duck_planted = table_rows(demo_build, pg_server, "demo_meta", "planted")
    assert duck_planted[1] == duck_planted[2]


# ---- the results agree with the DuckDB build ----------------------------------------------------


def test_every_model_has_the_same_row_count_as_on_duckdb(pg_manifest, pg_server, demo_build):
    differences = []
    with demo_build.connect() as con:
        for name, node in sorted(project_models(pg_manifest).items()):
            duck = con.execute(f'select count(*) from "{node["schema"]}"."{node["alias"]}"').fetchone()[0]
            pg = owner_query(pg_server, f'select count(*) from "{node["schema"]}"."{node["alias"]}"')[0][0]
            if duck != pg:
                differences.append(f"{node['schema']}.{name}: duckdb {duck}, postgres {pg}")
    assert differences == []


def test_every_mart_holds_the_same_rows_as_on_duckdb(pg_manifest, pg_server, demo_build):
    differences = []
    for name, node in sorted(project_models(pg_manifest).items()):
        if node["schema"] not in MART_SCHEMAS:
            continue
        columns, duck, pg = table_rows(demo_build, pg_server, node["schema"], node["alias"])
        if duck != pg:
            pg_set, duck_set = set(pg), set(duck)
            only_duck = [r for r in duck if r not in pg_set][:3]
            only_pg = [r for r in pg if r not in duck_set][:3]
            differences.append(
                f"{node['schema']}.{name} {columns}:\n  duckdb only {only_duck}\n  postgres only {only_pg}"
            )
    assert differences == [], "\n".join(differences)


def test_hygiene_scorecard_figures_agree(pg_server, demo_build):
    figures = (
        "object_name, stage_name, owner_team, records_in_scope, required_fields_missing, completion_rate, "
        "duplicate_records, stale_records, sla_instances_met, hygiene_score"
    )
    query = f"select {figures} from hygiene.hygiene_scorecard"
    with demo_build.connect() as con:
        duck = _sorted_rows(con.execute(query).fetchall())
    assert duck, "the scorecard is empty"
    assert _sorted_rows(owner_query(pg_server, query)) == duck


def test_sla_status_counts_agree(pg_server, demo_build):
    query = "select policy_id, sla_status, count(*) from sla.fct_sla_instances group by policy_id, sla_status"
    with demo_build.connect() as con:
        duck = _sorted_rows(con.execute(query).fetchall())
    assert {row[1] for row in duck} >= {"met", "breached"}
    assert _sorted_rows(owner_query(pg_server, query)) == duck


def test_failing_records_per_rule_agree(pg_server, demo_build):
    query = "select rule_id, failure_type, count(*) from hygiene.hygiene_failing_records group by rule_id, failure_type"
    with demo_build.connect() as con:
        duck = _sorted_rows(con.execute(query).fetchall())
    assert len(duck) > 5
    assert _sorted_rows(owner_query(pg_server, query)) == duck


# ---- holidays: the Python model and the portable path -------------------------------------------


def test_both_holiday_paths_give_the_same_holidays(pg_manifest, pg_server, demo_build):
    duck_node = project_models(demo_build.manifest())["int_holidays_combined"]
    pg_node = project_models(pg_manifest)["int_holidays_combined"]
    assert duck_node["language"] == "python" and pg_node["language"] == "sql"
    columns, duck, pg = table_rows(demo_build, pg_server, "intermediate", "int_holidays_combined")
    assert columns == ["calendar_region", "holiday_date", "holiday_name"]
    assert len(duck) > 100
    assert pg == duck
    assert _sorted_rows(pg_holidays.holiday_rows().itertuples(index=False, name=None)) == duck


# ---- the reporting role -------------------------------------------------------------------------


def granted_relations(manifest: dict) -> set[tuple[str, str]]:
    return {
        (node["schema"], node["alias"])
        for node in project_models(manifest).values()
        if REPORTING_ROLE in (node["config"].get("grants") or {}).get("select", [])
    }


def all_relations(server: PgServer) -> set[tuple[str, str]]:
    return set(
        owner_query(
            server,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')",
        )
    )


def as_reporting_role(server: PgServer, query) -> str | None:
    """None when the query runs as the reporting role, else the error's SQLSTATE name."""
    con = server.connect(REPORTING_ROLE)
    try:
        with con.cursor() as cur:
            cur.execute(query)
            cur.fetchall()
        return None
    except psycopg2.Error as error:
        return type(error).__name__
    finally:
        con.close()


def test_exactly_the_bi_marts_without_pii_are_granted(pg_manifest):
    granted = granted_relations(pg_manifest)
    bi_models = {
        (node["schema"], node["alias"]) for node in project_models(pg_manifest).values() if node["schema"] in BI_SCHEMAS
    }
    pii_tables = {(schema, table) for schema, table, _ in PII_VALUE_COLUMNS}
    assert granted == bi_models - pii_tables
    for node in project_models(pg_manifest).values():
        if (node["schema"], node["alias"]) in granted:
            assert not [c for c in node["columns"] if PII_COLUMN.search(c)], node["name"]


def test_reporting_role_reads_each_bi_mart(pg_manifest, pg_server):
    granted = granted_relations(pg_manifest)
    assert {schema for schema, _ in granted} == BI_SCHEMAS
    errors = {
        f"{schema}.{table}": as_reporting_role(pg_server, f'select * from "{schema}"."{table}" limit 1')
        for schema, table in sorted(granted)
    }
    assert {name: error for name, error in errors.items() if error} == {}


def test_reporting_role_is_denied_everything_else(pg_manifest, pg_server):
    others = all_relations(pg_server) - granted_relations(pg_manifest)
    schemas = {schema for schema, _ in others}
    assert {"staging", "intermediate", "core", "audit", "rules", "salesforce", "stripe", "python_steps"} <= schemas
    readable = [
        f"{schema}.{table}"
        for schema, table in sorted(others)
        if as_reporting_role(pg_server, f'select * from "{schema}"."{table}" limit 1') != "InsufficientPrivilege"
    ]
    assert readable == []


def test_reporting_role_has_usage_on_exactly_the_bi_schemas(pg_server):
    rows = owner_query(
        pg_server,
        "select nspname from pg_namespace where has_schema_privilege(%s, oid, 'USAGE') "
        "and nspname not in ('public', 'information_schema') and nspname not like 'pg\\_%%'",
        (REPORTING_ROLE,),
    )
    assert {name for (name,) in rows} == BI_SCHEMAS


def test_reporting_role_is_denied_every_email_and_phone_column(pg_server):
    columns = (
        set(
            owner_query(
                pg_server,
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_schema not in ('pg_catalog', 'information_schema') and column_name ~* '(email|phone)'",
            )
        )
        | PII_VALUE_COLUMNS
    )
    assert ("core", "dim_contacts", "email") in columns and ("core", "dim_contacts", "phone") in columns
    assert ("salesforce", "lead", "phone") in columns
    readable = [
        ".".join(column)
        for column in sorted(columns)
        if as_reporting_role(
            pg_server,
            sql.SQL("select {} from {} limit 1").format(sql.Identifier(column[2]), sql.Identifier(*column[:2])),
        )
        != "InsufficientPrivilege"
    ]
    assert readable == []


def test_no_granted_value_is_an_email_or_a_phone(pg_manifest, pg_server):
    """Values, not just column names: no text in a granted mart equals a raw email or phone."""
    raw_pii = owner_query(
        pg_server,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('salesforce', 'stripe') and column_name ~* '(email|phone)'",
    )
    assert raw_pii
    pii_values = " union ".join(
        f'select lower(trim(cast("{c}" as text))) as value from "{s}"."{t}"' for s, t, c in raw_pii
    )
    findings = []
    for schema, table in sorted(granted_relations(pg_manifest)):
        text_columns = owner_query(
            pg_server,
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
            "and data_type in ('text', 'character varying')",
            (schema, table),
        )
        for (column,) in text_columns:
            count = owner_query(
                pg_server,
                f'select count(*) from "{schema}"."{table}" where lower(trim("{column}")) in ({pii_values}) '
                f"or \"{column}\" ~ '^[^@[:space:]]+@[^@[:space:]]+[.][[:alpha:]]+$'",
            )[0][0]
            if count:
                findings.append(f"{schema}.{table}.{column}: {count}")
    assert findings == []


def test_duckdb_build_has_no_grants(demo_build):
    manifest = demo_build.manifest()
    assert all(not (node["config"].get("grants") or {}) for node in project_models(manifest).values())
    assert "Grants for relations are not supported" not in demo_build.output


def test_docs_describe_the_postgres_path():
    text = (Path(settings.PROJECT_DIR) / "docs" / "postgres.md").read_text()
    for needle in ("REVOPS_PG_HOST", "revops_warehouse.pg_holidays", "REVOPS_PG_REPORTING_ROLE", "pg_server"):
        assert needle in text


def test_checks_run_in_postgres_and_find_what_they_find_on_duckdb(pg_build, pg_server, demo_build, tmp_path):
    """The Great Expectations checks pushed down to PostgreSQL (GX's own postgresql dialect, no
    adaptation): every rule runs and fails on the same records as on the DuckDB build."""
    import shutil

    from revops_warehouse.quality import runner

    # A sample as large as the demo: the failing ids compare in full (a bounded sample is the
    # first ids each engine happens to scan).
    on_postgres = runner.run_checks(pg_server.owner_url("postgresql+psycopg2"), run_id="pg-checks", sample_size=10**6)
    copy = tmp_path / "duckdb.duckdb"
    shutil.copy(demo_build.database, copy)
    on_duckdb = runner.run_checks(runner.duckdb_url(copy), write=False, sample_size=10**6)

    def by_rule(outcome):
        return {
            (r.check.rule_id, r.check.expectation_type): (r.ran, r.element_count, r.unexpected_count, r.failing_sample)
            for r in outcome.results
        }

    assert all(r.ran for r in on_postgres.results)
    assert by_rule(on_postgres) == by_rule(on_duckdb)
    assert on_postgres.exit_code == on_duckdb.exit_code
    written = owner_query(
        pg_server,
        "select count(*), count(distinct rule_id) from quality.gx_validation_results where run_id = 'pg-checks'",
    )
    assert written == [(len(on_postgres.results), len({r.check.rule_id for r in on_postgres.results}))]


def test_the_refresh_runs_on_the_postgres_target(pg_build, pg_server, monkeypatch):
    """The scheduler's command with REVOPS_TARGET=postgres: holidays, dbt build in place, checks
    pushed down, the run recorded; a second refresh while one holds the lock exits 75."""
    import fcntl

    from revops_warehouse import exit_codes
    from revops_warehouse.refresh import RefreshPaths, refresh

    for key, value in pg_server.dbt_env().items():
        monkeypatch.setenv(key, value)
    code = refresh(Path("/unused.duckdb"), "2026-11-04 12:00:00", interactive=False)
    assert code == exit_codes.DATA_QUALITY_ERRORS  # the demo's planted error-severity defects
    runs = owner_query(pg_server, "select run_id, cast(as_of as date), exit_code, mode from ops.refresh_runs")
    assert [(str(r[1]), r[2], r[3]) for r in runs] == [("2026-11-04", 1, "build")]
    checked = owner_query(
        pg_server, "select count(*), bool_and(ran) from quality.gx_validation_results where run_id = %s", (runs[0][0],)
    )
    assert checked[0][0] > 0 and checked[0][1] is True
    snapshots = owner_query(pg_server, "select count(distinct as_of_date) from hygiene.hygiene_scorecard")
    assert snapshots[0][0] >= 2  # the scorecard kept the fixture build's snapshot and added this one

    name = f"postgres-127.0.0.1-{pg_server.port}-revops"
    lock = RefreshPaths(settings.PROJECT_DIR / "warehouse" / name).lock
    with lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert refresh(Path("/unused.duckdb"), "2026-11-04 12:00:00", interactive=False) == exit_codes.ALREADY_RUNNING
