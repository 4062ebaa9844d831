"""Holidays of every business calendar region, from the `holidays` package plus the overrides seed.

Python is the better tool here: the holiday rules of dozens of countries live in `holidays`.
The logic is revops_warehouse.business_time.holiday_frame (pytest-tested); this file only wires it.
"""

from revops_warehouse.business_time import holiday_frame


def model(dbt, session):
    dbt.config(materialized="table")
    calendars = dbt.ref("business_calendars").df()
    overrides = dbt.ref("holiday_overrides").df()
    first_year = int(dbt.config.get("calendar_first_year"))
    last_year = int(dbt.config.get("calendar_last_year"))
    return holiday_frame(calendars, overrides, first_year, last_year)
