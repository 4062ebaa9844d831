"""The marts (SLA, hygiene, aging) against the demo generator's record of what it planted."""

from __future__ import annotations

import pytest


def facts(build, **match):
    return build.facts_where(**match)


def ids_of(fact_rows) -> set[str]:
    """Record ids of a list of facts, together (Build.planted_ids when the facts are a plain match)."""
    return {record_id for fact in fact_rows for record_id in fact.get("record_ids") or []}


def policies(build) -> list[str]:
    return sorted({f["rule_id"] for f in facts(build, category="sla")})


def test_sla_statuses_per_policy_match_the_planted_cases(demo_build):
    assert policies(demo_build), "the generator plants SLA cases"
    with demo_build.connect() as con:
        for policy in policies(demo_build):
            for status in ("breached", "open_breached", "open_within_target"):
                expected = demo_build.planted_ids(category="sla", rule_id=policy, note=status)
                found = {
                    r[0]
                    for r in con.execute(
                        "select record_id from sla.fct_sla_instances where policy_id = ? and sla_status = ?",
                        [policy, status],
                    ).fetchall()
                }
                assert found == expected, (policy, status)
            met = demo_build.planted_ids(category="sla", rule_id=policy, note="met")
            met_found = {
                r[0]
                for r in con.execute(
                    "select record_id from sla.fct_sla_instances where policy_id = ? and sla_status = 'met'",
                    [policy],
                ).fetchall()
            }
            assert met <= met_found, policy


def test_no_sla_instance_falls_outside_the_calendar(demo_build):
    with demo_build.connect() as con:
        missing = con.execute(
            "select count(*) from sla.fct_sla_instances where sla_status = 'calendar_missing'"
        ).fetchone()[0]
    assert missing == 0


def test_required_field_failures_per_rule_match_the_planted_ones(demo_build):
    planted = facts(demo_build, category="missing_required_field")
    assert planted
    with demo_build.connect() as con:
        for fact in planted:
            found = {
                r[0]
                for r in con.execute(
                    "select record_id from hygiene.hygiene_failing_records "
                    "where failure_type = 'missing_required_field' and rule_id = ?",
                    [fact["rule_id"]],
                ).fetchall()
            }
            expected = set(fact.get("record_ids") or [])
            # A reference to an account that does not exist leaves crm_account_id empty too: the
            # required-field rule reports it alongside the planted empty ones.
            field = con.execute(
                "select field from rules.data_dictionary where rule_id = ?", [fact["rule_id"]]
            ).fetchone()[0]
            if field == "crm_account_id":
                expected |= ids_of(
                    f
                    for f in facts(demo_build, category="orphaned_fk", object=fact["object"])
                    if f["note"].startswith("account_id")
                )
            assert len(found) == int(fact["expected_count"]) + len(expected - set(fact.get("record_ids") or [])), fact[
                "rule_id"
            ]
            assert expected <= found, fact["rule_id"]


def test_duplicate_groups_per_rule_match_the_planted_ones(demo_build):
    with demo_build.connect() as con:
        for fact in facts(demo_build, category="duplicate"):
            groups, members = con.execute(
                "select count(distinct duplicate_group_id), count(*) from intermediate.int_duplicate_keys_grouped "
                "where rule_id = ?",
                [fact["rule_id"]],
            ).fetchone()
            found = groups if fact["note"].startswith("groups") else members
            assert found == int(fact["expected_count"]), (fact["rule_id"], fact["note"])
            if fact["note"] == "records":
                found_ids = {
                    r[0]
                    for r in con.execute(
                        "select record_id from intermediate.int_duplicate_keys_grouped where rule_id = ?",
                        [fact["rule_id"]],
                    ).fetchall()
                }
                assert found_ids == set(fact["record_ids"]), fact["rule_id"]


def test_stale_open_deals_are_flagged(demo_build):
    planted = demo_build.planted_ids(category="stale_open")
    assert planted
    with demo_build.connect() as con:
        stale = {
            r[0]
            for r in con.execute(
                "select record_id from aging.fct_stage_aging where object_name = 'opportunity' and is_stale"
            ).fetchall()
        }
    assert planted <= stale


@pytest.mark.parametrize("rule_id", ["routing_inactive_owner", "routing_queue_owner"])
def test_routing_failures_match_the_planted_ones(demo_build, rule_id):
    planted = demo_build.planted_ids(category=rule_id)
    assert planted
    with demo_build.connect() as con:
        found = {
            r[0]
            for r in con.execute(
                "select record_id from hygiene.hygiene_failing_records where rule_id = ?", [rule_id]
            ).fetchall()
        }
    assert planted <= found


def test_invalid_formats_per_rule_match_the_planted_ones(demo_build):
    planted = facts(demo_build, category="invalid_format")
    assert planted
    with demo_build.connect() as con:
        for fact in planted:
            found = {
                r[0]
                for r in con.execute(
                    "select record_id from hygiene.hygiene_failing_records "
                    "where failure_type = 'invalid_format' and rule_id = ?",
                    [fact["rule_id"]],
                ).fetchall()
            }
            assert found == set(fact["record_ids"]), fact["rule_id"]


