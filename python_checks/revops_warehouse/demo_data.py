"""Deterministic demo data with known answers: raw Salesforce and Stripe tables as Fivetran lands them.

``generate(database, scale=1.0, seed=42, anchor="2026-11-02 12:00:00")`` writes every table of the raw
contract (models/staging/*/_*__sources.yml; columns and types from config.meta) into DuckDB, plus a
few extra columns the models must ignore, and schema ``demo_meta`` with what was planted:

* ``demo_meta.planted``: one row per planted fact (category, object, rule_id, expected_count,
  record_ids, note). The counts are exact; record_ids are sorted and capped (record_id_cap).
* ``demo_meta.run_info``: seed, scale, anchor, options and the row count of every table written.
* ``demo_meta.sla_cases``: every SLA case on a planted record, with owner, calendar, due time and
  the expected status (computed with revops_warehouse.business_time).
* ``demo_meta.merge_resolution``: (record, column) pairs that point at a merged-away record, with the
  surviving record they must resolve to (and the merged records themselves, column master_record_id).
* ``demo_meta.customer_match``: the expected CRM account and match method of every Stripe customer.

The rules are data: stage names and orders, required fields, SLA policies, calendars, country
aliases, personal mail domains and subscription statuses are read from the rules seeds
(``rules_dir``). Nothing below names a stage, a required field or an SLA target.

How the data is kept honest: bulk records are clean by construction (unique emails and website
domains among surviving records, every required field present at or past its stage, strictly
forward stage paths, SLA end events 20-60 minutes after their start, foreign keys that resolve),
and every defect is planted on records reserved for it (one role per record), so the planted
facts are exactly what the data holds. Generation is column-wise with numpy and pyarrow; Python
loops run only over the small planted sets (SLA cases, stage-path defects, duplicate groups).

Conventions: timestamps are UTC without a zone, all before the anchor (the demo's "now"), except
the two scheduled Stripe columns subscription.current_period_end and trial_end (a period or trial
that ends later) and, in history mode, _fivetran_end = 9999-12-31 on current versions (Fivetran's
convention); probability is 0-100; Stripe amounts are in cents; Salesforce ids are 18-character ids
with the object's key prefix and a valid case-checksum suffix; Stripe ids use
cus_/sub_/si_/price_/plan_/prod_. Each table is written as soon as it is complete (memory stays
flat), with CREATE OR REPLACE; tables of other names in the schemas are left alone.

Choices where the contract leaves room:

* "Surviving" = not deleted and not merged away; facts count surviving records only, at their
  current stage. A stage-gated requirement (required_from_stage) applies to records whose current
  stage_order is >= that stage's order (closed stages share the last order, so they count).
  Such fields are also left empty on some records before the stage (fact ``not_yet_required``).
* Stage transitions follow the transition_type macro: a move into a closed-lost stage is "lost"
  (never a skip), a move from a closed to an open stage is "reopened", a move to a lower order is
  a regression, past the next order (into an open or the won stage) a skip.
* SLA cases: one per start event on a surviving record (lead: a Status history row to the
  start value; opportunity: a history row whose stage differs from the previous row's). The end
  is the first task strictly after the start (who_id = the lead / what_id = the opportunity, of
  type end_event_value when set) or the converted opportunity's created_date. The owner is the
  record's current owner_id (a fifth of the bulk leads have an 'Owner' history row, queue -> user,
  minutes after creation, before any SLA start; planted SLA records never change owner); the calendar is the
  owner's time zone -> time_zone_regions -> business_calendars (+ holidays and overrides).
* mrr_total sums, over current subscriptions whose status counts_toward_mrr, the items with a
  known price or plan (an item without one contributes nothing), exactly, rounded to cents. All
  prices are in USD so one total is meaningful.
* Rules not planted: sub_currency (the subscription contract has no currency column; it comes
  from the prices), and any rule whose field maps to no raw column (listed in run_info).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from revops_warehouse import business_time as bt
from revops_warehouse.contract import load_contract
from revops_warehouse.settings import DEMO_ANCHOR, PROJECT_DIR, RULES_DIR

MINUTE = 60
HOUR = 3600
DAY = 86_400
MIN_SCALE = 0.1
DEFAULT_RECORD_ID_CAP = 1000
META_SCHEMA = "demo_meta"
CRM_KEY_DEFAULT = "salesforce_account_id"

# Rows per object at scale 1. Contacts: these plus one per converted lead (~600).
BASE_COUNTS = {"account": 1500, "contact": 2400, "lead": 5000, "opportunity": 2500, "customer": 600}

# Rates of planted defects (share of the object's records; at least one record each).
RATE = {
    "deleted": 0.02,
    "merged": 0.012,
    "chain2": 0.004,
    "chain3": 0.0015,
    "duplicate_groups": 0.008,
    "missing": 0.02,
    "not_yet_required": 0.06,
    "invalid": 0.006,
    "orphan": 0.005,
    "merge_reference": 0.01,
    "stage_skip": 0.02,
    "stage_regression": 0.02,
    "reopened": 0.015,
    "stale_open": 0.02,
    "no_history": 0.01,
    "inactive_owner": 0.005,
    "queue_owner": 0.01,
    "converted": 0.12,
    # Shares of a policy's bulk SLA instances (per policy; per policy and field).
    "routing_reassigned": 0.02,
    "handoff_incomplete": 0.02,
}

# Columns whose loss would change facts other than the data dictionary's: not droppable.
FACT_COLUMNS = {
    "account": {"is_deleted", "master_record_id"},
    "contact": {"account_id", "is_deleted", "master_record_id"},
    "lead": {
        "is_converted",
        "converted_date",
        "converted_account_id",
        "converted_contact_id",
        "converted_opportunity_id",
        "master_record_id",
        "is_deleted",
    },
    "lead_history": {"old_value", "new_value", "is_deleted"},
    "opportunity": {"account_id", "is_deleted"},
    "opportunity_history": {"is_deleted"},
    "task": {"who_id", "what_id", "account_id", "type", "is_deleted"},
    "customer": {"metadata", "email", "is_deleted"},
    "subscription": {"_fivetran_active", "_fivetran_deleted"},
    "subscription_item": {"price_id", "plan_id", "quantity", "_fivetran_deleted"},
    "price": {"recurring_interval", "recurring_interval_count", "is_deleted"},
    "plan": {"interval_count", "is_deleted"},
}
SALESFORCE_TABLES = (
    "account",
    "contact",
    "lead",
    "lead_history",
    "opportunity",
    "opportunity_history",
    "task",
    "user",
    "user_role",
)
STRIPE_TABLES = ("customer", "subscription", "subscription_item", "price", "plan", "product")

# ---- demo content (names and picklists that are not rules) -------------------------------------
FIRST_NAMES = (
    "Anna Ben Carla David Emma Felix Grace Hugo Iris Jonas Kate Liam Mia Noah Olivia Paul Quinn Rosa "
    "Sam Tara Uma Victor Wendy Xavier Yara Zoe Adam Bella Chris Diana Eric Fiona George Hannah Ivan "
    "Julia Kevin Laura Marco Nina Oscar Petra Rafael Sofia Tom Ursula Vera William Alice Bruno Clara "
    "Daniel Elena Frank Greta Henry Isabel Jack Lena Max"
).split()
LAST_NAMES = (
    "Smith Muller Garcia Brown Schmidt Jones Miller Davis Wilson Taylor Anderson Thomas Moore Martin "
    "Jackson White Harris Clark Lewis Walker Young King Wright Scott Green Baker Adams Nelson Hill "
    "Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart "
    "Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly Howard Ward Cox Richardson "
    "Wood Watson Brooks Bennett"
).split()
SYLLABLES = [consonant + vowel for consonant in "bcdfghjklmnprstvz" for vowel in "aeiou"]
NOUNS = [
    "Systems",
    "Labs",
    "Analytics",
    "Logistics",
    "Health",
    "Energy",
    "Foods",
    "Robotics",
    "Software",
    "Partners",
    "Dynamics",
    "Networks",
]
LEGAL_SUFFIXES = ["Inc", "LLC", "Ltd", "GmbH", "Corp", "Group", "Co"]
INDUSTRIES = [
    "Software",
    "Manufacturing",
    "Healthcare",
    "Financial Services",
    "Retail",
    "Logistics",
    "Education",
    "Energy",
    "Media",
    "Telecommunications",
]
TITLES = [
    "VP Sales",
    "Head of Operations",
    "CTO",
    "Director of IT",
    "Procurement Manager",
    "CFO",
    "Operations Manager",
    "Data Engineer",
    "Head of Marketing",
    "COO",
]
NEXT_STEPS = ["Schedule demo", "Send proposal", "Security review", "Pricing call", "Legal review", "Follow-up call"]
RATINGS = ["Hot", "Warm", "Cold"]
ORDINARY_TASK_TYPES = ["Call", "Email", "Meeting"]
TASK_SUBTYPE = {"Call": "Call", "Email": "Email"}
WEBSITE_FORMATS = [
    ("https://www.", ""),
    ("http://", ""),
    ("www.", ""),
    ("", ""),
    ("https://", "/"),
    ("https://www.", "/about"),
    ("http://www.", "/contact?ref=crm"),
]
COUNTRY_WEIGHTS = {"US": 45, "GB": 14, "DE": 12, "FR": 5, "CA": 6, "AU": 6, "NL": 4, "IE": 3, "ES": 3}
COUNTRY_TLDS = {
    "US": ".com",
    "GB": ".co.uk",
    "DE": ".de",
    "FR": ".fr",
    "AU": ".com.au",
    "NL": ".nl",
    "IE": ".ie",
    "ES": ".es",
    "CA": ".ca",
}
INVALID_COUNTRIES = ["Atlantis", "Narnia", "Wakanda", "Middle Earth", "EMEA", "Europe", "Mars", "Gondor"]
FORECAST = {"won": "Closed", "lost": "Omitted", "late": "Commit", "mid": "Best Case", "early": "Pipeline"}
# Org chart of the demo company: (role, parent role, users). Roles named in the seeds are added.
ORG_CHART = [
    ("CEO", None, 1),
    ("VP Sales", "CEO", 1),
    ("Sales Manager", "VP Sales", 4),
    ("Account Executive", "Sales Manager", 21),
    ("Sales Development Manager", "VP Sales", 2),
    ("Sales Development", "Sales Development Manager", 14),
    ("VP Marketing", "CEO", 1),
    ("Marketing Operations", "VP Marketing", 3),
    ("VP Customer Success", "CEO", 1),
    ("Customer Success Manager", "VP Customer Success", 6),
    ("Revenue Operations", "CEO", 1),
    ("Sales Operations", "Revenue Operations", 2),
    ("Finance Operations", "Revenue Operations", 2),
]
LEAD_OWNER_ROLE = "Sales Development"
OPPORTUNITY_OWNER_ROLE = "Account Executive"
KICKOFF_OWNER_ROLE = "Customer Success Manager"
SPARE_USER_ROLES = ("Marketing Operations", "Finance Operations", "Sales Operations")
INTEGRATION_ROLE = "Sales Operations"
# LeadHistory.Field holds the Salesforce API name of the tracked field, while Fivetran lands the
# lead's columns in snake_case: source column (data_dictionary.source_field) -> API name. Columns
# not listed map to their CamelCase spelling (number_of_employees -> NumberOfEmployees).
LEAD_FIELD_API_NAMES = {
    "email": "Email",
    "company": "Company",
    "phone": "Phone",
    "lead_source": "LeadSource",
    "title": "Title",
    "country": "Country",
    "owner_id": "Owner",
}
SLA_ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Sydney"]
# Stripe catalogue: product name -> [(interval, interval_count, unit amount in cents)]
PRODUCTS = {
    "Platform Starter": [("month", 1, 4900), ("year", 1, 49000)],
    "Platform Growth": [("month", 1, 19900), ("year", 1, 199000), ("month", 3, 57000)],
    "Platform Enterprise": [("month", 1, 99900), ("year", 1, 999000)],
    "Analytics Add-on": [("month", 1, 2900), ("week", 1, 900)],
    "Extra Seats": [("month", 1, 1500), ("day", 1, 60)],
    "Premium Support": [("year", 1, 240000), ("month", 3, 65000)],
}
LEGACY_PLANS = [
    ("Platform Growth", "month", 1, 14900),
    ("Platform Starter", "year", 1, 39000),
    ("Platform Enterprise", "month", 3, 270000),
]


# =================================================================================================
# Small helpers
# =================================================================================================


def _count(rate: float, n: int, minimum: int = 1) -> int:
    return max(minimum, int(round(rate * n)))


def url_domain(value: str | None) -> str | None:
    """Python twin of the url_domain macro (scheme, www., path, query, port, trailing dot removed)."""
    if value is None:
        return None
    text = value.strip(" ").lower().replace("https://", "").replace("http://", "")
    host = text.split("/")[0].split("?")[0].split(":")[0].split("#")[0]
    if host.startswith("www."):
        host = host[4:]
    host = host.rstrip(".")
    return host or None


def normalize_email(value: str | None) -> str | None:
    """Python twin of the normalize_email macro: trimmed, lowercased, blank -> null."""
    if value is None:
        return None
    text = value.strip(" ").lower()
    return text or None


def _epoch(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def _from_epoch(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC).replace(tzinfo=None)


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[us]")
    return pa.array(values, type=pa.timestamp("us"), mask=mask)


def _dates(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    days = (np.asarray(seconds, dtype=np.int64) // DAY).astype("datetime64[D]")
    return pa.array(days, type=pa.date32(), mask=mask)


def _strings(values: Sequence[str | None] | np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _pick(choices: Sequence[str], index: np.ndarray) -> pa.Array:
    """choices[index] as a string array (index -1 = null)."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    return pa.array(list(choices), type=pa.string()).take(pa.array(np.where(mask, 0, index), mask=mask))


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation (null if any part is null)."""
    length = next(len(p) for p in parts if not isinstance(p, str))
    arrays = [pa.array([p] * length, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*arrays, "")


def _weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _uniform_seconds(rng: np.random.Generator, low: np.ndarray | float, high: np.ndarray | float, n: int) -> np.ndarray:
    return np.round(rng.uniform(low, high, n)).astype(np.int64)


def _group_starts(lengths: np.ndarray) -> np.ndarray:
    return np.cumsum(lengths) - lengths


def _positions(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 within each group of a repeat(…, lengths) layout."""
    return np.arange(int(lengths.sum())) - np.repeat(_group_starts(lengths), lengths)


# ---- ids -----------------------------------------------------------------------------------------
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_CHECKSUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)
ORPHAN_COUNTER = 900_000_000


def _strings_from_matrix(matrix: np.ndarray) -> pa.Array:
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int64)
    data = np.ascontiguousarray(matrix).tobytes()
    return pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data)).cast(pa.string())


def salesforce_ids(prefix: str, counters: np.ndarray) -> pa.Array:
    """18-char Salesforce ids: key prefix + '8d00000' + 5 base-62 digits + case-checksum suffix."""
    counters = np.asarray(counters, dtype=np.int64)
    matrix = np.empty((len(counters), 18), np.uint8)
    matrix[:, :3] = np.frombuffer(prefix.encode(), np.uint8)
    matrix[:, 3:10] = np.frombuffer(b"8d00000", np.uint8)
    value = counters.copy()
    for position in range(14, 9, -1):
        matrix[:, position] = _B62[value % 62]
        value //= 62
    if (value > 0).any():
        raise ValueError("Salesforce id counter overflow")
    for chunk in range(3):
        bits = np.zeros(len(counters), dtype=np.uint8)
        for offset in range(5):
            char = matrix[:, chunk * 5 + offset]
            bits |= ((char >= ord("A")) & (char <= ord("Z"))).astype(np.uint8) << offset
        matrix[:, 15 + chunk] = _CHECKSUM[bits]
    return _strings_from_matrix(matrix)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stripe_ids(prefix: str, counters: np.ndarray, length: int) -> pa.Array:
    """Stripe-like ids: prefix + `length` base-62 chars; the first 11 encode a bijection of the counter."""
    counters = np.asarray(counters, dtype=np.uint64)
    head = len(prefix)
    matrix = np.empty((len(counters), head + length), np.uint8)
    matrix[:, :head] = np.frombuffer(prefix.encode(), np.uint8)
    mixed = counters * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x632BE59BD9B4E019)  # odd factor: bijective
    for position in range(length):
        if position >= 11 and (position - 11) % 10 == 0:
            mixed = _splitmix64(counters + np.uint64(position))
        matrix[:, head + position] = _B62[(mixed % np.uint64(62)).astype(np.int64)]
        mixed //= np.uint64(62)
    return _strings_from_matrix(matrix)


def _pseudo_words(codes: np.ndarray, syllables: int, salt: int) -> pa.Array:
    """Pronounceable lowercase words, distinct for distinct codes below 85**syllables."""
    base = len(SYLLABLES)
    space = base**syllables
    codes = np.asarray(codes, dtype=np.int64)
    if codes.max(initial=0) >= space:
        raise ValueError("too many pseudo words for the syllable count")
    mixed = (codes * 7919 + salt) % space  # 7919 is prime and coprime with 85: a bijection
    table = pa.array(SYLLABLES, pa.string())
    parts = []
    for _ in range(syllables):
        parts.append(table.take(pa.array(mixed % base)))
        mixed //= base
    return _join(*parts)


# =================================================================================================
# Frames, pools, facts
# =================================================================================================


class Frame:
    """The columns of one raw table as Arrow arrays."""

    def __init__(self, name: str, n: int) -> None:
        self.name = name
        self.n = n
        self.columns: dict[str, pa.Array] = {}

    def __setitem__(self, column: str, values: Any) -> None:
        array = values if isinstance(values, pa.Array) else pa.array(values)
        if len(array) != self.n:
            raise ValueError(f"{self.name}.{column}: {len(array)} values for {self.n} rows")
        self.columns[column] = array

    def __getitem__(self, column: str) -> pa.Array:
        return self.columns[column]

    def nulls(self, column: str, type_: pa.DataType) -> None:
        self.columns[column] = pa.nulls(self.n, type_)

    def put(self, column: str, index: np.ndarray, values: Any) -> None:
        """Replace the values at `index` (a scalar, or one value per index)."""
        index = np.asarray(index, dtype=np.int64)
        if len(index) == 0:
            return
        array = self.columns[column]
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        order = np.argsort(index, kind="stable")
        if len(np.unique(index)) != len(index):
            raise ValueError(f"{self.name}.{column}: repeated index in put")
        if isinstance(values, pa.Array):
            replacement = values.take(pa.array(order)).cast(array.type)
        elif np.isscalar(values) or values is None:
            replacement = pa.array([values] * len(index), type=array.type)
        else:
            listed = list(values)
            replacement = pa.array([listed[i] for i in order], type=array.type)
        mask = np.zeros(self.n, dtype=bool)
        mask[index] = True
        self.columns[column] = pc.replace_with_mask(array, pa.array(mask), replacement)


class Pool:
    """Records not yet given a role; every planted role takes its records from here (disjoint)."""

    def __init__(self, name: str, n: int, rng: np.random.Generator) -> None:
        self.name = name
        self.free = np.ones(n, dtype=bool)
        self.rng = rng

    def take(self, k: int, mask: np.ndarray | None = None, what: str = "") -> np.ndarray:
        candidates = np.flatnonzero(self.free if mask is None else (self.free & mask))
        if len(candidates) < k:
            raise ValueError(
                f"scale too small: {k} {self.name} records needed for {what or 'a planted role'}, "
                f"{len(candidates)} left; use a larger scale"
            )
        chosen = np.sort(self.rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]
        self.free[chosen] = False
        return chosen


@dataclass
class Fact:
    category: str
    object: str
    rule_id: str | None
    expected_count: int
    record_ids: list[str]
    note: str | None


@dataclass
class SlaCase:
    policy_id: str
    scenario: str
    variant: str
    zone: str
    owner: int
    start: int
    end: int | None
    record_object: str
    record_idx: int = -1


@dataclass
class PlantedRecord:
    """Events of one planted SLA record: status/stage rows, tasks, conversion."""

    rows: list[tuple[int, int]] = field(default_factory=list)  # (stage index, epoch seconds)
    tasks: list[tuple[int, str]] = field(default_factory=list)  # (epoch seconds, task type)
    conversion: int | None = None
    owner: int = -1
    zone: str = ""


@dataclass(frozen=True)
class Stage:
    object: str
    name: str
    order: int
    is_open: bool
    is_closed: bool
    is_won: bool
    default_probability: int | None
    target_days: int | None


@dataclass(frozen=True)
class Policy:
    policy_id: str
    start_object: str
    start_event: str
    start_value: str
    end_event: str
    end_value: str | None
    target_value: float
    target_unit: str
    calendar_region: str
    handoff_fields: tuple[str, ...] = ()


