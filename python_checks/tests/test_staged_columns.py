"""The raw contract at work: real tables have extra columns (ignored), may lack optional ones
(filled with typed nulls) and must have the required ones (a clear error names table and column)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import dbt


@pytest.fixture
def raw_copy(empty_raw_warehouse, tmp_path):
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(empty_raw_warehouse, database)
    return database


def test_extra_and_missing_optional_columns(raw_copy, tmp_path):
    with duckdb.connect(str(raw_copy)) as con:
        con.execute("alter table salesforce.opportunity drop column next_step")
        con.execute("alter table salesforce.opportunity add column fiscal_quarter_c varchar")
        con.execute(
            "insert into salesforce.opportunity (id, stage_name, close_date, owner_id, created_date, "
            "fiscal_quarter_c, probability) values ('006A', 'Prospecting', date '2026-01-31', '005A', "
            "timestamp '2026-01-02 10:00:00', 'Q1', 10)"
        )
    result = dbt(["run", "-s", "stg_salesforce__opportunities"], raw_copy, tmp_path / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(raw_copy), read_only=True) as con:
        row = con.execute(
            "select opportunity_id, next_step, probability from staging.stg_salesforce__opportunities"
        ).fetchone()
        columns = [d[0] for d in con.description]
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = 'stg_salesforce__opportunities'"
            ).fetchall()
        )
    assert row == ("006A", None, 10)
    assert "fiscal_quarter_c" not in columns
    assert types["next_step"] == "VARCHAR"


def test_missing_required_column_names_table_and_column(raw_copy, tmp_path):
    with duckdb.connect(str(raw_copy)) as con:
        con.execute("alter table salesforce.opportunity drop column stage_name")
    result = dbt(["run", "-s", "stg_salesforce__opportunities"], raw_copy, tmp_path / "target")
    assert result.returncode != 0
    assert "salesforce.opportunity" in result.stdout
    assert "lacks required column(s): stage_name" in result.stdout


def test_missing_table_names_the_table_and_the_var(raw_copy, tmp_path):
    with duckdb.connect(str(raw_copy)) as con:
        con.execute("drop table stripe.plan")
    result = dbt(["run", "-s", "stg_stripe__plans"], raw_copy, tmp_path / "target")
    assert result.returncode != 0
    assert "Source table stripe.plan not found" in result.stdout
    assert "stripe_plan_identifier" in result.stdout


def test_table_name_and_schema_come_from_vars(raw_copy, tmp_path):
    with duckdb.connect(str(raw_copy)) as con:
        con.execute("create schema sfdc")
        con.execute("create table sfdc.sf_user_renamed as select * from salesforce.user")
        con.execute(
            "insert into sfdc.sf_user_renamed (id, name, is_active, time_zone_sid_key) "
            "values ('005A', 'Ana', true, 'Europe/Berlin')"
        )
        con.execute("drop table salesforce.user")
    result = dbt(
        ["run", "-s", "stg_salesforce__users"],
        raw_copy,
        tmp_path / "target",
        {"salesforce_schema": "sfdc", "salesforce_user_identifier": "sf_user_renamed"},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(raw_copy), read_only=True) as con:
        assert con.execute("select user_id, time_zone from staging.stg_salesforce__users").fetchall() == [
            ("005A", "Europe/Berlin")
        ]
