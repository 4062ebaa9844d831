"""A loader in history mode lands Stripe subscriptions as `subscription_history`, one row per version
with `_fivetran_active` on the current one: a var points the project at it, superseded versions are
excluded as such, and every raw row is still accounted for."""

from __future__ import annotations

from conftest import build_demo


def test_subscription_history_table_is_read_through_a_var(tmp_path):
    build = build_demo(
        tmp_path,
        vars_={"stripe_subscription_identifier": "subscription_history"},
        scale=0.3,
        subscription_table="subscription_history",
        subscription_history_mode=True,
    )
    assert build.returncode == 0, build.output[-4000:]
    superseded = sum(int(f["expected_count"]) for f in build.facts_where(category="superseded_version"))
    assert superseded > 0
    with build.connect() as con:
        excluded = con.execute(
            "select count(*) from audit.audit_excluded_records "
            "where source_table = 'subscription' and exclusion_reason = 'superseded_version'"
        ).fetchone()[0]
        modelled, unaccounted = con.execute(
            "select modelled_rows, unaccounted_rows from audit.audit_source_row_reconciliation "
            "where source_table = 'subscription'"
        ).fetchone()
        distinct_current = con.execute(
            "select count(distinct id) from stripe.subscription_history where _fivetran_active"
        ).fetchone()[0]
        mrr_cents = con.execute("select round(sum(mrr) * 100) from core.fct_subscriptions").fetchone()[0]
    assert excluded == superseded
    assert unaccounted == 0
    assert modelled == distinct_current
    assert int(mrr_cents) == sum(int(f["expected_count"]) for f in build.facts_where(category="mrr_total"))
