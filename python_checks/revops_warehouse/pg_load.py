"""Copy raw schemas from a DuckDB file into PostgreSQL with COPY, types kept.

The demo generator (and any DuckDB landing zone) writes the raw Fivetran-shaped schemas into a
DuckDB file; the `postgres` target reads them from PostgreSQL. Each table is exported by DuckDB as
CSV into a temporary file and streamed into PostgreSQL with `COPY … FROM STDIN (FORMAT csv)`
(psycopg2's copy_expert), so memory stays flat at any scale. DuckDB's postgres extension is not
needed.

Types: every DuckDB column type maps to its PostgreSQL twin (VARCHAR -> text, TIMESTAMP ->
timestamp without time zone, DECIMAL(p,s) -> numeric(p,s), BOOLEAN -> boolean, lists -> arrays, …);
an unknown type stops the load naming the column. CSV keeps NULL (unquoted empty field) apart from
the empty string (DuckDB writes it quoted). A table is replaced (drop … cascade: views on it, e.g.
the staging views, are recreated by the next `dbt build`).

    python -m revops_warehouse.pg_load DUCKDB_FILE [--schema salesforce --schema stripe …]
    # connection: the REVOPS_PG_* variables of the `postgres` target (profiles.yml)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

DEFAULT_SCHEMAS = ("salesforce", "stripe", "demo_meta")

_SCALAR_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "json",
    "BLOB": "bytea",
}


def postgres_type(duckdb_type: str, where: str = "") -> str:
    """The PostgreSQL type of a DuckDB column type (information_schema.columns.data_type)."""
    text = duckdb_type.strip().upper()
    if text.endswith("[]"):
        return postgres_type(text[:-2], where) + "[]"
    decimal = re.fullmatch(r"(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)", text)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    if text in _SCALAR_TYPES:
        return _SCALAR_TYPES[text]
    raise ValueError(f"no PostgreSQL type for DuckDB type {duckdb_type!r} ({where})")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _export_expression(column: str, duckdb_type: str) -> str:
    """DuckDB select expression writing the column as PostgreSQL's CSV input expects it."""
    quoted = _quote(column)
    if duckdb_type.strip().endswith("[]"):
        # A PostgreSQL array literal: {"a","b",NULL}, elements quoted and escaped.
        element = (
            "case when e is null then 'NULL' else "
            "'\"' || replace(replace(cast(e as varchar), '\\', '\\\\'), '\"', '\\\"') || '\"' end"
        )
        return (
            f"case when {quoted} is null then null else "
            f"'{{' || array_to_string(list_transform({quoted}, lambda e: {element}), ',') || '}}' end"
        )
    if duckdb_type.strip().upper() == "BLOB":
        return f"'\\x' || hex({quoted})"
    return quoted


def duckdb_tables(
    con: duckdb.DuckDBPyConnection, schemas: Iterable[str]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """{(schema, table): [(column, duckdb_type)]} for the base tables of the given schemas."""
    wanted = list(schemas)
    if not wanted:
        return {}
    rows = con.execute(
        """
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns as c
        join information_schema.tables as t
            on c.table_catalog = t.table_catalog
            and c.table_schema = t.table_schema
            and c.table_name = t.table_name
        where t.table_type = 'BASE TABLE'
            and c.table_catalog = current_database()
            and c.table_schema in (select unnest(?))
        order by c.table_schema, c.table_name, c.ordinal_position
        """,
        [wanted],
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), []).append((column, data_type))
    return tables


def copy_duckdb_to_postgres(
    duckdb_path: str | os.PathLike[str],
    pg_connection,
    schemas: Sequence[str] = DEFAULT_SCHEMAS,
    analyze: bool = True,
) -> dict[str, int]:
    """Copy every base table of `schemas` (those present) from the DuckDB file into PostgreSQL.

    pg_connection: a psycopg2 connection (committed here). Returns {"schema.table": rows}.
    """
    counts: dict[str, int] = {}
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as source,
        tempfile.TemporaryDirectory(prefix="revops-pg-load-") as tmp,
    ):
        tables = duckdb_tables(source, schemas)
        csv_path = Path(tmp) / "table.csv"
        with pg_connection.cursor() as cur:
            for schema in sorted({schema for schema, _ in tables}):
                cur.execute(f"create schema if not exists {_quote(schema)}")
            for (schema, table), columns in tables.items():
                target = f"{_quote(schema)}.{_quote(table)}"
                definitions = ", ".join(
                    f"{_quote(name)} {postgres_type(data_type, f'{schema}.{table}.{name}')}"
                    for name, data_type in columns
                )
                cur.execute(f"drop table if exists {target} cascade")
                cur.execute(f"create table {target} ({definitions})")
                select = ", ".join(_export_expression(name, data_type) for name, data_type in columns)
                source.execute(
                    f"copy (select {select} from {_quote(schema)}.{_quote(table)}) "
                    f"to '{csv_path.as_posix()}' (format csv, header false)"
                )
                column_list = ", ".join(_quote(name) for name, _ in columns)
                with csv_path.open("rb") as handle:
                    cur.copy_expert(f"copy {target} ({column_list}) from stdin with (format csv)", handle)
                counts[f"{schema}.{table}"] = cur.rowcount
        pg_connection.commit()
        if analyze:
            autocommit = pg_connection.autocommit
            pg_connection.autocommit = True
            with pg_connection.cursor() as cur:
                for schema, table in tables:
                    cur.execute(f"analyze {_quote(schema)}.{_quote(table)}")
            pg_connection.autocommit = autocommit
    return counts


def connect_from_env():
    """A psycopg2 connection from the REVOPS_PG_* variables (the `postgres` target's)."""
    import psycopg2

    return psycopg2.connect(
        host=os.environ.get("REVOPS_PG_HOST", "localhost"),
        port=int(os.environ.get("REVOPS_PG_PORT", "5432")),
        user=os.environ.get("REVOPS_PG_USER", "revops"),
        password=os.environ.get("REVOPS_PG_PASSWORD", ""),
        dbname=os.environ.get("REVOPS_PG_DATABASE", "revops"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m revops_warehouse.pg_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("duckdb_file", type=Path)
    parser.add_argument(
        "--schema",
        action="append",
        dest="schemas",
        help=f"schema to copy (repeat; default {', '.join(DEFAULT_SCHEMAS)})",
    )
    args = parser.parse_args(argv)
    if not args.duckdb_file.exists():
        print(f"{args.duckdb_file} does not exist", file=sys.stderr)
        return 2
    con = connect_from_env()
    try:
        counts = copy_duckdb_to_postgres(args.duckdb_file, con, args.schemas or DEFAULT_SCHEMAS)
    finally:
        con.close()
    for name, rows in counts.items():
        print(f"{name}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
