"""Business calendars and business-time arithmetic: the independent oracle for SLA logic.

A calendar region (seed business_calendars) has working weekdays (ISO 1 = Monday .. 7 = Sunday),
a local working day from workday_start to workday_end, and holidays: the public holidays of its
holiday_country_code / holiday_subdivision from the `holidays` package, plus the rows of the seed
holiday_overrides (is_holiday true adds a holiday, false removes one).

Business time is counted in one IANA time zone (the owner's): every working day contributes one
working window [workday_start, workday_end) in local wall-clock time, converted to UTC with
zoneinfo, so DST changes are handled by the conversion and nothing else. The arithmetic walks
those windows one by one; it is deliberately simple rather than fast.

Timestamps: a naive datetime is read as UTC (the raw tables store UTC without a zone); an aware
one is converted to UTC. Results are naive UTC for naive input and aware UTC for aware input.

Semantics, chosen and documented here once:

* Windows are half-open: 17:00 on a 09:00-17:00 day is outside working time.
* ``add_business_minutes``: the clock runs only inside working windows. A start outside working
  time starts counting at the next opening; a due time that lands exactly on a window's end stays
  there (Friday 16:30 + 30 business minutes = Friday 17:00, not Monday 09:00).
* ``business_minutes_between``: whole business minutes (floor) in [start, end); negative when
  end < start. For whole-minute starts it is the exact inverse of ``add_business_minutes``.
* ``add_business_days``: a start inside working time keeps its local clock time; a start outside
  working time first moves to the next working-window opening. The due time is that local clock
  time on the N-th following working day (N = 0 returns the moved start). Across a DST change
  the local clock time is kept, so the elapsed UTC time differs by the DST shift.
* ``sla_status``: met when the end event is at or before the due time, breached after it;
  without an end event open_within_target while as_of <= due, else open_breached.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_package
import pandas as pd

from revops_warehouse.settings import RULES_DIR

UTC = dt.UTC
# A calendar with no working day within this many days is an error, not an endless loop.
MAX_SEARCH_DAYS = 3660
HOLIDAY_COLUMNS = ["calendar_region", "holiday_date", "holiday_name"]
SLA_STATUSES = ("met", "breached", "open_within_target", "open_breached")


@dataclass(frozen=True)
class Calendar:
    """One business calendar region: working weekdays, working hours and holidays."""

    region: str
    holiday_country_code: str | None
    holiday_subdivision: str | None
    workday_start: dt.time
    workday_end: dt.time
    working_weekdays: frozenset[int]
    added_holidays: tuple[tuple[dt.date, str], ...] = ()
    removed_holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if self.workday_start >= self.workday_end:
            raise ValueError(
                f"calendar {self.region}: workday_start {self.workday_start} must be before "
                f"workday_end {self.workday_end}"
            )
        if not self.working_weekdays or not self.working_weekdays <= set(range(1, 8)):
            raise ValueError(f"calendar {self.region}: working_weekdays must be ISO weekdays 1-7")

    def holidays_in_year(self, year: int) -> dict[dt.date, str]:
        """{date: name} of the year: package holidays minus removed plus added overrides."""
        return dict(_calendar_year_holidays(self, year))

    def holiday_name(self, day: dt.date) -> str | None:
        return self.holidays_in_year(day.year).get(day)

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays_in_year(day.year)

    def is_working_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.working_weekdays and not self.is_holiday(day)


@lru_cache(maxsize=512)
def _package_holidays(country: str | None, subdivision: str | None, year: int) -> tuple[tuple[dt.date, str], ...]:
    if not country:
        return ()
    found = holidays_package.country_holidays(country, subdiv=subdivision or None, years=year)
    return tuple(sorted(found.items()))


@lru_cache(maxsize=4096)
def _calendar_year_holidays(calendar: Calendar, year: int) -> tuple[tuple[dt.date, str], ...]:
    result = dict(_package_holidays(calendar.holiday_country_code, calendar.holiday_subdivision, year))
    for day in calendar.removed_holidays:
        result.pop(day, None)
    for day, name in calendar.added_holidays:
        if day.year == year:
            result[day] = name
    return tuple(sorted(result.items()))


# ---------------------------------------------------------------------------------------------
# Reading the seeds (CSV files or the seed tables as DataFrames)
# ---------------------------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _text(value: Any) -> str | None:
    return None if _is_blank(value) else str(value).strip()


def _parse_time(value: Any, what: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    text = _text(value)
    if text is None:
        raise ValueError(f"{what} is blank")
    return dt.time.fromisoformat(text)


def _parse_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):  # pandas Timestamp is a datetime
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if text is None:
        raise ValueError(f"{what} is blank")
    return dt.date.fromisoformat(text[:10])


def _parse_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is not None and text.lower() in {"true", "t", "1", "yes", "y"}:
        return True
    if text is not None and text.lower() in {"false", "f", "0", "no", "n"}:
        return False
    if not isinstance(value, str) and not _is_blank(value):
        return bool(value)  # numpy bool and friends
    raise ValueError(f"{what}: {value!r} is not a boolean")


def _parse_weekdays(value: Any, what: str) -> frozenset[int]:
    text = _text(value)
    if text is None:
        raise ValueError(f"{what} is blank")
    return frozenset(int(part) for part in text.split("|") if part.strip())


def calendars_from_rows(
    calendar_rows: Iterable[Mapping[str, Any]], override_rows: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Calendar]:
    """Calendars from seed rows (dicts with the business_calendars / holiday_overrides columns)."""
    base: dict[str, dict[str, Any]] = {}
    for row in calendar_rows:
        region = _text(row.get("calendar_region"))
        if region is None:
            raise ValueError("business_calendars: a row has no calendar_region")
        if region in base:
            raise ValueError(f"business_calendars: calendar_region {region} appears twice")
        base[region] = {
            "region": region,
            "holiday_country_code": _text(row.get("holiday_country_code")),
            "holiday_subdivision": _text(row.get("holiday_subdivision")),
            "workday_start": _parse_time(row.get("workday_start"), f"{region}.workday_start"),
            "workday_end": _parse_time(row.get("workday_end"), f"{region}.workday_end"),
            "working_weekdays": _parse_weekdays(row.get("working_weekdays"), f"{region}.working_weekdays"),
        }
    added: dict[str, dict[dt.date, str]] = {region: {} for region in base}
    removed: dict[str, set[dt.date]] = {region: set() for region in base}
    for row in override_rows:
        region = _text(row.get("calendar_region"))
        if region not in base:
            raise ValueError(f"holiday_overrides: calendar_region {region!r} is not in business_calendars")
        day = _parse_date(row.get("holiday_date"), f"holiday_overrides {region}.holiday_date")
        if _parse_bool(row.get("is_holiday"), f"holiday_overrides {region} {day}.is_holiday"):
            if day in removed[region]:
                raise ValueError(f"holiday_overrides: {region} {day} is both added and removed")
            added[region][day] = _text(row.get("holiday_name")) or "Company holiday"
        else:
            if day in added[region]:
                raise ValueError(f"holiday_overrides: {region} {day} is both added and removed")
            removed[region].add(day)
    return {
        region: Calendar(
            **fields,
            added_holidays=tuple(sorted(added[region].items())),
            removed_holidays=frozenset(removed[region]),
        )
        for region, fields in base.items()
    }


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_calendars(rules_dir: str | Path = RULES_DIR) -> dict[str, Calendar]:
    """{calendar_region: Calendar} from business_calendars.csv and holiday_overrides.csv."""
    rules = Path(rules_dir)
    overrides_path = rules / "holiday_overrides.csv"
    overrides = _read_csv(overrides_path) if overrides_path.exists() else []
    return calendars_from_rows(_read_csv(rules / "business_calendars.csv"), overrides)


def load_time_zone_regions(rules_dir: str | Path = RULES_DIR) -> dict[str, str]:
    """{IANA time zone: calendar_region} from time_zone_regions.csv."""
    return {
        row["time_zone"].strip(): row["calendar_region"].strip()
        for row in _read_csv(Path(rules_dir) / "time_zone_regions.csv")
    }


def calendar_for_time_zone(time_zone: str, calendars: Mapping[str, Calendar], regions: Mapping[str, str]) -> Calendar:
    """The calendar of a time zone through time_zone_regions; KeyError naming what is missing."""
    if time_zone not in regions:
        raise KeyError(f"time zone {time_zone!r} is not in time_zone_regions")
    region = regions[time_zone]
    if region not in calendars:
        raise KeyError(f"calendar_region {region!r} (of {time_zone}) is not in business_calendars")
    return calendars[region]


# ---------------------------------------------------------------------------------------------
# Holiday rows (what the dbt Python model int_holidays_combined returns)
# ---------------------------------------------------------------------------------------------


def build_holiday_rows(calendars: Mapping[str, Calendar], first_year: int, last_year: int) -> pd.DataFrame:
    """One row per calendar_region and holiday date in [first_year, last_year], sorted."""
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    rows = [
        (region, day, name)
        for region in sorted(calendars)
        for year in range(first_year, last_year + 1)
        for day, name in sorted(calendars[region].holidays_in_year(year).items())
    ]
    frame = pd.DataFrame(rows, columns=HOLIDAY_COLUMNS)
    frame["calendar_region"] = frame["calendar_region"].astype(object)
    frame["holiday_date"] = frame["holiday_date"].astype(object)
    frame["holiday_name"] = frame["holiday_name"].astype(object)
    return frame


def holiday_frame(
    calendars_df: pd.DataFrame, overrides_df: pd.DataFrame | None, first_year: int, last_year: int
) -> pd.DataFrame:
    """build_holiday_rows from the seed tables business_calendars and holiday_overrides."""
    override_rows = [] if overrides_df is None else overrides_df.to_dict("records")
    calendars = calendars_from_rows(calendars_df.to_dict("records"), override_rows)
    return build_holiday_rows(calendars, int(first_year), int(last_year))


# ---------------------------------------------------------------------------------------------
# Business-time arithmetic
# ---------------------------------------------------------------------------------------------


def _to_utc(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _like(template: dt.datetime, moment_utc: dt.datetime) -> dt.datetime:
    """moment_utc in the style of template: naive UTC for naive input, aware UTC otherwise."""
    result = moment_utc.astimezone(UTC)
    return result.replace(tzinfo=None) if template.tzinfo is None else result


def working_window(day: dt.date, calendar: Calendar, tz: str) -> tuple[dt.datetime, dt.datetime] | None:
    """The working window of a local date as aware UTC datetimes; None on a non-working day."""
    if not calendar.is_working_day(day):
        return None
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(day, calendar.workday_start, tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(day, calendar.workday_end, tzinfo=zone).astimezone(UTC)
    return start, end


def working_windows(after: dt.datetime, calendar: Calendar, tz: str) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working windows (aware UTC) that end after `after`, in order."""
    after_utc = _to_utc(after)
    day = after_utc.astimezone(ZoneInfo(tz)).date()
    last_found = day
    while (day - last_found).days <= MAX_SEARCH_DAYS:
        window = working_window(day, calendar, tz)
        if window is not None:
            last_found = day
            if window[1] > after_utc:
                yield window
        day += dt.timedelta(days=1)
    raise ValueError(f"calendar {calendar.region} has no working day within {MAX_SEARCH_DAYS} days of {day}")


