"""The scheduler's refresh: lock, exit codes, failure keeps the published data, retry, idempotence,
and BI readers that query the scorecard in a loop while refreshes publish."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from revops_warehouse import exit_codes, settings
from revops_warehouse.refresh import RefreshPaths, refresh

DAY_1 = settings.DEMO_ANCHOR
DAY_2 = "2026-11-03 12:00:00"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def published(demo_build, tmp_path) -> Path:
    """A published warehouse: a copy of the demo build (raw data + models as of DAY_1)."""
    path = tmp_path / "warehouse" / "revops.duckdb"
    path.parent.mkdir()
    shutil.copy(demo_build.database, path)
    return path


def refresh_events(path: Path) -> list[dict]:
    log = RefreshPaths(path).log
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_second_refresh_exits_at_once_and_touches_nothing(published, capsys):
    paths = RefreshPaths(published)
    before = digest(published)
    with paths.lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("pid 1, run test-holder")
        held.flush()
        started = time.perf_counter()
        code = refresh(published, DAY_1, interactive=False)
        assert time.perf_counter() - started < 5
    assert code == exit_codes.ALREADY_RUNNING == 75
    assert "another refresh holds" in capsys.readouterr().err
    assert digest(published) == before
    assert not paths.building.exists()
    assert not paths.reports.exists()


def test_a_failed_build_keeps_the_published_data_and_retry_recovers(published):
    paths = RefreshPaths(published)
    scorecard = "select count(*), max(as_of_date) from hygiene.hygiene_scorecard"
    before_rows = query(published, scorecard)
    # The loader lands a table without a required column: the build must fail, naming it.
    with duckdb.connect(str(published)) as con:
        con.execute("create table salesforce.opportunity_backup as select * from salesforce.opportunity")
        con.execute("alter table salesforce.opportunity drop column stage_name")
    before = digest(published)

    code = refresh(published, DAY_2, interactive=False)
    assert code == exit_codes.BUILD_FAILED
    assert digest(published) == before  # untouched, and still readable by BI
    assert query(published, scorecard) == before_rows
    failed = [e for e in refresh_events(published) if e["event"] == "refresh_failed"]
    assert failed[-1]["step"] == "dbt_build" and failed[-1]["published"] == "unchanged"
    assert "stage_name" in failed[-1]["tail"]

    # The cause is fixed in the kept build (as a loader re-sync would); --retry re-runs what failed.
    with duckdb.connect(str(paths.building)) as con:
        con.execute("drop table salesforce.opportunity")
        con.execute("create table salesforce.opportunity as select * from salesforce.opportunity_backup")
    code = refresh(published, None, retry=True, interactive=False)  # the as_of is the failed run's
    assert code == exit_codes.DATA_QUALITY_ERRORS  # published; the demo's planted defects fail error rules
    assert [e["event"] for e in refresh_events(published)][-1] == "published"
    assert str(query(published, "select max(as_of_date) from hygiene.hygiene_scorecard")[0][0]) == DAY_2[:10]
    runs = query(published, "select mode, cast(as_of as date) from ops.refresh_runs")
    assert [(mode, str(day)) for mode, day in runs] == [("retry", DAY_2[:10])]


READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    path, stop_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
    seen, errors, reads = [], [], 0
    import os
    while not os.path.exists(stop_file):
        try:
            with duckdb.connect(path, read_only=True) as con:
                run = con.execute(
                    "select run_id, cast(as_of as date) from ops.refresh_runs order by published_at desc limit 1"
                ).fetchone()
                scorecard = con.execute(
                    "select count(*) from hygiene.hygiene_scorecard where as_of_date = ?", [run[1]]
                ).fetchone() if run else None
                checks = con.execute(
                    "select run_id, sum(unexpected_count) from quality.gx_validation_results "
                    "where run_id = "
                    "(select run_id from quality.gx_validation_results order by run_at desc limit 1) "
                    "group by run_id"
                ).fetchone()
                failing = con.execute(
                    "select count(*) from hygiene.hygiene_failing_records "
                    "where failure_type in "
                    "('missing_required_field', 'value_not_allowed', 'invalid_format', 'duplicate')"
                ).fetchone()
            reads += 1
            # One run's view: the latest checks are this run's, its scorecard snapshot is there, and
            # the checks' failing count is the failing-records mart's (they agree on one build).
            consistent = run and checks and checks[0] == run[0] and scorecard[0] and checks[1] == failing[0]
            if not consistent:
                errors.append(f"mixed: run {run}, checks {checks}, scorecard {scorecard}, failing {failing}")
            elif not seen or seen[-1] != run[0]:
                seen.append(run[0])
        except Exception as error:  # noqa: BLE001 - every failure is what the test looks for
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.01)
    json.dump({"seen": seen, "errors": errors, "reads": reads}, open(out, "w"))
    """
)


