"""One refresh for schedulers: dbt build -> Great Expectations checks -> scorecard page -> publish.

`scripts/refresh` (= `python -m revops_warehouse refresh`) is what cron, Airflow or Dagster call,
and what the main job (`scripts/demo`) runs after writing the demo data.

Embedded DuckDB allows one writer per file, and BI tools hold read connections to it. So a
refresh never writes the published file: it copies it (raw data, incremental models and scorecard
history included) to `<warehouse dir>/.refresh-<name>/<name>.building.duckdb`, builds and checks there,
writes the scorecard page and Data Docs beside it, and publishes with one atomic rename
(`os.replace`) of the file, then of the reports. A reader that opened the old file keeps reading
the old run; a reader that opens after the rename sees the new one; nobody sees a half-built table
or a mix of two runs.

Safe on a schedule:
* a lock file (`flock`) next to the warehouse: a second refresh exits 75 at once, touching nothing;
* re-running the same as_of is idempotent (the scorecard is delete+insert on its as_of date);
* a failed build leaves the published file as it was; the next refresh starts again from it.
  `--retry` instead re-runs only what failed (`dbt retry`) in the kept build file, then checks and
  publishes it.

On the `postgres` target (REVOPS_TARGET=postgres) the server is the warehouse: the refresh writes the
holiday table (the portable path of the dbt Python model), runs `dbt build` in place (each model
replaces its table in one transaction, so readers never see a half-built table), runs the checks
pushed down to PostgreSQL and records the run; the static page is DuckDB-only (docs/postgres.md).

Exit codes (revops_warehouse.exit_codes): 0 success; 1 published, but an error-severity data
quality rule failed; 2 build failed, nothing published; 3 checks could not run, nothing published;
75 another refresh is running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from revops_warehouse import exit_codes, settings
from revops_warehouse.quality.runner import duckdb_url

PROGRESS = re.compile(r"\b(\d+) of (\d+) (START|OK|PASS|ERROR|FAIL|WARN|SKIP)\b")


@dataclass
class RefreshPaths:
    published: Path

    @property
    def work_dir(self) -> Path:
        return self.published.parent / f".refresh-{self.published.stem}"

    @property
    def building(self) -> Path:
        return self.work_dir / f"{self.published.stem}.building.duckdb"

    @property
    def target_dir(self) -> Path:
        return self.work_dir / "target"

    @property
    def lock(self) -> Path:
        return self.published.parent / f".{self.published.name}.refresh.lock"

    @property
    def reports(self) -> Path:
        return self.published.parent / "reports"

    @property
    def building_reports(self) -> Path:
        return self.work_dir / "reports"

    @property
    def log(self) -> Path:
        return self.published.parent / "logs" / "refresh.jsonl"


class AlreadyRunning(RuntimeError):
    pass


@dataclass
class Logger:
    """Structured log lines (JSON, one per event) to stdout and the refresh log, with the run id."""

    run_id: str
    log_path: Path
    interactive: bool = False
    events: list[dict] = field(default_factory=list)

    def __call__(self, event: str, **fields) -> None:
        record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "run_id": self.run_id, "event": event}
        record.update(fields)
        self.events.append(record)
        line = json.dumps(record, default=str)
        if self.interactive:
            self._clear()
            shown = " ".join(f"{k}={v}" for k, v in fields.items())
            print(f"[{record['ts'][11:19]}] {event} {shown}", flush=True)
        else:
            print(line, flush=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as handle:
            handle.write(line + "\n")

    def progress(self, done: int, total: int, label: str) -> None:
        if not self.interactive or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r  dbt [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:50]:50}")
        sys.stderr.flush()

    def _clear(self) -> None:
        sys.stderr.write("\r" + " " * 100 + "\r")
        sys.stderr.flush()


@contextlib.contextmanager
def refresh_lock(paths: RefreshPaths, run_id: str):
    paths.lock.parent.mkdir(parents=True, exist_ok=True)
    handle = paths.lock.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(f"another refresh holds {paths.lock} ({holder}); this one touched nothing") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, run {run_id}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S}Z")
    handle.flush()
    try:
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _stream(command: list[str], env: dict, log: Logger, cwd: Path, output: Path) -> int:
    """Run a command, keep its output in `output`, show dbt's node progress in a terminal."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        output.open("w") as sink,
        subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            sink.write(line)
            match = PROGRESS.search(line)
            if match:
                done = int(match.group(1)) - (1 if match.group(3) == "START" else 0)
                log.progress(done, int(match.group(2)), line.split(match.group(3), 1)[-1].strip())
        return process.wait()