def is_working_time(moment: dt.datetime, calendar: Calendar, tz: str) -> bool:
    """True inside a working window (start inclusive, end exclusive)."""
    moment_utc = _to_utc(moment)
    window = working_window(moment_utc.astimezone(ZoneInfo(tz)).date(), calendar, tz)
    return window is not None and window[0] <= moment_utc < window[1]


def next_working_time(moment: dt.datetime, calendar: Calendar, tz: str) -> dt.datetime:
    """The moment itself when it is working time, else the next window's opening."""
    moment_utc = _to_utc(moment)
    window = next(working_windows(moment_utc, calendar, tz))
    return _like(moment, max(moment_utc, window[0]))


def add_business_minutes(start: dt.datetime, minutes: float, calendar: Calendar, tz: str) -> dt.datetime:
    """Due time: `minutes` of working time after start (see the module docstring)."""
    if minutes < 0:
        raise ValueError("minutes must be >= 0")
    remaining = dt.timedelta(minutes=minutes)
    start_utc = _to_utc(start)
    for window_start, window_end in working_windows(start_utc, calendar, tz):
        current = max(start_utc, window_start)
        available = window_end - current
        if remaining <= available:
            return _like(start, current + remaining)
        remaining -= available
    raise AssertionError("unreachable: working_windows is endless or raises")