def test_readers_never_error_nor_see_a_mix_of_two_runs(published, tmp_path):
    # First a published run that has the ops and quality tables readers query.
    assert refresh(published, DAY_1, interactive=False) == exit_codes.DATA_QUALITY_ERRORS
    first = query(published, "select * from hygiene.hygiene_scorecard order by scorecard_row_id")

    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published), str(stop), str(out)])
    try:
        time.sleep(1)
        codes = [refresh(published, as_of, interactive=False) for as_of in (DAY_2, DAY_1)]
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())
    assert codes == [exit_codes.DATA_QUALITY_ERRORS] * 2  # the demo's planted error-severity defects
    assert result["errors"] == []
    assert result["reads"] > 20
    runs = [row[0] for row in query(published, "select run_id from ops.refresh_runs order by published_at")]
    assert result["seen"] == runs  # the reader saw each published run, in order, and nothing else

    # Re-running a day is idempotent: DAY_1's scorecard rows are as the first DAY_1 run wrote them.
    again = query(published, "select * from hygiene.hygiene_scorecard order by scorecard_row_id")
    assert [r for r in again if str(r[1]) == DAY_1[:10]] == [r for r in first if str(r[1]) == DAY_1[:10]]
    assert {str(r[1]) for r in again} == {DAY_1[:10], DAY_2[:10]}


def test_log_lines_are_json_with_the_run_id_and_a_terminal_gets_progress(tmp_path, capsys):
    from revops_warehouse.refresh import PROGRESS, Logger

    quiet = Logger("run-1", tmp_path / "logs" / "refresh.jsonl", interactive=False)
    quiet("step_done", step="dbt_build", seconds=1.5)
    quiet.progress(3, 10, "model.x")  # nothing: not a terminal
    out = capsys.readouterr()
    line = json.loads(out.out.strip())
    assert (line["run_id"], line["event"], line["step"], line["seconds"]) == ("run-1", "step_done", "dbt_build", 1.5)
    assert out.err == ""
    assert json.loads((tmp_path / "logs" / "refresh.jsonl").read_text()) == line

    terminal = Logger("run-2", tmp_path / "logs" / "refresh.jsonl", interactive=True)
    match = PROGRESS.search("12:00:01  3 of 10 OK created sql table model core.dim_users ...... [OK in 0.2s]")
    assert match and match.group(1, 2, 3) == ("3", "10", "OK")
    terminal.progress(3, 10, "created sql table model core.dim_users")
    terminal("published", exit=0)
    out = capsys.readouterr()
    assert "dbt [#########" in out.err and "3/10" in out.err
    assert "published exit=0" in out.out and not out.out.lstrip().startswith("{")


def test_a_leftover_wal_stops_the_refresh_before_it_copies(published):
    wal = published.with_name(published.name + ".wal")
    wal.write_bytes(b"uncheckpointed")
    before = digest(published)
    assert refresh(published, DAY_2, interactive=False) == exit_codes.BUILD_FAILED
    failed = [e for e in refresh_events(published) if e["event"] == "refresh_failed"][-1]
    assert failed["step"] == "copy" and ".wal exists" in failed["reason"]
    assert digest(published) == before and not RefreshPaths(published).building.exists()


def test_a_writer_outside_the_lock_during_a_refresh_stops_the_publish(published, monkeypatch):
    """A loader writing the published file while the refresh builds its copy: publishing would lose
    the loader's rows, so the refresh refuses (exit 2) and the writer's rows stay."""
    from revops_warehouse import refresh as refresh_module

    def build_while_a_loader_writes(command, env, log, paths, **failed):
        with duckdb.connect(str(published)) as con:
            con.execute("create table salesforce.loaded_during_refresh as select 1 as id")
        return 0.1

    monkeypatch.setattr(refresh_module, "_dbt_step", build_while_a_loader_writes)
    monkeypatch.setattr(refresh_module, "_checks_step", lambda *args, **kwargs: (exit_codes.OK, 0.1))
    code = refresh(published, DAY_2, report=False, interactive=False)
    assert code == exit_codes.BUILD_FAILED
    failed = [e for e in refresh_events(published) if e["event"] == "refresh_failed"][-1]
    assert failed["step"] == "publish" and "changed since it was copied" in failed["reason"]
    assert query(published, "select count(*) from salesforce.loaded_during_refresh") == [(1,)]