# =================================================================================================
# Rules (the seeds)
# =================================================================================================


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _bool(text: str) -> bool:
    return text.strip().lower() in {"true", "t", "1", "yes", "y"}


def _int_or_none(text: str) -> int | None:
    return int(text) if text.strip() else None


class Rules:
    """The rules seeds the generator reads."""

    def __init__(self, rules_dir: Path) -> None:
        if not (rules_dir / "stage_definitions.csv").exists():
            raise ValueError(f"rules_dir {rules_dir} has no stage_definitions.csv")
        self.dir = rules_dir
        stages = [
            Stage(
                r["object"],
                r["stage_name"],
                int(r["stage_order"]),
                _bool(r["is_open"]),
                _bool(r["is_closed"]),
                _bool(r["is_won"]),
                _int_or_none(r["default_probability"]),
                _int_or_none(r["target_days_in_stage"]),
            )
            for r in _read_csv(rules_dir / "stage_definitions.csv")
        ]
        self.stages = {obj: [s for s in stages if s.object == obj] for obj in ("lead", "opportunity")}
        for obj, rows in self.stages.items():
            if (
                not [s for s in rows if s.is_open]
                or len([s for s in rows if s.is_won]) != 1
                or not [s for s in rows if s.is_closed and not s.is_won]
            ):
                raise ValueError(f"stage_definitions: {obj} needs open stages, one won and a lost stage")
        self.dictionary = _read_csv(rules_dir / "data_dictionary.csv")
        self.policies = [
            Policy(
                r["policy_id"],
                r["start_object"],
                r["start_event"],
                r["start_event_value"],
                r["end_event"],
                r["end_event_value"] or None,
                float(r["target_value"]),
                r["target_unit"],
                r["calendar_region"] or "owner",
                tuple(f.strip() for f in (r.get("handoff_required_fields") or "").split("|") if f.strip()),
            )
            for r in _read_csv(rules_dir / "sla_policies.csv")
        ]
        self.policy_roles = sorted(
            {r["escalation_role"] for r in _read_csv(rules_dir / "sla_policies.csv")}
            | {r["owner_role"] for r in self.dictionary}
            | {r["owner_role"] for r in _read_csv(rules_dir / "duplicate_rules.csv")} - {""}
        )
        self.duplicate_rules = _read_csv(rules_dir / "duplicate_rules.csv")
        self.duplicate_keys = _read_csv(rules_dir / "duplicate_rule_keys.csv")
        self.calendars = bt.load_calendars(rules_dir)
        self.time_zones = bt.load_time_zone_regions(rules_dir)
        self.personal_domains = [r["email_domain"].lower() for r in _read_csv(rules_dir / "personal_email_domains.csv")]
        self.country_aliases = {
            r["country_alias"].lower(): r["country_code"].upper() for r in _read_csv(rules_dir / "country_codes.csv")
        }
        self.subscription_statuses = [
            (r["status"], _bool(r["counts_toward_mrr"]))
            for r in _read_csv(rules_dir / "stripe_subscription_statuses.csv")
        ]
        user_types = _read_csv(rules_dir / "user_types.csv")
        people = [r["user_type"] for r in user_types if _bool(r["is_person"])]
        machines = [r["user_type"] for r in user_types if not _bool(r["is_person"])]
        self.person_user_type = people[0] if people else "Standard"
        self.integration_user_type = (
            "AutomatedProcess" if "AutomatedProcess" in machines else (machines[0] if machines else "AutomatedProcess")
        )
        for policy in self.policies:
            self._check_policy(policy)

    def _check_policy(self, policy: Policy) -> None:
        supported_start = {"lead": "status_entered", "opportunity": "stage_entered"}
        names = [s.name for s in self.stages.get(policy.start_object, [])]
        problem = None
        if supported_start.get(policy.start_object) != policy.start_event:
            problem = f"start {policy.start_object}/{policy.start_event}"
        elif policy.start_value not in names:
            problem = f"start_event_value {policy.start_value!r} is not a {policy.start_object} stage"
        elif policy.end_event not in ("activity_logged", "opportunity_created") or (
            policy.end_event == "opportunity_created" and policy.start_object != "lead"
        ):
            problem = f"end_event {policy.end_event} on {policy.start_object}"
        elif (
            policy.end_event == "opportunity_created"
            and not self.stage(policy.start_object, policy.start_value).is_open
        ):
            problem = "opportunity_created after a closed lead status"
        if problem:
            raise ValueError(f"sla_policies {policy.policy_id}: {problem} is not supported by the demo generator")

    def stage(self, obj: str, name: str) -> Stage:
        return next(s for s in self.stages[obj] if s.name == name)

    def open_stages(self, obj: str) -> list[Stage]:
        return sorted((s for s in self.stages[obj] if s.is_open), key=lambda s: s.order)

    def won_stage(self, obj: str) -> Stage:
        return next(s for s in self.stages[obj] if s.is_won)

    def lost_stage(self, obj: str) -> Stage:
        return next(s for s in self.stages[obj] if s.is_closed and not s.is_won)

    def allowed_values(self, obj: str, field_name: str, default: Sequence[str]) -> list[str]:
        for row in self.dictionary:
            if row["object"] == obj and row["field"] == field_name and row["allowed_values"]:
                return row["allowed_values"].split("|")
        return list(default)

    def country_variants(self) -> dict[str, list[str]]:
        """How people type each country of country_codes.csv (all resolve through the aliases)."""
        variants: dict[str, list[str]] = {}
        for alias, code in self.country_aliases.items():
            written = alias.upper() if len(alias) <= 3 or "." in alias else alias.title()
            variants.setdefault(code, []).append(written)
        return variants

    def invalid_countries(self) -> list[str]:
        return [c for c in INVALID_COUNTRIES if c.lower() not in self.country_aliases]


def _crm_key_default() -> str:
    try:
        project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
        return str(project.get("vars", {}).get("stripe_customer_crm_account_key") or CRM_KEY_DEFAULT)
    except (OSError, yaml.YAMLError):
        return CRM_KEY_DEFAULT


# =================================================================================================
# The generator
# =================================================================================================


def _clock(base: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date(2000, 1, 3), base) + dt.timedelta(minutes=minutes)).time()


def _local_to_utc(day: dt.date, clock: dt.time, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC).replace(tzinfo=None)