def test_scorecard_counts_agree_with_the_failing_records(demo_build):
    with demo_build.connect() as con:
        missing_scorecard = con.execute(
            "select sum(required_fields_missing) from hygiene.hygiene_scorecard"
        ).fetchone()[0]
        missing_records = con.execute(
            "select count(*) from hygiene.hygiene_failing_records where failure_type = 'missing_required_field'"
        ).fetchone()[0]
        scores = con.execute("select min(hygiene_score), max(hygiene_score) from hygiene.hygiene_scorecard").fetchone()
        sla_scorecard = con.execute(
            "select sum(sla_instances_decided), sum(sla_instances_met) from hygiene.hygiene_scorecard"
        ).fetchone()
        sla_instances = con.execute(
            "select count(*) filter (where sla_status in ('met', 'breached', 'open_breached')), "
            "count(*) filter (where sla_status = 'met') from sla.fct_sla_instances"
        ).fetchone()
        unowned_sla_failures = con.execute(
            "select count(*) from hygiene.hygiene_failing_records "
            "where failure_type in ('sla_breach', 'handoff_incomplete', 'routing') and stage_name is null"
        ).fetchone()[0]
    assert missing_scorecard == missing_records
    # Every SLA instance counts, converted leads' included (no survivorship bias).
    assert sla_scorecard == sla_instances
    assert unowned_sla_failures == 0
    assert 1 <= scores[0] <= scores[1] <= 5


def test_reassignments_while_an_sla_clock_ran_are_routing_failures(demo_build):
    planted = demo_build.planted_ids(category="routing_reassigned_after_sla_start")
    assert planted
    with demo_build.connect() as con:
        found = {
            r[0]
            for r in con.execute(
                "select record_id from hygiene.hygiene_failing_records "
                "where rule_id = 'routing_reassigned_after_sla_start'"
            ).fetchall()
        }
    assert found == planted


def test_handoffs_missing_a_required_field_match_the_planted_ones(demo_build):
    planted = facts(demo_build, category="handoff_incomplete")
    assert planted
    with demo_build.connect() as con:
        for fact in planted:
            now_empty = demo_build.planted_ids(
                category="handoff_incomplete_now_empty", rule_id=fact["rule_id"], note=fact["note"]
            )
            found = {
                r[0]
                for r in con.execute(
                    "select record_id from hygiene.hygiene_failing_records "
                    "where failure_type = 'handoff_incomplete' and rule_id = ?",
                    [f"{fact['rule_id']}:{fact['note']}"],
                ).fetchall()
            }
            assert found == set(fact["record_ids"]) | now_empty, (fact["rule_id"], fact["note"])


def test_funnel_is_monotone_and_cohorts_add_up(demo_build):
    with demo_build.connect() as con:
        gaps = con.execute(
            """
            select count(*) from (
                select funnel_record_id, min(step_order) as first_step, max(step_order) as last_step, count(*) as steps
                from funnel.fct_funnel_steps_reached group by funnel_record_id
            ) as per_record
            where steps != last_step - first_step + 1
            """
        ).fetchone()[0]
        backwards = con.execute(
            "select count(*) from funnel.fct_funnel_steps_reached where next_step_reached_at < reached_at"
        ).fetchone()[0]
        steps = dict(
            con.execute("select funnel_step, count(*) from funnel.fct_funnel_steps_reached group by 1").fetchall()
        )
        cohorts = dict(
            con.execute("select funnel_step, sum(entered_count) from funnel.fct_funnel_cohorts group by 1").fetchall()
        )
    assert gaps == 0
    assert backwards == 0
    assert steps == cohorts


def test_funnel_reaches_closed_won_exactly_for_the_won_deals(demo_build):
    """Independent count: funnel records (a lead, or an opportunity without one) whose opportunity
    ever entered a won stage, straight from the stage history and the stage seed."""
    with demo_build.connect() as con:
        won_step = con.execute(
            "select funnel_step from rules.funnel_steps order by step_order desc limit 1"
        ).fetchone()[0]
        reached = con.execute(
            "select count(distinct funnel_record_id) from funnel.fct_funnel_steps_reached where funnel_step = ?",
            [won_step],
        ).fetchone()[0]
        ever_won = con.execute(
            """
            select count(distinct coalesce(o.converted_from_lead_id, o.opportunity_id))
            from core.fct_opportunity_stage_history h
            join core.fct_opportunities o using (opportunity_id)
            where h.is_won
            """
        ).fetchone()[0]
    assert reached == ever_won > 0


def test_the_owner_at_the_clock_start_is_responsible_after_a_reassignment(demo_build):
    for fact in facts(demo_build, category="routing_reassigned_after_sla_start"):
        with demo_build.connect() as con:
            rows = con.execute(
                """
                select i.record_id, i.owner_user_id, h.old_value, h.new_value
                from sla.fct_sla_instances i
                join salesforce.lead_history h
                    on h.lead_id = i.record_id and lower(h.field) = 'owner'
                    and h.created_date > i.started_at
                    and h.created_date <= coalesce(i.met_at, timestamp '2026-11-02 12:00:00')
                where i.policy_id = ? and i.record_id in (select unnest(?::varchar[]))
                """,
                [fact["rule_id"], fact["record_ids"]],
            ).fetchall()
        assert len({r[0] for r in rows}) == int(fact["expected_count"]), fact["rule_id"]
        for record_id, owner, old_owner, new_owner in rows:
            assert owner == old_owner != new_owner, record_id
