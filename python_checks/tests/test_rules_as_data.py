"""Rules are data: a new seed row is a new check with no code change, and a malformed row stops
the run with an error that names it. Each case runs dbt on a copy of the project and warehouse."""

from __future__ import annotations

import csv
import shutil

import pytest

from conftest import dbt
from revops_warehouse import settings


@pytest.fixture
def project_copy(demo_build, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(
        settings.PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(".venv", "target", "logs", "warehouse", ".git", "*.duckdb", "artifacts"),
    )
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_build.database, database)
    return project, database


def run_dbt(project, database, args):
    return dbt(args, database, vars_={"as_of": "2026-11-02 12:00:00"}, project_dir=project)


def add_dictionary_row(project, **values):
    path = project / "seeds" / "rules" / "data_dictionary.csv"
    with path.open() as f:
        header = next(csv.reader(f))
    with path.open("a", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([values.get(column, "") for column in header])


BASE_ROW = {
    "definition": "test rule",
    "owning_system": "salesforce",
    "owner_role": "Sales Operations",
    "is_required": "true",
    "severity": "warn",
}


def test_a_new_dictionary_row_becomes_a_check(project_copy):
    project, database = project_copy
    add_dictionary_row(
        project,
        rule_id="opp_forecast",
        object="opportunity",
        field="forecast_category",
        required_from_stage="Proposal",
        **BASE_ROW,
    )
    result = run_dbt(project, database, ["build", "-s", "data_dictionary", "int_field_rules_evaluated"])
    assert result.returncode == 0, result.stdout[-3000:]
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        checks, in_scope = con.execute(
            "select count(*), sum(case when is_in_scope then 1 else 0 end) "
            "from intermediate.int_field_rules_evaluated where rule_id = 'opp_forecast'"
        ).fetchone()
        opportunities, at_or_past_proposal = con.execute(
            "select count(*), sum(case when stage_order >= 3 then 1 else 0 end) from core.fct_opportunities"
        ).fetchone()
    assert checks == opportunities
    assert in_scope == at_or_past_proposal


def test_a_row_naming_an_unknown_field_stops_the_run_naming_the_row(project_copy):
    project, database = project_copy
    add_dictionary_row(project, rule_id="opp_budget", object="opportunity", field="budget_c", **BASE_ROW)
    result = run_dbt(project, database, ["build", "-s", "data_dictionary", "int_field_rules_evaluated"])
    assert result.returncode != 0
    assert "data_dictionary row opp_budget: field 'budget_c' is not a column of" in result.stdout


def test_a_row_naming_an_unknown_stage_fails_a_test_naming_the_row(project_copy):
    project, database = project_copy
    add_dictionary_row(
        project,
        rule_id="opp_champion",
        object="opportunity",
        field="next_step",
        required_from_stage="Discovery",
        **BASE_ROW,
    )
    result = run_dbt(
        project,
        database,
        ["build", "-s", "data_dictionary", "assert_required_from_stage_is_a_stage_of_its_object", "--store-failures"],
    )
    assert result.returncode != 0
    assert "assert_required_from_stage_is_a_stage_of_its_object" in result.stdout
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select rule_id, required_from_stage "
            "from dbt_test__audit.assert_required_from_stage_is_a_stage_of_its_object"
        ).fetchall()
    assert rows == [("opp_champion", "Discovery")]


def test_a_row_naming_an_unknown_object_stops_the_run_naming_the_row(project_copy):
    project, database = project_copy
    add_dictionary_row(project, rule_id="quote_total", object="quote", field="total", **BASE_ROW)
    result = run_dbt(project, database, ["build", "-s", "data_dictionary", "int_field_rules_evaluated"])
    assert result.returncode != 0
    assert "data_dictionary row quote_total: unknown object 'quote'" in result.stdout


def test_values_outside_the_allowed_list_fail_exactly_without_wildcards(project_copy):
    """opp_type allows New Business|Renewal|Expansion, opp_lead_source allows Web|Event|…: a value
    outside the list fails, and 'W_b' is not 'Web' (no LIKE wildcards)."""
    import duckdb

    project, database = project_copy
    with duckdb.connect(str(database)) as con:
        first, second = [
            r[0]
            for r in con.execute(
                "select id from salesforce.opportunity where not is_deleted order by id limit 2"
            ).fetchall()
        ]
        con.execute("update salesforce.opportunity set type = 'Partnership' where id = ?", [first])
        con.execute("update salesforce.opportunity set lead_source = 'W_b' where id = ?", [second])
    result = run_dbt(project, database, ["run", "-s", "fct_opportunities", "int_field_rules_evaluated"])
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(database), read_only=True) as con:
        failing = set(
            con.execute(
                "select rule_id, record_id from intermediate.int_field_rules_evaluated where is_value_not_allowed"
            ).fetchall()
        )
    assert failing == {("opp_type", first), ("opp_lead_source", second)}
