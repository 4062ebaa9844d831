"""The scorecard keeps its history: each run adds or replaces its as-of date's rows, re-running a
day is idempotent, and a full refresh keeps earlier snapshots unless asked not to."""

from __future__ import annotations

import shutil

import duckdb

from conftest import dbt


def snapshot_counts(database):
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(
            con.execute(
                "select cast(as_of_date as varchar), count(*) from hygiene.hygiene_scorecard group by 1 order by 1"
            ).fetchall()
        )


def test_snapshots_accumulate_idempotently_and_survive_a_full_refresh(demo_build, tmp_path):
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_build.database, database)
    target = tmp_path / "target"
    first = snapshot_counts(database)
    assert list(first) == ["2026-11-02"]

    def run(as_of, *extra, vars_=None):
        result = dbt(["run", "-s", "hygiene_scorecard", *extra], database, target, {"as_of": as_of, **(vars_ or {})})
        assert result.returncode == 0, result.stdout[-3000:]

    run("2026-11-09 12:00:00")
    second = snapshot_counts(database)
    assert set(second) == {"2026-11-02", "2026-11-09"}
    assert second["2026-11-02"] == first["2026-11-02"]

    run("2026-11-09 18:00:00")  # the same day again: replaced, not doubled
    assert snapshot_counts(database) == second

    run("2026-11-09 12:00:00", "--full-refresh")
    assert snapshot_counts(database) == second

    run("2026-11-16 12:00:00", "--full-refresh", vars_={"rebuild_hygiene_history": True})
    assert list(snapshot_counts(database)) == ["2026-11-16"]
