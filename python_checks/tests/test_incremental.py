"""The incremental refresh gives the rows a full rebuild gives.

The demo warehouse (built by the session fixture) gets one day of source changes
(revops_warehouse.demo_changes: new, changed, deleted and merged rows, stage moves, late history
rows); a copy of it is then refreshed with the incremental `dbt build` and another copy rebuilt
with `dbt run --full-refresh`, both as of the new day. Every model table (the incremental ones and
everything downstream: funnel, aging, SLA, hygiene, audit) must hold the same rows both ways;
re-running the refresh changes nothing; a run that fails half-way leaves the published tables
readable and the next run catches up; the planted defects are still found.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import duckdb
import pytest
import test_unified_model_finds_planted as unified

from conftest import Build, dbt
from revops_warehouse.demo_changes import apply_changes

MODEL_SCHEMAS = ("intermediate", "core", "funnel", "aging", "sla", "hygiene", "audit")
INCREMENTAL = {
    "intermediate.int_opportunity_stages_intervaled": "opportunity_id",
    "intermediate.int_lead_statuses_intervaled": "lead_id",
    "core.fct_activities": "activity_id",
}
# A few % so that a scale-1 warehouse gets every kind of change (stage moves, merges, deletions).
FRACTION = 0.03


@pytest.fixture(scope="module")
def refresh(demo_build, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incremental")
    incremental, full = tmp / "incremental.duckdb", tmp / "full.duckdb"
    shutil.copy(demo_build.database, incremental)
    changes = apply_changes(incremental, fraction=FRACTION, seed=11)
    shutil.copy(incremental, full)
    shutil.copy(incremental, tmp / "recover.duckdb")
    as_of = {"as_of": changes["as_of"]}
    with ThreadPoolExecutor(2) as pool:
        inc_run = pool.submit(dbt, ["build"], incremental, tmp / "target-incremental", as_of)
        full_run = pool.submit(dbt, ["run", "--full-refresh"], full, tmp / "target-full", as_of)
        inc_result, full_result = inc_run.result(), full_run.result()
    assert full_result.returncode == 0, full_result.stdout[-3000:]
    return {
        "tmp": tmp,
        "incremental": incremental,
        "full": full,
        "changes": changes,
        "as_of": as_of,
        "result": inc_result,
        "build": replace(demo_build, database=incremental, target_dir=tmp / "target-incremental"),
    }


def model_tables(con) -> list[str]:
    return [
        f"{schema}.{table}"
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'a' "
            f"and schema_name in {MODEL_SCHEMAS} order by 1, 2"
        ).fetchall()
    ]


def differences(a, b) -> dict[str, tuple[int, int]]:
    """{table: (rows only in a, rows only in b)} over every model table, for the tables that differ.

    Floating-point columns are compared to 9 decimals: a sum or average of doubles depends on the
    order rows are read in, which differs between a table rebuilt whole and one updated in place.
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)").fetchall()
        con.execute(f"attach '{b}' as b (read_only)").fetchall()
        found = {}
        for table in model_tables(con):
            schema, name = table.split(".")
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = 'a' and schema_name = ? and table_name = ? order by column_index",
                [schema, name],
            ).fetchall()
            select = ", ".join(f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in columns)
            only_a = con.execute(
                f"select count(*) from (select {select} from a.{table} except all select {select} from b.{table})"
            ).fetchall()[0][0]
            only_b = con.execute(
                f"select count(*) from (select {select} from b.{table} except all select {select} from a.{table})"
            ).fetchall()[0][0]
            if only_a or only_b:
                found[table] = (only_a, only_b)
        return found
    finally:
        con.close()


