"""A throwaway PostgreSQL server for the `postgres` target: initdb into a temporary folder, listen on
127.0.0.1 on a free port, create the roles the project uses, and remove it all again.

    with PgServer() as server:
        env = server.dbt_env()          # REVOPS_TARGET=postgres + REVOPS_PG_* for dbt
        server.owner_url()              # postgresql://revops:…@127.0.0.1:<port>/revops
        server.reporting_url()          # the read-only reporting role's URL

Roles (passwords are random per server):

* ``revops``: LOGIN, owns the database ``revops``; the `postgres` target builds as this role (it
  is not a superuser, so grants are meaningful).
* ``revops_reporting``: LOGIN, no other privilege: the BI role the marts are granted to.

From a shell (the state file remembers the data dir, port and passwords between the calls):

    python -m revops_warehouse.pg_server start [--state FILE]   # prints `export REVOPS_PG_…` lines
    python -m revops_warehouse.pg_server stop  [--state FILE]

PostgreSQL refuses to run as root: when run as root the server runs as the OS user ``postgres``
(the Debian package creates it) or $REVOPS_PG_OS_USER. The binaries are looked up in
$REVOPS_PG_BIN, then /usr/lib/postgresql/<version>/bin, then `pg_config --bindir`; missing, they
are installed by scripts/system-packages.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

OWNER_ROLE = "revops"
REPORTING_ROLE = "revops_reporting"
DATABASE = "revops"
HOST = "127.0.0.1"
DEFAULT_STATE_FILE = Path(tempfile.gettempdir()) / "revops-pg-server.json"


class PostgresNotInstalled(RuntimeError):
    pass


def bin_dir_candidates() -> list[Path]:
    """Where the server binaries are looked for, in order."""
    candidates: list[Path] = []
    if os.environ.get("REVOPS_PG_BIN"):
        candidates.append(Path(os.environ["REVOPS_PG_BIN"]))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    return candidates


def find_bin_dir(candidates: list[Path] | None = None) -> Path:
    """The folder holding initdb, pg_ctl and postgres; a clear error naming scripts/system-packages."""
    if candidates is None:
        candidates = bin_dir_candidates()
    for candidate in candidates:
        if all((candidate / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return candidate
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in $REVOPS_PG_BIN, "
        "/usr/lib/postgresql/*/bin or `pg_config --bindir`. Install them with scripts/system-packages "
        "(Debian package `postgresql`), or set REVOPS_PG_BIN to their folder."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _os_user() -> str | None:
    """The OS user to run the server as: None = the current user (not root)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("REVOPS_PG_OS_USER", "postgres")
    try:
        pwd.getpwnam(name)
    except KeyError as error:
        raise PostgresNotInstalled(
            f"running as root, and PostgreSQL refuses to run as root: OS user {name!r} (the Debian "
            "package's `postgres`) is missing. Install it with scripts/system-packages, or set "
            "REVOPS_PG_OS_USER to an unprivileged user."
        ) from error
    return name


def _as_user(command: list[str], user: str | None) -> list[str]:
    if user is None:
        return command
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *command]
    return ["su", user, "-s", "/bin/sh", "-c", " ".join(_shell_quote(c) for c in command)]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


