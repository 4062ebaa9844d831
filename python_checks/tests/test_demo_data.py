"""Demo data: deterministic, shaped like the raw contract, and the planted facts are exactly what the
raw tables hold. Every check recomputes its answer from the raw tables with its own code (and
business_time for SLAs) and compares it with demo_meta.planted."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from fractions import Fraction
from types import SimpleNamespace

import duckdb
import pytest

from revops_warehouse import business_time as bt
from revops_warehouse import demo_data
from revops_warehouse.contract import load_contract
from revops_warehouse.settings import PROJECT_DIR, RULES_DIR

# Override to check other sizes / seeds by hand: DEMO_TEST_SCALE=1 DEMO_TEST_SEED=42 pytest ...
SCALE = float(os.environ.get("DEMO_TEST_SCALE", "0.3"))
SEED = int(os.environ.get("DEMO_TEST_SEED", "7"))
ANCHOR = dt.datetime(2026, 11, 2, 12, 0, 0)
SF, ST = "salesforce", "stripe"
DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
SF_PREFIX = {
    "account": "001",
    "contact": "003",
    "lead": "00Q",
    "opportunity": "006",
    "opportunity_history": "008",
    "lead_history": "017",
    "task": "00T",
    "user": "005",
    "user_role": "00E",
}
STRIPE_PREFIX = {
    "customer": "cus_",
    "subscription": "sub_",
    "subscription_item": "si_",
    "price": "price_",
    "plan": "plan_",
    "product": "prod_",
}


# ---- helpers -------------------------------------------------------------------------------------
def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def dicts(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def read_rules(name: str) -> list[dict[str, str]]:
    with (RULES_DIR / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def url_domain(value):
    if value is None:
        return None
    text = value.strip(" ").lower().replace("https://", "").replace("http://", "")
    host = text.split("/")[0].split("?")[0].split(":")[0].split("#")[0]
    host = host[4:] if host.startswith("www.") else host
    return host.rstrip(".") or None


def norm_email(value):
    return (value.strip(" ").lower() or None) if value is not None else None


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip(" ") == "")


def facts(demo, category, obj=None, rule_id=None, note=None):
    found = [
        f
        for f in demo.planted
        if f["category"] == category
        and (obj is None or f["object"] == obj)
        and (rule_id is None or f["rule_id"] == rule_id)
        and (note is None or (f["note"] or "").startswith(note))
    ]
    for f in found:
        assert f["expected_count"] == len(f["record_ids"]) or category in (
            "mrr_total",
            "stage_intervals",
            "status_intervals",
        ), f
    return found


def ids(found) -> set[str]:
    return {i for f in found for i in f["record_ids"]}


def stages(obj: str) -> dict[str, dict]:
    return {
        r["stage_name"]: {
            "order": int(r["stage_order"]),
            "open": r["is_open"] == "true",
            "closed": r["is_closed"] == "true",
            "won": r["is_won"] == "true",
            "target": int(r["target_days_in_stage"]) if r["target_days_in_stage"] else None,
            "probability": r["default_probability"],
        }
        for r in read_rules("stage_definitions.csv")
        if r["object"] == obj
    }


def checksum_ok(sf_id: str) -> bool:
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(sf_id[chunk * 5 : chunk * 5 + 5]) if "A" <= ch <= "Z")
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return sf_id[15:] == suffix


def table_hashes(path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = rows(con, "select table_schema, table_name from information_schema.tables order by 1, 2")
        return {
            f"{s}.{t}": rows(
                con,
                f"select count(*) || ':' || coalesce(md5(string_agg(cast(t as varchar), "
                f'chr(10) order by rowid)), \'\') from "{s}"."{t}" as t',
            )[0][0]
            for s, t in tables
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = demo_data.generate(str(path), scale=SCALE, seed=SEED, record_id_cap=1_000_000)
    con = duckdb.connect(str(path), read_only=True)
    planted = dicts(con, "select * from demo_meta.planted")
    yield SimpleNamespace(path=path, result=result, con=con, planted=planted)
    con.close()


# ---- shape ---------------------------------------------------------------------------------------
def test_deterministic_per_seed(tmp_path):
    first, second, other = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "c.duckdb"
    demo_data.generate(str(first), scale=0.15, seed=11)
    demo_data.generate(str(second), scale=0.15, seed=11)
    demo_data.generate(str(other), scale=0.15, seed=12)
    a, b, c = table_hashes(first), table_hashes(second), table_hashes(other)
    assert len(a) >= 20
    assert a == b
    assert a["salesforce.account"] != c["salesforce.account"]
    assert a["salesforce.opportunity_history"] != c["salesforce.opportunity_history"]
    assert a["demo_meta.planted"] != c["demo_meta.planted"]


def test_result_matches_meta_tables(demo):
    assert [f["category"] for f in demo.result["planted"]] == [f["category"] for f in demo.planted]
    assert [f["expected_count"] for f in demo.result["planted"]] == [f["expected_count"] for f in demo.planted]
    info = dicts(demo.con, "select * from demo_meta.run_info")
    counts = {r["table_name"]: r["row_count"] for r in info}
    assert counts == demo.result["row_counts"]
    assert {r["seed"] for r in info} == {SEED} and {r["scale"] for r in info} == {SCALE}
    assert {r["anchor"] for r in info} == {ANCHOR}
    for name, count in counts.items():
        schema, table = name.split(".")
        assert rows(demo.con, f'select count(*) from "{schema}"."{table}"')[0][0] == count


def test_sizes_follow_scale(demo):
    counts = {k.split(".")[1]: v for k, v in demo.result["row_counts"].items()}
    assert counts["account"] == round(1500 * SCALE)
    assert counts["lead"] == round(5000 * SCALE)
    assert counts["opportunity"] == round(2500 * SCALE)
    assert counts["customer"] == round(600 * SCALE)
    assert 3.5 <= counts["opportunity_history"] / counts["opportunity"] <= 5
    assert 6 <= counts["task"] / counts["opportunity"] <= 10
    assert 2400 * SCALE <= counts["contact"] <= 3400 * SCALE
    assert counts["user"] == 60


def test_every_contract_column_with_its_type(demo):
    classes = {
        "string": ("VARCHAR",),
        "timestamp": ("TIMESTAMP",),
        "date": ("DATE",),
        "numeric": ("DECIMAL", "DOUBLE"),
        "integer": ("BIGINT", "INTEGER"),
        "boolean": ("BOOLEAN",),
    }
    contract = load_contract()
    for source, tables in contract.items():
        for table, columns in tables.items():
            described = {r[0]: r[1] for r in rows(demo.con, f'describe "{source}"."{table}"')}
            for column in columns:
                assert column.name in described, f"{source}.{table}.{column.name} missing"
                assert described[column.name].startswith(classes[column.type]), (table, column, described)
    extra = {r[0] for r in rows(demo.con, f"describe {SF}.account")} | {
        r[0] for r in rows(demo.con, f"describe {SF}.opportunity")
    }
    assert {"description", "fiscal_quarter"} <= extra


def test_ids_unique_and_shaped(demo):
    for table, prefix in SF_PREFIX.items():
        values = [r[0] for r in rows(demo.con, f'select id from {SF}."{table}"')]
        assert len(values) == len(set(values)), table
        assert all(len(v) == 18 and v.startswith(prefix) and checksum_ok(v) for v in values), table
    for table, prefix in STRIPE_PREFIX.items():
        values = [r[0] for r in rows(demo.con, f'select id from {ST}."{table}"')]
        assert len(values) == len(set(values)), table
        assert all(v.startswith(prefix) and len(v) > len(prefix) + 10 for v in values), table


def test_timestamps_before_anchor_probability_and_cents(demo):
    scheduled = {("subscription", "current_period_end"), ("subscription", "trial_end")}
    for source, tables in load_contract().items():
        for table, columns in tables.items():
            for column in columns:
                if column.type == "timestamp" and (table, column.name) not in scheduled:
                    latest = rows(demo.con, f'select max("{column.name}") from "{source}"."{table}"')[0][0]
                    assert latest is None or latest < ANCHOR, (table, column.name, latest)
    for table in ("opportunity", "opportunity_history"):
        low, high = rows(demo.con, f"select min(probability), max(probability) from {SF}.{table}")[0]
        assert 0 <= low and high == 100
    assert rows(demo.con, f"select min(unit_amount) from {ST}.price")[0][0] >= 60  # cents
    metadata = [r[0] for r in rows(demo.con, f"select metadata from {ST}.customer")]
    assert all(isinstance(json.loads(m), dict) for m in metadata)


# ---- dictionary rules: required fields and formats -----------------------------------------------
def _current_orders(demo):
    lead = stages("lead")
    opp = stages("opportunity")
    orders = {}
    for i, status in rows(demo.con, f"select id, status from {SF}.lead"):
        orders[i] = lead[status]["order"]
    for i, stage in rows(demo.con, f"select id, stage_name from {SF}.opportunity"):
        orders[i] = opp[stage]["order"]
    return orders


def test_missing_required_fields_are_exactly_the_planted_ones(demo):
    orders = _current_orders(demo)
    checked = set()
    for rule in read_rules("data_dictionary.csv"):
        column = rule["source_field"] or rule["field"]
        table = rule["object"]
        described = {r[0] for r in rows(demo.con, f'describe {ST if table == "subscription" else SF}."{table}"')}
        if rule["is_required"] != "true" or column not in described:
            continue
        schema = ST if table == "subscription" else SF
        empty = {i for i, v in rows(demo.con, f'select id, "{column}" from {schema}."{table}"') if blank(v)}
        missing = ids(facts(demo, "missing_required_field", table, rule["rule_id"]))
        early = ids(facts(demo, "not_yet_required", table, rule["rule_id"]))
        assert missing, rule["rule_id"]
        assert empty == missing | early, rule["rule_id"]
        checked.add((table, column))
        if rule["required_from_stage"]:
            gate = stages(table)[rule["required_from_stage"]]["order"]
            assert all(orders[i] >= gate for i in missing) and all(orders[i] < gate for i in early)
            assert early, rule["rule_id"]
        else:
            assert not early
    # Contract-required columns are empty only where a dictionary rule planted it.
    for source, tables in load_contract().items():
        for table, columns in tables.items():
            for column in columns:
                if column.required and (table, column.name) not in checked:
                    count = rows(demo.con, f'select count(*) from "{source}"."{table}" where "{column.name}" is null')
                    assert count[0][0] == 0, (table, column.name)


def test_missing_fields_only_on_surviving_records(demo):
    gone = {
        r[0]
        for t in ("account", "contact", "lead", "opportunity")
        for r in rows(
            demo.con,
            f"select id from {SF}.{t} where is_deleted or "
            f"{'master_record_id is not null' if t != 'opportunity' else 'false'}",
        )
    }
    for category in ("missing_required_field", "not_yet_required", "invalid_format"):
        assert not (ids(facts(demo, category)) & gone), category


def test_invalid_formats_are_exactly_the_planted_ones(demo):
    aliases = {r["country_alias"] for r in read_rules("country_codes.csv")}
    for table, rule in (("lead", "lead_email"), ("contact", "contact_email")):
        bad = {i for i, e in rows(demo.con, f"select id, email from {SF}.{table}") if not blank(e) and "@" not in e}
        assert bad == ids(facts(demo, "invalid_format", table, rule)) and bad
    bad = {
        i
        for i, w in rows(demo.con, f"select id, website from {SF}.account")
        if not blank(w) and not DOMAIN.match(url_domain(w) or "")
    }
    assert bad == ids(facts(demo, "invalid_format", "account", "acct_domain")) and bad
    for table, column, rule in (("account", "billing_country", "acct_country"), ("lead", "country", "lead_country")):
        bad = {
            i
            for i, c in rows(demo.con, f"select id, {column} from {SF}.{table}")
            if not blank(c) and c.strip().lower() not in aliases
        }
        assert bad == ids(facts(demo, "invalid_format", table, rule)) and bad
    contact_countries = {c.strip().lower() for (c,) in rows(demo.con, f"select mailing_country from {SF}.contact")}
    assert contact_countries <= aliases


# ---- duplicates and merges -----------------------------------------------------------------------
def test_duplicate_groups_are_exactly_the_planted_ones(demo):
    open_statuses = {s for s, d in stages("lead").items() if d["open"]}
    cases = [
        ("account", "dup_account_domain", "website", url_domain, "true"),
        ("contact", "dup_contact_email", "email", norm_email, "true"),
        (
            "lead",
            "dup_lead_email",
            "email",
            norm_email,
            "status in ({})".format(", ".join(f"'{s}'" for s in sorted(open_statuses))),
        ),
    ]
    for table, rule, column, normalize, condition in cases:
        groups = defaultdict(list)
        for i, value in rows(
            demo.con,
            f"select id, {column} from {SF}.{table} where not is_deleted and master_record_id is null and {condition}",
        ):
            key = normalize(value)
            if key:
                groups[key].append(i)
        found = [sorted(g) for g in groups.values() if len(g) > 1]
        assert all(2 <= len(g) <= 3 for g in found)
        assert len(found) == facts(demo, "duplicate", table, rule, "groups")[0]["expected_count"]
        assert {i for g in found for i in g} == ids(facts(demo, "duplicate", table, rule, "records"))
        assert found
        # The written values really differ (case, spaces, scheme, www ...).
        written = dict(rows(demo.con, f"select id, {column} from {SF}.{table}"))
        assert any(len({written[i] for i in g}) == len(g) for g in found)
    # Leads are unique among all surviving leads, not only open ones, apart from the planted groups.
    emails = Counter(
        norm_email(e)
        for (e,) in rows(
            demo.con,
            f"select email from {SF}.lead where not is_deleted and master_record_id is null and email is not null",
        )
    )
    assert sum(c for e, c in emails.items() if c > 1 and e) == len(
        ids(facts(demo, "duplicate", "lead", note="records"))
    )


def _masters(demo, table):
    return dict(rows(demo.con, f"select id, master_record_id from {SF}.{table}"))


def _survivor(masters, record_id):
    depth = 0
    while masters.get(record_id) is not None:
        record_id = masters[record_id]
        depth += 1
    return record_id, depth


def test_merges_resolve_through_chains_to_survivors(demo):
    resolution = dicts(demo.con, "select * from demo_meta.merge_resolution")
    expected = {(r["object"], r["record_id"], r["column_name"]): r for r in resolution}
    for table in ("account", "contact", "lead"):
        masters = _masters(demo, table)
        deleted = dict(rows(demo.con, f"select id, is_deleted from {SF}.{table}"))
        merged = {i for i, m in masters.items() if m is not None}
        assert merged == ids(facts(demo, "merged", table))
        assert all(deleted[i] for i in merged)
        for record_id in merged:
            survivor, depth = _survivor(masters, record_id)
            assert not deleted[survivor] and masters[survivor] is None
            row = expected[(table, record_id, "master_record_id")]
            assert (row["expected_surviving_id"], row["merge_depth"]) == (survivor, depth)
        if table == "account":
            for depth in (1, 2, 3):
                chain = {i for i in merged if _survivor(masters, i)[1] == depth}
                assert chain == ids(facts(demo, "merge_chain", "account", note=f"depth={depth}")) and chain


def test_references_to_merged_records_are_the_planted_ones(demo):
    masters = {t: _masters(demo, t) for t in ("account", "contact", "lead")}
    deleted = {
        t: {r[0] for r in rows(demo.con, f"select id from {SF}.{t} where is_deleted")}
        for t in ("account", "contact", "lead", "opportunity")
    }
    key = demo.result["options"]["crm_account_key"]
    references = [
        ("opportunity", "account_id", f"select id, account_id from {SF}.opportunity where not is_deleted"),
        ("contact", "account_id", f"select id, account_id from {SF}.contact where not is_deleted"),
        ("task", "account_id", f"select id, account_id from {SF}.task where not is_deleted"),
        ("task", "what_id", f"select id, what_id from {SF}.task where not is_deleted"),
        ("task", "who_id", f"select id, who_id from {SF}.task where not is_deleted"),
        (
            "lead",
            "converted_account_id",
            f"select id, converted_account_id from {SF}.lead where not is_deleted and master_record_id is null",
        ),
        (
            "customer",
            f"metadata.{key}",
            f"select id, json_extract_string(metadata, '$.{key}') from {ST}.customer where not is_deleted",
        ),
    ]
    expected = {
        (r["object"], r["record_id"], r["column_name"]): r
        for r in dicts(demo.con, "select * from demo_meta.merge_resolution")
    }
    seen = Counter()
    seen_records = defaultdict(set)
    for obj, column, sql in references:
        for record_id, value in rows(demo.con, sql):
            target = next((t for t in masters if value in masters[t]), None)
            if target is None:
                assert value not in deleted["opportunity"]
                continue
            if masters[target][value] is None:
                assert value not in deleted[target], (obj, record_id, column, "points at a deleted record")
                continue
            survivor, depth = _survivor(masters[target], value)
            row = expected[(obj, record_id, column)]
            assert row["expected_surviving_id"] == survivor and row["merge_depth"] == depth
            seen[(obj, depth)] += 1
            seen_records[(obj, depth)].add(record_id)
    planted_rows = Counter((k[0], r["merge_depth"]) for k, r in expected.items() if k[2] != "master_record_id")
    assert seen == planted_rows
    for (obj, depth), records in seen_records.items():
        found = facts(demo, "merge_chain_resolution", obj)
        assert records == {i for f in found if f"depth={depth}" in f["note"] for i in f["record_ids"]}, (obj, depth)
    for obj in ("opportunity", "contact", "lead", "task", "customer"):
        assert {d for o, d in seen if o == obj} >= ({1} if obj == "task" else {1, 2, 3}), obj


# ---- referential integrity ------------------------------------------------------------------------
def test_foreign_keys_resolve_except_planted_orphans(demo):
    c = demo.con

    def id_set(sql):
        return {r[0] for r in rows(c, sql)}

    accounts, contacts = id_set(f"select id from {SF}.account"), id_set(f"select id from {SF}.contact")
    leads, opps = id_set(f"select id from {SF}.lead"), id_set(f"select id from {SF}.opportunity")
    users, roles = id_set(f'select id from {SF}."user"'), id_set(f"select id from {SF}.user_role")
    customers, subs = id_set(f"select id from {ST}.customer"), id_set(f"select id from {ST}.subscription")
    prices, plans, products = (id_set(f"select id from {ST}.{t}") for t in ("price", "plan", "product"))
    queue_leads = ids(facts(demo, "routing_queue_owner", "lead"))
    checks = [
        ("opportunity", SF, "account_id", accounts, ("opportunity", "account_id")),
        ("contact", SF, "account_id", accounts, ("contact", "account_id")),
        ("task", SF, "who_id", leads | contacts, ("task", "who_id")),
        ("task", SF, "what_id", opps | accounts, None),
        ("task", SF, "account_id", accounts, None),
        ("lead", SF, "converted_account_id", accounts, None),
        ("lead", SF, "converted_contact_id", contacts, ("lead", "converted_contact_id")),
        ("lead", SF, "converted_opportunity_id", opps, None),
        ("opportunity_history", SF, "opportunity_id", opps, None),
        ("lead_history", SF, "lead_id", leads, None),
        ("account", SF, "parent_id", accounts, None),
        ("user", SF, "manager_id", users, None),
        ("user", SF, "user_role_id", roles, None),
        ("user_role", SF, "parent_role_id", roles, None),
        ("subscription", ST, "customer_id", customers, ("subscription", "customer_id")),
        ("subscription_item", ST, "subscription_id", subs, None),
        ("subscription_item", ST, "price_id", prices, ("subscription_item", "price_id")),
        ("subscription_item", ST, "plan_id", plans, None),
        ("price", ST, "product_id", products, None),
        ("plan", ST, "product_id", products, None),
    ]
    for table in ("account", "contact", "opportunity", "task", "lead", "lead_history", "opportunity_history"):
        checks.append((table, SF, "created_by_id", users, None))
    for table in ("account", "contact", "opportunity", "task"):
        checks.append((table, SF, "owner_id", users, None))
    for table, schema, column, parents, planted in checks:
        dangling = {
            i
            for i, v in rows(c, f'select id, "{column}" from {schema}."{table}" where "{column}" is not null')
            if v not in parents
        }
        expected = set()
        if planted:
            expected = ids(facts(demo, "orphaned_fk", planted[0], note=planted[1]))
            assert expected, planted
        assert dangling == expected, (table, column)
    lead_owners = {i for i, o in rows(c, f"select id, owner_id from {SF}.lead") if o not in users}
    assert lead_owners == queue_leads and all(i.startswith("00Q") for i in queue_leads)
    assert all(o.startswith("00G") for (o,) in rows(c, f"select owner_id from {SF}.lead") if o not in users)
    parents = dict(rows(c, f"select id, is_deleted or master_record_id is not null from {SF}.account"))
    assert not any(parents[p] for (p,) in rows(c, f"select parent_id from {SF}.account where parent_id is not null"))


# ---- opportunity stage paths ----------------------------------------------------------------------
def _transition(current, nxt):
    if current["closed"] and not nxt["closed"]:
        return "reopened"
    if current["closed"] and nxt["closed"]:
        return "outcome_changed"
    if nxt["closed"] and not nxt["won"]:
        return "lost"
    if nxt["order"] < current["order"]:
        return "regressed"
    if nxt["order"] == current["order"] + 1:
        return "advanced"
    if nxt["order"] > current["order"] + 1:
        return "skipped"
    return "lateral"


def test_stage_paths_match_the_planted_defects(demo):
    c = demo.con
    definitions = stages("opportunity")
    opps = {r["id"]: r for r in dicts(c, f"select * from {SF}.opportunity where not is_deleted")}
    history = defaultdict(list)
    for row in dicts(c, f"select * from {SF}.opportunity_history where not is_deleted order by created_date, id"):
        history[row["opportunity_id"]].append(row)
    assert not set(history) - set(opps)
    found = defaultdict(set)
    landing = defaultdict(set)
    same_stage, intervals = set(), 0
    for opp_id, changes in history.items():
        intervals += 1
        for before, after in zip(changes, changes[1:], strict=False):
            if before["stage_name"] == after["stage_name"]:
                same_stage.add(after["id"])
                continue
            intervals += 1
            kind = _transition(definitions[before["stage_name"]], definitions[after["stage_name"]])
            assert kind in ("advanced", "skipped", "regressed", "lost", "reopened"), (opp_id, kind)
            if kind in ("skipped", "regressed", "reopened"):
                found[kind].add(opp_id)
                landing[kind].add(after["id"])
        last = changes[-1]
        current = opps[opp_id]
        for column in ("stage_name", "amount", "close_date", "probability"):
            assert current[column] == last[column], (opp_id, column)
        stage = definitions[current["stage_name"]]
        assert current["is_closed"] == stage["closed"] and current["is_won"] == stage["won"]
    for kind, category in (("skipped", "stage_skip"), ("regressed", "stage_regression"), ("reopened", "reopened")):
        assert found[kind] == ids(facts(demo, category, "opportunity")) and found[kind]
        assert landing[kind] == ids(facts(demo, category, "opportunity_history"))
    assert same_stage == ids(facts(demo, "same_stage_change", "opportunity_history")) and same_stage
    without = set(opps) - set(history)
    assert without == ids(facts(demo, "no_history", "opportunity")) and without
    assert intervals + len(without) == facts(demo, "stage_intervals", "opportunity")[0]["expected_count"]
    # Stale: open, no history change and no task for more than 3x the stage's target days.
    last_task = dict(rows(c, f"select what_id, max(created_date) from {SF}.task where not is_deleted group by 1"))
    stale = set()
    for opp_id, opp in opps.items():
        stage = definitions[opp["stage_name"]]
        if not stage["open"] or opp_id in without:
            continue
        last_change = max(history[opp_id][-1]["created_date"], last_task.get(opp_id, dt.datetime.min))
        idle = (ANCHOR - last_change).total_seconds() / 86400
        if idle > 3 * stage["target"]:
            stale.add(opp_id)
        else:
            assert (ANCHOR - history[opp_id][-1]["created_date"]).days <= stage["target"], opp_id
    assert stale == ids(facts(demo, "stale_open", "opportunity")) and stale
    deleted = {r[0] for r in rows(c, f"select id from {SF}.opportunity where is_deleted")}
    assert deleted == ids(facts(demo, "deleted", "opportunity"))
    deleted_rows = {r[0] for r in rows(c, f"select id from {SF}.opportunity_history where is_deleted")}
    assert deleted_rows == ids(facts(demo, "deleted", "opportunity_history"))


def test_lead_status_history_is_consistent(demo):
    c = demo.con
    definitions = stages("lead")
    won = next(s for s, d in definitions.items() if d["won"])
    leads = {r["id"]: r for r in dicts(c, f"select * from {SF}.lead")}
    created_rows = Counter(r[0] for r in rows(c, f"select lead_id from {SF}.lead_history where field = 'created'"))
    assert set(created_rows) == set(leads) and set(created_rows.values()) == {1}
    changes = defaultdict(list)
    for row in dicts(c, f"select * from {SF}.lead_history where field = 'Status' order by created_date, id"):
        changes[row["lead_id"]].append(row)
    opp_created = dict(rows(c, f"select id, created_date from {SF}.opportunity"))
    surviving_rows = 0
    for lead_id, lead in leads.items():
        path = changes.get(lead_id, [])
        for before, after in zip(path, path[1:], strict=False):
            assert after["old_value"] == before["new_value"]
        orders = [definitions[p["new_value"]]["order"] for p in path]
        assert orders == sorted(orders) and len(set(orders)) == len(orders) or lead["status"] != won
        assert (path[-1]["new_value"] if path else lead["status"]) == lead["status"]
        assert lead["is_converted"] == (lead["status"] == won)
        if lead["is_converted"]:
            converted_at = path[-1]["created_date"]
            assert lead["converted_date"] == converted_at.date()
            assert opp_created[lead["converted_opportunity_id"]] == converted_at
        if not lead["is_deleted"] and lead["master_record_id"] is None:
            surviving_rows += 1 + len(path)
    assert surviving_rows == facts(demo, "status_intervals", "lead")[0]["expected_count"]
    deleted = {i for i, lead in leads.items() if lead["is_deleted"] and lead["master_record_id"] is None}
    assert deleted == ids(facts(demo, "deleted", "lead"))


# ---- users and routing ------------------------------------------------------------------------------
def test_users_roles_and_routing(demo):
    c = demo.con
    users = {r["id"]: r for r in dicts(c, f'select * from {SF}."user"')}
    zones = {r["time_zone"] for r in read_rules("time_zone_regions.csv")}
    assert len(users) == 60
    assert {u["time_zone_sid_key"] for u in users.values()} - {None} == zones
    role_names = {r[0] for r in rows(c, f"select name from {SF}.user_role")}
    assert {r["escalation_role"] for r in read_rules("sla_policies.csv")} <= role_names
    assert {"Sales Development", "Account Executive", "Sales Manager", "Customer Success Manager"} <= role_names
    assert rows(c, f"select count(*) from {SF}.user_role where parent_role_id is null")[0][0] == 1
    machine = [u for u in users.values() if u["user_type"] == "AutomatedProcess"]
    assert len(machine) == 1 and ids(facts(demo, "integration_user", "user")) == {machine[0]["id"]}
    integration = machine[0]["id"]
    created = {
        i
        for i, by in rows(
            c, f"select id, created_by_id from {SF}.lead where not is_deleted and master_record_id is null"
        )
        if by == integration
    }
    assert created == ids(facts(demo, "created_by_integration", "lead")) and created
    inactive = {i for i, u in users.items() if not u["is_active"]}
    assert inactive
    open_leads = {s for s, d in stages("lead").items() if d["open"]}
    open_opps = {s for s, d in stages("opportunity").items() if d["open"]}
    for table, open_stages, column in (("lead", open_leads, "status"), ("opportunity", open_opps, "stage_name")):
        survive = "not is_deleted" + (" and master_record_id is null" if table == "lead" else "")
        owned = {
            i
            for i, o, s in rows(c, f"select id, owner_id, {column} from {SF}.{table} where {survive}")
            if o in inactive
        }
        assert all(
            s in open_stages
            for i, o, s in rows(c, f"select id, owner_id, {column} from {SF}.{table}")
            if o in inactive and i in owned
        )
        assert owned == ids(facts(demo, "routing_inactive_owner", table)) and owned


# ---- SLA cases --------------------------------------------------------------------------------------
def _sla_cases(con):
    """Every SLA case recomputed from the raw tables with business_time."""
    calendars, regions = bt.load_calendars(RULES_DIR), bt.load_time_zone_regions(RULES_DIR)
    zone_of = dict(rows(con, f'select id, time_zone_sid_key from {SF}."user"'))
    tasks_by_who, tasks_by_what = defaultdict(list), defaultdict(list)
    for who, what, kind, created in rows(
        con, f"select who_id, what_id, type, created_date from {SF}.task where not is_deleted"
    ):
        if who:
            tasks_by_who[who].append((created, kind))
        if what:
            tasks_by_what[what].append((created, kind))
    opp_created = dict(rows(con, f"select id, created_date from {SF}.opportunity where not is_deleted"))
    leads = {
        r["id"]: r
        for r in dicts(
            con,
            f"select id, owner_id, converted_opportunity_id from {SF}.lead "
            "where not is_deleted and master_record_id is null",
        )
    }
    opps = dict(rows(con, f"select id, owner_id from {SF}.opportunity where not is_deleted"))
    history = defaultdict(list)
    for opp_id, stage, created in rows(
        con,
        f"select opportunity_id, stage_name, created_date from "
        f"{SF}.opportunity_history where not is_deleted order by created_date, id",
    ):
        history[opp_id].append((stage, created))
    status_rows = rows(
        con,
        f"select lead_id, new_value, created_date from {SF}.lead_history "
        "where not is_deleted and lower(field) = 'status'",
    )
    cases = []
    for policy in read_rules("sla_policies.csv"):
        starts = []
        if policy["start_object"] == "lead":
            starts = [
                (lead_id, created, leads[lead_id]["owner_id"])
                for lead_id, value, created in status_rows
                if value == policy["start_event_value"] and lead_id in leads
            ]
        else:
            for opp_id, changes in history.items():
                if opp_id in opps:
                    starts += [
                        (opp_id, created, opps[opp_id])
                        for i, (stage, created) in enumerate(changes)
                        if stage == policy["start_event_value"] and (i == 0 or changes[i - 1][0] != stage)
                    ]
        for record_id, start, owner in starts:
            if policy["end_event"] == "opportunity_created":
                end = opp_created.get(leads[record_id]["converted_opportunity_id"])
            else:
                pool = tasks_by_who if policy["start_object"] == "lead" else tasks_by_what
                ends = [
                    t
                    for t, kind in pool[record_id]
                    if t > start and (not policy["end_event_value"] or kind == policy["end_event_value"])
                ]
                end = min(ends) if ends else None
            zone = zone_of[owner]
            calendar = bt.calendar_for_time_zone(zone, calendars, regions)
            due = bt.due_at(start, float(policy["target_value"]), policy["target_unit"], calendar, zone)
            cases.append(
                {
                    "policy_id": policy["policy_id"],
                    "record_id": record_id,
                    "start": start,
                    "end": end,
                    "due": due,
                    "zone": zone,
                    "status": bt.sla_status(due, end, ANCHOR),
                }
            )
    return cases


def test_sla_statuses_recomputed_with_business_time_agree(demo):
    cases = _sla_cases(demo.con)
    for policy in read_rules("sla_policies.csv"):
        for status in bt.SLA_STATUSES:
            mine = sorted(
                c["record_id"] for c in cases if c["policy_id"] == policy["policy_id"] and c["status"] == status
            )
            planted = facts(demo, "sla", rule_id=policy["policy_id"], note=status)
            assert len(planted) == 1
            assert sorted(planted[0]["record_ids"]) == mine, (policy["policy_id"], status)
            assert mine, (policy["policy_id"], status)
    by_key = {(c["policy_id"], c["record_id"], c["start"]): c for c in cases}
    for row in dicts(demo.con, "select * from demo_meta.sla_cases"):
        case = by_key[(row["policy_id"], row["record_id"], row["started_at"])]
        assert (row["due_at"], row["ended_at"], row["expected_status"]) == (case["due"], case["end"], case["status"])


def test_planted_sla_cases_depend_on_the_calendar(demo):
    planted = dicts(demo.con, "select * from demo_meta.sla_cases where scenario <> 'incidental'")
    policies = {p["policy_id"]: p for p in read_rules("sla_policies.csv")}
    for policy_id in policies:
        mine = [r for r in planted if r["policy_id"] == policy_id]
        assert {r["scenario"] for r in mine} >= {
            "end_of_week",
            "holiday",
            "night_0300",
            "dst_weekend",
            "open_within_target",
            "open_breached",
        }
        assert {r["time_zone"] for r in mine} >= {
            "Europe/Berlin",
            "Europe/London",
            "Australia/Sydney",
            "America/Los_Angeles",
        }
        assert {r["expected_status"] for r in mine} == set(bt.SLA_STATUSES)
        # Met although more wall-clock time than the target passed: only business time explains it.
        unit = policies[policy_id]["target_unit"]
        target = (
            dt.timedelta(hours=float(policies[policy_id]["target_value"]))
            if unit == "business_hours"
            else dt.timedelta(days=float(policies[policy_id]["target_value"]))
        )
        assert any(r["expected_status"] == "met" and r["ended_at"] - r["started_at"] > target for r in mine)
    # Friday 16:30 in New York + 4 business hours lands on Monday 12:30.
    friday = [
        r
        for r in planted
        if r["scenario"] == "end_of_week"
        and r["time_zone"] == "America/New_York"
        and r["policy_id"] == "mql_first_touch"
    ]
    for r in friday:
        local_start = r["started_at"].replace(tzinfo=dt.UTC).astimezone(bt.ZoneInfo("America/New_York"))
        local_due = r["due_at"].replace(tzinfo=dt.UTC).astimezone(bt.ZoneInfo("America/New_York"))
        assert (local_start.isoweekday(), local_start.time()) == (5, dt.time(16, 30))
        assert (local_due.isoweekday(), local_due.time()) in ((1, dt.time(12, 30)), (2, dt.time(12, 30)))


# ---- Stripe -------------------------------------------------------------------------------------
def test_customer_matching_and_mrr(demo):
    c = demo.con
    key = demo.result["options"]["crm_account_key"]
    personal = {r["email_domain"] for r in read_rules("personal_email_domains.csv")}
    masters = _masters(demo, "account")
    deleted = dict(rows(c, f"select id, is_deleted from {SF}.account"))
    surviving = {i for i in masters if masters[i] is None and not deleted[i]}
    by_domain = defaultdict(list)
    for i, website in rows(c, f"select id, website from {SF}.account"):
        if i in surviving and url_domain(website):
            by_domain[url_domain(website)].append(i)
    method, invalid = {}, set()
    expected_account = {}
    for cid, email, metadata in rows(c, f"select id, email, metadata from {ST}.customer where not is_deleted"):
        link = json.loads(metadata).get(key)
        if link is not None:
            survivor = _survivor(masters, link)[0] if link in masters else None
            if survivor in surviving:
                method[cid], expected_account[cid] = "crm_link", survivor
                continue
            invalid.add(cid)
        domain = norm_email(email).split("@")[1] if email and "@" in email else None
        if domain and domain not in personal and by_domain.get(domain):
            method[cid], expected_account[cid] = "domain", sorted(by_domain[domain])[0]
            assert len(by_domain[domain]) == 1
        else:
            method[cid] = "unmatched"
    assert {k for k, v in method.items() if v == "crm_link"} == ids(facts(demo, "crm_link", "customer"))
    assert {k for k, v in method.items() if v == "domain"} == ids(facts(demo, "domain_match", "customer"))
    assert {k for k, v in method.items() if v == "unmatched"} - invalid == ids(facts(demo, "unmatched_customer"))
    assert invalid == ids(facts(demo, "invalid_crm_link", "customer")) and invalid
    table = dicts(c, "select * from demo_meta.customer_match")
    assert {r["customer_id"]: r["match_method"] for r in table} == method
    assert {
        r["customer_id"]: r["expected_crm_account_id"] for r in table if r["expected_crm_account_id"]
    } == expected_account
    assert _mrr_cents(c, "subscription") == facts(demo, "mrr_total", "subscription")[0]["expected_count"]


def _mrr_cents(con, table, active_only=False):
    counting = {r["status"] for r in read_rules("stripe_subscription_statuses.csv") if r["counts_toward_mrr"] == "true"}
    where = " where _fivetran_active" if active_only else ""
    statuses = dict(rows(con, f"select id, status from {ST}.{table}{where}"))
    prices = {
        i: (int(a), iv, ic or 1)
        for i, a, iv, ic in rows(
            con, f"select id, unit_amount, recurring_interval, recurring_interval_count from {ST}.price"
        )
    }
    plans = {
        i: (int(a), iv, ic or 1)
        for i, a, iv, ic in rows(con, f"select id, amount, interval, interval_count from {ST}.plan")
    }
    factor = {"day": Fraction(365, 12), "week": Fraction(52, 12), "month": Fraction(1), "year": Fraction(1, 12)}
    total = Fraction(0)
    for sub, price, plan, quantity in rows(
        con,
        f"select subscription_id, price_id, plan_id, quantity from {ST}.subscription_item where not _fivetran_deleted",
    ):
        if statuses.get(sub) not in counting:
            continue
        known = prices.get(price) if price else plans.get(plan)
        if known:
            cents, interval, count = known
            total += Fraction(cents * (quantity or 1)) * factor[interval] / count
    return int((total + Fraction(1, 2)) // 1)


def test_missing_mrr_subscriptions_have_no_priced_item(demo):
    planted = ids(facts(demo, "missing_required_field", "subscription", "sub_mrr"))
    assert planted
    items = rows(demo.con, f"select subscription_id, price_id, plan_id from {ST}.subscription_item")
    per_sub = defaultdict(list)
    for sub, price, plan in items:
        per_sub[sub].append((price, plan))
    assert {s for s, its in per_sub.items() if all(p is None and q is None for p, q in its)} == planted


# ---- options ----------------------------------------------------------------------------------------
def test_subscription_history_mode(tmp_path):
    path = tmp_path / "history.duckdb"
    result = demo_data.generate(
        str(path), scale=0.15, seed=5, subscription_history_mode=True, subscription_table="subscription_history"
    )
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            r[0] for r in rows(con, f"select table_name from information_schema.tables where table_schema = '{ST}'")
        }
        assert "subscription_history" in tables and "subscription" not in tables
        total, distinct, active = rows(
            con,
            f"select count(*), count(distinct id), count(*) filter "
            f"(where _fivetran_active) from {ST}.subscription_history",
        )[0]
        assert active == distinct < total
        assert (
            rows(
                con,
                f"select count(*) from (select id from {ST}.subscription_history group by id "
                "having count(*) filter (where _fivetran_active) <> 1)",
            )[0][0]
            == 0
        )
        assert (
            rows(con, f"select count(*) from {ST}.subscription_history where _fivetran_start >= _fivetran_end")[0][0]
            == 0
        )
        superseded = [f for f in result["planted"] if f["category"] == "superseded_version"]
        assert superseded[0]["expected_count"] == total - distinct
        mrr = [f for f in result["planted"] if f["category"] == "mrr_total"][0]["expected_count"]
        assert _mrr_cents(con, "subscription_history", active_only=True) == mrr
        orphans = rows(
            con,
            f"select count(*) from {ST}.subscription_item i left join "
            f"(select distinct id from {ST}.subscription_history) s on i.subscription_id = s.id "
            "where s.id is null",
        )[0][0]
        assert orphans == 0


def test_drop_optional_columns(tmp_path):
    path = tmp_path / "dropped.duckdb"
    result = demo_data.generate(str(path), scale=0.15, seed=5, drop_optional_columns={"opportunity": ["next_step"]})
    gate = stages("opportunity")["Proposal"]["order"]
    with duckdb.connect(str(path), read_only=True) as con:
        columns = {r[0] for r in rows(con, f"describe {SF}.opportunity")}
        assert "next_step" not in columns and "type" in columns
        surviving = rows(con, f"select id, stage_name from {SF}.opportunity where not is_deleted")
    order = {s: d["order"] for s, d in stages("opportunity").items()}
    missing = [f for f in result["planted"] if f["rule_id"] == "opp_next_step"]
    by_category = {f["category"]: set(f["record_ids"]) for f in missing}
    assert by_category["missing_required_field"] == {i for i, s in surviving if order[s] >= gate}
    assert by_category["not_yet_required"] == {i for i, s in surviving if order[s] < gate}
    with pytest.raises(ValueError, match="required"):
        demo_data.generate(
            str(tmp_path / "x.duckdb"), scale=0.15, drop_optional_columns={"opportunity": ["stage_name"]}
        )
    with pytest.raises(ValueError, match="unknown table"):
        demo_data.generate(str(tmp_path / "x.duckdb"), scale=0.15, drop_optional_columns={"nope": ["x"]})


def test_open_connection_and_other_schemas(tmp_path):
    con = duckdb.connect(str(tmp_path / "open.duckdb"))
    result = demo_data.generate(con, scale=0.12, seed=3, salesforce_schema="sf_raw", stripe_schema="billing_raw")
    assert rows(con, "select count(*) from sf_raw.opportunity")[0][0] == result["row_counts"]["sf_raw.opportunity"]
    assert rows(con, "select count(*) from billing_raw.customer")[0][0] > 0
    con.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": 0.01}, "scale"),
        ({"seed": -1}, "seed"),
        ({"anchor": "soon"}, "anchor"),
        ({"salesforce_schema": "bad name"}, "salesforce_schema"),
    ],
)
def test_bad_arguments_are_rejected(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        demo_data.generate(str(tmp_path / "bad.duckdb"), **kwargs)


def test_cli(tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    assert demo_data.main(["--database", str(path), "--scale", "0.12", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "salesforce.opportunity" in out and "planted facts" in out and "mrr_total" in out
    for bad in (["--scale", "0"], ["--anchor", "tomorrow"], ["--seed", "-2"], ["--drop-optional-column", "x"]):
        with pytest.raises(SystemExit) as raised:
            demo_data.main(["--database", str(path), *bad])
        assert raised.value.code == 2
    assert "error" in capsys.readouterr().err
    assert (
        demo_data.main(["--database", str(path), "--scale", "0.12", "--drop-optional-column", "opportunity.stage_name"])
        == 2
    )
    completed = subprocess.run(
        [sys.executable, "-m", "revops_warehouse.demo_data", "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0 and "--subscription-history" in completed.stdout


# ---- routing after the SLA start and handoff completeness ---------------------------------------------
def test_owner_changes_inside_sla_windows_are_the_planted_ones(demo):
    c = demo.con
    users = {r["id"]: r for r in dicts(c, f'select id, is_active, time_zone_sid_key from {SF}."user"')}
    owner_now = dict(rows(c, f"select id, owner_id from {SF}.lead"))
    changes = defaultdict(list)
    for lead_id, old, new, at in rows(
        c,
        f"select lead_id, old_value, new_value, created_date from {SF}.lead_history where not is_deleted "
        "and lower(field) = 'owner' order by created_date, id",
    ):
        changes[lead_id].append((at, old, new))
    found = defaultdict(set)
    for case in _sla_cases(c):
        if not case["record_id"].startswith("00Q"):
            continue
        closes = case["end"] or ANCHOR
        for at, old, new in changes.get(case["record_id"], []):
            if case["start"] < at <= closes:
                found[case["policy_id"]].add(case["record_id"])
                assert new == owner_now[case["record_id"]] and users[new]["is_active"]
                assert users[old]["time_zone_sid_key"] == users[new]["time_zone_sid_key"]
    for policy in read_rules("sla_policies.csv"):
        if policy["start_object"] != "lead":
            continue
        planted = facts(demo, "routing_reassigned_after_sla_start", "lead", policy["policy_id"])
        assert len(planted) == 1
        assert found[policy["policy_id"]] == ids(planted) and found[policy["policy_id"]], policy["policy_id"]
    assert not set(found) - {p["policy_id"] for p in read_rules("sla_policies.csv") if p["start_object"] == "lead"}


def _value_at(history, start, current):
    """A lead field at `start`: the last change at or before it, else the first change after, else today."""
    before = [new for at, _, new in history if at <= start]
    if before:
        return before[-1]
    after = [old for at, old, _ in history if at > start]
    return after[0] if after else current


def test_handoff_fields_at_the_sla_start_are_the_planted_ones(demo):
    c = demo.con
    dictionary = {(r["object"], r["field"]): r["source_field"] or r["field"] for r in read_rules("data_dictionary.csv")}
    leads = {r["id"]: r for r in dicts(c, f"select * from {SF}.lead")}
    opps = {r["id"]: r for r in dicts(c, f"select * from {SF}.opportunity")}
    accounts = {r[0] for r in rows(c, f"select id from {SF}.account")}
    lead_changes = defaultdict(list)
    for lead_id, field, old, new, at in rows(
        c,
        f"select lead_id, field, old_value, new_value, created_date from {SF}.lead_history "
        "where not is_deleted order by created_date, id",
    ):
        lead_changes[(lead_id, field.lower().replace("_", ""))].append((at, old, new))
    opp_rows = defaultdict(list)
    for row in dicts(c, f"select * from {SF}.opportunity_history where not is_deleted order by created_date, id"):
        opp_rows[row["opportunity_id"]].append(row)
    cases = _sla_cases(c)
    checked = 0
    for policy in read_rules("sla_policies.csv"):
        obj = policy["start_object"]
        for field in [f for f in policy["handoff_required_fields"].split("|") if f]:
            column = dictionary[(obj, field)]
            found, now_empty = set(), set()
            for case in (x for x in cases if x["policy_id"] == policy["policy_id"]):
                record_id, start = case["record_id"], case["start"]
                if obj == "lead":
                    current = leads[record_id][column]
                    value = _value_at(lead_changes[(record_id, column.replace("_", ""))], start, current)
                else:
                    current = opps[record_id][column]
                    if column == "account_id":
                        current = current if current in accounts else None
                        value = current
                    else:
                        before = [r[column] for r in opp_rows[record_id] if r["created_date"] <= start]
                        value = before[-1] if before else current
                if blank(value):
                    found.add(record_id)
                if blank(current):
                    now_empty.add(record_id)
            planted = facts(demo, "handoff_incomplete", obj, policy["policy_id"], field)
            empty_now = facts(demo, "handoff_incomplete_now_empty", obj, policy["policy_id"], field)
            assert len(planted) == 1 and len(empty_now) == 1, (policy["policy_id"], field)
            assert ids(empty_now) == now_empty, (policy["policy_id"], field)
            assert found == ids(planted) | now_empty and not ids(planted) & now_empty, (policy["policy_id"], field)
            history_column = column in {r[0] for r in rows(c, f"describe {SF}.opportunity_history")}
            if obj == "lead" or history_column:
                assert ids(planted), (policy["policy_id"], field)
                checked += 1
    assert checked >= 8
