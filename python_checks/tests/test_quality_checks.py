"""Great Expectations data layer: suite generation, a fixture warehouse with known answers, the demo.

The fixture warehouse is a small DuckDB file holding rule seeds and the object tables the
`hygiene_objects` var names, with bad records whose failing counts and ids are known by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from revops_warehouse import exit_codes, settings
from revops_warehouse.quality import runner
from revops_warehouse.quality.suites import Relation, RuleError, RuleSet, build_plan, load_object_specs

OBJECTS = load_object_specs(settings.PROJECT_DIR)

STAGES = [
    {"object": "lead", "stage_name": "Open", "stage_order": "1"},
    {"object": "lead", "stage_name": "Working", "stage_order": "2"},
    {"object": "lead", "stage_name": "MQL", "stage_order": "3"},
    {"object": "lead", "stage_name": "SQL", "stage_order": "4"},
    {"object": "opportunity", "stage_name": "Prospecting", "stage_order": "1"},
    {"object": "opportunity", "stage_name": "Qualification", "stage_order": "2"},
    {"object": "opportunity", "stage_name": "Proposal", "stage_order": "3"},
    {"object": "opportunity", "stage_name": "Closed Won", "stage_order": "4"},
]
FORMATS = [
    {"value_format": "email", "pattern": r"^[a-z0-9._%+'-]+@[a-z0-9.-]+\.[a-z]{2,}$"},
    {"value_format": "country_code", "pattern": "^[A-Z]{2}$"},
]


def rule(rule_id, object_, field, *, required="true", stage=None, allowed=None, fmt=None, severity="error"):
    return {
        "rule_id": rule_id,
        "object": object_,
        "field": field,
        "owner_role": f"{object_} owner",
        "is_required": required,
        "required_from_stage": stage,
        "allowed_values": allowed,
        "value_format": fmt,
        "severity": severity,
    }


DICTIONARY = [
    rule("r_opp_amount", "opportunity", "amount", stage="Qualification"),
    rule(
        "r_opp_type",
        "opportunity",
        "opportunity_type",
        required="false",
        allowed="New Business|Renewal",
        severity="warn",
    ),
    rule("r_lead_email", "lead", "email", fmt="email"),
    rule("r_lead_country", "lead", "country_code", stage="MQL", fmt="country_code", severity="warn"),
]
DUPLICATE_RULES = [{"rule_id": "dup_lead_email", "object": "lead", "owner_role": "Marketing Ops", "severity": "warn"}]
DUPLICATE_KEYS = [{"rule_id": "dup_lead_email", "key_order": "1", "field": "email", "normalization": "email"}]

RELATIONS = {
    "fct_opportunities": Relation(
        "core.fct_opportunities", frozenset({"opportunity_id", "stage_name", "amount", "opportunity_type"})
    ),
    "dim_contacts": Relation(
        "core.dim_contacts", frozenset({"person_id", "person_type", "lead_status", "email", "country_code"})
    ),
}


def rules_with(**changes) -> RuleSet:
    base = dict(
        data_dictionary=DICTIONARY,
        duplicate_rules=DUPLICATE_RULES,
        duplicate_rule_keys=DUPLICATE_KEYS,
        stage_definitions=STAGES,
        value_formats=FORMATS,
    )
    base.update(changes)
    return RuleSet(**base)


def expectations(plan) -> set[tuple]:
    return {(c.rule_id, c.expectation_type, c.asset_name, c.stage_name) for c in plan.checks}


# --- suite generation -------------------------------------------------------------------------


def test_suites_are_generated_from_the_rule_rows():
    plan = build_plan(rules_with(), OBJECTS, RELATIONS)
    assert expectations(plan) == {
        ("r_opp_amount", "expect_column_values_to_not_be_null", "opportunity__from_qualification", "Qualification"),
        ("r_opp_type", "expect_column_values_to_be_in_set", "opportunity__every_record", None),
        ("r_lead_email", "expect_column_values_to_not_be_null", "lead__every_record", None),
        ("r_lead_email", "expect_column_values_to_match_regex", "lead__every_record", None),
        ("r_lead_country", "expect_column_values_to_not_be_null", "lead__from_mql", "MQL"),
        ("r_lead_country", "expect_column_values_to_match_regex", "lead__every_record", None),
        ("dup_lead_email", "expect_column_values_to_be_unique", "duplicates__dup_lead_email", None),
    }
    in_set = next(c for c in plan.checks if c.rule_id == "r_opp_type")
    assert in_set.expectation_kwargs["value_set"] == ["New Business", "Renewal"]
    assert in_set.severity == "warn" and in_set.owner_role == "opportunity owner"
    # The stage scope is SQL over the stage seed in the warehouse, not a list written here.
    scoped = plan.assets["opportunity__from_qualification"].query
    assert "rules.stage_definitions" in scoped and "stage_name = 'Qualification'" in scoped
    assert "nullif(trim(cast(amount as varchar)), '')" in scoped


def test_adding_removing_and_changing_a_rule_changes_the_suites():
    base = expectations(build_plan(rules_with(), OBJECTS, RELATIONS))

    added = rules_with(
        data_dictionary=[*DICTIONARY, rule("r_opp_stage", "opportunity", "stage_name", stage="Proposal")]
    )
    assert expectations(build_plan(added, OBJECTS, RELATIONS)) - base == {
        ("r_opp_stage", "expect_column_values_to_not_be_null", "opportunity__from_proposal", "Proposal")
    }

    removed = rules_with(data_dictionary=[r for r in DICTIONARY if r["rule_id"] != "r_lead_email"])
    assert {e for e in base if e[0] == "r_lead_email"} == base - expectations(build_plan(removed, OBJECTS, RELATIONS))

    changed_rows = [dict(r) for r in DICTIONARY]
    changed_rows[0]["required_from_stage"] = "Proposal"
    changed_rows[0]["severity"] = "warn"
    changed = build_plan(rules_with(data_dictionary=changed_rows), OBJECTS, RELATIONS)
    amount = next(c for c in changed.checks if c.rule_id == "r_opp_amount")
    assert (amount.asset_name, amount.stage_name, amount.severity) == ("opportunity__from_proposal", "Proposal", "warn")
    assert "opportunity__from_qualification" not in changed.assets


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"field": "amount_usd"},
            "data_dictionary row r_opp_amount: field 'amount_usd' is not a column of core.fct_opportunities",
        ),
        (
            {"required_from_stage": "Negotiation"},
            "data_dictionary row r_opp_amount: unknown stage 'Negotiation' for object opportunity",
        ),
        ({"object": "deal"}, "data_dictionary row r_opp_amount: unknown object 'deal'"),
        ({"value_format": "iban"}, "data_dictionary row r_opp_amount: unknown value_format 'iban'"),
        ({"severity": "fatal"}, "data_dictionary row r_opp_amount: severity 'fatal' is not one of warn, error"),
    ],
)
def test_a_malformed_rule_row_is_named(change, message):
    rows = [dict(r) for r in DICTIONARY]
    rows[0].update(change)
    with pytest.raises(RuleError) as error:
        build_plan(rules_with(data_dictionary=rows), OBJECTS, RELATIONS)
    assert message in str(error.value)


def test_a_duplicate_rule_on_an_unknown_key_field_is_named():
    keys = [dict(DUPLICATE_KEYS[0], field="email_address")]
    with pytest.raises(RuleError, match="duplicate_rule_keys row dup_lead_email: field 'email_address'"):
        build_plan(rules_with(duplicate_rule_keys=keys), OBJECTS, RELATIONS)


# --- a fixture warehouse with known bad records -------------------------------------------------

OPPORTUNITIES = [
    # id, stage, amount, type
    ("o1", "Prospecting", None, "New Business"),  # amount not yet required
    ("o2", "Qualification", None, "Expansion"),  # amount missing; type not allowed
    ("o3", "Proposal", "  ", None),  # blank amount is missing; empty type is not checked
    ("o4", "Closed Won", "100", " Renewal "),  # trimmed value is allowed
    ("o5", "Unknown stage", None, "new business"),  # stage not in the seed: out of scope; case matters
]
PEOPLE = [
    # id, type, status, email, country
    ("l1", "lead", "Open", "a@x.com", None),  # country not yet required
    ("l2", "lead", "MQL", None, None),  # email missing; country missing from MQL
    ("l3", "lead", "SQL", "B@X.COM", "us"),  # invalid email and country
    ("l4", "lead", "Working", "a@x.com", "USA"),  # invalid country (formats apply at every stage)
    ("c1", "contact", None, None, None),  # a contact: lead rules do not apply
]
KEYS = [
    ("dup_lead_email", "lead", "l1", "a@x.com"),
    ("dup_lead_email", "lead", "l2", None),
    ("dup_lead_email", "lead", "l3", "b@x.com"),
    ("dup_lead_email", "lead", "l4", "a@x.com"),
]

EXPECTED = {
    # (rule, expectation) -> (element count, failing ids)
    ("r_opp_amount", "expect_column_values_to_not_be_null"): (3, ["o2", "o3"]),
    ("r_opp_type", "expect_column_values_to_be_in_set"): (5, ["o2", "o5"]),
    ("r_lead_email", "expect_column_values_to_not_be_null"): (4, ["l2"]),
    ("r_lead_email", "expect_column_values_to_match_regex"): (4, ["l3"]),
    ("r_lead_country", "expect_column_values_to_not_be_null"): (2, ["l2"]),
    ("r_lead_country", "expect_column_values_to_match_regex"): (4, ["l3", "l4"]),
    ("dup_lead_email", "expect_column_values_to_be_unique"): (4, ["l1", "l4"]),
}


def write_fixture_warehouse(path: Path, dictionary=DICTIONARY) -> Path:
    with duckdb.connect(str(path)) as con:
        for schema in ("rules", "core", "intermediate"):
            con.execute(f"create schema {schema}")
        tables = {
            "data_dictionary": dictionary,
            "duplicate_rules": DUPLICATE_RULES,
            "duplicate_rule_keys": DUPLICATE_KEYS,
            "stage_definitions": STAGES,
            "value_formats": FORMATS,
        }
        for name, rows in tables.items():
            columns = list(rows[0])
            con.execute(f"create table rules.{name} ({', '.join(c + ' varchar' for c in columns)})")
            con.executemany(
                f"insert into rules.{name} values ({', '.join('?' for _ in columns)})",
                [[r[c] for c in columns] for r in rows],
            )
        con.execute("alter table rules.stage_definitions alter stage_order type integer")
        con.execute(
            "create table core.fct_opportunities (opportunity_id varchar, stage_name varchar, "
            "amount varchar, opportunity_type varchar)"
        )
        con.executemany("insert into core.fct_opportunities values (?, ?, ?, ?)", OPPORTUNITIES)
        con.execute(
            "create table core.dim_contacts (person_id varchar, person_type varchar, lead_status varchar, "
            "email varchar, country_code varchar)"
        )
        con.executemany("insert into core.dim_contacts values (?, ?, ?, ?, ?)", PEOPLE)
        con.execute(
            "create table intermediate.int_duplicate_keys_normalized "
            "(rule_id varchar, object_name varchar, record_id varchar, match_key varchar)"
        )
        con.executemany("insert into intermediate.int_duplicate_keys_normalized values (?, ?, ?, ?)", KEYS)
    return path


def results_table(path: Path) -> list[dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(
            f"select * from {runner.RESULTS_SCHEMA}.{runner.RESULTS_TABLE} order by rule_id, expectation_type"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_fixture_warehouse_yields_exactly_the_known_failures(tmp_path):
    database = write_fixture_warehouse(tmp_path / "fixture.duckdb")
    outcome = runner.run_checks(runner.duckdb_url(database), run_id="fixture-1", data_docs_dir=tmp_path / "docs")

    got = {(r.check.rule_id, r.check.expectation_type): (r.element_count, r.failing_sample) for r in outcome.results}
    assert got == EXPECTED
    assert all(r.ran for r in outcome.results)
    counts = {(r.check.rule_id, r.check.expectation_type): r.unexpected_count for r in outcome.results}
    assert counts == {key: len(ids) for key, (_, ids) in EXPECTED.items()}
    # Error-severity rules failed (r_opp_amount, r_lead_email): exit code 1.
    assert outcome.exit_code == exit_codes.DATA_QUALITY_ERRORS

    rows = results_table(database)
    assert len(rows) == len(EXPECTED)
    amount = next(r for r in rows if r["rule_id"] == "r_opp_amount")
    assert amount["run_id"] == "fixture-1" and amount["suite_name"] == "opportunity__from_qualification"
    assert (amount["object_name"], amount["column_name"], amount["stage_name"]) == (
        "opportunity",
        "amount",
        "Qualification",
    )
    assert (amount["severity"], amount["owner_role"], amount["ran"], amount["success"]) == (
        "error",
        "opportunity owner",
        True,
        False,
    )
    assert (amount["element_count"], amount["unexpected_count"]) == (3, 2)
    assert amount["unexpected_percent"] == pytest.approx(200 / 3)
    assert json.loads(amount["failing_sample"]) == ["o2", "o3"]
    # Data Docs: static HTML with a page per suite.
    assert (tmp_path / "docs" / "index.html").exists()
    suites = {r.check.suite_name for r in outcome.results}
    assert len(list((tmp_path / "docs" / "validations").rglob("*.html"))) == len(suites)
    index_html = (tmp_path / "docs" / "index.html").read_text()
    assert 'src="http' not in index_html and 'rel="stylesheet" href="http' not in index_html  # opens offline

    # Re-running a run id replaces its rows; another run id adds its own.
    runner.run_checks(runner.duckdb_url(database), run_id="fixture-1")
    runner.run_checks(runner.duckdb_url(database), run_id="fixture-2")
    assert sorted({r["run_id"] for r in results_table(database)}) == ["fixture-1", "fixture-2"]
    assert len(results_table(database)) == 2 * len(EXPECTED)


def test_only_error_severity_failures_make_the_exit_code_non_zero(tmp_path):
    fixed = [dict(r, severity="warn") for r in DICTIONARY]
    database = write_fixture_warehouse(tmp_path / "warn.duckdb", dictionary=fixed)
    outcome = runner.run_checks(runner.duckdb_url(database))
    assert any(r.failed_on_data for r in outcome.results)
    assert outcome.exit_code == exit_codes.OK
    assert len(results_table(database)) == len(EXPECTED)  # written either way


def test_a_rule_that_fails_to_run_stops_the_run_and_is_not_a_data_failure(tmp_path):
    # A pattern DuckDB cannot compile: the regex rule raises inside GX while it is computed.
    broken_formats = [dict(FORMATS[0], pattern="([unclosed"), FORMATS[1]]
    database = write_fixture_warehouse(tmp_path / "broken.duckdb")
    with duckdb.connect(str(database)) as con:
        con.execute(
            "update rules.value_formats set pattern = ? where value_format = 'email'", [broken_formats[0]["pattern"]]
        )
    with pytest.raises(runner.ChecksDidNotRun, match="rule r_lead_email .* failed to RUN - this is not a data failure"):
        runner.run_checks(runner.duckdb_url(database), run_id="broken")

    rows = results_table(database)
    last = rows[-1] if rows[-1]["ran"] is False else next(r for r in rows if r["ran"] is False)
    assert (last["rule_id"], last["expectation_type"]) == ("r_lead_email", "expect_column_values_to_match_regex")
    assert (last["success"], last["unexpected_count"]) == (None, None) and last["exception_message"]
    assert [r for r in rows if r["ran"] is False] == [last]  # it stopped there: one rule did not run
    suites_run = {r["suite_name"] for r in rows}
    assert "lead__every_record" in suites_run and "opportunity__every_record" not in suites_run  # later suites

    done = subprocess.run(
        [sys.executable, "-m", "revops_warehouse.quality", "--database", str(database)], capture_output=True, text=True
    )
    assert done.returncode == exit_codes.CHECKS_DID_NOT_RUN
    assert "DID NOT RUN: rule r_lead_email" in done.stdout


def test_a_crash_is_did_not_run_never_exit_1(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "revops_warehouse.quality", "--url", "postgresql+psycopg2://nobody:x@127.0.0.1:1/none"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == exit_codes.CHECKS_DID_NOT_RUN
    assert "checks could not run: OperationalError" in done.stderr


def test_rule_rows_that_would_collide_or_dangle_are_named():
    keys = [*DUPLICATE_KEYS, {"rule_id": "dup_gone", "key_order": "1", "field": "email", "normalization": "email"}]
    with pytest.raises(RuleError, match="duplicate_rule_keys row dup_gone: names no rule of duplicate_rules"):
        build_plan(rules_with(duplicate_rule_keys=keys), OBJECTS, RELATIONS)
    twice = [*DUPLICATE_RULES, dict(DUPLICATE_RULES[0])]
    with pytest.raises(RuleError, match="duplicate_rules row dup_lead_email: rule_id appears twice"):
        build_plan(rules_with(duplicate_rules=twice), OBJECTS, RELATIONS)
    stages = [*STAGES, {"object": "opportunity", "stage_name": "qualification!", "stage_order": "5"}]
    rows = [*DICTIONARY, rule("r_opp_stage", "opportunity", "stage_name", stage="qualification!")]
    with pytest.raises(RuleError, match="make the same suite name opportunity__from_qualification"):
        build_plan(rules_with(stage_definitions=stages, data_dictionary=rows), OBJECTS, RELATIONS)
    bad_order = [dict(STAGES[0], stage_order="first"), *STAGES[1:]]
    with pytest.raises(RuleError, match="stage_definitions row lead/Open: stage_order 'first' is not a number"):
        build_plan(rules_with(stage_definitions=bad_order), OBJECTS, RELATIONS)


def test_cli_stops_loudly_on_a_malformed_rule_row(tmp_path):
    rows = [dict(r) for r in DICTIONARY]
    rows[3]["required_from_stage"] = "Nurture"
    database = write_fixture_warehouse(tmp_path / "bad.duckdb", dictionary=rows)
    done = subprocess.run(
        [sys.executable, "-m", "revops_warehouse.quality", "--database", str(database)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == exit_codes.CHECKS_DID_NOT_RUN
    assert "data_dictionary row r_lead_country: unknown stage 'Nurture' for object lead" in done.stderr


# --- the demo warehouse: planted defects, and agreement with the dbt scorecard -----------------


@pytest.fixture(scope="module")
def demo_checks(demo_build, tmp_path_factory):
    database = tmp_path_factory.mktemp("gx") / "warehouse.duckdb"
    shutil.copy(demo_build.database, database)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "revops_warehouse.quality",
            "--database",
            str(database),
            "--run-id",
            "demo",
            "--as-of",
            settings.DEMO_ANCHOR,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == exit_codes.DATA_QUALITY_ERRORS, done.stdout + done.stderr
    assert "did not run" in done.stdout and " 0 did not run" in done.stdout
    # All failing ids (a sample bounded by the demo's size) to compare record by record.
    outcome = runner.run_checks(runner.duckdb_url(database), run_id="demo-all", sample_size=1_000_000, write=False)
    return database, outcome, done.stdout


def failing_ids(outcome, rule_type: str) -> dict[str, set[str]]:
    return {r.check.rule_id: set(r.failing_sample) for r in outcome.results if r.check.rule_type == rule_type}


def test_demo_checks_find_the_planted_defects(demo_build, demo_checks):
    _, outcome, stdout = demo_checks
    required = failing_ids(outcome, "required_field")
    for fact in demo_build.facts_where(category="missing_required_field"):
        assert set(fact["record_ids"]) <= required[fact["rule_id"]], fact["rule_id"]
    for fact in demo_build.facts_where(category="not_yet_required"):
        assert not set(fact["record_ids"]) & required[fact["rule_id"]], fact["rule_id"]
    formats = failing_ids(outcome, "value_format")
    for fact in demo_build.facts_where(category="invalid_format"):
        assert set(fact["record_ids"]) == formats[fact["rule_id"]], fact["rule_id"]
    duplicates = failing_ids(outcome, "duplicate")
    for fact in demo_build.facts_where(category="duplicate"):
        assert set(fact["record_ids"]) <= duplicates[fact["rule_id"]], fact["rule_id"]
    assert "lead_email" in stdout and "Marketing Operations" in stdout


def test_great_expectations_and_the_dbt_scorecard_agree(demo_checks):
    database, outcome, _ = demo_checks
    kinds = {
        "missing_required_field": "required_field",
        "value_not_allowed": "allowed_values",
        "invalid_format": "value_format",
        "duplicate": "duplicate",
    }
    with duckdb.connect(str(database), read_only=True) as con:
        dbt_ids: dict[tuple[str, str], set[str]] = {}
        for rule_id, failure_type, record_id in con.execute(
            "select rule_id, failure_type, record_id from hygiene.hygiene_failing_records "
            "where failure_type in ('missing_required_field', 'value_not_allowed', 'invalid_format', 'duplicate')"
        ).fetchall():
            dbt_ids.setdefault((rule_id, kinds[failure_type]), set()).add(record_id)
        scorecard = {
            object_name: (missing, invalid, duplicates)
            for object_name, missing, invalid, duplicates in con.execute(
                "select object_name, sum(required_fields_missing), sum(invalid_values), sum(duplicate_records) "
                "from hygiene.hygiene_scorecard "
                "where as_of_date = (select max(as_of_date) from hygiene.hygiene_scorecard) "
                "group by object_name"
            ).fetchall()
        }
    gx_ids = {
        (r.check.rule_id, r.check.rule_type): set(r.failing_sample) for r in outcome.results if r.unexpected_count
    }
    # Rule by rule: the same failing records.
    assert gx_ids == dbt_ids
    # Object by object: the scorecard's totals are the GX failing counts.
    for object_name, (missing, invalid, duplicates) in scorecard.items():
        mine = [r for r in outcome.results if r.check.object_name == object_name]
        assert missing == sum(r.unexpected_count for r in mine if r.check.rule_type == "required_field"), object_name
        assert invalid == sum(
            r.unexpected_count for r in mine if r.check.rule_type in ("allowed_values", "value_format")
        ), object_name
        assert duplicates == sum(r.unexpected_count for r in mine if r.check.rule_type == "duplicate"), object_name