def business_minutes_between(start: dt.datetime, end: dt.datetime, calendar: Calendar, tz: str) -> int:
    """Whole business minutes in [start, end); negative when end is before start."""
    start_utc, end_utc = _to_utc(start), _to_utc(end)
    if end_utc < start_utc:
        return -business_minutes_between(end, start, calendar, tz)
    total = dt.timedelta(0)
    for window_start, window_end in working_windows(start_utc, calendar, tz):
        if window_start >= end_utc:
            break
        overlap = min(window_end, end_utc) - max(window_start, start_utc)
        if overlap > dt.timedelta(0):
            total += overlap
    return int(total.total_seconds() // 60)


def add_business_days(start: dt.datetime, days: int, calendar: Calendar, tz: str) -> dt.datetime:
    """Due time: the same local clock time `days` working days later (see the module docstring)."""
    if days < 0 or int(days) != days:
        raise ValueError("days must be a whole number >= 0")
    zone = ZoneInfo(tz)
    moved = _to_utc(next_working_time(_to_utc(start), calendar, tz))
    local = moved.astimezone(zone)
    day = local.date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    due = dt.datetime.combine(day, local.time(), tzinfo=zone)
    return _like(start, due.astimezone(UTC))


def due_at(start: dt.datetime, target_value: float, target_unit: str, calendar: Calendar, tz: str) -> dt.datetime:
    """Due time of an SLA target (units of the sla_policies seed)."""
    unit = target_unit.strip().lower()
    if unit == "business_minutes":
        return add_business_minutes(start, target_value, calendar, tz)
    if unit == "business_hours":
        return add_business_minutes(start, target_value * 60, calendar, tz)
    if unit == "business_days":
        return add_business_days(start, int(target_value), calendar, tz)
    raise ValueError(f"unknown target_unit {target_unit!r}: use business_minutes, business_hours or business_days")


def sla_status(due: dt.datetime, end: dt.datetime | None, as_of: dt.datetime) -> str:
    """met / breached (end event present) or open_within_target / open_breached (none yet)."""
    if end is not None:
        return "met" if _to_utc(end) <= _to_utc(due) else "breached"
    return "open_within_target" if _to_utc(as_of) <= _to_utc(due) else "open_breached"
