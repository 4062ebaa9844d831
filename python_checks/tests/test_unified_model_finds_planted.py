"""The unified model against the demo generator's record of what it planted.

Every assertion compares a figure the models compute with the count (and ids) the generator wrote
to demo_meta.planted; none restates a number by hand.
"""

from __future__ import annotations

import pytest


def scalar(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()[0]


def test_the_generator_planted_what_these_tests_rely_on(demo_build):
    categories = {f["category"] for f in demo_build.planted}
    for needed in (
        "deleted",
        "merged",
        "orphaned_fk",
        "stage_skip",
        "stage_regression",
        "reopened",
        "no_history",
        "duplicate",
        "missing_required_field",
        "sla",
        "mrr_total",
    ):
        assert needed in categories, needed


def test_every_raw_row_is_modelled_or_excluded(demo_build):
    with demo_build.connect() as con:
        rows = con.execute(
            "select source_table, raw_rows, modelled_rows, excluded_rows, unaccounted_rows "
            "from audit.audit_source_row_reconciliation"
        ).fetchall()
        raw_counts = dict(
            con.execute(
                "select table_name, estimated_size from duckdb_tables() where schema_name in ('salesforce', 'stripe')"
            ).fetchall()
        )
    assert len(rows) == 15
    for table, raw, modelled, excluded, unaccounted in rows:
        assert unaccounted == 0, table
        assert raw == modelled + excluded, table
        assert raw == raw_counts[table], table


@pytest.mark.parametrize(
    "table",
    ["account", "contact", "lead", "opportunity", "opportunity_history", "lead_history", "task", "customer"],
)
def test_deleted_rows_are_excluded_as_deleted(demo_build, table):
    expected = demo_build.planted_ids(category="deleted", object=table)
    with demo_build.connect() as con:
        found = {
            r[0]
            for r in con.execute(
                "select record_id from audit.audit_excluded_records "
                "where source_table = ? and exclusion_reason = 'deleted'",
                [table],
            ).fetchall()
        }
    assert demo_build.planted_count(category="deleted", object=table) == len(found)
    assert expected <= found


@pytest.mark.parametrize("table", ["account", "contact", "lead"])
def test_merged_rows_are_excluded_as_merged(demo_build, table):
    with demo_build.connect() as con:
        found = {
            r[0]
            for r in con.execute(
                "select record_id from audit.audit_excluded_records "
                "where source_table = ? and exclusion_reason = 'merged'",
                [table],
            ).fetchall()
        }
    assert len(found) == demo_build.planted_count(category="merged", object=table)
    assert demo_build.planted_ids(category="merged", object=table) <= found


@pytest.mark.parametrize(
    ("obj", "sql"),
    [
        (
            "opportunity",
            "select o.opportunity_id, o.crm_account_id, m.merge_depth from core.fct_opportunities o "
            "join intermediate.int_merged_records_resolved m on m.record_id = o.raw_account_id",
        ),
        (
            "contact",
            "select c.person_id, c.crm_account_id, m.merge_depth from core.dim_contacts c "
            "join intermediate.int_merged_records_resolved m on m.record_id = c.raw_account_id "
            "where c.person_type = 'contact'",
        ),
    ],
)
def test_references_to_merged_accounts_land_on_the_final_survivor(demo_build, obj, sql):
    facts = demo_build.facts_where(category="merge_chain_resolution", object=obj)
    assert any(int(f["expected_count"]) for f in facts if "depth=2" in f["note"]), "a chain of two merges"
    with demo_build.connect() as con:
        resolved = {r[0]: (r[1], r[2]) for r in con.execute(sql).fetchall()}
        surviving = {r[0] for r in con.execute("select crm_account_id from core.dim_accounts").fetchall()}
    for fact in facts:
        depth = int(fact["note"].rsplit("depth=", 1)[1])
        for record_id in fact.get("record_ids") or []:
            account, found_depth = resolved[record_id]
            assert account in surviving, record_id
            assert found_depth == depth, record_id


def test_stage_paths_skips_regressions_reopenings(demo_build):
    with demo_build.connect() as con:
        by_transition = {}
        for transition, opportunity_id in con.execute(
            "select exit_transition, opportunity_id from core.fct_opportunity_stage_history "
            "where exit_transition in ('skipped', 'regressed', 'reopened')"
        ).fetchall():
            by_transition.setdefault(transition, set()).add(opportunity_id)
        no_history = {
            r[0]
            for r in con.execute(
                "select opportunity_id from core.fct_opportunities where has_no_stage_history"
            ).fetchall()
        }
    for transition, category in (
        ("skipped", "stage_skip"),
        ("regressed", "stage_regression"),
        ("reopened", "reopened"),
    ):
        expected = demo_build.planted_ids(category=category, object="opportunity")
        assert len(expected) == demo_build.planted_count(category=category, object="opportunity")
        assert by_transition.get(transition, set()) == expected, transition
    assert no_history == demo_build.planted_ids(category="no_history")


def test_amount_only_history_rows_do_not_make_intervals(demo_build):
    with demo_build.connect() as con:
        folded = scalar(con, "select count(*) from core.fct_opportunity_stage_history where history_row_count > 1")
        consecutive_same = scalar(
            con,
            """
            select count(*) from core.fct_opportunity_stage_history
            where stage_name = next_stage_name""",
        )
    assert folded > 0
    assert consecutive_same == 0


@pytest.mark.parametrize(
    ("obj", "column", "sql"),
    [
        (
            "opportunity",
            "account_id",
            "select opportunity_id from core.fct_opportunities where has_orphaned_account",
        ),
        (
            "contact",
            "account_id",
            "select person_id from core.dim_contacts where person_type = 'contact' and has_orphaned_account",
        ),
        ("task", "who_id", "select activity_id from core.fct_activities where has_orphaned_person"),
        (
            "subscription",
            "customer_id",
            "select subscription_id from core.fct_subscriptions where has_orphaned_customer",
        ),
    ],
)
def test_orphaned_foreign_keys_are_kept_and_flagged(demo_build, obj, column, sql):
    facts = [
        f
        for f in demo_build.facts_where(category="orphaned_fk", object=obj)
        if column in (f.get("rule_id") or "") or column in (f.get("note") or "")
    ]
    assert facts, f"no orphaned {obj}.{column} planted"
    expected = set().union(*[set(f.get("record_ids") or []) for f in facts])
    with demo_build.connect() as con:
        found = {r[0] for r in con.execute(sql).fetchall()}
    assert found == expected


def test_stripe_customers_match_by_link_then_domain(demo_build):
    with demo_build.connect() as con:
        methods = dict(
            con.execute(
                "select match_method, count(*) from intermediate.int_stripe_customers_resolved group by 1"
            ).fetchall()
        )
        invalid = {
            r[0]
            for r in con.execute(
                "select customer_id from intermediate.int_stripe_customers_resolved where has_invalid_crm_link"
            ).fetchall()
        }
        billing_only = scalar(con, "select count(*) from core.dim_accounts where match_method = 'billing_only'")
    # The planted invalid links carry personal email domains: they fall through to unmatched.
    assert invalid == demo_build.planted_ids(category="invalid_crm_link")
    assert methods.get("unmatched", 0) == demo_build.planted_count(category="unmatched_customer") + len(invalid)
    assert methods.get("domain", 0) == demo_build.planted_count(category="domain_match")
    assert methods.get("crm_link", 0) == demo_build.planted_count(category="crm_link")
    assert billing_only == methods.get("unmatched", 0)


def test_mrr_matches_the_planted_total(demo_build):
    with demo_build.connect() as con:
        mrr_cents = scalar(con, "select round(sum(mrr) * 100) from core.fct_subscriptions")
    assert int(mrr_cents) == demo_build.planted_count(category="mrr_total")


def test_duplicate_groups_share_the_normalized_keys_the_models_produce(demo_build):
    """The staging normalization (domains, emails) makes exactly the planted duplicate groups."""
    queries = {
        "dup_account_domain": "select website_domain, count(*) from core.dim_accounts "
        "where crm_account_id is not null and website_domain is not null "
        "group by 1 having count(*) > 1",
        "dup_contact_email": "select email, count(*) from core.dim_contacts where person_type = 'contact' "
        "and email is not null group by 1 having count(*) > 1",
        "dup_lead_email": "select email, count(*) from core.dim_contacts where person_type = 'lead' "
        "and email is not null group by 1 having count(*) > 1",
    }
    with demo_build.connect() as con:
        for rule_id, sql in queries.items():
            groups = con.execute(sql).fetchall()
            group_facts = [
                f
                for f in demo_build.facts_where(category="duplicate", rule_id=rule_id)
                if f["note"].startswith("groups")
            ]
            assert len(group_facts) == 1, rule_id
            assert len(groups) == int(group_facts[0]["expected_count"]), rule_id


def test_as_of_fixes_now(demo_build):
    with demo_build.connect() as con:
        drift = scalar(
            con,
            """
            select max(abs(days_in_stage - date_diff('minute', entered_at, timestamp '2026-11-02 12:00:00') / 1440.0))
            from core.fct_opportunity_stage_history where is_current""",
        )
    assert drift < 1e-6


def test_owners_span_several_time_zones_and_all_map_to_a_calendar(demo_build):
    with demo_build.connect() as con:
        zones = scalar(con, "select count(distinct time_zone) from core.dim_users where is_person")
        unmapped = scalar(
            con, "select count(*) from core.dim_users where time_zone is not null and calendar_region is null"
        )
    assert zones >= 4
    assert unmapped == 0