def query(database, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_the_changes_cover_every_kind(refresh):
    kinds = {(c["table_name"], c["change"]) for c in refresh["changes"]["changes"] if c["row_count"] > 0}
    for needed in (
        ("opportunity", "new"),
        ("opportunity", "stage_moved"),
        ("opportunity_history", "late_arriving"),
        ("opportunity_history", "deleted"),
        ("lead", "new"),
        ("lead", "status_moved"),
        ("lead", "merged"),
        ("account", "merged"),
        ("task", "new"),
        ("task", "changed"),
        ("task", "deleted"),
    ):
        assert needed in kinds, needed


def test_the_incremental_build_passes_and_runs_incrementally(refresh):
    result = refresh["result"]
    assert result.returncode == 0, result.stdout[-3000:]
    for model in INCREMENTAL:
        assert f"incremental model {model}" in result.stdout, model
    # The compiled SQL reads only the records changed since the watermark; the run replaced them.
    target = refresh["tmp"] / "target-incremental"
    path = "revops_warehouse/models/marts/core/fct_activities.sql"
    assert "changed_tasks" in (target / "compiled" / path).read_text()
    assert "delete from" in (target / "run" / path).read_text()


def test_incremental_equals_full_rebuild_on_every_model(refresh):
    assert differences(refresh["incremental"], refresh["full"]) == {}


def test_the_watermark_column_marks_only_the_changed_parents(refresh):
    """source_synced_at is after the previous as-of (the demo's last sync) exactly for the parents
    the changes touched: a few, not all."""
    previous = refresh["changes"]["previous_as_of"]
    for table, parent in INCREMENTAL.items():
        changed, total = query(
            refresh["incremental"],
            f"select count(distinct case when source_synced_at > cast(? as timestamp) then {parent} end), "
            f"count(distinct {parent}) from {table}",
            previous,
        )[0]
        assert 0 < changed < total / 5, table


def test_a_stage_move_closes_the_previous_interval_at_the_move(refresh):
    previous = refresh["changes"]["previous_as_of"]
    rows = query(
        refresh["incremental"],
        """
        with moves as (
            select opportunity_id, created_date as moved_at, stage_name
            from salesforce.opportunity_history
            where created_date > cast(? as timestamp) and not is_deleted
                and opportunity_id in (
                    select opportunity_id from salesforce.opportunity_history
                    where created_date < cast(? as timestamp)
                )
        )
        select moves.opportunity_id, moves.moved_at, current_.entered_at, current_.stage_name = moves.stage_name,
            previous_.exited_at
        from moves
        join intermediate.int_opportunity_stages_intervaled current_
            on current_.opportunity_id = moves.opportunity_id and current_.exited_at is null
        join intermediate.int_opportunity_stages_intervaled previous_
            on previous_.opportunity_id = moves.opportunity_id
            and previous_.interval_number = current_.interval_number - 1
        """,
        previous,
        previous,
    )
    assert rows
    for opportunity_id, moved_at, entered_at, same_stage, exited_at in rows:
        assert entered_at == moved_at == exited_at and same_stage, opportunity_id


def test_deleted_and_merged_parents_lose_their_rows_and_tasks_follow_merges(refresh):
    database = refresh["incremental"]
    previous = refresh["changes"]["previous_as_of"]
    assert not query(
        database,
        """
        select 1 from intermediate.int_opportunity_stages_intervaled i
        join salesforce.opportunity o on o.id = i.opportunity_id where o.is_deleted
        union all
        select 1 from intermediate.int_lead_statuses_intervaled i
        join salesforce.lead l on l.id = i.lead_id where l.is_deleted or l.master_record_id is not null
        union all
        select 1 from core.fct_activities a join salesforce.task t on t.id = a.activity_id where t.is_deleted
        """,
    )
    merged_tasks = query(
        database,
        """
        select a.activity_id, a.person_id, l.master_record_id
        from core.fct_activities a
        join salesforce.lead l on l.id = a.raw_who_id
        where l.master_record_id is not null and l._fivetran_synced > cast(? as timestamp)
        """,
        previous,
    )
    for activity_id, person_id, master in merged_tasks:
        assert person_id == master, activity_id


def test_rerunning_the_refresh_is_idempotent(refresh):
    again = dbt(["run"], refresh["incremental"], refresh["tmp"] / "target-again", refresh["as_of"])
    assert again.returncode == 0, again.stdout[-3000:]
    assert differences(refresh["incremental"], refresh["full"]) == {}


def test_a_run_that_fails_half_way_leaves_data_readable_and_the_next_run_recovers(refresh):
    database = refresh["tmp"] / "recover.duckdb"
    before = query(database, "select count(*), max(as_of_date) from hygiene.hygiene_scorecard")
    # An as-of that is no timestamp fails every model measuring time to it, at run time, after the
    # incremental models (which do not) have been updated: a run that stops half-way.
    failed = dbt(["run"], database, refresh["tmp"] / "target-failed", {"as_of": "not a timestamp"})
    assert failed.returncode != 0
    assert "ERROR creating sql table model" in failed.stdout
    for model in INCREMENTAL:
        assert f"OK created sql incremental model {model}" in failed.stdout, model
    # What was published before is still there and readable.
    assert query(database, "select count(*), max(as_of_date) from hygiene.hygiene_scorecard") == before
    recovered = dbt(["run"], database, refresh["tmp"] / "target-recovered", refresh["as_of"])
    assert recovered.returncode == 0, recovered.stdout[-3000:]
    assert differences(database, refresh["full"]) == {}


def test_the_planted_defects_are_still_found(refresh):
    build: Build = refresh["build"]
    unified.test_every_raw_row_is_modelled_or_excluded(build)
    unified.test_stage_paths_skips_regressions_reopenings(build)
    unified.test_amount_only_history_rows_do_not_make_intervals(build)
    for obj, sql in (
        (
            "opportunity",
            "select o.opportunity_id, o.crm_account_id, m.merge_depth from core.fct_opportunities o "
            "join intermediate.int_merged_records_resolved m on m.record_id = o.raw_account_id",
        ),
    ):
        unified.test_references_to_merged_accounts_land_on_the_final_survivor(build, obj, sql)
    unified.test_orphaned_foreign_keys_are_kept_and_flagged(
        build, "task", "who_id", "select activity_id from core.fct_activities where has_orphaned_person"
    )
    # Deleted and merged records: the planted ones are still excluded as such (the changes add more).
    excluded = set(
        query(build.database, "select source_table, record_id, exclusion_reason from audit.audit_excluded_records")
    )
    for category in ("deleted", "merged"):
        for fact in build.facts_where(category=category):
            for record_id in fact.get("record_ids") or []:
                assert (fact["object"], record_id, category) in excluded, (category, record_id)


def test_apply_changes_is_deterministic_dated_after_the_last_sync_and_keeps_the_contract(tmp_path):
    from revops_warehouse import demo_data
    from revops_warehouse.contract import load_contract

    first, second = tmp_path / "first.duckdb", tmp_path / "second.duckdb"
    demo_data.generate(str(first), scale=0.3)
    shutil.copy(first, second)
    one = apply_changes(first, fraction=0.05, seed=5)
    two = apply_changes(second, fraction=0.05, seed=5)
    assert one == two
    assert (one["previous_as_of"], one["as_of"]) == ("2026-11-02 12:00:00", "2026-11-03 12:00:00")
    con = duckdb.connect()
    try:
        con.execute(f"attach '{first}' as a (read_only)").fetchall()
        con.execute(f"attach '{second}' as b (read_only)").fetchall()
        for source, tables in load_contract().items():
            for table, columns in tables.items():
                name = f'{source}."{table}"'
                assert not con.execute(f"select * from a.{name} except all select * from b.{name}").fetchall(), table
                actual = {
                    c: t
                    for c, t in con.execute(
                        "select column_name, data_type from duckdb_columns() "
                        "where database_name = 'a' and schema_name = ? and table_name = ?",
                        [source, table],
                    ).fetchall()
                }
                for column in columns:
                    assert actual.get(column.name) == column.duckdb_type.replace(", ", ","), (table, column.name)
                # Nothing is synced at or after the new as-of.
                late = con.execute(
                    f"select count(*) from a.{name} where _fivetran_synced >= cast(? as timestamp)", [one["as_of"]]
                ).fetchall()[0][0]
                assert late == 0, table
        landed = con.execute(
            "select count(*) from a.salesforce.opportunity_history where _fivetran_synced > cast(? as timestamp)",
            [one["previous_as_of"]],
        ).fetchall()[0][0]
        assert landed > 0
    finally:
        con.close()