@dataclass
class PgServer:
    """One throwaway server. Reusable: owner_url(), reporting_url(), dbt_env(), connect()."""

    base_dir: str | None = None
    port: int = 0
    owner_password: str = field(default_factory=lambda: secrets.token_hex(12))
    reporting_password: str = field(default_factory=lambda: secrets.token_hex(12))
    superuser_password: str = field(default_factory=lambda: secrets.token_hex(12))
    bin_dir: str | None = None
    os_user: str | None = None
    owns_base_dir: bool = True

    # ---- connection details ------------------------------------------------------------------

    def url(self, user: str, password: str, database: str = DATABASE, driver: str = "postgresql") -> str:
        return f"{driver}://{quote(user)}:{quote(password)}@{HOST}:{self.port}/{quote(database)}"

    def owner_url(self, driver: str = "postgresql") -> str:
        """SQLAlchemy/libpq URL of the owner role (use driver='postgresql+psycopg2' for SQLAlchemy)."""
        return self.url(OWNER_ROLE, self.owner_password, driver=driver)

    def reporting_url(self, driver: str = "postgresql") -> str:
        """URL of the read-only reporting role."""
        return self.url(REPORTING_ROLE, self.reporting_password, driver=driver)

    def dbt_env(self, schema: str = "analytics") -> dict[str, str]:
        """The environment variables profiles.yml's `postgres` target reads."""
        return {
            "REVOPS_TARGET": "postgres",
            "REVOPS_PG_HOST": HOST,
            "REVOPS_PG_PORT": str(self.port),
            "REVOPS_PG_USER": OWNER_ROLE,
            "REVOPS_PG_PASSWORD": self.owner_password,
            "REVOPS_PG_DATABASE": DATABASE,
            "REVOPS_PG_SCHEMA": schema,
            "REVOPS_PG_REPORTING_ROLE": REPORTING_ROLE,
        }

    def connect(self, role: str = OWNER_ROLE, **kwargs):
        """A psycopg2 connection as the owner (default), the reporting role or the superuser."""
        import psycopg2

        passwords = {
            OWNER_ROLE: self.owner_password,
            REPORTING_ROLE: self.reporting_password,
            "postgres": self.superuser_password,
        }
        return psycopg2.connect(
            host=HOST,
            port=self.port,
            user=role,
            password=passwords[role],
            dbname=kwargs.pop("dbname", DATABASE),
            **kwargs,
        )

    # ---- life cycle -------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None
        return Path(self.base_dir) / "data"

    def start(self, timeout: float = 60.0) -> PgServer:
        self.bin_dir = str(find_bin_dir())
        self.os_user = _os_user()
        if self.base_dir is None:
            self.base_dir = tempfile.mkdtemp(prefix="revops-pg-")
            self.owns_base_dir = True
        base = Path(self.base_dir)
        base.mkdir(parents=True, exist_ok=True)
        pwfile = base / "superuser-password"
        pwfile.write_text(self.superuser_password + "\n")
        if self.os_user is not None:
            info = pwd.getpwnam(self.os_user)
            os.chown(base, info.pw_uid, info.pw_gid)
            os.chown(pwfile, info.pw_uid, info.pw_gid)
        pwfile.chmod(0o600)
        bin_dir = Path(self.bin_dir)
        self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--pwfile",
                str(pwfile),
                "--auth-local",
                "scram-sha-256",
                "--auth-host",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        if not self.port:
            self.port = free_port()
        options = (
            f"-c listen_addresses={HOST} -c port={self.port} -c unix_socket_directories='{base}' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c shared_buffers=128MB -c max_connections=50 -c TimeZone=UTC"
        )
        self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(base / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ]
        )
        self._create_roles(timeout)
        return self

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(_as_user(command, self.os_user), capture_output=True, text=True)
        if result.returncode != 0:
            log = ""
            if self.base_dir and (Path(self.base_dir) / "server.log").exists():
                log = (Path(self.base_dir) / "server.log").read_text()[-3000:]
            raise RuntimeError(
                f"{Path(command[0]).name} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}\n{log}"
            )

    def _create_roles(self, timeout: float) -> None:
        import psycopg2
        from psycopg2 import sql

        deadline = time.monotonic() + timeout
        while True:
            try:
                con = self.connect("postgres", dbname="postgres")
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        con.autocommit = True
        with con.cursor() as cur:
            for role, password in ((OWNER_ROLE, self.owner_password), (REPORTING_ROLE, self.reporting_password)):
                cur.execute(
                    sql.SQL("create role {} login password {}").format(sql.Identifier(role), sql.Literal(password))
                )
            cur.execute(
                sql.SQL("create database {} owner {}").format(sql.Identifier(DATABASE), sql.Identifier(OWNER_ROLE))
            )
        con.close()
        # The public schema of a fresh database is owned by pg_database_owner (PostgreSQL 15):
        # nobody else may create in it; the reporting role sees nothing until granted.

    def stop(self) -> None:
        if self.base_dir is None:
            return
        if self.data_dir.exists() and self.bin_dir:
            pid_file = self.data_dir / "postmaster.pid"
            if pid_file.exists():
                command = [str(Path(self.bin_dir) / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
                subprocess.run(_as_user(command, self.os_user), capture_output=True, text=True)
        if self.owns_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PgServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ---- state file (CLI) ---------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> PgServer:
        return cls(**json.loads(path.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m revops_warehouse.pg_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE_FILE, help="where start records the server")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            if args.state.exists():
                print(f"{args.state} exists: a server is running? stop it first", file=sys.stderr)
                return 2
            server = PgServer().start()
            server.save(args.state)
            for key, value in server.dbt_env().items():
                print(f"export {key}={_shell_quote(value)}")
            print(f"# reporting role: {server.reporting_url()}")
        else:
            if not args.state.exists():
                print(f"no server recorded in {args.state}", file=sys.stderr)
                return 2
            PgServer.load(args.state).stop()
            args.state.unlink()
    except PostgresNotInstalled as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