class Generator:
    """Builds every raw table column-wise and records the planted facts."""

    STREAMS = ("users", "sla", "account", "opportunity", "lead", "contact", "task", "stripe", "routing", "handoff")

    def __init__(
        self,
        *,
        scale: float,
        seed: int,
        anchor: dt.datetime,
        rules: Rules,
        crm_key: str,
        record_id_cap: int,
        subscription_history_mode: bool,
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.anchor_dt = anchor
        self.anchor = _epoch(anchor)
        self.rules = rules
        self.crm_key = crm_key
        self.cap = record_id_cap
        self.history_mode = subscription_history_mode
        self.n = {name: max(1, int(round(base * scale))) for name, base in BASE_COUNTS.items()}
        self.contract = {table: columns for source in load_contract().values() for table, columns in source.items()}
        self.frames: dict[str, Frame] = {}
        self.extras: dict[str, dict[str, str]] = {}
        self.facts: list[Fact] = []
        self.merge_rows: list[dict[str, Any]] = []
        self.sla_rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.task_blocks: list[dict[str, Any]] = []
        self.customer_match: pa.Table | None = None
        self.dict_context: dict[str, tuple[pa.Array, np.ndarray, np.ndarray | None]] = {}
        self.sink: Any = None
        self.row_counts: dict[str, int] = {}
        self.drops: dict[str, list[str]] = {}
        self.bulk_sla: dict[str, pa.Array] = {}

    def build(self) -> None:
        """Every table, in dependency order."""
        self.users()
        self.plan_sla()
        self.accounts()
        self.opportunities()
        self.leads()
        self.contacts()
        self.tasks()
        self.stripe()
        self.sla_facts(self.bulk_sla)

    def emit(self, table: str, frame: Frame) -> None:
        """A finished table: written at once when a sink is attached (keeps memory flat), else kept."""
        if self.sink is None:
            self.frames[table] = frame
        else:
            self.row_counts.update(self.sink(table, frame))

    # ---- bookkeeping -------------------------------------------------------------------------
    def rng(self, stream: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.STREAMS.index(stream)])

    def fact(
        self,
        category: str,
        obj: str,
        ids: Any = None,
        *,
        count: int | None = None,
        rule_id: str | None = None,
        note: str | None = None,
    ) -> None:
        if ids is None:
            array = pa.array([], pa.string())
        elif isinstance(ids, pa.Array):
            array = ids.cast(pa.string())
        else:
            array = pa.array([str(i) for i in ids], pa.string())
        expected = len(array) if count is None else int(count)
        listed = array.take(pc.sort_indices(array)).slice(0, self.cap).to_pylist()
        self.facts.append(Fact(category, obj, rule_id, expected, listed, note))

    def add_tasks(
        self,
        kind: str,
        *,
        time: np.ndarray,
        owner: pa.Array,
        who: pa.Array | None = None,
        what: pa.Array | None = None,
        account: pa.Array | None = None,
        types: pa.Array | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        n = len(time)
        if n == 0:
            return
        if types is None:
            types = _pick(ORDINARY_TASK_TYPES, (rng or self.rng("task")).integers(0, len(ORDINARY_TASK_TYPES), n))
        self.task_blocks.append(
            {
                "kind": kind,
                "time": np.asarray(time, dtype=np.int64),
                "owner": owner,
                "who": who if who is not None else pa.nulls(n, pa.string()),
                "what": what if what is not None else pa.nulls(n, pa.string()),
                "account": account if account is not None else pa.nulls(n, pa.string()),
                "type": types,
            }
        )

    def synced(self, rng: np.random.Generator, n: int) -> pa.Array:
        return _ts(self.anchor - _uniform_seconds(rng, 5 * MINUTE, 10 * HOUR, n))

    def user_calendar(self, policy: Policy, zone: str) -> bt.Calendar:
        if policy.calendar_region.lower() == "owner":
            return bt.calendar_for_time_zone(zone, self.rules.calendars, self.rules.time_zones)
        return self.rules.calendars[policy.calendar_region]

    def merge_row(
        self, obj: str, record_id: str, column: str, ref_object: str, ref_id: str, survivor_id: str, depth: int
    ) -> None:
        self.merge_rows.append(
            {
                "object": obj,
                "record_id": record_id,
                "column_name": column,
                "referenced_object": ref_object,
                "referenced_id": ref_id,
                "expected_surviving_id": survivor_id,
                "merge_depth": depth,
            }
        )

    # ---- users and roles -----------------------------------------------------------------------
    def users(self) -> None:
        rng = self.rng("users")
        chart = list(ORG_CHART)
        known = {role for role, _, _ in chart}
        chart += [(role, chart[0][0], 0) for role in self.rules.policy_roles if role not in known]
        role_names = [role for role, _, _ in chart]
        role_ids = salesforce_ids("00E", 3000 + np.arange(len(chart)))
        role_id = dict(zip(role_names, role_ids.to_pylist(), strict=True))
        roles = Frame("user_role", len(chart))
        roles["id"] = role_ids
        roles["name"] = _strings(role_names)
        roles["developer_name"] = _strings([r.replace(" ", "_") for r in role_names])
        roles["parent_role_id"] = _strings([role_id[p] if p else None for _, p, _ in chart])
        roles["_fivetran_synced"] = self.synced(rng, len(chart))
        self.emit("user_role", roles)

        zones = list(self.rules.time_zones)
        people: list[dict[str, Any]] = []
        for r_index, (role, _, count) in enumerate(chart):
            for j in range(count):
                i = len(people)
                first, last = FIRST_NAMES[(i * 7) % len(FIRST_NAMES)], LAST_NAMES[(i * 13) % len(LAST_NAMES)]
                people.append(
                    {
                        "first": first,
                        "last": last,
                        "role": role,
                        "zone": zones[(j + r_index) % len(zones)],
                        "type": self.rules.person_user_type,
                        "active": True,
                    }
                )
        people.append(
            {
                "first": "Integration",
                "last": "User",
                "role": INTEGRATION_ROLE,
                "zone": zones[0],
                "type": self.rules.integration_user_type,
                "active": True,
            }
        )
        n = len(people)
        self.user_ids = salesforce_ids("005", 5000 + np.arange(n))
        ids = self.user_ids.to_pylist()
        self.integration_user = n - 1
        by_role = {role: [i for i, p in enumerate(people) if p["role"] == role] for role in role_names}
        # Inactive users: the last two account executives and the last sales development rep.
        self.inactive_ae = by_role[OPPORTUNITY_OWNER_ROLE][-2:]
        self.inactive_sdr = by_role[LEAD_OWNER_ROLE][-1:]
        for i in self.inactive_ae + self.inactive_sdr:
            people[i]["active"] = False
        self.ae = np.array([i for i in by_role[OPPORTUNITY_OWNER_ROLE] if people[i]["active"]])
        self.sdr = np.array([i for i in by_role[LEAD_OWNER_ROLE] if people[i]["active"]])
        self.csm = np.array([i for i in by_role[KICKOFF_OWNER_ROLE] if people[i]["active"]])
        self.user_zone = [p["zone"] for p in people]
        # Who can take over a record (routing after an SLA start): active people.
        self.takeover_users = [
            i for i, p in enumerate(people) if p["active"] and p["type"] == self.rules.person_user_type
        ]
        parent_of = {role: parent for role, parent, _ in chart}
        managers = []
        for p in people:
            bosses = by_role.get(parent_of.get(p["role"]) or "", [])
            region = self.rules.time_zones.get(p["zone"])
            same = [b for b in bosses if self.rules.time_zones.get(people[b]["zone"]) == region]
            managers.append(ids[(same or bosses)[0]] if bosses else None)
        division = {}
        for role in role_names:
            top = role
            while parent_of.get(top) and parent_of[parent_of[top]]:
                top = parent_of[top]
            division[role] = top
        frame = Frame("user", n)
        frame["id"] = self.user_ids
        frame["name"] = _strings([f"{p['first']} {p['last']}" for p in people])
        frame["first_name"] = _strings([p["first"] for p in people])
        frame["last_name"] = _strings([p["last"] for p in people])
        frame["email"] = _strings([f"{p['first']}.{p['last']}@revops-demo.example".lower() for p in people])
        frame["is_active"] = pa.array([p["active"] for p in people])
        frame["time_zone_sid_key"] = _strings([p["zone"] for p in people])
        frame["manager_id"] = _strings(managers)
        frame["user_role_id"] = _strings([role_id[p["role"]] for p in people])
        frame["user_type"] = _strings([p["type"] for p in people])
        frame["department"] = _strings([division[p["role"]].replace("VP ", "") for p in people])
        frame["title"] = _strings([p["role"] for p in people])
        frame["created_date"] = _ts(self.anchor - _uniform_seconds(rng, 400 * DAY, 1500 * DAY, n))
        frame["_fivetran_synced"] = self.synced(rng, n)
        # Dictionary rules on users go to back-office people who own no records.
        spare = np.zeros(n, dtype=bool)
        for role in SPARE_USER_ROLES:
            spare[by_role.get(role, [])] = True
        spare[self.integration_user] = False
        pool = Pool("user", n, rng)
        self.plant_dictionary("user", frame, pool, alive=spare, stage_order=None)
        self.emit("user", frame)
        self.fact("integration_user", "user", [ids[self.integration_user]], note=self.rules.integration_user_type)

    # ---- SLA cases -------------------------------------------------------------------------------
    def plan_sla(self) -> None:
        zones = [z for z in SLA_ZONES if z in self.rules.time_zones] or list(self.rules.time_zones)[:5]
        self.sla_cases: list[SlaCase] = []
        anchor_day = self.anchor_dt.date()
        for p_index, policy in enumerate(self.rules.policies):
            owners = self.sdr if policy.start_object == "lead" else self.ae
            for z_index, zone in enumerate(zones):
                candidates = [int(u) for u in owners if self.user_zone[u] == zone]
                if not candidates:
                    self.notes.append(f"sla {policy.policy_id}: no active owner in {zone}")
                    continue
                owner = candidates[0]
                calendar = self.user_calendar(policy, zone)
                latest = anchor_day - dt.timedelta(days=21 + 14 * p_index + 7 * z_index)
                for scenario, starts in self._scenario_starts(calendar, zone, latest):
                    found = self._first_closed_case(policy, calendar, zone, starts)
                    if found is None:
                        self.notes.append(f"sla {policy.policy_id} {zone} {scenario}: no start found")
                        continue
                    start, due = found
                    met_end = due - dt.timedelta(minutes=20)
                    if met_end <= start:
                        met_end = start + (due - start) / 2
                    for variant, end in (("met", met_end), ("breached", due + dt.timedelta(minutes=20))):
                        self.sla_cases.append(
                            SlaCase(
                                policy.policy_id,
                                scenario,
                                variant,
                                zone,
                                owner,
                                _epoch(start),
                                _epoch(end),
                                policy.start_object,
                            )
                        )
                for scenario, start in self._open_starts(policy, calendar, zone):
                    self.sla_cases.append(
                        SlaCase(
                            policy.policy_id, scenario, "open", zone, owner, _epoch(start), None, policy.start_object
                        )
                    )

    def _scenario_starts(
        self, calendar: bt.Calendar, zone: str, latest: dt.date
    ) -> list[tuple[str, Iterator[dt.datetime]]]:
        last_weekday = max(calendar.working_weekdays)

        def days(predicate: Any) -> Iterator[dt.date]:
            day = latest
            for _ in range(1200):
                if predicate(day):
                    yield day
                day -= dt.timedelta(days=1)

        late = _clock(calendar.workday_end, -30)
        morning = _clock(calendar.workday_start, 60)
        return [
            (
                "end_of_week",
                (
                    _local_to_utc(d, late, zone)
                    for d in days(lambda d: calendar.is_working_day(d) and d.isoweekday() == last_weekday)
                ),
            ),
            (
                "holiday",
                (
                    _local_to_utc(d, morning, zone)
                    for d in days(lambda d: calendar.is_holiday(d) and d.isoweekday() in calendar.working_weekdays)
                ),
            ),
            (
                "night_0300",
                (
                    _local_to_utc(d, dt.time(3, 0), zone)
                    for d in days(lambda d: calendar.is_working_day(d) and d.isoweekday() != last_weekday)
                ),
            ),
            (
                "dst_weekend",
                (
                    _local_to_utc(d, _clock(calendar.workday_end, -60), zone)
                    for d in self._days_before_dst(calendar, zone, latest)
                ),
            ),
        ]

    @staticmethod
    def _days_before_dst(calendar: bt.Calendar, zone: str, latest: dt.date) -> Iterator[dt.date]:
        """The last working day before each DST change of the zone, latest first."""
        tz = ZoneInfo(zone)

        def offset(day: dt.date) -> dt.timedelta | None:
            return dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()

        day = latest
        for _ in range(1200):
            if offset(day) != offset(day - dt.timedelta(days=1)):
                before = day - dt.timedelta(days=1)
                while not calendar.is_working_day(before):
                    before -= dt.timedelta(days=1)
                yield before
            day -= dt.timedelta(days=1)

    def _first_closed_case(
        self, policy: Policy, calendar: bt.Calendar, zone: str, starts: Iterator[dt.datetime]
    ) -> tuple[dt.datetime, dt.datetime] | None:
        earliest = self.anchor_dt - dt.timedelta(days=900)
        for start in starts:
            if start < earliest:
                return None
            due = bt.due_at(start, policy.target_value, policy.target_unit, calendar, zone)
            if due + dt.timedelta(minutes=30) < self.anchor_dt:
                return start, due
        return None

    def _open_starts(self, policy: Policy, calendar: bt.Calendar, zone: str) -> list[tuple[str, dt.datetime]]:
        """A start still within target at the anchor, and one already past it."""
        due = lambda s: bt.due_at(s, policy.target_value, policy.target_unit, calendar, zone)  # noqa: E731
        local_today = self.anchor_dt.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).date()
        late = _clock(calendar.workday_end, -30)
        within = None
        for back in range(0, 30):
            day = local_today - dt.timedelta(days=back)
            start = _local_to_utc(day, late, zone)
            if calendar.is_working_day(day) and start < self.anchor_dt:
                within = start if due(start) > self.anchor_dt else None
                break
        if within is None:
            within = self.anchor_dt - dt.timedelta(minutes=30)
        breached = None
        for back in range(1, 400):
            day = local_today - dt.timedelta(days=back)
            start = _local_to_utc(day, _clock(calendar.workday_start, 120), zone)
            if calendar.is_working_day(day) and due(start) + dt.timedelta(minutes=30) < self.anchor_dt:
                breached = start
                break
        result = [("open_within_target", within)]
        if breached is not None:
            result.append(("open_breached", breached))
        return result

    def evaluate_planted(
        self, obj: str, records: dict[int, PlantedRecord], ids: pa.Array, stage_names: list[str], owner: np.ndarray
    ) -> None:
        """Every SLA case on planted records, with its expected status (business_time)."""
        for policy in self.rules.policies:
            if policy.start_object != obj:
                continue
            for idx, record in sorted(records.items()):
                for position, (stage, start) in enumerate(record.rows):
                    if stage_names[stage] != policy.start_value:
                        continue
                    if obj == "lead" and position == 0:
                        continue  # the initial status has no Status history row
                    if obj == "opportunity" and position > 0 and record.rows[position - 1][0] == stage:
                        continue
                    if policy.end_event == "opportunity_created":
                        end = record.conversion if record.conversion is not None and record.conversion > start else None
                    else:
                        ends = [
                            t
                            for t, kind in record.tasks
                            if t > start and (policy.end_value is None or kind == policy.end_value)
                        ]
                        end = min(ends) if ends else None
                    calendar = self.user_calendar(policy, record.zone)
                    start_dt = _from_epoch(start)
                    due = bt.due_at(start_dt, policy.target_value, policy.target_unit, calendar, record.zone)
                    end_dt = _from_epoch(end) if end is not None else None
                    status = bt.sla_status(due, end_dt, self.anchor_dt)
                    case = next(
                        (
                            c
                            for c in self.sla_cases
                            if c.record_object == obj
                            and c.record_idx == idx
                            and c.policy_id == policy.policy_id
                            and c.start == start
                        ),
                        None,
                    )
                    if case is not None and case.variant != "open" and case.variant != status:
                        raise AssertionError(f"planted SLA case {case} evaluates to {status}")
                    self.sla_rows.append(
                        {
                            "policy_id": policy.policy_id,
                            "scenario": case.scenario if case else "incidental",
                            "record_object": obj,
                            "record_id": ids[idx].as_py(),
                            "owner_user_id": self.user_ids[int(owner[idx])].as_py(),
                            "time_zone": record.zone,
                            "calendar_region": calendar.region,
                            "started_at": start_dt,
                            "ended_at": end_dt,
                            "due_at": due,
                            "expected_status": status,
                        }
                    )

    def sla_facts(self, bulk: dict[str, pa.Array]) -> None:
        """Facts per policy and status: bulk cases (met by construction) plus the planted ones."""
        for policy in self.rules.policies:
            planted = [r for r in self.sla_rows if r["policy_id"] == policy.policy_id]
            for status in bt.SLA_STATUSES:
                ids = [r["record_id"] for r in planted if r["expected_status"] == status]
                array = pa.array(ids, pa.string())
                if status == "met":
                    array = pa.concat_arrays([array, bulk.get(policy.policy_id, pa.array([], pa.string()))])
                self.fact("sla", policy.start_object, array, rule_id=policy.policy_id, note=status)

    # ---- data dictionary plantings ---------------------------------------------------------------
    def raw_column(self, obj: str, field_name: str, table: str) -> str | None:
        # The data dictionary names each field's source column (source_field; blank = derived).
        rule = next((r for r in self.rules.dictionary if r["object"] == obj and r["field"] == field_name), {})
        column = rule.get("source_field") or field_name
        names = {c.name for c in self.contract.get(table, [])}
        return column if column in names else None

    def plant_dictionary(
        self,
        obj: str,
        frame: Frame,
        pool: Pool,
        *,
        alive: np.ndarray,
        stage_order: np.ndarray | None,
        special: Sequence[str] = (),
    ) -> dict[str, np.ndarray]:
        """Missing required fields, not-yet-required blanks and invalid formats of one object.

        Returns {raw column: indices emptied}."""
        rng = pool.rng
        plants: dict[str, np.ndarray] = {}
        self.dict_context[obj] = (
            frame["id"].slice(0, len(alive)),
            alive.copy(),
            None if stage_order is None else stage_order.copy(),
        )
        for rule in self.rules.dictionary:
            if rule["object"] != obj or rule["field"] in special:
                continue
            column = self.raw_column(obj, rule["field"], frame.name)
            if column is None:
                self.notes.append(f"{rule['rule_id']}: no raw column for {obj}.{rule['field']}; not planted")
                continue
            gate = None
            if rule["required_from_stage"]:
                if stage_order is None:
                    self.notes.append(f"{rule['rule_id']}: {obj} has no stages; not planted")
                    continue
                gate = self.rules.stage(obj, rule["required_from_stage"]).order
            eligible = alive if gate is None else alive & (stage_order >= gate)
            if _bool(rule["is_required"]):
                chosen = pool.take(_count(RATE["missing"], int(eligible.sum())), eligible, rule["rule_id"])
                self._blank(frame, column, chosen)
                plants[column] = chosen
                self.fact(
                    "missing_required_field",
                    obj,
                    frame["id"].take(pa.array(chosen)),
                    rule_id=rule["rule_id"],
                    note=column,
                )
                if gate is not None:
                    early = alive & (stage_order < gate)
                    if early.any():
                        before = pool.take(
                            _count(RATE["not_yet_required"], int(early.sum())),
                            early,
                            rule["rule_id"] + " not yet required",
                        )
                        self._blank(frame, column, before)
                        plants[column] = np.concatenate([chosen, before])
                        self.fact(
                            "not_yet_required",
                            obj,
                            frame["id"].take(pa.array(before)),
                            rule_id=rule["rule_id"],
                            note=column,
                        )
            if rule["value_format"]:
                self._plant_invalid(obj, rule, frame, column, pool, eligible, rng)
        return plants

    def _blank(self, frame: Frame, column: str, index: np.ndarray) -> None:
        """Null, or for free-text string columns every third one blank ('' / spaces)."""
        frame.put(column, index, None)
        if pa.types.is_string(frame[column].type) and not column.endswith("_id") and len(index) >= 3:
            blanks = index[2::3]
            frame.put(column, blanks, ["", "   "] * len(blanks))

    def _plant_invalid(
        self,
        obj: str,
        rule: dict[str, str],
        frame: Frame,
        column: str,
        pool: Pool,
        eligible: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        value_format = rule["value_format"]
        if value_format not in ("email", "domain", "country_code"):
            self.notes.append(f"{rule['rule_id']}: value_format {value_format} not planted")
            return
        chosen = pool.take(_count(RATE["invalid"], int(eligible.sum())), eligible, rule["rule_id"] + " invalid")
        current = frame[column].take(pa.array(chosen))
        if value_format == "email":
            values = pc.replace_substring(current, "@", " at ")
        elif value_format == "domain":
            values = frame["name"].take(pa.array(chosen))  # a company name typed into the website field
        else:
            invalid = self.rules.invalid_countries()
            values = _pick(invalid, np.arange(len(chosen)) % len(invalid))
        frame.put(column, chosen, values)
        self.fact(
            "invalid_format",
            obj,
            frame["id"].take(pa.array(chosen)),
            rule_id=rule["rule_id"],
            note=f"{column}: {value_format}",
        )

    # ---- accounts --------------------------------------------------------------------------------
    def accounts(self) -> None:
        rng = self.rng("account")
        n = self.n["account"]
        pool = Pool("account", n, rng)
        idx = np.arange(n)
        ids = salesforce_ids("001", 100_000 + idx)
        variants = self.rules.country_variants()
        self.country_codes = list(variants)
        flat = [v for code in self.country_codes for v in variants[code]]
        offsets = np.cumsum([0] + [len(variants[c]) for c in self.country_codes])[:-1]
        sizes = np.array([len(variants[c]) for c in self.country_codes])
        self.country_flat = flat
        self.country_offsets, self.country_sizes = offsets, sizes
        country = _weighted(rng, [COUNTRY_WEIGHTS.get(c, 3) for c in self.country_codes], n)
        word = _pseudo_words(idx, 4, salt=11)
        nouns = rng.integers(0, len(NOUNS), n)
        suffixes = rng.integers(0, len(LEGAL_SUFFIXES), n)
        name = _join(pc.utf8_capitalize(word), " ", _pick(NOUNS, nouns), " ", _pick(LEGAL_SUFFIXES, suffixes))
        tld_codes = [COUNTRY_TLDS.get(c, ".com") for c in self.country_codes] + [".com", ".io"]
        tld = np.where(rng.random(n) < 0.4, len(self.country_codes) + rng.integers(0, 2, n), country)
        domain = _join(word, _pick(tld_codes, tld))
        fmt = rng.integers(0, len(WEBSITE_FORMATS), n)
        website = _join(
            _pick([f[0] for f in WEBSITE_FORMATS], fmt), domain, _pick([f[1] for f in WEBSITE_FORMATS], fmt)
        )

        # Roles (disjoint): deleted, merge chains, duplicate groups, clean domain-match targets.
        deleted = pool.take(_count(RATE["deleted"], n), what="deleted accounts")
        master = np.full(n, -1)
        final = np.full(n, -1)
        depth_of = np.zeros(n, dtype=np.int64)
        survivors = []
        for depth, rate in ((1, RATE["merged"]), (2, RATE["chain2"]), (3, RATE["chain3"])):
            chains = _count(rate, n)
            heads = pool.take(chains, what="merge survivors")
            losers = pool.take(chains * depth, what="merged accounts").reshape(chains, depth)
            survivors.append(heads)
            for q in range(depth):
                master[losers[:, q]] = losers[:, q + 1] if q + 1 < depth else heads
                final[losers[:, q]] = heads
                depth_of[losers[:, q]] = depth - q
        self.acc_losers = np.flatnonzero(final >= 0)
        group_sizes = rng.choice([2, 3], p=[0.7, 0.3], size=_count(RATE["duplicate_groups"], n))
        members = pool.take(int(group_sizes.sum()), what="duplicate accounts")
        self.acc_domain_targets = pool.take(_count(0.05, n, 5), what="domain-match accounts")

        frame = Frame("account", n)
        frame["id"] = ids
        frame["name"] = name
        frame["website"] = website
        frame["industry"] = _pick(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n))
        employees = np.clip(np.exp(rng.normal(4.6, 1.4, n)), 2, 250_000).astype(np.int64)
        frame["number_of_employees"] = pa.array(employees)
        frame["annual_revenue"] = pa.array(employees * rng.integers(60, 320, n) * 1000)
        frame["billing_country"] = _pick(flat, offsets[country] + rng.integers(0, sizes[country]))
        frame.nulls("billing_state", pa.string())
        types = self.rules.allowed_values("account", "account_type", ["Prospect", "Customer"])
        frame["type"] = _pick(types, _weighted(rng, [6, 4, 1, 1][: len(types)] + [1] * max(0, len(types) - 4), n))
        sources = self.rules.allowed_values("lead", "lead_source", ["Web"])
        frame["account_source"] = _pick(sources, rng.integers(0, len(sources), n))
        owner = self.ae[rng.integers(0, len(self.ae), n)]
        frame["owner_id"] = self.user_ids.take(pa.array(owner))
        created = self.anchor - _uniform_seconds(rng, 60 * DAY, 1100 * DAY, n)
        frame["created_date"] = _ts(created)
        creator = np.where(rng.random(n) < 0.1, self.integration_user, owner)
        frame["created_by_id"] = self.user_ids.take(pa.array(creator))
        modified = created + (rng.random(n) * (self.anchor - HOUR - created)).astype(np.int64)
        frame["last_modified_date"] = _ts(modified)
        frame["last_activity_date"] = _dates(modified, mask=rng.random(n) < 0.5)
        frame["is_deleted"] = pa.array(np.isin(idx, deleted) | (final >= 0))
        frame["master_record_id"] = ids.take(pa.array(np.maximum(master, 0), mask=master < 0))
        frame["_fivetran_synced"] = self.synced(rng, n)
        frame["description"] = pc.if_else(
            pa.array(rng.random(n) < 0.5), _join("Demo account in ", frame["industry"]), pa.nulls(n, pa.string())
        )
        self.extras["account"] = {"description": "VARCHAR"}

        alive = np.ones(n, dtype=bool)
        alive[deleted] = False
        alive[self.acc_losers] = False
        # Parents: a few accounts belong to another surviving account (one level).
        bulk_alive = np.flatnonzero(alive & pool.free)
        children = rng.choice(bulk_alive, size=min(len(bulk_alive) // 3, _count(0.03, n)), replace=False)
        parents_pool = np.setdiff1d(np.flatnonzero(alive), children)
        parent = np.full(n, -1)
        parent[np.sort(children)] = rng.choice(parents_pool, size=len(children))
        frame["parent_id"] = ids.take(pa.array(np.maximum(parent, 0), mask=parent < 0))

        # Merged-away accounts look like their survivor (that is why they were merged).
        losers = self.acc_losers
        heads = pa.array(final[losers])
        frame.put(
            "name",
            losers,
            [_name_variant(v, 1 + int(i) % 2) for i, v in zip(losers, name.take(heads).to_pylist(), strict=True)],
        )
        frame.put(
            "website",
            losers,
            [_website_variant(v, int(i) % 3) for i, v in zip(losers, domain.take(heads).to_pylist(), strict=True)],
        )
        self._account_duplicates(frame, members, group_sizes, name, domain)

        self.acc_ids = ids
        self.acc_alive = alive
        self.acc_alive_idx = np.flatnonzero(alive)
        self.acc_final = final
        self.acc_depth = depth_of
        self.acc_name = name
        self.acc_domain = domain
        self.acc_website = website
        self.acc_owner = owner
        self.acc_created = created
        self.acc_country = country

        self.fact("deleted", "account", ids.take(pa.array(deleted)))
        self.fact("merged", "account", ids.take(pa.array(losers)), note="is_deleted and master_record_id set")
        for depth in (1, 2, 3):
            chain = losers[depth_of[losers] == depth]
            self.fact("merge_chain", "account", ids.take(pa.array(chain)), note=f"depth={depth}")
        loser_ids, master_ids = _ids(ids, losers), _ids(ids, master[losers])
        final_ids = _ids(ids, final[losers])
        for i, loser in enumerate(losers):
            self.merge_row(
                "account",
                loser_ids[i],
                "master_record_id",
                "account",
                master_ids[i],
                final_ids[i],
                int(depth_of[loser]),
            )
        self.plant_dictionary("account", frame, pool, alive=alive, stage_order=None)
        self.emit("account", frame)

    def merged_accounts(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k merged-away accounts to point at: one of each chain depth first, then any."""
        by_depth = [self.acc_losers[self.acc_depth[self.acc_losers] == depth] for depth in (1, 2, 3)]
        first = [group[rng.integers(0, len(group))] for group in by_depth if len(group)][:k]
        rest = self.acc_losers[rng.integers(0, len(self.acc_losers), k - len(first))]
        return np.concatenate([np.array(first, dtype=np.int64), rest]).astype(np.int64)

    def _account_duplicates(
        self, frame: Frame, members: np.ndarray, sizes: np.ndarray, name: pa.Array, domain: pa.Array
    ) -> None:
        rule = self._duplicate_rule("account", "domain")
        if rule is None:
            self.notes.append("no account duplicate rule keyed on a domain: account duplicates not planted")
            return
        groups = np.split(members, np.cumsum(sizes)[:-1])
        bases = [int(g[0]) for g in groups]
        names, domains = _ids(name, bases), _ids(domain, bases)
        index, new_names, new_sites = [], [], []
        for g, group in enumerate(groups):
            for position, member in enumerate(group):
                index.append(int(member))
                new_names.append(_name_variant(names[g], position))
                new_sites.append(_website_variant(domains[g], position))
        frame.put("name", index, new_names)
        frame.put("website", index, new_sites)
        ids = frame["id"]
        self.fact(
            "duplicate",
            "account",
            ids.take(pa.array([int(g[0]) for g in groups])),
            rule_id=rule,
            note="groups (ids of the first member)",
        )
        self.fact("duplicate", "account", ids.take(pa.array(members)), rule_id=rule, note="records")

    def _duplicate_rule(self, obj: str, normalization: str) -> str | None:
        for rule in self.rules.duplicate_rules:
            keys = [k for k in self.rules.duplicate_keys if k["rule_id"] == rule["rule_id"]]
            if rule["object"] == obj and len(keys) == 1 and keys[0]["normalization"] == normalization:
                return rule["rule_id"]
        return None

    # ---- opportunities ---------------------------------------------------------------------------
    def opportunities(self) -> None:
        rng = self.rng("opportunity")
        rules = self.rules
        n = self.n["opportunity"]
        pool = Pool("opportunity", n, rng)
        stages = rules.stages["opportunity"]
        self.opp_stage_names = names = [s.name for s in stages]
        open_idx = np.array([names.index(s.name) for s in rules.open_stages("opportunity")])
        won, lost = names.index(rules.won_stage("opportunity").name), names.index(rules.lost_stage("opportunity").name)
        k = len(open_idx)
        target = np.array([float(s.target_days or 0) for s in stages])
        order = np.array([s.order for s in stages])
        is_open = np.array([s.is_open for s in stages])

        sla_cases = [c for c in self.sla_cases if c.record_object == "opportunity"]
        for case, i in zip(sla_cases, pool.take(len(sla_cases), what="SLA cases"), strict=True):
            case.record_idx = int(i)
        conversion_policies = {p.policy_id for p in rules.policies if p.end_event == "opportunity_created"}
        conversion_cases = [c for c in self.sla_cases if c.policy_id in conversion_policies and c.end is not None]
        planted_conversions = pool.take(len(conversion_cases), what="SLA conversions")
        self.planted_conversion_opp = {
            id(c): int(i) for c, i in zip(conversion_cases, planted_conversions, strict=True)
        }
        deleted = pool.take(_count(RATE["deleted"], n), what="deleted opportunities")
        skip = pool.take(_count(RATE["stage_skip"], n), what="stage skips")
        regression = pool.take(_count(RATE["stage_regression"], n), what="stage regressions")
        reopened = pool.take(_count(RATE["reopened"], n), what="reopened deals")
        stale = pool.take(_count(RATE["stale_open"], n), what="stale deals")
        no_history = pool.take(_count(RATE["no_history"], n), what="deals without history")
        inactive = pool.take(_count(RATE["inactive_owner"], n), what="deals of inactive owners")
        wanted = _count(RATE["converted"], self.n["lead"])
        self.conversion_opps = pool.take(min(wanted, int(pool.free.sum()) // 2), what="converted leads")

        # Bulk paths: strictly forward; open (recent), won (through every open stage) or lost.
        special = np.concatenate(
            [skip, regression, reopened, [c.record_idx for c in sla_cases], planted_conversions, no_history]
        ).astype(np.int64)
        vector = np.setdiff1d(np.arange(n), special)
        kind = np.where(
            np.isin(vector, np.concatenate([stale, inactive])), 0, _weighted(rng, [0.40, 0.25, 0.35], len(vector))
        )
        last_open = np.where(kind == 1, k - 1, rng.integers(0, k, len(vector)))
        lengths = last_open + 1 + (kind != 0)
        rec = np.repeat(vector, lengths)
        pos = _positions(lengths)
        stage = open_idx[np.minimum(pos, k - 1)]
        closing = pos > np.repeat(last_open, lengths)
        stage[closing] = np.where(np.repeat(kind, lengths)[closing] == 1, won, lost)
        current_target = target[open_idx[last_open]]
        t_end = np.where(
            kind == 0,
            self.anchor - np.maximum(2 * HOUR, rng.uniform(0.05, 0.9, len(vector)) * current_target * DAY),
            self.anchor - rng.uniform(2, 700, len(vector)) * DAY,
        )
        is_stale = np.isin(vector, stale)
        t_end[is_stale] = self.anchor - (3 * current_target[is_stale] + rng.uniform(5, 90, is_stale.sum())) * DAY
        time_ = self._backward_times(rng, rec, pos, stage, lengths, np.round(t_end).astype(np.int64), target)

        # Planted paths (Python, small): skips, regressions, reopenings, SLA cases, SLA conversions.
        rows: list[tuple[int, int, int, int]] = []
        transitions: dict[str, list[tuple[int, int]]] = {"stage_skip": [], "stage_regression": [], "reopened": []}
        self.planted_opps: dict[int, PlantedRecord] = {}

        def add(i: int, path: list[int], times: list[int]) -> None:
            rows.extend((i, p, s, t) for p, (s, t) in enumerate(zip(path, times, strict=True)))

        def ending(path: list[int]) -> int:
            if is_open[path[-1]]:
                return self.anchor - int(max(2 * HOUR, rng.uniform(0.05, 0.9) * target[path[-1]] * DAY))
            return self.anchor - int(rng.uniform(2, 500) * DAY)

        for category, chosen in (("stage_skip", skip), ("stage_regression", regression), ("reopened", reopened)):
            for i in chosen:
                path, at = self._defect_path(rng, category, list(open_idx), won, lost)
                add(int(i), path, self._times(rng, path, ending(path), target, is_open))
                transitions[category].append((int(i), at))
        for case in sla_cases:
            start_stage = names.index(next(p.start_value for p in rules.policies if p.policy_id == case.policy_id))
            path = [s for s in open_idx if order[s] < order[start_stage]] + [start_stage]
            times = self._times(rng, path, case.start, target, is_open)
            add(case.record_idx, path, times)
            record = PlantedRecord(rows=list(zip(path, times, strict=True)), owner=case.owner, zone=case.zone)
            self.planted_opps[case.record_idx] = record
        for case in conversion_cases:
            i = self.planted_conversion_opp[id(case)]
            closed_at = case.end + int(min(rng.uniform(1, 5) * DAY, (self.anchor - case.end) // 2))
            add(i, [int(open_idx[0]), lost], [case.end, closed_at])
        if rows:
            extra = np.array(rows, dtype=np.int64)
            rec = np.concatenate([rec, extra[:, 0]])
            pos = np.concatenate([pos, extra[:, 1]])
            stage = np.concatenate([stage, extra[:, 2]])
            time_ = np.concatenate([time_, extra[:, 3]])

        # Same-stage rows (amount / close date changes) between stage changes: no new interval.
        order_rows = np.lexsort((pos, rec))
        rec, pos, stage, time_ = rec[order_rows], pos[order_rows], stage[order_rows], time_[order_rows]
        has_next = np.r_[rec[1:] == rec[:-1], False]
        add_extra = has_next & is_open[stage] & (rng.random(len(rec)) < 0.35)
        base = np.flatnonzero(add_extra)
        span = time_[base + 1] - time_[base]
        extra_time = time_[base] + np.round(span * rng.uniform(0.2, 0.8, len(base))).astype(np.int64)
        # Handoff gaps: the row entering an SLA start stage lacks a field a later same-stage row fills.
        handoff_null, fill_at, handoff = self._plant_opportunity_handoff(
            rec, pos, stage, time_, has_next, pool, deleted
        )
        fill_rows = np.array([row for row, _ in fill_at], dtype=np.int64)
        rec = np.concatenate([rec, rec[base], rec[fill_rows]])
        stage_pos = np.concatenate([pos, np.full(len(base) + len(fill_rows), -1)])
        stage = np.concatenate([stage, stage[base], stage[fill_rows]])
        time_ = np.concatenate([time_, extra_time, np.array([t for _, t in fill_at], dtype=np.int64)])
        handoff_null = np.concatenate([handoff_null, np.full(len(base) + len(fill_rows), -1)])
        is_extra = stage_pos < 0
        order_rows = np.lexsort((time_, rec))
        rec, stage_pos, stage, time_, is_extra, handoff_null = (
            a[order_rows] for a in (rec, stage_pos, stage, time_, is_extra, handoff_null)
        )
        first = np.r_[True, rec[1:] != rec[:-1]]
        group = np.cumsum(first) - 1
        cum = np.cumsum(is_extra)
        cum_extra = cum - (cum[first] - is_extra[first])[group]
        last = np.flatnonzero(np.r_[rec[1:] != rec[:-1], True])

        m = len(rec)
        rank = np.empty(m, dtype=np.int64)
        rank[np.lexsort((rec, time_))] = np.arange(m)
        hist_ids = salesforce_ids("008", 200_000 + rank)
        amount_base = rng.integers(50, 2500, n) * 100
        amount_rows = amount_base[rec] + 500 * cum_extra
        close_rows = np.where(is_open[stage], time_ + (30 + 7 * cum_extra) * DAY, time_)
        probability = [s.default_probability for s in stages]
        forecast = [self._forecast(s, stages) for s in stages]

        # Current values = the last history row; deals without history get them directly.
        current_stage = np.full(n, -1)
        current_stage[rec[last]] = stage[last]
        amount = amount_base.copy()
        amount[rec[last]] = amount_rows[last]
        close = np.zeros(n, dtype=np.int64)
        close[rec[last]] = close_rows[last]
        created = np.zeros(n, dtype=np.int64)
        created[rec[first]] = time_[first]
        t_last = np.zeros(n, dtype=np.int64)
        t_last[rec[last]] = time_[last]
        open_no_history = no_history[rng.random(len(no_history)) < 0.5]
        closed_no_history = np.setdiff1d(no_history, open_no_history)
        current_stage[open_no_history] = open_idx[0]
        created[open_no_history] = self.anchor - np.maximum(
            2 * HOUR, rng.uniform(0.1, 0.5, len(open_no_history)) * target[open_idx[0]] * DAY
        ).astype(np.int64)
        close[open_no_history] = created[open_no_history] + 45 * DAY
        t_last[open_no_history] = self.anchor - HOUR
        current_stage[closed_no_history] = lost
        created[closed_no_history] = self.anchor - _uniform_seconds(rng, 10 * DAY, 600 * DAY, len(closed_no_history))
        close[closed_no_history] = created[closed_no_history] + _uniform_seconds(
            rng, DAY, 9 * DAY, len(closed_no_history)
        )
        t_last[closed_no_history] = close[closed_no_history]

        owner = self.ae[rng.integers(0, len(self.ae), n)]
        owner[inactive] = np.array(self.inactive_ae)[rng.integers(0, len(self.inactive_ae), len(inactive))]
        for case in sla_cases:
            owner[case.record_idx] = case.owner
        account = self.acc_alive_idx[rng.integers(0, len(self.acc_alive_idx), n)]
        # Some converted leads will name a merged-away account: their deal sits on the survivor.
        to_merged = self.conversion_opps[: _count(0.05, len(self.conversion_opps))]
        losers = self.merged_accounts(rng, len(to_merged))
        account[to_merged] = self.acc_final[losers]
        self.conversion_loser = {int(o): int(a) for o, a in zip(to_merged, losers, strict=True)}
        self.opp_ids = ids = salesforce_ids("006", 400_000 + np.arange(n))
        self.opp_account = account
        self.opp_owner = owner
        self.opp_created = created
        self.opp_t_last = t_last
        alive = np.ones(n, dtype=bool)
        alive[deleted] = False
        self.opp_alive = alive

        deal_types = rules.allowed_values("opportunity", "opportunity_type", ["New Business"])
        type_index = rng.integers(0, len(deal_types), n)
        frame = Frame("opportunity", n)
        frame["id"] = ids
        frame["account_id"] = self.acc_ids.take(pa.array(account))
        frame["name"] = _join(self.acc_name.take(pa.array(account)), " - ", _pick(deal_types, type_index))
        frame["stage_name"] = _pick(names, current_stage)
        frame["amount"] = pa.array(amount)
        frame["probability"] = pa.array([probability[s] for s in current_stage], pa.int64())
        frame["close_date"] = _dates(close)
        frame["type"] = _pick(deal_types, type_index)
        sources = rules.allowed_values("opportunity", "lead_source", ["Web"])
        frame["lead_source"] = _pick(sources, rng.integers(0, len(sources), n))
        frame["forecast_category"] = _pick(forecast, current_stage)
        frame["next_step"] = _pick(NEXT_STEPS, rng.integers(0, len(NEXT_STEPS), n))
        frame["is_closed"] = pa.array(~is_open[current_stage])
        frame["is_won"] = pa.array(current_stage == won)
        frame["owner_id"] = self.user_ids.take(pa.array(owner))
        frame["currency_iso_code"] = pa.array(["USD"] * n, pa.string())
        frame["created_date"] = _ts(created)
        frame["created_by_id"] = frame["owner_id"]
        modified = t_last + (rng.random(n) * np.minimum(DAY, self.anchor - MINUTE - t_last)).astype(np.int64)
        frame["last_modified_date"] = _ts(modified)
        frame["last_activity_date"] = _dates(t_last)
        frame["is_deleted"] = pa.array(~alive)
        frame["_fivetran_synced"] = self.synced(rng, n)
        close_days = close // DAY
        year = close_days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        month = close_days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
        frame["fiscal_quarter"] = _join(
            "FY", pa.array(year).cast(pa.string()), "-Q", pa.array(month // 3 + 1).cast(pa.string())
        )
        self.extras["opportunity"] = {"fiscal_quarter": "VARCHAR"}

        history = Frame("opportunity_history", m)
        history["id"] = hist_ids
        history["opportunity_id"] = ids.take(pa.array(rec))
        history["stage_name"] = _pick(names, stage)
        history["amount"] = pa.array(amount_rows)
        history["close_date"] = _dates(close_rows)
        history["probability"] = pa.array([probability[s] for s in stage], pa.int64())
        history["forecast_category"] = _pick(forecast, stage)
        history["created_date"] = _ts(time_)
        history["created_by_id"] = self.user_ids.take(pa.array(owner[rec]))
        history["is_deleted"] = pa.array(~alive[rec])
        history["_fivetran_synced"] = self.synced(rng, m)
        for j, (_, _, column, _) in enumerate(handoff):
            if column is not None:
                history.put(column, np.flatnonzero(handoff_null == j), None)

        # Value roles (after the paths): references to merged accounts, orphans, dictionary rules.
        references = pool.take(_count(RATE["merge_reference"], n), what="deals on merged accounts")
        self._reference_merged_accounts(rng, frame, "account_id", references, "opportunity")
        orphans = pool.take(_count(RATE["orphan"], n), what="orphaned deals")
        frame.put("account_id", orphans, salesforce_ids("001", ORPHAN_COUNTER + np.arange(len(orphans))))
        self.fact("orphaned_fk", "opportunity", ids.take(pa.array(orphans)), note="account_id -> account")
        plants = self.plant_dictionary("opportunity", frame, pool, alive=alive, stage_order=order[current_stage])
        for column, chosen in plants.items():
            if column in history.columns and column != "created_date":
                history.put(column, np.flatnonzero(np.isin(rec, chosen)), None)
        self._opportunity_handoff_facts(frame, handoff, rec, stage, first, alive)
        self.emit("opportunity", frame)
        self.emit("opportunity_history", history)
        del frame, history

        # Facts.
        self.fact("deleted", "opportunity", ids.take(pa.array(deleted)))
        self.fact("deleted", "opportunity_history", hist_ids.filter(pa.array(~alive[rec])))
        defect_rows = np.flatnonzero(np.isin(rec, np.concatenate([skip, regression, reopened])))
        row_of = {(int(rec[i]), int(stage_pos[i])): int(i) for i in defect_rows}
        for category, chosen in (("stage_skip", skip), ("stage_regression", regression), ("reopened", reopened)):
            self.fact(category, "opportunity", ids.take(pa.array(chosen)))
            rows_hit = [row_of[t] for t in transitions[category]]
            self.fact(
                category,
                "opportunity_history",
                hist_ids.take(pa.array(rows_hit, pa.int64())),
                note="history rows where the transition lands",
            )
        self.fact("stale_open", "opportunity", ids.take(pa.array(stale)))
        self.fact("no_history", "opportunity", ids.take(pa.array(no_history)))
        self.fact("routing_inactive_owner", "opportunity", ids.take(pa.array(inactive)))
        self.fact("same_stage_change", "opportunity_history", hist_ids.filter(pa.array(is_extra & alive[rec])))
        entering = first | np.r_[True, stage[1:] != stage[:-1]]
        intervals = int((entering & alive[rec]).sum()) + len(no_history)
        self.fact(
            "stage_intervals",
            "opportunity",
            count=intervals,
            note="rows of int_opportunity_stages_intervaled (surviving deals; one synthesized per deal "
            "without history)",
        )

        # Tasks: ordinary activity before the last change, SLA end tasks of the bulk, planted ends.
        self._opportunity_tasks(rng, alive, created, t_last, owner, account, ids)
        planted_ids = np.array(sorted(self.planted_opps), dtype=np.int64)
        bulk_sla: dict[str, pa.Array] = {}
        for policy in rules.policies:
            if policy.start_object != "opportunity":
                continue
            hit = entering & (stage == names.index(policy.start_value)) & alive[rec] & ~np.isin(rec, planted_ids)
            rows_hit = np.flatnonzero(hit)
            self._bulk_sla_tasks(
                rng,
                policy,
                time_[rows_hit],
                what=ids.take(pa.array(rec[rows_hit])),
                owner=owner[rec[rows_hit]],
                account=account[rec[rows_hit]],
            )
            bulk_sla[policy.policy_id] = ids.take(pa.array(rec[rows_hit]))
        for case in sla_cases:
            record = self.planted_opps[case.record_idx]
            policy = next(p for p in rules.policies if p.policy_id == case.policy_id)
            if case.end is not None:
                record.tasks.append((case.end, policy.end_value or ORDINARY_TASK_TYPES[0]))
                kickoff_owner = self.csm[0] if policy.end_value and len(self.csm) else case.owner
                self.add_tasks(
                    "sla_end",
                    time=np.array([case.end]),
                    owner=self.user_ids.take(pa.array([kickoff_owner])),
                    what=ids.take(pa.array([case.record_idx])),
                    account=self.acc_ids.take(pa.array([account[case.record_idx]])),
                    types=pa.array([policy.end_value or ORDINARY_TASK_TYPES[0]]),
                )
        self.bulk_sla = bulk_sla
        self.evaluate_planted("opportunity", self.planted_opps, ids, names, owner)

    def _plant_opportunity_handoff(
        self,
        rec: np.ndarray,
        pos: np.ndarray,
        stage: np.ndarray,
        time_: np.ndarray,
        has_next: np.ndarray,
        pool: Pool,
        deleted: np.ndarray,
    ) -> tuple[np.ndarray, list[tuple[int, int]], list[tuple[Policy, str, str | None, np.ndarray]]]:
        """Handoff fields missing when a deal entered an SLA start stage (handoff_incomplete).

        Rows are the path rows sorted by deal and position. Per opportunity policy and handoff field with
        a history column, bulk deals entering the start stage (not given another role) get that field
        null on the entering row and a later row in the same stage (before the next stage change and the
        anchor) that carries a value: the rows fold into one interval. Returns, per row, the index of the
        handoff entry whose column it lacks (-1 none), the (row, time) of the filling rows, and the entries
        (policy, field, history column or None when the field has no history, deals)."""
        rng = self.rng("handoff")
        names = self.opp_stage_names
        alive = np.ones(len(pool.free), dtype=bool)
        alive[deleted] = False
        entering = (pos == 0) | np.r_[True, stage[1:] != stage[:-1]]
        null_of = np.full(len(rec), -1, dtype=np.int64)
        fill_at: list[tuple[int, int]] = []
        entries: list[tuple[Policy, str, str | None, np.ndarray]] = []
        for policy in self.rules.policies:
            if policy.start_object != "opportunity":
                continue
            rows = np.flatnonzero(entering & (stage == names.index(policy.start_value)) & alive[rec])
            for field_name in policy.handoff_fields:
                column = self.raw_column("opportunity", field_name, "opportunity_history")
                dropped = self.drops.get("opportunity", []) + self.drops.get("opportunity_history", [])
                if column in dropped or self.raw_column("opportunity", field_name, "opportunity") in dropped:
                    self.notes.append(f"handoff {policy.policy_id} {field_name}: column dropped; not planted")
                    continue
                if column is None:
                    entries.append((policy, field_name, None, np.array([], dtype=np.int64)))
                    continue
                free = rows[pool.free[rec[rows]]]
                k = _count(RATE["handoff_incomplete"], len(rows))
                if len(free) < k:
                    raise ValueError(f"scale too small: {k} deals needed for handoff {policy.policy_id} {field_name}")
                chosen = np.sort(rng.choice(free, size=k, replace=False))
                pool.free[rec[chosen]] = False
                null_of[chosen] = len(entries)
                start = time_[chosen]
                following = np.where(has_next[chosen], time_[np.minimum(chosen + 1, len(rec) - 1)], self.anchor - HOUR)
                span = np.minimum(following, start + 10 * DAY) - start
                filled = start + np.maximum(1, np.round(rng.uniform(0.1, 0.6, k) * span).astype(np.int64))
                fill_at += list(zip(chosen.tolist(), filled.tolist(), strict=True))
                entries.append((policy, field_name, column, rec[chosen]))
        return null_of, fill_at, entries

    def _opportunity_handoff_facts(
        self,
        frame: Frame,
        entries: list[tuple[Policy, str, str | None, np.ndarray]],
        rec: np.ndarray,
        stage: np.ndarray,
        first: np.ndarray,
        alive: np.ndarray,
    ) -> None:
        """Facts handoff_incomplete (planted) and handoff_incomplete_now_empty (SLA deals empty today)."""
        ids = frame["id"]
        entering = first | np.r_[True, stage[1:] != stage[:-1]]
        for policy, field_name, _, chosen in entries:
            start = self.opp_stage_names.index(policy.start_value)
            sla_deals = np.unique(rec[entering & (stage == start) & alive[rec]])
            column = self.raw_column("opportunity", field_name, "opportunity")
            if column is None:
                empty = np.ones(frame.n, dtype=bool)
            elif column == "account_id":  # a reference: empty when it names no account (blank or orphaned)
                empty = ~np.asarray(pc.fill_null(pc.is_in(frame[column], value_set=self.acc_ids), False))
            else:
                empty = _empty(frame[column])
            self.fact(
                "handoff_incomplete",
                "opportunity",
                ids.take(pa.array(np.sort(chosen))),
                rule_id=policy.policy_id,
                note=field_name,
            )
            self.fact(
                "handoff_incomplete_now_empty",
                "opportunity",
                ids.take(pa.array(sla_deals[empty[sla_deals]])),
                rule_id=policy.policy_id,
                note=field_name,
            )

    def _forecast(self, stage: Stage, stages: list[Stage]) -> str:
        if stage.is_won:
            return FORECAST["won"]
        if stage.is_closed:
            return FORECAST["lost"]
        orders = sorted(s.order for s in stages if s.is_open)
        if stage.order == orders[-1]:
            return FORECAST["late"]
        return FORECAST["mid"] if stage.order >= orders[len(orders) // 2] else FORECAST["early"]

    def _backward_times(
        self,
        rng: np.random.Generator,
        rec: np.ndarray,
        pos: np.ndarray,
        stage: np.ndarray,
        lengths: np.ndarray,
        t_end: np.ndarray,
        target: np.ndarray,
        lag_rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Row times of forward paths ending at t_end: gaps scale with the previous stage's target days."""
        previous = np.r_[0, stage[:-1]]
        gap = np.maximum(2 * HOUR, rng.uniform(0.3, 1.0, len(rec)) * np.maximum(1.0, target[previous]) * DAY)
        if lag_rows is not None:
            gap[lag_rows] = rng.uniform(20, 60, int(lag_rows.sum())) * MINUTE
        gap[pos == 0] = 0
        gap = np.round(gap).astype(np.int64)
        cumulative = np.cumsum(gap)
        ends = _group_starts(lengths) + lengths - 1
        return np.repeat(t_end, lengths) - (np.repeat(cumulative[ends], lengths) - cumulative)

    @staticmethod
    def _times(
        rng: np.random.Generator,
        path: list[int],
        t_end: int,
        target: np.ndarray,
        is_open: np.ndarray,
        low: float = 0.3,
        high: float = 1.0,
    ) -> list[int]:
        """Times of one planted path ending at t_end (a closed stage before a reopening lasts 5-60 days)."""
        times = [int(t_end)]
        for p in range(len(path) - 1, 0, -1):
            previous = path[p - 1]
            if is_open[previous]:
                gap = max(2 * HOUR, rng.uniform(low, high) * max(1.0, target[previous]) * DAY)
            else:
                gap = rng.uniform(5, 60) * DAY
            times.append(times[-1] - int(gap))
        return times[::-1]

    @staticmethod
    def _defect_path(
        rng: np.random.Generator, category: str, open_idx: list[int], won: int, lost: int
    ) -> tuple[list[int], int]:
        """A stage path with exactly one skip / regression / reopening; returns it and where it lands."""
        k = len(open_idx)

        def forward(path: list[int], position: int) -> list[int]:
            last = int(rng.integers(position, k))
            path = path + open_idx[position + 1 : last + 1]
            end = rng.random()
            if last == k - 1 and end < 0.4:
                return path + [won]
            return path + [lost] if end > 0.7 else path

        if category == "stage_skip":
            i = int(rng.integers(0, max(1, k - 1)))
            landing = i + 2
            path = open_idx[: i + 1]
            at = len(path)
            if landing >= k:
                return path + [won], at
            return forward(path + [open_idx[landing]], landing), at
        if category == "stage_regression":
            j = int(rng.integers(1, k))
            i = int(rng.integers(0, j))
            path = open_idx[: j + 1] + [open_idx[i]]
            return forward(path, i), j + 1
        j = int(rng.integers(0, k))
        path = open_idx[: j + 1] + [lost, open_idx[int(rng.integers(0, k))]]
        return (path + [lost] if rng.random() < 0.5 else path), j + 2

    def _reference_merged_accounts(
        self,
        rng: np.random.Generator,
        frame: Frame,
        column: str,
        chosen: np.ndarray,
        obj: str,
        extra_columns: Sequence[str] = (),
    ) -> None:
        """Point records at merged-away accounts; they must resolve to the chain's survivor."""
        losers = self.merged_accounts(rng, len(chosen))
        loser_ids = self.acc_ids.take(pa.array(losers))
        frame.put(column, chosen, loser_ids)
        for other in extra_columns:
            frame.put(other, chosen, loser_ids)
        record_ids = frame["id"].take(pa.array(chosen)).to_pylist()
        for depth in (1, 2, 3):
            hit = self.acc_depth[losers] == depth
            self.fact(
                "merge_chain_resolution",
                obj,
                [r for r, h in zip(record_ids, hit, strict=True) if h],
                note=f"{column} -> account, depth={depth}",
            )
        loser_list, final_list = _ids(self.acc_ids, losers), _ids(self.acc_ids, self.acc_final[losers])
        for i, record_id in enumerate(record_ids):
            self.merge_row(
                obj, record_id, column, "account", loser_list[i], final_list[i], int(self.acc_depth[losers[i]])
            )

    def _opportunity_tasks(
        self,
        rng: np.random.Generator,
        alive: np.ndarray,
        created: np.ndarray,
        t_last: np.ndarray,
        owner: np.ndarray,
        account: np.ndarray,
        ids: pa.Array,
    ) -> None:
        deals = np.flatnonzero(alive)
        counts = np.minimum(1 + rng.poisson(3.4, len(deals)), 9)
        rec = np.repeat(deals, counts)
        low = created[rec] + MINUTE
        high = np.maximum(low + MINUTE, t_last[rec] - HOUR)
        times = low + (rng.random(len(rec)) * (high - low)).astype(np.int64)
        self.add_tasks(
            "opportunity",
            time=times,
            owner=self.user_ids.take(pa.array(owner[rec])),
            what=ids.take(pa.array(rec)),
            account=self.acc_ids.take(pa.array(account[rec])),
            rng=rng,
        )

    def _bulk_sla_tasks(
        self,
        rng: np.random.Generator,
        policy: Policy,
        starts: np.ndarray,
        *,
        owner: np.ndarray,
        who: pa.Array | None = None,
        what: pa.Array | None = None,
        account: np.ndarray | None = None,
    ) -> None:
        """End events of bulk SLA cases: a task 20-60 minutes after the start (met by construction)."""
        if policy.end_event != "activity_logged" or len(starts) == 0:
            return
        lag = self._bulk_lag(rng, policy, len(starts))
        if policy.end_value:
            types = pa.array([policy.end_value] * len(starts), pa.string())
            owners = self.csm[rng.integers(0, len(self.csm), len(starts))] if len(self.csm) else owner
        else:
            types = None
            owners = owner
        self.add_tasks(
            "sla_end",
            time=starts + lag,
            owner=self.user_ids.take(pa.array(owners)),
            who=who,
            what=what,
            account=None if account is None else self.acc_ids.take(pa.array(account)),
            types=types,
            rng=rng,
        )

    @staticmethod
    def _bulk_lag(rng: np.random.Generator, policy: Policy, n: int) -> np.ndarray:
        unit_minutes = {"business_minutes": 1, "business_hours": 60, "business_days": 24 * 60}
        target_minutes = policy.target_value * unit_minutes.get(policy.target_unit, 60)
        if target_minutes >= 120:
            return np.round(rng.uniform(20, 60, n) * MINUTE).astype(np.int64)
        return np.round(rng.uniform(0.1, 0.4, n) * target_minutes * MINUTE).astype(np.int64)

    # ---- leads -----------------------------------------------------------------------------------
    def leads(self) -> None:
        rng = self.rng("lead")
        rules = self.rules
        n = self.n["lead"]
        pool = Pool("lead", n, rng)
        stages = rules.stages["lead"]
        self.lead_stage_names = names = [s.name for s in stages]
        open_idx = np.array([names.index(s.name) for s in rules.open_stages("lead")])
        won, lost = names.index(rules.won_stage("lead").name), names.index(rules.lost_stage("lead").name)
        target = np.array([float(s.target_days or 0) for s in stages])
        order = np.array([s.order for s in stages])
        is_open = np.array([s.is_open for s in stages])
        position_of = {int(s): p for p, s in enumerate(open_idx)}
        convert_now = sorted(
            {
                names.index(p.start_value)
                for p in rules.policies
                if p.start_object == "lead" and p.end_event == "opportunity_created"
            }
        )
        last_position = min(position_of[s] for s in convert_now) if convert_now else len(open_idx) - 1
        if last_position < 1:
            raise ValueError("sla_policies: opportunity_created after the first lead status is not supported")
        early_top = min(2, last_position)

        lead_cases = [c for c in self.sla_cases if c.record_object == "lead"]
        for case, i in zip(lead_cases, pool.take(len(lead_cases), what="SLA cases"), strict=True):
            case.record_idx = int(i)
        planted = np.array(sorted(c.record_idx for c in lead_cases), dtype=np.int64)
        deleted = pool.take(_count(RATE["deleted"], n), what="deleted leads")
        n_merge = _count(RATE["merged"], n)
        merge_survivors = pool.take(n_merge, what="lead merge survivors")
        merge_losers = pool.take(n_merge, what="merged leads")
        group_sizes = rng.choice([2, 3], p=[0.7, 0.3], size=_count(RATE["duplicate_groups"], n))
        dup_members = pool.take(int(group_sizes.sum()), what="duplicate leads")
        queue = pool.take(_count(RATE["queue_owner"], n), what="queue-owned leads")
        inactive = pool.take(_count(RATE["inactive_owner"], n), what="leads of inactive owners")
        converted = pool.take(len(self.conversion_opps), what="converted leads")

        # Bulk paths. kind: 0 open, 1 converted, 2 lost (never reaching a convert-now status).
        vector = np.setdiff1d(np.arange(n), planted)
        at = {
            name: np.searchsorted(vector, idx)
            for name, idx in (
                ("early", np.concatenate([deleted, merge_survivors, merge_losers, dup_members, inactive])),
                ("queue", queue),
                ("converted", converted),
            )
        }
        choices = [(0, p) for p in range(last_position)] + [(2, -1)]
        weights = [0.15 if p == 0 else 0.25 if p == 1 else 0.10 for p in range(last_position)] + [0.38]
        draw = _weighted(rng, weights, len(vector))
        kind = np.array([choices[d][0] for d in range(len(choices))])[draw]
        last_open = np.array([choices[d][1] for d in range(len(choices))])[draw]
        lost_rows = kind == 2
        last_open[lost_rows] = rng.integers(0, last_position, int(lost_rows.sum()))
        kind[at["early"]] = 0
        last_open[at["early"]] = rng.integers(0, early_top, len(at["early"]))
        kind[at["queue"]] = 0
        last_open[at["queue"]] = 0
        kind[at["converted"]] = 1
        last_open[at["converted"]] = last_position
        t_end = np.where(
            kind == 2,
            self.anchor - rng.uniform(1, 700, len(vector)) * DAY,
            self.anchor - np.maximum(2 * HOUR, rng.uniform(0.1, 120, len(vector)) * DAY),
        )
        t_end = np.round(t_end).astype(np.int64)
        t_end[at["converted"]] = self.opp_created[self.conversion_opps]
        lengths = last_open + 1 + (kind != 0)
        rec = np.repeat(vector, lengths)
        pos = _positions(lengths)
        stage = open_idx[np.minimum(pos, len(open_idx) - 1)]
        closing = pos > np.repeat(last_open, lengths)
        stage[closing] = np.where(np.repeat(kind, lengths)[closing] == 1, won, lost)
        lag_rows = (stage == won) & np.isin(np.r_[0, stage[:-1]], convert_now) & (pos > 0)
        time_ = self._backward_times(rng, rec, pos, stage, lengths, t_end, target, lag_rows)

        # Planted SLA leads.
        self.planted_leads: dict[int, PlantedRecord] = {}
        planted_conversions: list[tuple[int, int, int]] = []
        rows: list[tuple[int, int, int, int]] = []
        for case in lead_cases:
            policy = next(p for p in rules.policies if p.policy_id == case.policy_id)
            entered = names.index(policy.start_value)
            path = [int(s) for s in open_idx if order[s] < order[entered]] + [entered]
            times = self._times(rng, path, case.start, target, is_open)
            record = PlantedRecord(rows=list(zip(path, times, strict=True)), owner=case.owner, zone=case.zone)
            if len(path) > 1:
                record.tasks.append((times[1] - int(rng.uniform(5, 30) * MINUTE), ORDINARY_TASK_TYPES[1]))
            for p in range(1, len(path) - 1):
                for other in rules.policies:
                    if (
                        other.start_object == "lead"
                        and other.start_value == names[path[p]]
                        and other.end_event == "activity_logged"
                    ):
                        record.tasks.append((times[p] + 30 * MINUTE, other.end_value or ORDINARY_TASK_TYPES[1]))
            if case.end is not None:
                if policy.end_event == "activity_logged":
                    record.tasks.append((case.end, policy.end_value or ORDINARY_TASK_TYPES[0]))
                else:
                    record.rows.append((won, case.end))
                    record.conversion = case.end
                    planted_conversions.append((case.record_idx, self.planted_conversion_opp[id(case)], case.end))
            rows.extend((case.record_idx, p, s, t) for p, (s, t) in enumerate(record.rows))
            self.planted_leads[case.record_idx] = record
        if rows:
            extra = np.array(rows, dtype=np.int64)
            rec, pos = np.concatenate([rec, extra[:, 0]]), np.concatenate([pos, extra[:, 1]])
            stage, time_ = np.concatenate([stage, extra[:, 2]]), np.concatenate([time_, extra[:, 3]])
        sort = np.lexsort((pos, rec))
        rec, pos, stage, time_ = rec[sort], pos[sort], stage[sort], time_[sort]
        first = pos == 0
        last = np.flatnonzero(np.r_[rec[1:] != rec[:-1], True])
        current = np.zeros(n, dtype=np.int64)
        current[rec[last]] = stage[last]
        created = np.zeros(n, dtype=np.int64)
        created[rec[first]] = time_[first]
        t_last = np.zeros(n, dtype=np.int64)
        t_last[rec[last]] = time_[last]

        # Conversions: bulk ones pair with the conversion deals; planted ones with their SLA deals.
        conv_lead = np.concatenate([converted, [c[0] for c in planted_conversions]]).astype(np.int64)
        conv_opp = np.concatenate([self.conversion_opps, [c[1] for c in planted_conversions]]).astype(np.int64)
        conv_time = np.concatenate(
            [self.opp_created[self.conversion_opps], [c[2] for c in planted_conversions]]
        ).astype(np.int64)
        conv_account = self.opp_account[conv_opp]
        conv_orphan = np.zeros(len(conv_lead), dtype=bool)
        conv_orphan[rng.choice(len(converted), size=_count(0.02, len(converted)), replace=False)] = True
        n_contacts = self.n["contact"] + int((~conv_orphan).sum())
        self.contact_ids = salesforce_ids("003", 300_000 + np.arange(n_contacts))
        conv_contact = np.full(len(conv_lead), -1)
        conv_contact[~conv_orphan] = self.n["contact"] + np.arange(int((~conv_orphan).sum()))

        # Field values.
        owner = self.sdr[rng.integers(0, len(self.sdr), n)]
        owner[inactive] = np.array(self.inactive_sdr)[rng.integers(0, len(self.inactive_sdr), len(inactive))]
        for case in lead_cases:
            owner[case.record_idx] = case.owner
        first_name = rng.integers(0, len(FIRST_NAMES), n)
        last_name = rng.integers(0, len(LAST_NAMES), n)
        is_conv = np.zeros(n, dtype=bool)
        is_conv[conv_lead] = True
        account_of = np.zeros(n, dtype=np.int64)
        account_of[conv_lead] = conv_account
        word = _pseudo_words(np.arange(n), 5, salt=29)
        own_domain = _join(word, _pick([".com", ".io", ".net", ".co"], rng.integers(0, 4, n)))
        conv_mask = pa.array(is_conv)
        domain = pc.if_else(conv_mask, self.acc_domain.take(pa.array(account_of)), own_domain)
        local = _join(pc.utf8_lower(_pick(FIRST_NAMES, first_name)), ".", pc.utf8_lower(_pick(LAST_NAMES, last_name)))
        email = _unique_emails(local, domain)
        company = pc.if_else(
            conv_mask,
            self.acc_name.take(pa.array(account_of)),
            _join(pc.utf8_capitalize(word), " ", _pick(NOUNS, rng.integers(0, len(NOUNS), n))),
        )
        country = _weighted(rng, [COUNTRY_WEIGHTS.get(c, 3) for c in self.country_codes], n)
        country_text = _pick(
            self.country_flat, self.country_offsets[country] + rng.integers(0, self.country_sizes[country])
        )
        ids = self.lead_ids = salesforce_ids("00Q", 600_000 + np.arange(n))
        queues = salesforce_ids("00G", 7000 + np.arange(3))
        owner_at_creation = owner.copy()
        surviving = np.ones(n, dtype=bool)
        surviving[np.concatenate([deleted, merge_losers])] = False
        routed = self._plant_routing(
            rec, pos, stage, time_, surviving, np.concatenate([planted, queue, inactive]), owner
        )
        frame = Frame("lead", n)
        frame["id"] = ids
        frame["first_name"] = _pick(FIRST_NAMES, first_name)
        frame["last_name"] = _pick(LAST_NAMES, last_name)
        frame["company"] = company
        frame["email"] = email
        frame["phone"] = _join("+1 555 ", pa.array(rng.integers(1000, 9999, n)).cast(pa.string()))
        frame["title"] = _pick(TITLES, rng.integers(0, len(TITLES), n))
        frame["website"] = _join("www.", domain)
        frame["status"] = _pick(names, current)
        sources = rules.allowed_values("lead", "lead_source", ["Web"])
        frame["lead_source"] = _pick(sources, rng.integers(0, len(sources), n))
        frame["industry"] = _pick(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n))
        frame["number_of_employees"] = pa.array(np.clip(np.exp(rng.normal(4.2, 1.3, n)), 1, 100_000).astype(np.int64))
        frame["country"] = country_text
        frame["owner_id"] = self.user_ids.take(pa.array(owner))
        frame.put("owner_id", queue, queues.take(pa.array(rng.integers(0, 3, len(queue)))))
        frame["is_converted"] = conv_mask
        converted_date = np.zeros(n, dtype=np.int64)
        converted_date[conv_lead] = conv_time
        frame["converted_date"] = _dates(converted_date, mask=~is_conv)
        frame["converted_account_id"] = self.acc_ids.take(pa.array(account_of, mask=~is_conv))
        contact_of = np.full(n, -1)
        contact_of[conv_lead] = conv_contact
        frame["converted_contact_id"] = self.contact_ids.take(pa.array(np.maximum(contact_of, 0), mask=contact_of < 0))
        orphan_leads = conv_lead[conv_orphan]
        frame.put(
            "converted_contact_id", orphan_leads, salesforce_ids("003", ORPHAN_COUNTER + np.arange(len(orphan_leads)))
        )
        opp_of = np.zeros(n, dtype=np.int64)
        opp_of[conv_lead] = conv_opp
        frame["converted_opportunity_id"] = self.opp_ids.take(pa.array(opp_of, mask=~is_conv))
        frame["created_date"] = _ts(created)
        by_integration = np.zeros(n, dtype=bool)
        by_integration[vector] = rng.random(len(vector)) < 0.3
        by_integration[queue] = True
        creator = np.where(by_integration, self.integration_user, owner_at_creation)
        frame["created_by_id"] = self.user_ids.take(pa.array(creator))
        frame["last_modified_date"] = _ts(np.minimum(self.anchor - MINUTE, t_last + HOUR))
        frame.nulls("last_activity_date", pa.date32())
        frame["is_deleted"] = pa.array(np.isin(np.arange(n), np.concatenate([deleted, merge_losers])))
        frame.nulls("master_record_id", pa.string())
        frame["_fivetran_synced"] = self.synced(rng, n)
        frame["rating"] = _pick(RATINGS, rng.integers(0, len(RATINGS), n))
        self.extras["lead"] = {"rating": "VARCHAR"}

        # Conversions that point at a merged-away account (the deal sits on the survivor).
        merged_conv = np.flatnonzero(np.isin(conv_opp, list(self.conversion_loser)))
        frame.put(
            "converted_account_id",
            conv_lead[merged_conv],
            self.acc_ids.take(pa.array([self.conversion_loser[int(o)] for o in conv_opp[merged_conv]])),
        )
        record_ids = _ids(ids, conv_lead[merged_conv])
        losers = np.array([self.conversion_loser[int(o)] for o in conv_opp[merged_conv]], dtype=np.int64)
        for depth in (1, 2, 3):
            hit = [r for r, loser in zip(record_ids, losers, strict=True) if self.acc_depth[loser] == depth]
            self.fact("merge_chain_resolution", "lead", hit, note=f"converted_account_id -> account, depth={depth}")
        loser_list, final_list = _ids(self.acc_ids, losers), _ids(self.acc_ids, self.acc_final[losers])
        for i, record_id in enumerate(record_ids):
            self.merge_row(
                "lead",
                record_id,
                "converted_account_id",
                "account",
                loser_list[i],
                final_list[i],
                int(self.acc_depth[losers[i]]),
            )
        self.fact("orphaned_fk", "lead", ids.take(pa.array(orphan_leads)), note="converted_contact_id -> contact")

        # Merged leads, duplicates.
        alive = np.ones(n, dtype=bool)
        alive[deleted] = False
        alive[merge_losers] = False
        self.lead_alive = alive
        self.lead_losers = merge_losers
        self.lead_survivor_of = dict(zip(merge_losers.tolist(), merge_survivors.tolist(), strict=True))
        self._copy_person(frame, merge_losers, merge_survivors, variant_start=1)
        frame.put("master_record_id", merge_losers, ids.take(pa.array(merge_survivors)))
        self.fact("deleted", "lead", ids.take(pa.array(deleted)))
        self.fact("merged", "lead", ids.take(pa.array(merge_losers)), note="is_deleted and master_record_id set")
        for loser, survivor in zip(_ids(ids, merge_losers), _ids(ids, merge_survivors), strict=True):
            self.merge_row("lead", loser, "master_record_id", "lead", survivor, survivor, 1)
        self._person_duplicates(frame, "lead", dup_members, group_sizes)
        self.lead_conversions = {
            "lead": conv_lead[~conv_orphan],
            "account": conv_account[~conv_orphan],
            "time": conv_time[~conv_orphan],
            "contact": conv_contact[~conv_orphan],
            "owner": owner[conv_lead[~conv_orphan]],
            "email": email.take(pa.array(conv_lead[~conv_orphan])),
        }
        converted_rows = pa.array(conv_lead[~conv_orphan])
        self.lead_frame_orig = {
            c: frame[c].take(converted_rows)
            for c in ("first_name", "last_name", "phone", "title", "lead_source", "country")
        }
        self.plant_dictionary("lead", frame, pool, alive=alive, stage_order=order[current])
        handoff = self._plant_lead_handoff(
            frame, rec, pos, stage, time_, alive, np.concatenate([planted, routed["lead"]])
        )
        self.emit("lead", frame)
        del frame, email, domain, own_domain, company, word, local, country_text, conv_mask

        self._lead_history(
            rng,
            rec,
            pos,
            stage,
            time_,
            created,
            creator,
            owner,
            queue,
            inactive,
            planted,
            deleted,
            queues,
            owner_at_creation=owner_at_creation,
            extra=[routed, handoff],
        )
        self.fact("routing_queue_owner", "lead", ids.take(pa.array(queue)))
        self.fact("routing_inactive_owner", "lead", ids.take(pa.array(inactive)))
        self.fact("created_by_integration", "lead", ids.filter(pa.array(by_integration & alive)))
        self.fact(
            "status_intervals",
            "lead",
            count=int(alive.sum() + (alive[rec] & (pos > 0)).sum()),
            note="rows of int_lead_statuses_intervaled (surviving leads)",
        )

        # Tasks: the touch that moved a lead out of its first status; bulk SLA ends; planted events.
        touch = np.flatnonzero((pos == 1) & alive[rec] & ~np.isin(rec, planted))
        self.add_tasks(
            "lead_touch",
            time=time_[touch] - _uniform_seconds(rng, 5 * MINUTE, 30 * MINUTE, len(touch)),
            owner=self.user_ids.take(pa.array(owner[rec[touch]])),
            who=ids.take(pa.array(rec[touch])),
            rng=rng,
        )
        for policy in rules.policies:
            if policy.start_object != "lead":
                continue
            hit = np.flatnonzero(
                (pos > 0) & (stage == names.index(policy.start_value)) & alive[rec] & ~np.isin(rec, planted)
            )
            self._bulk_sla_tasks(rng, policy, time_[hit], owner=owner[rec[hit]], who=ids.take(pa.array(rec[hit])))
            self.bulk_sla[policy.policy_id] = ids.take(pa.array(rec[hit]))
        for idx, record in sorted(self.planted_leads.items()):
            if record.tasks:
                times = np.array([t for t, _ in record.tasks])
                self.add_tasks(
                    "planted_lead",
                    time=times,
                    owner=self.user_ids.take(pa.array([owner[idx]] * len(times))),
                    who=ids.take(pa.array([idx] * len(times))),
                    types=pa.array([kind for _, kind in record.tasks], pa.string()),
                )
        self.evaluate_planted("lead", self.planted_leads, ids, names, owner)

    def _lead_history(
        self,
        rng: np.random.Generator,
        rec: np.ndarray,
        pos: np.ndarray,
        stage: np.ndarray,
        time_: np.ndarray,
        created: np.ndarray,
        creator: np.ndarray,
        owner: np.ndarray,
        queue: np.ndarray,
        inactive: np.ndarray,
        planted: np.ndarray,
        deleted: np.ndarray,
        queues: pa.Array,
        *,
        owner_at_creation: np.ndarray,
        extra: Sequence[dict[str, Any]] = (),
    ) -> None:
        n = len(created)
        ids = self.lead_ids
        names = self.lead_stage_names
        status = np.flatnonzero(pos > 0)
        candidates = np.setdiff1d(np.arange(n), np.concatenate([queue, inactive, planted]))
        reassigned = np.sort(candidates[rng.random(len(candidates)) < 0.2])
        reassigned_at = created[reassigned] + _uniform_seconds(rng, 2 * MINUTE, 90 * MINUTE, len(reassigned))
        reassigned_from = queues.take(pa.array(rng.integers(0, len(queues), len(reassigned))))
        # Routing at creation must stay out of every SLA window: keep only changes before the lead's
        # first Status change (every SLA clock starts on one); none is dropped with the current gaps.
        first_status = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_status, rec[status], time_[status])
        early = reassigned_at < first_status[reassigned]
        if not early.all():
            self.notes.append(f"{int((~early).sum())} creation-time Owner changes dropped (after a status change)")
        reassigned, reassigned_at = reassigned[early], reassigned_at[early]
        reassigned_from = reassigned_from.filter(pa.array(early))
        parts = {
            "lead": [np.arange(n), rec[status], reassigned],
            "time": [created, time_[status], reassigned_at],
            "field": [
                pa.array(["created"] * n),
                pa.array(["Status"] * len(status)),
                pa.array(["Owner"] * len(reassigned)),
            ],
            "old": [pa.nulls(n, pa.string()), _pick(names, stage[status - 1]), reassigned_from],
            "new": [
                pa.nulls(n, pa.string()),
                _pick(names, stage[status]),
                self.user_ids.take(pa.array(owner_at_creation[reassigned])),
            ],
            "by": [creator, owner[rec[status]], np.full(len(reassigned), self.integration_user)],
        }
        for rows in extra:
            parts["lead"].append(np.asarray(rows["lead"], dtype=np.int64))
            parts["time"].append(np.asarray(rows["time"], dtype=np.int64))
            parts["field"].append(pa.array(rows["field"], pa.string()))
            parts["old"].append(pa.array(rows["old"], pa.string()))
            parts["new"].append(pa.array(rows["new"], pa.string()))
            parts["by"].append(np.full(len(rows["lead"]), self.integration_user))
        lead = np.concatenate(parts["lead"])
        when = np.concatenate(parts["time"])
        sort = np.lexsort((lead, when))
        m = len(lead)
        frame = Frame("lead_history", m)
        frame["id"] = salesforce_ids("017", 800_000 + np.arange(m))
        frame["lead_id"] = ids.take(pa.array(lead[sort]))
        frame["field"] = pa.concat_arrays(parts["field"]).take(pa.array(sort))
        frame["old_value"] = pa.concat_arrays(parts["old"]).take(pa.array(sort))
        frame["new_value"] = pa.concat_arrays(parts["new"]).take(pa.array(sort))
        frame["created_date"] = _ts(when[sort])
        frame["created_by_id"] = self.user_ids.take(pa.array(np.concatenate(parts["by"])[sort]))
        gone = np.isin(lead[sort], deleted)
        frame["is_deleted"] = pa.array(gone)
        frame["_fivetran_synced"] = self.synced(rng, m)
        self.emit("lead_history", frame)
        self.fact("deleted", "lead_history", frame["id"].filter(pa.array(gone)))

    @staticmethod
    def _min_bulk_end_lag(policy: Policy) -> int:
        """The shortest time from a bulk SLA start to its end event (see _bulk_lag and lag_rows)."""
        if policy.end_event == "opportunity_created":
            return 20 * MINUTE
        unit_minutes = {"business_minutes": 1, "business_hours": 60, "business_days": 24 * 60}
        target_minutes = policy.target_value * unit_minutes.get(policy.target_unit, 60)
        return 20 * MINUTE if target_minutes >= 120 else int(0.1 * target_minutes * MINUTE)

    def _plant_routing(
        self,
        rec: np.ndarray,
        pos: np.ndarray,
        stage: np.ndarray,
        time_: np.ndarray,
        surviving: np.ndarray,
        excluded: np.ndarray,
        owner: np.ndarray,
    ) -> dict[str, Any]:
        """Leads handed to another owner while an SLA clock runs (routing_reassigned_after_sla_start).

        Per lead policy, bulk leads with a start of it get an 'Owner' LeadHistory row strictly after the
        start and before their end event (bulk ends come at least _min_bulk_end_lag later); owner_id
        becomes an active person in the old owner's time zone, so every calendar, due time and SLA status
        stays as it was. Changes `owner` in place; returns the history rows."""
        rng = self.rng("routing")
        names = self.lead_stage_names
        taken = np.zeros(len(owner), dtype=bool)
        taken[excluded] = True
        zone = np.array(self.user_zone)
        out: dict[str, Any] = {"lead": [], "time": [], "field": [], "old": [], "new": []}
        for policy in self.rules.policies:
            if policy.start_object != "lead":
                continue
            hit = np.flatnonzero((pos > 0) & (stage == names.index(policy.start_value)) & surviving[rec])
            free = hit[~taken[rec[hit]]]
            k = _count(RATE["routing_reassigned"], len(hit))
            if len(free) < k:
                raise ValueError(f"scale too small: {k} leads needed for routing after {policy.policy_id}")
            chosen = np.sort(rng.choice(free, size=k, replace=False))
            leads = rec[chosen]
            taken[leads] = True
            room = min(15 * MINUTE, self._min_bulk_end_lag(policy) // 2)
            when = time_[chosen] + np.maximum(1, np.round(rng.uniform(0.2, 1.0, k) * room).astype(np.int64))
            old = owner[leads]
            new = np.empty(k, dtype=np.int64)
            for user in np.unique(old):
                same = [u for u in self.takeover_users if zone[u] == zone[user] and u != user]
                if not same:
                    raise ValueError(f"no active user shares the time zone {zone[user]} of user {user}")
                best = [u for u in same if u in set(self.sdr.tolist())] or same
                mine = old == user
                new[mine] = np.array(best)[rng.integers(0, len(best), int(mine.sum()))]
            owner[leads] = new
            out["lead"] += leads.tolist()
            out["time"] += when.tolist()
            out["field"] += [LEAD_FIELD_API_NAMES["owner_id"]] * k
            out["old"] += _ids(self.user_ids, old)
            out["new"] += _ids(self.user_ids, new)
            self.fact(
                "routing_reassigned_after_sla_start",
                "lead",
                self.lead_ids.take(pa.array(leads)),
                rule_id=policy.policy_id,
                note="Owner changed after the SLA clock started, before its end",
            )
        out["lead"] = np.array(out["lead"], dtype=np.int64)
        return out

    def _plant_lead_handoff(
        self,
        frame: Frame,
        rec: np.ndarray,
        pos: np.ndarray,
        stage: np.ndarray,
        time_: np.ndarray,
        alive: np.ndarray,
        excluded: np.ndarray,
    ) -> dict[str, Any]:
        """Handoff fields empty when the SLA clock started, filled since (handoff_incomplete).

        Per lead policy and handoff field, bulk leads with a start of the policy get a LeadHistory row
        (field API name, old null, new = today's value) minutes after the start, before any later start of
        a policy needing the field. When an earlier start of such a policy exists (an SQL after its MQL),
        a row clearing the value (old = value, new null) sits between the two starts, so only this start
        sees it empty. Also records the SLA leads whose field is empty today (handoff_incomplete_now_empty).
        """
        rng = self.rng("handoff")
        names = self.lead_stage_names
        n = frame.n
        ids = frame["id"]
        policies = [p for p in self.rules.policies if p.start_object == "lead"]
        start_rows = {
            p.policy_id: np.flatnonzero((pos > 0) & (stage == names.index(p.start_value)) & alive[rec])
            for p in policies
        }
        start_of = {}
        for p in policies:
            start_of[p.policy_id] = np.full(n, -1, dtype=np.int64)
            start_of[p.policy_id][rec[start_rows[p.policy_id]]] = time_[start_rows[p.policy_id]]
        taken = np.zeros(n, dtype=bool)
        taken[excluded] = True
        out: dict[str, Any] = {"lead": [], "time": [], "field": [], "old": [], "new": []}
        for policy in policies:
            rows = start_rows[policy.policy_id]
            for field_name in policy.handoff_fields:
                column = self.raw_column("lead", field_name, "lead")
                if column is None or column in self.drops.get("lead", []):
                    self.notes.append(f"handoff {policy.policy_id} {field_name}: no lead column; not planted")
                    continue
                api_name = LEAD_FIELD_API_NAMES.get(column) or "".join(w.capitalize() for w in column.split("_"))
                values = frame[column].cast(pa.string())
                empty = _empty(values)
                sla_leads = np.unique(rec[rows])
                free = rows[~taken[rec[rows]] & ~empty[rec[rows]]]
                k = _count(RATE["handoff_incomplete"], len(rows))
                if len(free) < k:
                    raise ValueError(f"scale too small: {k} leads needed for handoff {policy.policy_id} {field_name}")
                chosen = np.sort(rng.choice(free, size=k, replace=False))
                leads = rec[chosen]
                taken[leads] = True
                start = time_[chosen]
                previous = np.full(k, -1, dtype=np.int64)
                following = np.full(k, self.anchor, dtype=np.int64)
                for other in policies:
                    if field_name not in other.handoff_fields or other.policy_id == policy.policy_id:
                        continue
                    at = start_of[other.policy_id][leads]
                    previous = np.where((at >= 0) & (at < start), np.maximum(previous, at), previous)
                    following = np.where(at > start, np.minimum(following, at), following)
                after = np.minimum(15 * MINUTE, (following - start) // 2)
                filled_at = start + np.maximum(1, np.round(rng.uniform(0.2, 1.0, k) * after).astype(np.int64))
                value = values.take(pa.array(leads)).to_pylist()
                out["lead"] += leads.tolist()
                out["time"] += filled_at.tolist()
                out["field"] += [api_name] * k
                out["old"] += [None] * k
                out["new"] += value
                cleared = np.flatnonzero(previous >= 0)
                if len(cleared):
                    before = np.minimum(60 * MINUTE, (start[cleared] - previous[cleared]) // 2)
                    offset = np.maximum(1, np.round(rng.uniform(0.2, 1.0, len(cleared)) * before).astype(np.int64))
                    out["lead"] += leads[cleared].tolist()
                    out["time"] += (start[cleared] - offset).tolist()
                    out["field"] += [api_name] * len(cleared)
                    out["old"] += [value[i] for i in cleared]
                    out["new"] += [None] * len(cleared)
                self.fact(
                    "handoff_incomplete", "lead", ids.take(pa.array(leads)), rule_id=policy.policy_id, note=field_name
                )
                self.fact(
                    "handoff_incomplete_now_empty",
                    "lead",
                    ids.take(pa.array(sla_leads[empty[sla_leads]])),
                    rule_id=policy.policy_id,
                    note=field_name,
                )
        out["lead"] = np.array(out["lead"], dtype=np.int64)
        return out

    def _copy_person(self, frame: Frame, targets: np.ndarray, sources: np.ndarray, variant_start: int) -> None:
        """Give `targets` the name and (differently written) email of `sources` (merged / duplicate people)."""
        emails = frame["email"].take(pa.array(sources)).to_pylist()
        frame.put("first_name", targets, frame["first_name"].take(pa.array(sources)))
        frame.put("last_name", targets, frame["last_name"].take(pa.array(sources)))
        frame.put("email", targets, [_email_variant(e, variant_start + i % 2) for i, e in enumerate(emails)])

    def _person_duplicates(self, frame: Frame, obj: str, members: np.ndarray, sizes: np.ndarray) -> None:
        rule = self._duplicate_rule(obj, "email")
        if rule is None:
            self.notes.append(f"no {obj} duplicate rule keyed on an email: {obj} duplicates not planted")
            return
        groups = np.split(members, np.cumsum(sizes)[:-1])
        targets, sources, variants = [], [], []
        for group in groups:
            for position, member in enumerate(group[1:], start=1):
                targets.append(int(member))
                sources.append(int(group[0]))
                variants.append(position)
        emails = frame["email"].take(pa.array(sources)).to_pylist()
        frame.put("first_name", targets, frame["first_name"].take(pa.array(sources)))
        frame.put("last_name", targets, frame["last_name"].take(pa.array(sources)))
        frame.put("email", targets, [_email_variant(e, v) for e, v in zip(emails, variants, strict=True)])
        ids = frame["id"]
        self.fact(
            "duplicate",
            obj,
            ids.take(pa.array([int(g[0]) for g in groups])),
            rule_id=rule,
            note="groups (ids of the first member)",
        )
        self.fact("duplicate", obj, ids.take(pa.array(members)), rule_id=rule, note="records")

    # ---- contacts --------------------------------------------------------------------------------
    def contacts(self) -> None:
        rng = self.rng("contact")
        bulk = self.n["contact"]
        conv = self.lead_conversions
        n = bulk + len(conv["lead"])
        pool = Pool("contact", bulk, rng)
        deleted = pool.take(_count(RATE["deleted"], bulk), what="deleted contacts")
        n_merge = _count(RATE["merged"], bulk)
        survivors = pool.take(n_merge, what="contact merge survivors")
        losers = pool.take(n_merge, what="merged contacts")
        group_sizes = rng.choice([2, 3], p=[0.7, 0.3], size=_count(RATE["duplicate_groups"], bulk))
        members = pool.take(int(group_sizes.sum()), what="duplicate contacts")
        references = pool.take(_count(RATE["merge_reference"], bulk), what="contacts on merged accounts")
        orphans = pool.take(_count(RATE["orphan"], bulk), what="orphaned contacts")

        account = np.concatenate(
            [self.acc_alive_idx[rng.integers(0, len(self.acc_alive_idx), bulk)], conv["account"]]
        ).astype(np.int64)
        leads = pa.array(np.arange(len(conv["lead"])))
        lead = self.lead_frame_orig
        first = pa.concat_arrays(
            [_pick(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), bulk)), lead["first_name"].take(leads)]
        )
        last = pa.concat_arrays(
            [_pick(LAST_NAMES, rng.integers(0, len(LAST_NAMES), bulk)), lead["last_name"].take(leads)]
        )
        local = _join(pc.utf8_lower(first.slice(0, bulk)), ".", pc.utf8_lower(last.slice(0, bulk)))
        bulk_email = _join(local, "@", self.acc_domain.take(pa.array(account[:bulk])))
        email = _unique_emails_full(pa.concat_arrays([bulk_email, conv["email"]]))
        owner = np.concatenate([self.acc_owner[account[:bulk]], conv["owner"]]).astype(np.int64)
        acc_created = self.acc_created[account[:bulk]]
        created = np.concatenate(
            [acc_created + (rng.random(bulk) * (self.anchor - HOUR - acc_created)).astype(np.int64), conv["time"]]
        ).astype(np.int64)
        ids = self.contact_ids
        frame = Frame("contact", n)
        frame["id"] = ids
        frame["account_id"] = self.acc_ids.take(pa.array(account))
        frame["first_name"] = first
        frame["last_name"] = last
        frame["email"] = email
        frame["phone"] = pa.concat_arrays(
            [_join("+1 555 ", pa.array(rng.integers(1000, 9999, bulk)).cast(pa.string())), lead["phone"].take(leads)]
        )
        frame["title"] = pa.concat_arrays(
            [_pick(TITLES, rng.integers(0, len(TITLES), bulk)), lead["title"].take(leads)]
        )
        country = self.acc_country[account[:bulk]]
        frame["mailing_country"] = pa.concat_arrays(
            [
                _pick(self.country_flat, self.country_offsets[country] + rng.integers(0, self.country_sizes[country])),
                lead["country"].take(leads),
            ]
        )
        sources = self.rules.allowed_values("lead", "lead_source", ["Web"])
        frame["lead_source"] = pa.concat_arrays(
            [_pick(sources, rng.integers(0, len(sources), bulk)), lead["lead_source"].take(leads)]
        )
        frame["owner_id"] = self.user_ids.take(pa.array(owner))
        frame["created_date"] = _ts(created)
        frame["created_by_id"] = frame["owner_id"]
        frame["last_modified_date"] = _ts(np.minimum(self.anchor - MINUTE, created + DAY))
        frame.nulls("last_activity_date", pa.date32())
        gone = np.zeros(n, dtype=bool)
        gone[deleted] = True
        gone[losers] = True
        frame["is_deleted"] = pa.array(gone)
        frame.nulls("master_record_id", pa.string())
        frame["_fivetran_synced"] = self.synced(rng, n)

        self._copy_person(frame, losers, survivors, variant_start=1)
        frame.put("master_record_id", losers, ids.take(pa.array(survivors)))
        self._person_duplicates(frame, "contact", members, group_sizes)
        self._reference_merged_accounts(rng, frame, "account_id", references, "contact")
        frame.put("account_id", orphans, salesforce_ids("001", ORPHAN_COUNTER + 50_000 + np.arange(len(orphans))))
        alive = ~gone
        plants = self.plant_dictionary("contact", frame, pool, alive=alive[:bulk], stage_order=None)
        self.emit("contact", frame)
        self.contact_alive = alive
        self.contact_losers = losers
        self.contact_survivor_of = dict(zip(losers.tolist(), survivors.tolist(), strict=True))
        self.fact("deleted", "contact", ids.take(pa.array(deleted)))
        self.fact("merged", "contact", ids.take(pa.array(losers)), note="is_deleted and master_record_id set")
        for loser, survivor in zip(_ids(ids, losers), _ids(ids, survivors), strict=True):
            self.merge_row("contact", loser, "master_record_id", "contact", survivor, survivor, 1)
        self.fact("orphaned_fk", "contact", ids.take(pa.array(orphans)), note="account_id -> account")

        # One task on most contacts whose account is a plain surviving account.
        plain = alive.copy()
        plain[np.concatenate([references, orphans, plants.get("account_id", np.array([], np.int64))])] = False
        chosen = np.flatnonzero(plain & (rng.random(n) < 0.8))
        times = created[chosen] + (rng.random(len(chosen)) * (self.anchor - HOUR - created[chosen])).astype(np.int64)
        self.add_tasks(
            "contact",
            time=times,
            owner=self.user_ids.take(pa.array(owner[chosen])),
            who=ids.take(pa.array(chosen)),
            what=self.acc_ids.take(pa.array(account[chosen])),
            account=self.acc_ids.take(pa.array(account[chosen])),
            rng=rng,
        )

    # ---- tasks -----------------------------------------------------------------------------------
    def tasks(self) -> None:
        rng = self.rng("task")
        total = sum(len(b["time"]) for b in self.task_blocks)
        some = max(3, int(round(0.002 * total)))
        span = lambda k: self.anchor - _uniform_seconds(rng, HOUR, 500 * DAY, k)  # noqa: E731
        ae = lambda k: self.user_ids.take(pa.array(self.ae[rng.integers(0, len(self.ae), k)]))  # noqa: E731
        orphan_who = pa.concat_arrays(
            [
                salesforce_ids("00Q", ORPHAN_COUNTER + np.arange(some)),
                salesforce_ids("003", ORPHAN_COUNTER + 90_000 + np.arange(some)),
            ]
        )
        self.add_tasks("orphan_who", time=span(2 * some), owner=ae(2 * some), who=orphan_who, rng=rng)
        losers = self.merged_accounts(rng, some)
        loser_ids = self.acc_ids.take(pa.array(losers))
        self.add_tasks("merged_account", time=span(some), owner=ae(some), what=loser_ids, account=loser_ids, rng=rng)
        lead_losers = self.lead_losers[rng.integers(0, len(self.lead_losers), some)]
        self.add_tasks(
            "merged_lead", time=span(some), owner=ae(some), who=self.lead_ids.take(pa.array(lead_losers)), rng=rng
        )
        contact_losers = self.contact_losers[rng.integers(0, len(self.contact_losers), some)]
        self.add_tasks(
            "merged_contact",
            time=span(some),
            owner=ae(some),
            who=self.contact_ids.take(pa.array(contact_losers)),
            rng=rng,
        )

        blocks = self.task_blocks
        kinds = np.concatenate([np.full(len(b["time"]), i) for i, b in enumerate(blocks)])
        when = np.concatenate([b["time"] for b in blocks])
        if (when >= self.anchor).any():
            raise AssertionError("a task lies after the anchor")
        sort = np.lexsort((np.arange(len(when)), when))
        take = pa.array(sort)
        n = len(when)
        kinds, when = kinds[sort], when[sort]
        task_type = pa.concat_arrays([b["type"].cast(pa.string()) for b in blocks]).take(take)
        frame = Frame("task", n)
        frame["id"] = ids = salesforce_ids("00T", 1_000_000 + np.arange(n))
        for column, key in (("who_id", "who"), ("what_id", "what"), ("account_id", "account"), ("owner_id", "owner")):
            frame[column] = pa.concat_arrays([b[key].cast(pa.string()) for b in blocks]).take(take)
        frame["subject"] = _join(task_type, " with customer")
        frame["type"] = task_type
        subtype = pc.if_else(pc.is_in(task_type, pa.array(list(TASK_SUBTYPE))), task_type, pa.scalar("Task"))
        frame["task_subtype"] = subtype
        frame["status"] = pa.array(["Completed"] * n, pa.string())
        frame["activity_date"] = _dates(when)
        frame["created_date"] = _ts(when)
        frame["created_by_id"] = frame["owner_id"]
        frame["last_modified_date"] = _ts(np.minimum(self.anchor - 1, when + _uniform_seconds(rng, 0, HOUR, n)))
        kind_names = [b["kind"] for b in blocks]
        deletable = np.isin(kinds, [i for i, k in enumerate(kind_names) if k in ("opportunity", "contact")])
        candidates = np.flatnonzero(deletable)
        deleted = np.sort(rng.choice(candidates, size=min(len(candidates), _count(RATE["deleted"], n)), replace=False))
        gone = np.zeros(n, dtype=bool)
        gone[deleted] = True
        frame["is_deleted"] = pa.array(gone)
        frame["_fivetran_synced"] = self.synced(rng, n)
        self.fact("deleted", "task", ids.take(pa.array(deleted)))

        def of(kind: str) -> np.ndarray:
            return np.flatnonzero(kinds == kind_names.index(kind))

        self.fact("orphaned_fk", "task", ids.take(pa.array(of("orphan_who"))), note="who_id -> lead or contact")
        offsets = np.cumsum([0] + [len(b["time"]) for b in blocks])

        def local(kind: str) -> tuple[list[str], np.ndarray]:
            """Task ids of a planted block and each row's index inside the block."""
            rows = of(kind)
            return _ids(ids, rows), sort[rows] - offsets[kind_names.index(kind)]

        task_ids, inside = local("merged_account")
        chosen = losers[inside]
        loser_list, final_list = _ids(self.acc_ids, chosen), _ids(self.acc_ids, self.acc_final[chosen])
        for depth in (1, 2, 3):
            self.fact(
                "merge_chain_resolution",
                "task",
                [t for t, a in zip(task_ids, chosen, strict=True) if self.acc_depth[a] == depth],
                note=f"account_id and what_id -> account, depth={depth}",
            )
        for i, t in enumerate(task_ids):
            for column in ("account_id", "what_id"):
                self.merge_row(
                    "task", t, column, "account", loser_list[i], final_list[i], int(self.acc_depth[chosen[i]])
                )
        for kind, obj, id_array, picked, survivor_of in (
            ("merged_lead", "lead", self.lead_ids, lead_losers, self.lead_survivor_of),
            ("merged_contact", "contact", self.contact_ids, contact_losers, self.contact_survivor_of),
        ):
            task_ids, inside = local(kind)
            chosen = picked[inside]
            who = _ids(id_array, chosen)
            survivors = _ids(id_array, [survivor_of[int(c)] for c in chosen])
            self.fact("merge_chain_resolution", "task", task_ids, note=f"who_id -> {obj}, depth=1")
            for t, w, survivor in zip(task_ids, who, survivors, strict=True):
                self.merge_row("task", t, "who_id", obj, w, survivor, 1)
        self.task_blocks = []
        self.emit("task", frame)

    # ---- Stripe ----------------------------------------------------------------------------------
    def stripe(self) -> None:
        rng = self.rng("stripe")
        product_names = list(PRODUCTS)
        product_ids = stripe_ids("prod_", 10 + np.arange(len(product_names)), 14)
        products = Frame("product", len(product_names))
        products["id"] = product_ids
        products["name"] = _strings(product_names)
        products["active"] = pa.array([True] * len(product_names))
        products["is_deleted"] = pa.array([False] * len(product_names))
        products["_fivetran_synced"] = self.synced(rng, len(product_names))
        self.emit("product", products)

        price_rows = [
            (product_names.index(name), interval, count, cents, "recurring")
            for name, options in PRODUCTS.items()
            for interval, count, cents in options
        ]
        price_rows.append((product_names.index("Premium Support"), None, None, 150_000, "one_time"))
        k = len(price_rows)
        price_ids = stripe_ids("price_", 100 + np.arange(k), 24)
        prices = Frame("price", k)
        prices["id"] = price_ids
        prices["product_id"] = product_ids.take(pa.array([r[0] for r in price_rows]))
        prices["unit_amount"] = pa.array([r[3] for r in price_rows], pa.int64())
        prices["currency"] = pa.array(["usd"] * k)
        prices["recurring_interval"] = _strings([r[1] for r in price_rows])
        prices["recurring_interval_count"] = pa.array([r[2] for r in price_rows], pa.int64())
        prices["type"] = _strings([r[4] for r in price_rows])
        prices["active"] = pa.array([True] * k)
        prices["is_deleted"] = pa.array([False] * k)
        prices["_fivetran_synced"] = self.synced(rng, k)
        self.emit("price", prices)

        plan_ids = stripe_ids("plan_", 200 + np.arange(len(LEGACY_PLANS)), 14)
        plans = Frame("plan", len(LEGACY_PLANS))
        plans["id"] = plan_ids
        plans["product_id"] = product_ids.take(pa.array([product_names.index(p[0]) for p in LEGACY_PLANS]))
        plans["amount"] = pa.array([p[3] for p in LEGACY_PLANS], pa.int64())
        plans["currency"] = pa.array(["usd"] * len(LEGACY_PLANS))
        plans["interval"] = _strings([p[1] for p in LEGACY_PLANS])
        plans["interval_count"] = pa.array([p[2] for p in LEGACY_PLANS], pa.int64())
        plans["active"] = pa.array([False] * len(LEGACY_PLANS))
        plans["is_deleted"] = pa.array([False] * len(LEGACY_PLANS))
        plans["_fivetran_synced"] = self.synced(rng, len(LEGACY_PLANS))
        self.emit("plan", plans)

        customer_created = self._customers(rng)
        self._subscriptions(rng, customer_created, price_rows, price_ids, plan_ids)

    def _customers(self, rng: np.random.Generator) -> np.ndarray:
        n = self.n["customer"]
        pool = Pool("customer", n, rng)
        deleted = pool.take(_count(RATE["deleted"], n), what="deleted customers")
        invalid = pool.take(_count(0.01, n), what="invalid CRM links")
        linked = pool.take(int(round(0.5 * n)), what="linked customers")
        by_domain = pool.take(int(round(0.3 * n)), what="domain-matched customers")
        unmatched = pool.take(int(pool.free.sum()), what="unmatched customers")
        via_merged = np.sort(rng.choice(linked, size=_count(0.06, len(linked)), replace=False))
        account = np.full(n, -1)
        account[linked] = self.acc_alive_idx[rng.integers(0, len(self.acc_alive_idx), len(linked))]
        account[via_merged] = self.merged_accounts(rng, len(via_merged))
        account[by_domain] = self.acc_domain_targets[rng.integers(0, len(self.acc_domain_targets), len(by_domain))]
        has_account = account >= 0
        acc_take = pa.array(np.maximum(account, 0), mask=~has_account)
        first = _pick(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n))
        last = _pick(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n))
        local = _join(pc.utf8_lower(first), ".", pc.utf8_lower(last))
        acc_domain = self.acc_domain.take(acc_take)
        personal = _pick(self.rules.personal_domains, rng.integers(0, len(self.rules.personal_domains), n))
        codes = np.arange(n)
        unknown = _join(_pseudo_words(codes % 85**3, 3, salt=5), "-", _pseudo_words(codes % 85**2, 2, salt=3), ".com")
        style = rng.random(n)
        other_email = pc.if_else(
            pa.array(style < 0.6),
            _join(local, pa.array(rng.integers(1, 99, n)).cast(pa.string()), "@", personal),
            pc.if_else(pa.array(style < 0.9), _join(local, "@", unknown), pa.nulls(n, pa.string())),
        )
        other_email = pc.if_else(pa.array(np.isin(np.arange(n), invalid)), _join(local, "@", personal), other_email)
        email = pc.if_else(
            pa.array(np.isin(np.arange(n), linked)),
            _join("billing@", acc_domain),
            pc.if_else(pa.array(np.isin(np.arange(n), by_domain)), _join(local, "@", acc_domain), other_email),
        )
        link_ids = self.acc_ids.take(acc_take)
        invalid_ids = salesforce_ids("001", ORPHAN_COUNTER + 70_000 + np.arange(n))
        key = self.crm_key
        linked_mask = pa.array(np.isin(np.arange(n), np.concatenate([linked, invalid])))
        link_value = pc.if_else(pa.array(np.isin(np.arange(n), invalid)), invalid_ids, link_ids)
        metadata = pc.if_else(
            linked_mask,
            _join('{"', key, '": "', link_value, '"}'),
            _pick(["{}", '{"segment": "smb"}'], rng.integers(0, 2, n)),
        )
        ids = self.customer_ids = stripe_ids("cus_", 1000 + np.arange(n), 14)
        frame = Frame("customer", n)
        frame["id"] = ids
        frame["email"] = email
        frame["name"] = pc.if_else(
            pa.array(has_account & ~np.isin(np.arange(n), via_merged)),
            self.acc_name.take(acc_take),
            _join(first, " ", last),
        )
        frame["description"] = pc.if_else(
            pa.array(rng.random(n) < 0.2), pa.scalar("Imported from billing"), pa.nulls(n, pa.string())
        )
        frame["metadata"] = metadata
        frame["currency"] = pa.array(["usd"] * n)
        created = self.anchor - _uniform_seconds(rng, 30 * DAY, 900 * DAY, n)
        frame["created"] = _ts(created)
        gone = np.zeros(n, dtype=bool)
        gone[deleted] = True
        frame["is_deleted"] = pa.array(gone)
        frame["livemode"] = pa.array([True] * n)
        frame["_fivetran_synced"] = self.synced(rng, n)
        self.emit("customer", frame)
        self.customer_alive = ~gone

        resolved = np.where(
            account >= 0,
            np.where(self.acc_final[np.maximum(account, 0)] >= 0, self.acc_final[np.maximum(account, 0)], account),
            -1,
        )
        matched = np.zeros(n, dtype=bool)
        matched[linked] = True
        matched[by_domain] = True
        method = np.full(n, "unmatched", dtype=object)
        method[linked] = "crm_link"
        method[by_domain] = "domain"
        keep = np.flatnonzero(~gone)
        self.customer_match = pa.table(
            {
                "customer_id": ids.take(pa.array(keep)),
                "match_method": pa.array(method[keep].tolist(), pa.string()),
                "expected_crm_account_id": self.acc_ids.take(
                    pa.array(np.maximum(resolved[keep], 0), mask=~matched[keep])
                ),
                "has_invalid_crm_link": pa.array(np.isin(keep, invalid)),
            }
        )
        self.fact("deleted", "customer", ids.take(pa.array(deleted)))
        self.fact(
            "crm_link",
            "customer",
            ids.take(pa.array(linked)),
            note=f"metadata.{key} names a CRM account (through merge chains for some)",
        )
        self.fact(
            "domain_match",
            "customer",
            ids.take(pa.array(by_domain)),
            note="no link; email domain = one surviving account's website domain",
        )
        self.fact(
            "unmatched_customer",
            "customer",
            ids.take(pa.array(unmatched)),
            note="personal, unknown or no email domain; no link",
        )
        self.fact(
            "invalid_crm_link",
            "customer",
            ids.take(pa.array(invalid)),
            note="link to a missing account, personal email: match_method unmatched",
        )
        merged_ids = _ids(ids, via_merged)
        loser_list, final_list = _ids(self.acc_ids, account[via_merged]), _ids(self.acc_ids, resolved[via_merged])
        for depth in (1, 2, 3):
            hit = [c for c, i in zip(merged_ids, via_merged, strict=True) if self.acc_depth[account[i]] == depth]
            self.fact("merge_chain_resolution", "customer", hit, note=f"metadata.{key} -> account, depth={depth}")
        for j, i in enumerate(via_merged):
            self.merge_row(
                "customer",
                merged_ids[j],
                f"metadata.{key}",
                "account",
                loser_list[j],
                final_list[j],
                int(self.acc_depth[account[i]]),
            )
        return created

    def _subscriptions(
        self,
        rng: np.random.Generator,
        customer_created: np.ndarray,
        price_rows: list[tuple],
        price_ids: pa.Array,
        plan_ids: pa.Array,
    ) -> None:
        statuses = [s for s, _ in self.rules.subscription_statuses]
        counting = np.array([c for _, c in self.rules.subscription_statuses])
        weights, rank = [], 0
        for counts in counting:
            weights.append(10 * 0.2**rank if counts else 1.0)
            rank += int(counts)
        alive_customers = np.flatnonzero(self.customer_alive)
        per_customer = _weighted(rng, [0.05, 0.80, 0.15], len(alive_customers))
        owner = np.repeat(alive_customers, per_customer)
        n_orphans = _count(RATE["orphan"], len(owner))
        m = len(owner) + n_orphans
        customer = pa.concat_arrays(
            [self.customer_ids.take(pa.array(owner)), stripe_ids("cus_", ORPHAN_COUNTER + np.arange(n_orphans), 14)]
        )
        status = _weighted(rng, weights, m)
        base = np.concatenate(
            [customer_created[owner], self.anchor - _uniform_seconds(rng, 60 * DAY, 600 * DAY, n_orphans)]
        )
        created = base + (rng.random(m) * (self.anchor - DAY - base)).astype(np.int64)
        n_items = _weighted(rng, [0.6, 0.3, 0.1], m) + 1
        sub_of_item = np.repeat(np.arange(m), n_items)
        ni = len(sub_of_item)
        recurring = np.array([i for i, r in enumerate(price_rows) if r[4] == "recurring"])
        price_choice = recurring[rng.integers(0, len(recurring), ni)]
        legacy = rng.random(ni) < 0.1
        plan_choice = rng.integers(0, len(LEGACY_PLANS), ni)
        price_known = np.where(legacy, -1, price_choice)
        plan_known = np.where(legacy, plan_choice, -1)

        sub_ids = stripe_ids("sub_", 5000 + np.arange(m), 24)
        item_ids = stripe_ids("si_", 9000 + np.arange(ni), 14)
        frame = Frame("subscription", m)
        frame["id"] = sub_ids
        frame["customer_id"] = customer
        frame["status"] = _pick(statuses, status)
        self._subscription_dates(rng, frame, created, [statuses[s] for s in status])
        frame["metadata"] = pa.array(["{}"] * m)
        frame["livemode"] = pa.array([True] * m)
        frame.nulls("_fivetran_active", pa.bool_())
        frame["_fivetran_deleted"] = pa.array([False] * m)
        frame["_fivetran_synced"] = self.synced(rng, m)

        # Planted: subscriptions with no price on their only item, unknown prices, dictionary rules.
        pool = Pool("subscription", m, rng)
        pool.free[len(owner) :] = False
        first_item = _group_starts(n_items)
        mrr_rule = next(
            (
                r["rule_id"]
                for r in self.rules.dictionary
                if r["object"] == "subscription" and r["field"] == "mrr" and _bool(r["is_required"])
            ),
            None,
        )
        if mrr_rule:
            no_price = pool.take(_count(RATE["missing"], m), (n_items == 1) & counting[status], mrr_rule)
            price_known[first_item[no_price]] = -1
            plan_known[first_item[no_price]] = -1
            self.fact(
                "missing_required_field",
                "subscription",
                sub_ids.take(pa.array(no_price)),
                rule_id=mrr_rule,
                note="mrr: its only item has neither price_id nor plan_id",
            )
        unknown_price = pool.take(_count(RATE["orphan"], m), n_items >= 2, "items with an unknown price")
        orphan_items = first_item[unknown_price]
        price_known[orphan_items] = -1
        plan_known[orphan_items] = -1
        alive = np.ones(m, dtype=bool)
        self.plant_dictionary("subscription", frame, pool, alive=alive, stage_order=None, special=("mrr",))

        items = Frame("subscription_item", ni)
        items["id"] = item_ids
        items["subscription_id"] = sub_ids.take(pa.array(sub_of_item))
        items["price_id"] = price_ids.take(pa.array(np.maximum(price_known, 0), mask=price_known < 0))
        items.put("price_id", orphan_items, stripe_ids("price_", ORPHAN_COUNTER + np.arange(len(orphan_items)), 24))
        items["plan_id"] = plan_ids.take(pa.array(np.maximum(plan_known, 0), mask=plan_known < 0))
        quantity = np.minimum(rng.geometric(0.2, ni), 50).astype(np.int64)
        items["quantity"] = pa.array(quantity)
        items["created"] = _ts(created[sub_of_item])
        items["_fivetran_deleted"] = pa.array([False] * ni)
        items["_fivetran_synced"] = self.synced(rng, ni)
        self.emit("subscription_item", items)
        self.fact("orphaned_fk", "subscription_item", item_ids.take(pa.array(orphan_items)), note="price_id -> price")
        self.fact("orphaned_fk", "subscription", sub_ids.slice(len(owner)), note="customer_id -> customer")

        # Expected MRR: exact sum over counting subscriptions of items with a known price or plan.
        counted_status = pa.array([s for s, c in self.rules.subscription_statuses if c], pa.string())
        counts_now = pc.fill_null(pc.is_in(frame["status"], counted_status), False).to_numpy(zero_copy_only=False)
        cents = np.zeros(ni, dtype=np.int64)
        interval = np.full(ni, "", dtype=object)
        interval_count = np.ones(ni, dtype=np.int64)
        by_price, by_plan = price_known >= 0, plan_known >= 0
        cents[by_price] = np.array([r[3] for r in price_rows])[price_known[by_price]]
        interval[by_price] = np.array([r[1] for r in price_rows], dtype=object)[price_known[by_price]]
        interval_count[by_price] = np.array([r[2] or 1 for r in price_rows])[price_known[by_price]]
        cents[by_plan] = np.array([p[3] for p in LEGACY_PLANS])[plan_known[by_plan]]
        interval[by_plan] = np.array([p[1] for p in LEGACY_PLANS], dtype=object)[plan_known[by_plan]]
        interval_count[by_plan] = np.array([p[2] for p in LEGACY_PLANS])[plan_known[by_plan]]
        counted = counts_now[sub_of_item] & (by_price | by_plan)
        per_month = {"day": Fraction(365, 12), "week": Fraction(52, 12), "month": Fraction(1), "year": Fraction(1, 12)}
        total = Fraction(0)
        for name, factor in per_month.items():
            for count in np.unique(interval_count[counted & (interval == name)]):
                hit = counted & (interval == name) & (interval_count == count)
                total += Fraction(int((cents[hit] * quantity[hit]).sum())) * factor / int(count)
        mrr_cents = int((total + Fraction(1, 2)) // 1)
        self.fact(
            "mrr_total",
            "subscription",
            sub_ids.take(pa.array(np.unique(sub_of_item[counted]))),
            count=mrr_cents,
            note="USD cents: sum of quantity x unit amount / 100 per month over current subscriptions whose "
            "status counts_toward_mrr (items with a known price or plan), exact, rounded to cents; "
            "record_ids = the subscriptions counted",
        )
        self.emit(
            "subscription", self._subscription_versions(rng, frame, status, statuses) if self.history_mode else frame
        )

    def _subscription_dates(
        self, rng: np.random.Generator, frame: Frame, created: np.ndarray, status: list[str]
    ) -> None:
        m = len(created)
        ended = np.array([s in ("canceled", "incomplete_expired") for s in status])
        trial = np.array([s == "trialing" for s in status])
        end_at = created + (rng.random(m) * (self.anchor - MINUTE - created)).astype(np.int64)
        period_start = np.where(
            ended,
            np.maximum(created, end_at - 30 * DAY),
            np.maximum(created, self.anchor - _uniform_seconds(rng, HOUR, 29 * DAY, m)),
        )
        frame["created"] = _ts(created)
        frame["start_date"] = _ts(created)
        frame["current_period_start"] = _ts(period_start)
        frame["current_period_end"] = _ts(period_start + 30 * DAY)
        frame["cancel_at_period_end"] = pa.array(~ended & (rng.random(m) < 0.05))
        frame["canceled_at"] = _ts(end_at, mask=~ended)
        frame["ended_at"] = _ts(end_at, mask=~ended)
        frame["trial_start"] = _ts(period_start, mask=~trial)
        frame["trial_end"] = _ts(period_start + 14 * DAY, mask=~trial)

    def _subscription_versions(
        self, rng: np.random.Generator, frame: Frame, status: np.ndarray, statuses: list[str]
    ) -> Frame:
        """History mode: older versions of each subscription; _fivetran_active only on the current one."""
        m = frame.n
        versions = _weighted(rng, [0.5, 0.3, 0.2], m) + 1
        row = np.repeat(np.arange(m), versions)
        version = _positions(versions)
        current = version == np.repeat(versions, versions) - 1
        out = Frame("subscription", len(row))
        take = pa.array(row)
        for column, values in frame.columns.items():
            out[column] = values.take(take)
        older = np.flatnonzero(~current)
        previous_status = (status[row[older]] + 1 + version[older]) % len(statuses)
        out.put("status", older, _pick(statuses, previous_status))
        created = np.asarray(frame["created"].cast(pa.int64()).to_numpy(zero_copy_only=False)) // 1_000_000
        created_rows = created[row]
        life = np.maximum(self.anchor - MINUTE - created_rows, versions[row])
        start = created_rows + (life * version // versions[row]).astype(np.int64)
        next_start = created_rows + (life * (version + 1) // versions[row]).astype(np.int64)
        out["_fivetran_active"] = pa.array(current)
        out["_fivetran_start"] = _ts(start)
        end = _ts(next_start).cast(pa.int64())
        end = pc.subtract(end, pa.scalar(1000, pa.int64())).cast(pa.timestamp("us"))
        out["_fivetran_end"] = pc.if_else(
            pa.array(current), pa.scalar(dt.datetime(9999, 12, 31, 23, 59, 59), pa.timestamp("us")), end
        )
        self.extras["subscription"] = {"_fivetran_start": "TIMESTAMP", "_fivetran_end": "TIMESTAMP"}
        self.fact(
            "superseded_version",
            "subscription",
            out["id"].take(pa.array(older)),
            note="history-mode rows with _fivetran_active = false (ids repeat per version)",
        )
        return out

    # ---- dropped columns and output --------------------------------------------------------------
    def apply_drops(self, drops: dict[str, list[str]]) -> None:
        """Facts of dictionary / duplicate rules on a dropped column: every eligible record is empty."""
        for table, columns in drops.items():
            for column in columns:
                for rule in self.rules.dictionary:
                    if rule["object"] != table:
                        continue
                    if self.raw_column(rule["object"], rule["field"], table) != column:
                        continue
                    self._refact_dropped(rule, table, column)
                for rule in self.rules.duplicate_rules:
                    keys = [k for k in self.rules.duplicate_keys if k["rule_id"] == rule["rule_id"]]
                    if rule["object"] == table and any(
                        self.raw_column(table, k["field"], table) == column for k in keys
                    ):
                        self._replace_facts(
                            "duplicate",
                            table,
                            rule["rule_id"],
                            [("groups (ids of the first member)", []), ("records", [])],
                        )
                        self.notes.append(f"{rule['rule_id']}: key column {table}.{column} dropped")

    def _refact_dropped(self, rule: dict[str, str], table: str, column: str) -> None:
        ids, alive, stage_order = self.dict_context[rule["object"]]
        gate = (
            self.rules.stage(rule["object"], rule["required_from_stage"]).order if rule["required_from_stage"] else None
        )
        eligible = alive if gate is None else alive & (stage_order >= gate)
        replacements = []
        if _bool(rule["is_required"]):
            replacements.append(("missing_required_field", eligible))
            if gate is not None:
                replacements.append(("not_yet_required", alive & (stage_order < gate)))
        for category, mask in replacements:
            self.facts = [f for f in self.facts if not (f.category == category and f.rule_id == rule["rule_id"])]
            self.fact(
                category,
                rule["object"],
                ids.filter(pa.array(mask)),
                rule_id=rule["rule_id"],
                note=f"{column} (column dropped)",
            )
        if rule["value_format"]:
            self.facts = [
                f for f in self.facts if not (f.category == "invalid_format" and f.rule_id == rule["rule_id"])
            ]
            self.fact("invalid_format", rule["object"], [], rule_id=rule["rule_id"], note=f"{column} (column dropped)")

    def _replace_facts(self, category: str, obj: str, rule_id: str, notes: list[tuple[str, list[str]]]) -> None:
        self.facts = [f for f in self.facts if not (f.category == category and f.rule_id == rule_id)]
        for note, ids in notes:
            self.fact(category, obj, ids, rule_id=rule_id, note=note)

    def attach(
        self,
        con: duckdb.DuckDBPyConnection,
        schemas: dict[str, str],
        subscription_table: str,
        drops: dict[str, list[str]],
    ) -> None:
        """Write every table into `con` as soon as it is finished (schemas: source -> schema)."""
        for schema in sorted(set(schemas.values())):
            con.execute(f'create schema if not exists "{schema}"')

        def sink(table: str, frame: Frame) -> dict[str, int]:
            schema = schemas["salesforce" if table in SALESFORCE_TABLES else "stripe"]
            name = subscription_table if table == "subscription" else table
            return {f"{schema}.{name}": self._write_table(con, schema, table, name, drops.get(table, []), frame)}

        self.sink = sink
        self.drops = drops

    def _write_table(
        self, con: duckdb.DuckDBPyConnection, schema: str, table: str, name: str, dropped: Sequence[str], frame: Frame
    ) -> int:
        columns = [c for c in self.contract[table] if c.name not in dropped]
        absent = [c.name for c in columns if c.name not in frame.columns]
        if absent:
            raise AssertionError(f"generator bug: {table} lacks contract columns {absent}")
        extras = self.extras.get(table, {})
        select = [f'cast("{c.name}" as {c.duckdb_type}) as "{c.name}"' for c in columns]
        select += [f'cast("{column}" as {type_}) as "{column}"' for column, type_ in extras.items()]
        arrow = pa.table({column: frame[column] for column in [c.name for c in columns] + list(extras)})
        _write_arrow(con, schema, name, arrow, ", ".join(select))
        return frame.n

    def write_meta(self, con: duckdb.DuckDBPyConnection, options: dict[str, Any], counts: dict[str, int]) -> None:
        con.execute(f'create schema if not exists "{META_SCHEMA}"')
        planted = pa.table(
            {
                "category": pa.array([f.category for f in self.facts], pa.string()),
                "object": pa.array([f.object for f in self.facts], pa.string()),
                "rule_id": pa.array([f.rule_id for f in self.facts], pa.string()),
                "expected_count": pa.array([f.expected_count for f in self.facts], pa.int64()),
                "record_ids": pa.array([f.record_ids for f in self.facts], pa.list_(pa.string())),
                "note": pa.array([f.note for f in self.facts], pa.string()),
            }
        )
        _write_arrow(
            con,
            META_SCHEMA,
            "planted",
            planted,
            "category, object, rule_id, cast(expected_count as bigint) as expected_count, "
            "cast(record_ids as varchar[]) as record_ids, note",
        )
        run_info = pa.table(
            {
                "seed": pa.array([self.seed] * len(counts), pa.int64()),
                "scale": pa.array([self.scale] * len(counts), pa.float64()),
                "anchor": pa.array([self.anchor_dt] * len(counts), pa.timestamp("us")),
                "options": pa.array([json.dumps(options, sort_keys=True)] * len(counts), pa.string()),
                "table_name": pa.array(list(counts), pa.string()),
                "row_count": pa.array(list(counts.values()), pa.int64()),
                "notes": pa.array(["; ".join(self.notes)] * len(counts), pa.string()),
            }
        )
        _write_arrow(con, META_SCHEMA, "run_info", run_info, "*")
        sla = pa.Table.from_pylist(
            self.sla_rows,
            schema=pa.schema(
                [
                    ("policy_id", pa.string()),
                    ("scenario", pa.string()),
                    ("record_object", pa.string()),
                    ("record_id", pa.string()),
                    ("owner_user_id", pa.string()),
                    ("time_zone", pa.string()),
                    ("calendar_region", pa.string()),
                    ("started_at", pa.timestamp("us")),
                    ("ended_at", pa.timestamp("us")),
                    ("due_at", pa.timestamp("us")),
                    ("expected_status", pa.string()),
                ]
            ),
        )
        _write_arrow(con, META_SCHEMA, "sla_cases", sla, "*")
        merges = pa.Table.from_pylist(
            self.merge_rows,
            schema=pa.schema(
                [
                    ("object", pa.string()),
                    ("record_id", pa.string()),
                    ("column_name", pa.string()),
                    ("referenced_object", pa.string()),
                    ("referenced_id", pa.string()),
                    ("expected_surviving_id", pa.string()),
                    ("merge_depth", pa.int64()),
                ]
            ),
        )
        _write_arrow(con, META_SCHEMA, "merge_resolution", merges, "*")
        _write_arrow(con, META_SCHEMA, "customer_match", self.customer_match, "*")


def _empty(values: pa.Array) -> np.ndarray:
    """Null or blank (only spaces) as a numpy mask."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        blank = pc.equal(pc.utf8_trim(values, " "), "")
        return np.asarray(pc.or_kleene(pc.is_null(values), pc.fill_null(blank, True)).to_numpy(zero_copy_only=False))
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False))


def _ids(array: pa.Array, index: Any) -> list[str]:
    """array[index] as a Python list (for the small planted sets)."""
    return array.take(pa.array(np.asarray(index, dtype=np.int64))).to_pylist()


def _write_arrow(con: duckdb.DuckDBPyConnection, schema: str, name: str, arrow: pa.Table, select: str) -> None:
    con.register("__demo_rows", arrow)
    try:
        con.execute(f'create or replace table "{schema}"."{name}" as select {select} from __demo_rows')
    finally:
        con.unregister("__demo_rows")


# ---- string variants (merged records and duplicates) ----------------------------------------------
def _name_variant(name: str, variant: int) -> str:
    """'Acme Systems Inc' / 'ACME SYSTEMS, INC.' / 'acme systems'."""
    words = name.split(" ")
    if variant % 3 == 1 and len(words) > 1:
        return (" ".join(words[:-1]) + ", " + words[-1] + ".").upper()
    if variant % 3 == 2:
        return " ".join(words[:-1] or words).lower()
    return name


def _website_variant(domain: str, variant: int) -> str:
    """Differently written websites of one domain (url_domain gives the domain back)."""
    forms = ["https://www.{}/", "{}", "HTTP://WWW.{}/about", "www.{}.", "https://{}:443/en?ref=ads"]
    text = forms[variant % len(forms)].format(domain)
    return text if variant % len(forms) != 2 else text.replace(domain, domain.upper())


def _email_variant(email: str, variant: int) -> str:
    """The same address in another case / with spaces (normalize_email gives it back)."""
    local, _, domain = email.partition("@")
    forms = [email, email.upper(), f"  {local.title()}@{domain.title()} ", f"{local}@{domain.upper()} "]
    return forms[variant % len(forms)]


def _unique_emails(local: pa.Array, domain: pa.Array) -> pa.Array:
    """local@domain, unique case-insensitively: repeated addresses get a number in the local part."""
    for _ in range(10):
        email = _join(local, "@", domain)
        key = pd.Series(pc.utf8_lower(email).to_pandas())
        repeat = key.groupby(key, sort=False).cumcount().to_numpy()
        if not (repeat > 0).any():
            return email
        local = pc.if_else(pa.array(repeat > 0), _join(local, pa.array(repeat + 1).cast(pa.string())), local)
    raise AssertionError("could not make emails unique")


def _unique_emails_full(email: pa.Array) -> pa.Array:
    parts = pc.split_pattern(email, "@", max_splits=1)
    return _unique_emails(pc.list_element(parts, 0), pc.list_element(parts, 1))


# =================================================================================================
# Public API
# =================================================================================================


def _parse_anchor(anchor: str | dt.datetime) -> dt.datetime:
    if isinstance(anchor, dt.datetime):
        moment = anchor
    else:
        try:
            moment = dt.datetime.fromisoformat(str(anchor).strip())
        except ValueError as error:
            raise ValueError(f"anchor {anchor!r} is not a timestamp like '2026-11-02 12:00:00'") from error
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _check_identifier(value: str, what: str) -> str:
    if not value or not value.replace("_", "a").isalnum() or value[0].isdigit():
        raise ValueError(f"{what} {value!r} must be a plain identifier (letters, digits, underscore)")
    return value


def _check_drops(drop: dict[str, list[str]] | None, subscription_table: str) -> dict[str, list[str]]:
    contract = {
        table: {c.name: c for c in columns} for source in load_contract().values() for table, columns in source.items()
    }
    result: dict[str, list[str]] = {}
    for table, columns in (drop or {}).items():
        name = "subscription" if table == subscription_table else table
        if name not in contract:
            raise ValueError(f"drop_optional_columns: unknown table {table!r}")
        for column in columns:
            if column not in contract[name]:
                raise ValueError(f"drop_optional_columns: {table} has no contract column {column!r}")
            if contract[name][column].required:
                raise ValueError(f"drop_optional_columns: {table}.{column} is required by the contract")
            if column in FACT_COLUMNS.get(name, set()):
                raise ValueError(f"drop_optional_columns: {table}.{column} carries planted facts; drop another column")
            result.setdefault(name, []).append(column)
    return result


def generate(
    con_or_path: str | Path | duckdb.DuckDBPyConnection,
    scale: float = 1.0,
    seed: int = 42,
    anchor: str | dt.datetime = DEMO_ANCHOR,
    rules_dir: str | Path = RULES_DIR,
    salesforce_schema: str = "salesforce",
    stripe_schema: str = "stripe",
    subscription_table: str = "subscription",
    subscription_history_mode: bool = False,
    drop_optional_columns: dict[str, list[str]] | None = None,
    *,
    crm_account_key: str | None = None,
    record_id_cap: int = DEFAULT_RECORD_ID_CAP,
) -> dict[str, Any]:
    """Write the demo raw tables (replacing them) and demo_meta; return the planted facts.

    Returns {"seed", "scale", "anchor", "options", "row_counts": {schema.table: rows},
    "planted": [fact dicts], "sla_cases": [...], "merge_resolution": [...], "notes": [...]}.
    """
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not np.isfinite(scale) or scale < MIN_SCALE:
        raise ValueError(f"scale must be a number >= {MIN_SCALE}, got {scale!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    anchor_dt = _parse_anchor(anchor)
    for value, what in (
        (salesforce_schema, "salesforce_schema"),
        (stripe_schema, "stripe_schema"),
        (subscription_table, "subscription_table"),
    ):
        _check_identifier(value, what)
    if record_id_cap < 0:
        raise ValueError("record_id_cap must be >= 0")
    drops = _check_drops(drop_optional_columns, subscription_table)
    rules = Rules(Path(rules_dir))
    generator = Generator(
        scale=float(scale),
        seed=int(seed),
        anchor=anchor_dt,
        rules=rules,
        crm_key=crm_account_key or _crm_key_default(),
        record_id_cap=record_id_cap,
        subscription_history_mode=subscription_history_mode,
    )
    options = {
        "salesforce_schema": salesforce_schema,
        "stripe_schema": stripe_schema,
        "subscription_table": subscription_table,
        "subscription_history_mode": subscription_history_mode,
        "drop_optional_columns": drops,
        "crm_account_key": generator.crm_key,
        "rules_dir": str(Path(rules_dir)),
        "record_id_cap": record_id_cap,
    }
    own = not isinstance(con_or_path, duckdb.DuckDBPyConnection)
    con = duckdb.connect(str(con_or_path)) if own else con_or_path
    try:
        generator.attach(con, {"salesforce": salesforce_schema, "stripe": stripe_schema}, subscription_table, drops)
        generator.build()
        generator.apply_drops(drops)
        order = {name: i for i, name in enumerate(SALESFORCE_TABLES + STRIPE_TABLES)}
        counts = dict(
            sorted(
                generator.row_counts.items(),
                key=lambda item: (
                    item[0].split(".")[0] != salesforce_schema,
                    order.get(item[0].split(".")[1], 99)
                    if item[0].split(".")[1] != subscription_table
                    else order["subscription"],
                ),
            )
        )
        generator.write_meta(con, options, counts)
    finally:
        if own:
            con.close()
    return {
        "seed": int(seed),
        "scale": float(scale),
        "anchor": anchor_dt.isoformat(sep=" "),
        "options": options,
        "row_counts": counts,
        "planted": [asdict(f) for f in generator.facts],
        "sla_cases": generator.sla_rows,
        "merge_resolution": generator.merge_rows,
        "notes": generator.notes,
    }


def summarize(result: dict[str, Any]) -> str:
    """Row counts and planted facts as text (what the CLI prints)."""
    lines = [f"seed {result['seed']}  scale {result['scale']}  anchor {result['anchor']}", "", "rows:"]
    lines += [f"  {table:42} {rows:>12,}" for table, rows in result["row_counts"].items()]
    lines += ["", "planted facts (category / object / rule_id / note: expected count):"]
    for f in result["planted"]:
        rule = f" [{f['rule_id']}]" if f["rule_id"] else ""
        note = f" ({f['note']})" if f["note"] else ""
        lines.append(f"  {f['category']:24} {f['object']:20}{rule}{note}: {f['expected_count']:,}"[:200])
    if result["notes"]:
        lines += ["", "notes:"] + [f"  {n}" for n in result["notes"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m revops_warehouse.demo_data",
        description="Write deterministic demo Salesforce and Stripe raw data (with planted defects) into DuckDB.",
    )
    parser.add_argument("--database", required=True, help="DuckDB file to write (created if missing)")
    parser.add_argument("--scale", type=float, default=1.0, help=f"size factor, >= {MIN_SCALE} (1 = ~2,500 deals)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--anchor", default=DEMO_ANCHOR, help="the demo's 'now' (UTC), e.g. '2026-11-02 12:00:00'")
    parser.add_argument("--rules-dir", default=str(RULES_DIR))
    parser.add_argument("--salesforce-schema", default="salesforce")
    parser.add_argument("--stripe-schema", default="stripe")
    parser.add_argument(
        "--subscription-table",
        default=None,
        help="name of the subscription table (default: subscription, or subscription_history "
        "with --subscription-history)",
    )
    parser.add_argument(
        "--subscription-history",
        action="store_true",
        help="write subscriptions in history mode (versions, _fivetran_active)",
    )
    parser.add_argument(
        "--drop-optional-column",
        action="append",
        default=[],
        metavar="TABLE.COLUMN",
        help="leave an optional contract column out of the written table (repeatable)",
    )
    args = parser.parse_args(argv)
    drops: dict[str, list[str]] = {}
    for item in args.drop_optional_column:
        table, dot, column = item.partition(".")
        if not dot or not table or not column:
            parser.error(f"--drop-optional-column expects TABLE.COLUMN, got {item!r}")
        drops.setdefault(table, []).append(column)
    if not args.scale >= MIN_SCALE:
        parser.error(f"--scale must be >= {MIN_SCALE}")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    try:
        _parse_anchor(args.anchor)
    except ValueError as error:
        parser.error(str(error))
    database = Path(args.database).expanduser()
    if database.exists() and database.is_dir():
        parser.error(f"--database {database} is a directory")
    table = args.subscription_table or ("subscription_history" if args.subscription_history else "subscription")
    started = time.perf_counter()
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        result = generate(
            str(database),
            scale=args.scale,
            seed=args.seed,
            anchor=args.anchor,
            rules_dir=args.rules_dir,
            salesforce_schema=args.salesforce_schema,
            stripe_schema=args.stripe_schema,
            subscription_table=table,
            subscription_history_mode=args.subscription_history,
            drop_optional_columns=drops or None,
        )
    except (ValueError, OSError, duckdb.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summarize(result))
    print(f"\nwritten to {database} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
