"""The portable path of int_holidays_combined: holiday rows written by Python, read by SQL.

On DuckDB, int_holidays_combined is a dbt Python model (the `holidays` package, through
revops_warehouse.business_time). dbt-postgres runs no Python models, so on PostgreSQL the same
function writes the rows into a plain table before `dbt build`, and the SQL variant of the model
(models/intermediate/postgres/int_holidays_combined.sql) reads that table:

    python -m revops_warehouse.pg_holidays          # connection: the REVOPS_PG_* variables
    dbt build --target postgres

One implementation: the rows come from business_time.build_holiday_rows over the calendars of the
rules seeds (seeds/rules/business_calendars.csv, holiday_overrides.csv), for the years of the vars
calendar_first_year / calendar_last_year in dbt_project.yml. Run it again whenever those seeds or
vars change (the SQL model cannot call Python). The table lives in the schema of the var
`python_steps_schema` (default python_steps), table `holidays`; the reporting role cannot read it.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from revops_warehouse import business_time
from revops_warehouse.settings import PROJECT_DIR, RULES_DIR

HOLIDAYS_SCHEMA = "python_steps"
HOLIDAYS_TABLE = "holidays"


def project_var(name: str):
    """A var's default from dbt_project.yml."""
    doc = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return doc["vars"][name]


def holiday_rows(
    first_year: int | None = None, last_year: int | None = None, rules_dir: str | Path = RULES_DIR
) -> pd.DataFrame:
    """The rows int_holidays_combined holds: calendar_region, holiday_date, holiday_name."""
    first = int(first_year if first_year is not None else project_var("calendar_first_year"))
    last = int(last_year if last_year is not None else project_var("calendar_last_year"))
    return business_time.build_holiday_rows(business_time.load_calendars(rules_dir), first, last)


def write_holiday_rows(
    pg_connection,
    schema: str = HOLIDAYS_SCHEMA,
    table: str = HOLIDAYS_TABLE,
    first_year: int | None = None,
    last_year: int | None = None,
    rules_dir: str | Path = RULES_DIR,
) -> int:
    """Replace schema.table with the holiday rows (one transaction); returns the row count."""
    from psycopg2 import sql

    frame = holiday_rows(first_year, last_year, rules_dir)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for region, day, name in frame.itertuples(index=False, name=None):
        writer.writerow([region, day.isoformat(), "" if name is None else name])
    buffer.seek(0)
    target = sql.Identifier(schema, table)
    with pg_connection.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute(sql.SQL("drop table if exists {}").format(target))
        cur.execute(
            sql.SQL(
                "create table {} (calendar_region text not null, holiday_date date not null, holiday_name text)"
            ).format(target)
        )
        cur.copy_expert(
            sql.SQL("copy {} (calendar_region, holiday_date, holiday_name) from stdin with (format csv)")
            .format(target)
            .as_string(cur),
            buffer,
        )
    pg_connection.commit()
    return len(frame)


def main(argv: Sequence[str] | None = None) -> int:
    from revops_warehouse.pg_load import connect_from_env

    parser = argparse.ArgumentParser(
        prog="python -m revops_warehouse.pg_holidays", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--first-year", type=int, help="default: var calendar_first_year of dbt_project.yml")
    parser.add_argument("--last-year", type=int, help="default: var calendar_last_year of dbt_project.yml")
    parser.add_argument("--schema", default=HOLIDAYS_SCHEMA, help="must equal the var python_steps_schema")
    args = parser.parse_args(argv)
    con = connect_from_env()
    try:
        count = write_holiday_rows(con, args.schema, HOLIDAYS_TABLE, args.first_year, args.last_year)
    finally:
        con.close()
    print(f"{args.schema}.{HOLIDAYS_TABLE}: {count} holiday rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
