"""Business-time arithmetic against hand-computed answers (the seeds' calendars)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from revops_warehouse import business_time as bt
from revops_warehouse.settings import RULES_DIR

NY = "America/New_York"
LA = "America/Los_Angeles"
LONDON = "Europe/London"
BERLIN = "Europe/Berlin"
SYDNEY = "Australia/Sydney"


def utc(text: str) -> dt.datetime:
    """Naive UTC, as the raw tables store it."""
    return dt.datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def calendars() -> dict[str, bt.Calendar]:
    return bt.load_calendars(RULES_DIR)


@pytest.fixture(scope="module")
def na(calendars):
    return calendars["NA"]


def test_seed_calendars_load(calendars):
    assert set(calendars) >= {"NA", "UK", "DE", "APAC"}
    assert calendars["NA"].workday_start == dt.time(9, 0)
    assert calendars["UK"].workday_end == dt.time(17, 30)
    assert calendars["DE"].working_weekdays == frozenset({1, 2, 3, 4, 5})


def test_friday_1630_plus_4_business_hours_is_monday_1230(na):
    # Friday 2026-01-09 16:30 EST = 21:30 UTC; Monday 12:30 EST = 17:30 UTC.
    due = bt.add_business_minutes(utc("2026-01-09 21:30:00"), 240, na, NY)
    assert due == utc("2026-01-12 17:30:00")
    assert bt.business_minutes_between(utc("2026-01-09 21:30:00"), due, na, NY) == 240


def test_due_lands_on_window_end_not_next_morning(na):
    assert bt.add_business_minutes(utc("2026-01-09 21:30:00"), 30, na, NY) == utc("2026-01-09 22:00:00")


def test_start_on_thanksgiving_counts_from_next_working_day(na):
    # Thursday 2025-11-27 is Thanksgiving; Friday 09:00 EST + 4h = 13:00 EST = 18:00 UTC.
    assert na.is_holiday(dt.date(2025, 11, 27))
    assert bt.add_business_minutes(utc("2025-11-27 15:00:00"), 240, na, NY) == utc("2025-11-28 18:00:00")
    assert bt.add_business_days(utc("2025-11-27 15:00:00"), 1, na, NY) == utc("2025-12-01 14:00:00")


def test_start_at_0300_local(na):
    # Tuesday 2026-01-13 03:00 EST = 08:00 UTC -> clock starts 09:00 -> 13:00 EST = 18:00 UTC.
    assert not bt.is_working_time(utc("2026-01-13 08:00:00"), na, NY)
    assert bt.add_business_minutes(utc("2026-01-13 08:00:00"), 240, na, NY) == utc("2026-01-13 18:00:00")
    assert bt.add_business_days(utc("2026-01-13 08:00:00"), 2, na, NY) == utc("2026-01-15 14:00:00")


def test_start_on_weekend_business_days(na):
    # Saturday 2026-01-10 -> Monday 09:00 EST opening -> +2 working days = Wednesday 09:00 EST.
    assert bt.add_business_days(utc("2026-01-10 16:00:00"), 2, na, NY) == utc("2026-01-14 14:00:00")
    assert bt.add_business_days(utc("2026-01-10 16:00:00"), 0, na, NY) == utc("2026-01-12 14:00:00")


def test_us_dst_weekend(na):
    # 2026-03-08 clocks go forward in New York. Friday 16:30 EST (21:30 UTC) + 4h = Monday 12:30 EDT.
    assert bt.add_business_minutes(utc("2026-03-06 21:30:00"), 240, na, NY) == utc("2026-03-09 16:30:00")
    # Business days keep the local clock time: Friday 10:00 EST -> Monday 10:00 EDT (71 real hours).
    assert bt.add_business_days(utc("2026-03-06 15:00:00"), 1, na, NY) == utc("2026-03-09 14:00:00")
    # Friday 10:00-17:00 (420) + Monday 09:00-10:00 EDT (60).
    assert bt.business_minutes_between(utc("2026-03-06 15:00:00"), utc("2026-03-09 14:00:00"), na, NY) == 480


def test_uk_dst_weekends(calendars):
    uk = calendars["UK"]
    # Spring: 2026-03-29. Friday 17:00 GMT + 4h: 30 min Friday (to 17:30), 210 min Monday from 09:00 BST.
    assert bt.add_business_minutes(utc("2026-03-27 17:00:00"), 240, uk, LONDON) == utc("2026-03-30 11:30:00")
    # Autumn: 2025-10-26. Friday 17:00 BST (16:00 UTC) + 4h -> Monday 12:30 GMT.
    assert bt.add_business_minutes(utc("2025-10-24 16:00:00"), 240, uk, LONDON) == utc("2025-10-27 12:30:00")


def test_sydney_easter_and_dst_end(calendars):
    apac = calendars["APAC"]
    # Thursday 2026-04-02 16:00 AEDT (05:00 UTC): Good Friday, Easter Saturday/Sunday (DST ends on the
    # Sunday) and Easter Monday are not working days -> Tuesday 09:00 AEST + 3h = 02:00 UTC.
    due = bt.add_business_minutes(utc("2026-04-02 05:00:00"), 240, apac, SYDNEY)
    assert due == utc("2026-04-07 02:00:00")


def test_same_instant_berlin_vs_los_angeles(calendars):
    start = utc("2026-01-14 16:00:00")  # Wednesday: 17:00 in Berlin, 08:00 in Los Angeles
    # Berlin (DE 08:30-17:00): 17:00 is closed -> Thursday 08:30 CET + 4h = 12:30 CET = 11:30 UTC.
    assert bt.add_business_minutes(start, 240, calendars["DE"], BERLIN) == utc("2026-01-15 11:30:00")
    # Los Angeles (NA 09:00-17:00): opens 09:00 PST -> 13:00 PST = 21:00 UTC the same day.
    assert bt.add_business_minutes(start, 240, calendars["NA"], LA) == utc("2026-01-14 21:00:00")


def test_seed_override_adds_company_shutdown(na):
    # holiday_overrides.csv: NA 2025-12-26 Company shutdown. Wednesday 2025-12-24 16:00 EST + 4h:
    # 60 min on the 24th, Christmas, shutdown Friday, weekend -> Monday 29th 12:00 EST = 17:00 UTC.
    assert na.holiday_name(dt.date(2025, 12, 26)) == "Company shutdown"
    assert bt.add_business_minutes(utc("2025-12-24 21:00:00"), 240, na, NY) == utc("2025-12-29 17:00:00")


def _na_rows(overrides: list[dict]) -> bt.Calendar:
    rows = [
        {
            "calendar_region": "NA",
            "holiday_country_code": "US",
            "holiday_subdivision": "",
            "workday_start": "09:00",
            "workday_end": "17:00",
            "working_weekdays": "1|2|3|4|5",
        }
    ]
    return bt.calendars_from_rows(rows, overrides)["NA"]


def test_overrides_add_and_remove_a_holiday():
    plain = _na_rows([])
    assert bt.add_business_minutes(utc("2025-12-24 21:00:00"), 240, plain, NY) == utc("2025-12-26 17:00:00")
    no_christmas = _na_rows(
        [{"calendar_region": "NA", "holiday_date": "2025-12-25", "holiday_name": "", "is_holiday": "false"}]
    )
    assert not no_christmas.is_holiday(dt.date(2025, 12, 25))
    due = bt.add_business_minutes(utc("2025-12-24 21:00:00"), 240, no_christmas, NY)
    assert due == utc("2025-12-25 17:00:00")
    extra = _na_rows(
        [{"calendar_region": "NA", "holiday_date": dt.date(2026, 1, 14), "holiday_name": "Offsite", "is_holiday": True}]
    )
    assert extra.holiday_name(dt.date(2026, 1, 14)) == "Offsite"
    assert bt.add_business_days(utc("2026-01-13 15:00:00"), 1, extra, NY) == utc("2026-01-15 15:00:00")


def test_override_for_unknown_region_is_an_error():
    with pytest.raises(ValueError, match="XX"):
        _na_rows([{"calendar_region": "XX", "holiday_date": "2026-01-01", "holiday_name": "x", "is_holiday": True}])


@pytest.mark.parametrize(
    "start",
    [
        "2026-01-09 21:30:00",
        "2026-01-13 08:00:00",
        "2025-11-27 15:00:00",
        "2026-03-06 21:29:00",
        "2026-03-28 12:00:00",
        "2025-10-31 23:59:00",
        "2026-01-12 14:00:00",
    ],
)
@pytest.mark.parametrize("zone,region", [(NY, "NA"), (LA, "NA"), (LONDON, "UK"), (BERLIN, "DE"), (SYDNEY, "APAC")])
def test_business_minutes_between_inverts_add_business_minutes(calendars, start, zone, region):
    for minutes in (0, 1, 29, 30, 240, 481, 2400, 10_000):
        due = bt.add_business_minutes(utc(start), minutes, calendars[region], zone)
        assert bt.business_minutes_between(utc(start), due, calendars[region], zone) == minutes
        if minutes:
            assert bt.is_working_time(due - dt.timedelta(seconds=1), calendars[region], zone)


def test_between_is_antisymmetric_and_zero_outside_hours(na):
    a, b = utc("2026-01-09 21:30:00"), utc("2026-01-12 17:30:00")
    assert bt.business_minutes_between(b, a, na, NY) == -240
    assert bt.business_minutes_between(utc("2026-01-10 10:00:00"), utc("2026-01-11 20:00:00"), na, NY) == 0


def test_is_working_time_boundaries(na):
    assert bt.is_working_time(utc("2026-01-12 14:00:00"), na, NY)  # Monday 09:00 EST
    assert not bt.is_working_time(utc("2026-01-12 13:59:59"), na, NY)
    assert not bt.is_working_time(utc("2026-01-12 22:00:00"), na, NY)  # 17:00 is closed
    assert not bt.is_working_time(utc("2026-01-10 15:00:00"), na, NY)  # Saturday


def test_aware_input_gives_aware_output(na):
    start = dt.datetime(2026, 1, 9, 16, 30, tzinfo=bt.ZoneInfo(NY))
    due = bt.add_business_minutes(start, 240, na, NY)
    assert due == dt.datetime(2026, 1, 12, 17, 30, tzinfo=dt.UTC)
    assert due.tzinfo is not None


def test_due_at_and_sla_status(na):
    start = utc("2026-01-09 21:30:00")
    due = bt.due_at(start, 4, "business_hours", na, NY)
    assert due == utc("2026-01-12 17:30:00")
    assert bt.due_at(start, 2, "business_days", na, NY) == utc("2026-01-13 21:30:00")
    assert bt.sla_status(due, due, utc("2026-02-01 00:00:00")) == "met"
    assert bt.sla_status(due, due + dt.timedelta(minutes=1), utc("2026-02-01 00:00:00")) == "breached"
    assert bt.sla_status(due, None, due) == "open_within_target"
    assert bt.sla_status(due, None, due + dt.timedelta(seconds=1)) == "open_breached"
    with pytest.raises(ValueError):
        bt.due_at(start, 4, "fortnights", na, NY)


def test_holiday_frame_from_seed_tables():
    calendars_df = pd.read_csv(RULES_DIR / "business_calendars.csv", dtype=str, keep_default_na=False)
    overrides_df = pd.DataFrame(
        {
            "calendar_region": ["NA", "NA"],
            "holiday_date": pd.to_datetime(["2025-12-26", "2025-12-25"]),  # as DuckDB hands dates to pandas
            "holiday_name": ["Company shutdown", None],
            "is_holiday": [True, False],
        }
    )
    frame = bt.holiday_frame(calendars_df, overrides_df, 2025, 2026)
    assert list(frame.columns) == ["calendar_region", "holiday_date", "holiday_name"]
    assert all(type(value) is dt.date for value in frame["holiday_date"])
    na_days = dict(
        zip(
            frame.loc[frame.calendar_region == "NA", "holiday_date"],
            frame.loc[frame.calendar_region == "NA", "holiday_name"],
            strict=True,
        )
    )
    assert na_days[dt.date(2025, 11, 27)] == "Thanksgiving Day"
    assert na_days[dt.date(2025, 12, 26)] == "Company shutdown"
    assert dt.date(2025, 12, 25) not in na_days
    assert dt.date(2026, 12, 25) in na_days
    assert set(frame["calendar_region"]) == {"NA", "UK", "DE", "APAC"}
    assert frame["holiday_date"].map(lambda d: d.year).between(2025, 2026).all()
    assert not frame.duplicated(["calendar_region", "holiday_date"]).any()


def test_build_holiday_rows_goes_into_duckdb(calendars):
    import duckdb

    frame = bt.build_holiday_rows(calendars, 2026, 2026)
    con = duckdb.connect()
    con.register("holidays_frame", frame)
    described = con.execute("describe select * from holidays_frame").fetchall()
    assert {row[0]: row[1] for row in described} == {
        "calendar_region": "VARCHAR",
        "holiday_date": "DATE",
        "holiday_name": "VARCHAR",
    }
    uk_rows = con.execute("select count(*) from holidays_frame where calendar_region = 'UK'").fetchall()
    assert uk_rows[0][0] >= 8
