"""Where things are: the project, the warehouse file, the dbt executable.

The DuckDB path is always made absolute here, from REVOPS_DUCKDB_PATH or the default inside the
project, so a scheduler calling from any working directory reads and writes the same warehouse.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
RULES_DIR = PROJECT_DIR / "seeds" / "rules"
DEFAULT_DATABASE = PROJECT_DIR / "warehouse" / "revops.duckdb"
DEMO_ANCHOR = "2026-11-02 12:00:00"


def database_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: explicit argument, else REVOPS_DUCKDB_PATH, else the project default.

    A relative path is taken relative to the caller's working directory *once*, here, and
    passed on as an absolute path: dbt and every later process then agree on one file.
    """
    raw = explicit or os.environ.get("REVOPS_DUCKDB_PATH") or DEFAULT_DATABASE
    return Path(raw).expanduser().resolve()


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(database: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
    env["DBT_PROJECT_DIR"] = str(PROJECT_DIR)
    env["REVOPS_DUCKDB_PATH"] = str(database)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if extra:
        env.update(extra)
    return env


def target() -> str:
    """The dbt target the project's commands use: $REVOPS_TARGET (profiles.yml), default duckdb."""
    return os.environ.get("REVOPS_TARGET", "duckdb")


def postgres_url(driver: str = "postgresql+psycopg2") -> str:
    """SQLAlchemy URL of the `postgres` target, from the same REVOPS_PG_* variables profiles.yml reads."""
    from urllib.parse import quote

    user = quote(os.environ.get("REVOPS_PG_USER", "revops"))
    password = quote(os.environ.get("REVOPS_PG_PASSWORD", ""))
    host = os.environ.get("REVOPS_PG_HOST", "localhost")
    port = os.environ.get("REVOPS_PG_PORT", "5432")
    database = quote(os.environ.get("REVOPS_PG_DATABASE", "revops"))
    return f"{driver}://{user}:{password}@{host}:{port}/{database}"