def _tail(path: Path, lines: int = 25) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


RUN_COLUMNS = (
    ("run_id", "varchar"),
    ("as_of", "timestamp"),
    ("started_at", "timestamp"),
    ("published_at", "timestamp"),
    ("build_seconds", "double precision"),
    ("checks_seconds", "double precision"),
    ("exit_code", "integer"),
    ("checks_exit_code", "integer"),
    ("mode", "varchar"),
)


def _published_run_ids(published: Path) -> list[str] | None:
    """Run ids in the published file's ops.refresh_runs (none when it has no such table yet)."""
    import duckdb

    with contextlib.suppress(duckdb.Error), duckdb.connect(str(published), read_only=True) as con:
        return [r[0] for r in con.execute("select run_id from ops.refresh_runs").fetchall()]
    return []


def _record_run(url: str, row: dict, keep: list[str] | None = None) -> None:
    """One row in ops.refresh_runs (DuckDB file or server), then a checkpoint on DuckDB. With `keep`,
    rows of other runs not in it (left by a run that failed before publishing) are dropped."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("create schema if not exists ops"))
            columns = ", ".join(f"{name} {kind}" for name, kind in RUN_COLUMNS)
            connection.execute(sa.text(f"create table if not exists ops.refresh_runs ({columns})"))
            connection.execute(sa.text("delete from ops.refresh_runs where run_id = :run_id"), row)
            if keep is not None:
                stale = connection.execute(sa.text("select run_id from ops.refresh_runs")).scalars().all()
                for run_id in set(stale) - set(keep):
                    connection.execute(sa.text("delete from ops.refresh_runs where run_id = :r"), {"r": run_id})
            names = [name for name, _ in RUN_COLUMNS]
            connection.execute(
                sa.text(
                    f"insert into ops.refresh_runs ({', '.join(names)}) values ({', '.join(':' + n for n in names)})"
                ),
                row,
            )
        if url.startswith("duckdb"):
            with engine.connect() as connection:
                connection.exec_driver_sql("checkpoint")
    finally:
        engine.dispose()


def _publish_dir(source: Path, destination: Path) -> None:
    """Swap a directory in with renames (the old one is removed after the new one is in place)."""
    if not source.exists():
        return
    old = destination.with_name(destination.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if destination.exists():
        os.replace(destination, old)
    os.replace(source, destination)
    shutil.rmtree(old, ignore_errors=True)


def refresh(
    database: Path,
    as_of: str | None = None,
    *,
    retry: bool = False,
    full_refresh: bool = False,
    report: bool = True,
    interactive: bool | None = None,
    dbt_args: list[str] | None = None,
) -> int:
    if settings.target() == "postgres":
        if retry:
            print(
                "refresh --retry is for the DuckDB file build; on PostgreSQL models rebuild in place: "
                "run a plain refresh",
                file=sys.stderr,
                flush=True,
            )
            return exit_codes.BUILD_FAILED
        return refresh_postgres(as_of, interactive=interactive, full_refresh=full_refresh, dbt_args=dbt_args)
    paths = RefreshPaths(Path(database).resolve())
    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    if retry:
        # dbt retry re-uses the failed run's vars: record the as_of that run built.
        as_of = _failed_run_as_of(paths) or as_of
    as_of = as_of or f"{started:%Y-%m-%d %H:%M:00}"
    log = Logger(run_id, paths.log, sys.stdout.isatty() if interactive is None else interactive)
    try:
        with refresh_lock(paths, run_id):
            try:
                return _refresh_locked(paths, run_id, started, as_of, log, retry, full_refresh, report, dbt_args or [])
            except Exception as error:  # noqa: BLE001 - never exit 1 (= published) on a crash
                log("refresh_failed", step="internal", error=f"{type(error).__name__}: {error}", published="unchanged")
                return exit_codes.BUILD_FAILED
    except AlreadyRunning as error:
        print(f"refresh not started: {error}", file=sys.stderr, flush=True)
        return exit_codes.ALREADY_RUNNING


def _failed_run_as_of(paths: RefreshPaths) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        run_results = json.loads((paths.target_dir / "run_results.json").read_text())
        return (run_results["args"].get("vars") or {}).get("as_of")
    return None


def _signature(path: Path) -> list:
    stat = path.stat()
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _dbt_step(command: list[str], env: dict, log: Logger, paths: RefreshPaths, **failed) -> float | None:
    """Run a dbt command; its wall seconds, or None (logged with the log's tail) when it failed."""
    step = time.perf_counter()
    dbt_log = paths.work_dir / "dbt.log"
    code = _stream(command, env, log, settings.PROJECT_DIR, dbt_log)
    seconds = round(time.perf_counter() - step, 2)
    if code != 0:
        log(
            "refresh_failed",
            step="dbt_build",
            exit=code,
            seconds=seconds,
            log=str(dbt_log),
            tail=_tail(dbt_log, 15),
            **failed,
        )
        return None
    log("step_done", step="dbt_build", seconds=seconds)
    return seconds


def _checks_step(
    warehouse: list[str],
    run_id: str,
    as_of: str,
    env: dict,
    log: Logger,
    paths: RefreshPaths,
    shown_paths: tuple[str, str] | None = None,
    **failed,
) -> tuple[int | None, float]:
    """The Great Expectations checks in their own process: (exit code or None when they could not run, seconds)."""
    step = time.perf_counter()
    checks_log = paths.work_dir / "checks.log"
    code = _stream(
        [sys.executable, "-m", "revops_warehouse.quality", *warehouse, "--run-id", run_id, "--as-of", as_of],
        env,
        log,
        settings.PROJECT_DIR,
        checks_log,
    )
    seconds = round(time.perf_counter() - step, 2)
    summary = checks_log.read_text()
    if shown_paths:
        summary = summary.replace(*shown_paths)
    print(summary, end="", flush=True)
    if code not in (exit_codes.OK, exit_codes.DATA_QUALITY_ERRORS):
        log("refresh_failed", step="checks", exit=code, seconds=seconds, **failed)
        return None, seconds
    log("step_done", step="checks", seconds=seconds, exit=code)
    return code, seconds


def _run_row(run_id, as_of, started, build_seconds, checks_seconds, checks_code, mode) -> dict:
    exit_code = exit_codes.DATA_QUALITY_ERRORS if checks_code == exit_codes.DATA_QUALITY_ERRORS else exit_codes.OK
    return {
        "run_id": run_id,
        "as_of": as_of,
        "started_at": started.replace(tzinfo=None),
        "published_at": datetime.now(UTC).replace(tzinfo=None),
        "build_seconds": build_seconds,
        "checks_seconds": checks_seconds,
        "exit_code": exit_code,
        "checks_exit_code": checks_code,
        "mode": mode,
    }


def _build_command(paths: RefreshPaths, as_of: str, full_refresh: bool, dbt_args: list[str]) -> list[str]:
    return [
        settings.dbt_executable(),
        "build",
        "--project-dir",
        str(settings.PROJECT_DIR),
        "--target-path",
        str(paths.target_dir),
        "--vars",
        json.dumps({"as_of": as_of}),
        *dbt_args,
        *(["--full-refresh"] if full_refresh else []),
    ]


def _refresh_locked(paths, run_id, started, as_of, log, retry, full_refresh, report, dbt_args) -> int:
    mode = "retry" if retry else ("full_refresh" if full_refresh else "build")
    log("refresh_started", warehouse=str(paths.published), as_of=as_of, mode=mode)
    paths.work_dir.mkdir(parents=True, exist_ok=True)
    env = settings.dbt_env(paths.building)
    if retry:
        if not (paths.building.exists() and (paths.target_dir / "run_results.json").exists()):
            log("refresh_failed", step="retry", reason="no failed build to retry; run a plain refresh")
            return exit_codes.BUILD_FAILED
        command = [
            settings.dbt_executable(),
            "retry",
            "--project-dir",
            str(settings.PROJECT_DIR),
            "--target-path",
            str(paths.target_dir),
        ]
    else:
        if not paths.published.exists():
            log("refresh_failed", step="copy", reason=f"no warehouse at {paths.published}: load raw data first")
            return exit_codes.BUILD_FAILED
        published_wal = paths.published.with_name(paths.published.name + ".wal")
        if published_wal.exists():
            log(
                "refresh_failed",
                step="copy",
                published="unchanged",
                reason=f"{published_wal} exists: a writer has the warehouse open or did not close it cleanly; "
                "the copy would miss its rows. Let it finish (or open and close the file once), then refresh",
            )
            return exit_codes.BUILD_FAILED
        step = time.perf_counter()
        for stale in (paths.building, paths.building.with_name(paths.building.name + ".wal")):
            stale.unlink(missing_ok=True)
        copied_from = _signature(paths.published)
        shutil.copyfile(paths.published, paths.building)
        (paths.work_dir / "copied_from.json").write_text(json.dumps(copied_from))
        log("step_done", step="copy", seconds=round(time.perf_counter() - step, 2), bytes=paths.building.stat().st_size)
        command = _build_command(paths, as_of, full_refresh, dbt_args)
    build_seconds = _dbt_step(command, env, log, paths, published="unchanged")
    if build_seconds is None:
        return exit_codes.BUILD_FAILED

    shutil.rmtree(paths.building_reports, ignore_errors=True)
    warehouse = ["--database", str(paths.building), "--data-docs-dir", str(paths.building_reports / "data_docs")]
    # The checks' summary names Data Docs where they will be once published.
    shown = (str(paths.building_reports), str(paths.reports))
    checks_code, checks_seconds = _checks_step(warehouse, run_id, as_of, env, log, paths, shown, published="unchanged")
    if checks_code is None:
        return exit_codes.CHECKS_DID_NOT_RUN
    row = _run_row(run_id, as_of, started, build_seconds, checks_seconds, checks_code, mode)
    if report:
        step = time.perf_counter()
        report_code = _write_report(paths, run_id, env, log)
        if report_code != 0:
            log("refresh_failed", step="report", exit=report_code, published="unchanged")
            return exit_codes.BUILD_FAILED
        log("step_done", step="report", seconds=round(time.perf_counter() - step, 2))

    # Recorded last, in the build file: ops.refresh_runs holds exactly the published runs (a retry
    # of a run that failed after this point drops the row it left).
    _record_run(duckdb_url(paths.building), row, keep=_published_run_ids(paths.published))
    step = time.perf_counter()
    wal = paths.building.with_name(paths.building.name + ".wal")
    if wal.exists():
        log("refresh_failed", step="publish", reason=f"{wal} exists: the build file was not checkpointed")
        return exit_codes.BUILD_FAILED
    changed = paths.published.with_name(paths.published.name + ".wal").exists() or json.loads(
        (paths.work_dir / "copied_from.json").read_text()
    ) != _signature(paths.published)
    if changed:
        log(
            "refresh_failed",
            step="publish",
            published="unchanged",
            reason=f"{paths.published} changed since it was copied (a writer outside the refresh lock): "
            "publishing would lose its rows; run the refresh again",
        )
        return exit_codes.BUILD_FAILED
    os.replace(paths.building, paths.published)
    _publish_dir(paths.building_reports, paths.reports)
    log(
        "published",
        step="publish",
        seconds=round(time.perf_counter() - step, 3),
        warehouse=str(paths.published),
        reports=str(paths.reports),
        exit=row["exit_code"],
        total_seconds=round((datetime.now(UTC) - started).total_seconds(), 2),
    )
    return row["exit_code"]


def _write_report(paths: RefreshPaths, run_id: str, env: dict, log: Logger) -> int:
    """The static scorecard page, from the build file, into the reports that publish with it."""
    output = paths.building_reports / "scorecard.html"
    return _stream(
        [
            sys.executable,
            "-m",
            "revops_warehouse.report",
            "--database",
            str(paths.building),
            "--output",
            str(output),
            "--run-id",
            run_id,
        ],
        env,
        log,
        settings.PROJECT_DIR,
        paths.work_dir / "report.log",
    )


def refresh_postgres(
    as_of: str | None = None,
    *,
    interactive: bool | None = None,
    full_refresh: bool = False,
    dbt_args: list[str] | None = None,
) -> int:
    """The refresh on the `postgres` target: holidays -> dbt build in place -> checks -> record."""
    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    as_of = as_of or f"{started:%Y-%m-%d %H:%M:00}"
    host, port = os.environ.get("REVOPS_PG_HOST", "localhost"), os.environ.get("REVOPS_PG_PORT", "5432")
    paths = RefreshPaths(
        settings.PROJECT_DIR / "warehouse" / f"postgres-{host}-{port}-{os.environ.get('REVOPS_PG_DATABASE', 'revops')}"
    )
    log = Logger(run_id, paths.log, sys.stdout.isatty() if interactive is None else interactive)
    url = settings.postgres_url()
    env = dict(os.environ)
    env.update({"DBT_PROFILES_DIR": str(settings.PROJECT_DIR), "DBT_PROJECT_DIR": str(settings.PROJECT_DIR)})
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        with refresh_lock(paths, run_id):
            mode = "full_refresh" if full_refresh else "build"
            log("refresh_started", warehouse=f"postgres {host}", as_of=as_of, mode=mode)
            paths.work_dir.mkdir(parents=True, exist_ok=True)
            step = time.perf_counter()
            holidays_log = paths.work_dir / "holidays.log"
            code = _stream(
                [sys.executable, "-m", "revops_warehouse.pg_holidays"], env, log, settings.PROJECT_DIR, holidays_log
            )
            if code != 0:
                log("refresh_failed", step="holidays", exit=code, tail=_tail(holidays_log, 10))
                return exit_codes.BUILD_FAILED
            log("step_done", step="holidays", seconds=round(time.perf_counter() - step, 2))
            build_seconds = _dbt_step(_build_command(paths, as_of, full_refresh, dbt_args or []), env, log, paths)
            if build_seconds is None:
                return exit_codes.BUILD_FAILED
            # The runner reads the connection from REVOPS_PG_* (no password on a command line).
            checks_code, checks_seconds = _checks_step([], run_id, as_of, env, log, paths)
            if checks_code is None:
                return exit_codes.CHECKS_DID_NOT_RUN
            row = _run_row(run_id, as_of, started, build_seconds, checks_seconds, checks_code, mode)
            _record_run(url, row)
            log("report_skipped", reason="the static scorecard page reads the DuckDB warehouse (docs/postgres.md)")
            log(
                "published",
                step="publish",
                warehouse=f"postgres {host}",
                exit=row["exit_code"],
                total_seconds=round((datetime.now(UTC) - started).total_seconds(), 2),
            )
            return row["exit_code"]
    except AlreadyRunning as error:
        print(f"refresh not started: {error}", file=sys.stderr, flush=True)
        return exit_codes.ALREADY_RUNNING
    except Exception as error:  # noqa: BLE001 - never exit 1 (= published) on a crash
        log("refresh_failed", step="internal", error=f"{type(error).__name__}: {error}")
        return exit_codes.BUILD_FAILED
