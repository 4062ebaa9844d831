"""One day of source changes on a generated demo warehouse, as the loader's next sync lands them.

``apply_changes(database, fraction=0.01, seed=7, anchor=None)`` modifies the raw Salesforce and
Stripe tables written by ``demo_data.generate`` the way a Fivetran sync a day later would:

* new rows: leads (with their 'created' history row), contacts, accounts, opportunities (with their
  first stage-history row), tasks, Stripe customers with a subscription and its items;
* changed rows: opportunities moved to the next open stage (a new OpportunityHistory row, stage,
  probability and forecast category updated), leads moved to the next open status (a new
  LeadHistory 'Status' row), updated tasks, contacts, accounts and customers, re-synced reference
  rows (users, roles, products, prices, plans, subscriptions, items);
* deletions and merges: ``is_deleted`` flips on tasks, opportunities and on history rows that
  repeat the previous row's stage or status (they fold into an interval, so no path changes kind);
  leads, contacts and accounts merged into another surviving record (master_record_id set and
  is_deleted true, as Salesforce does);
* late-arriving rows: OpportunityHistory rows dated in the past (a same-stage row one minute after
  an existing one), landed now.

About ``fraction`` of each raw table is new and about ``fraction`` changed (deletions and merges
are a tenth of that). Every event happens in the 12 hours after the previous as-of (the anchor) and
every touched row gets a ``_fivetran_synced`` in the last 10 hours before the new as-of (anchor + 1
day), so after the previous sync; the new as-of is returned. Rows are picked by an md5 of their id,
the seed and a salt: the same seed on the same warehouse gives the same changes.

Records the generator planted a defect on (every id in demo_meta.planted, merge_resolution,
sla_cases and the accounts of customer_match; of Stripe customers, those planted as deleted,
merged or invalidly linked) and rows already deleted or merged are never touched, and new rows
are clean (unique emails and domains, forward stage paths), so the planted facts about records hold
after the changes. Aggregates over all records (interval counts, MRR total, SLA and stale counts
at the new as-of) change, as they would. What was done is appended to demo_meta.applied_changes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from revops_warehouse.demo_data import salesforce_ids, stripe_ids
from revops_warehouse.settings import RULES_DIR

SF = "salesforce"
ST = "stripe"
# Counters of new ids: far above the generator's (<= ~12M at scale 460) and below its orphan range
# (900M); one block of 1M per object and day, so successive days never collide.
NEW_COUNTER_BASE = 700_000_000
DAY_BLOCKS = 190


def _parse(anchor: str | dt.datetime) -> dt.datetime:
    if isinstance(anchor, dt.datetime):
        return anchor.replace(tzinfo=None, microsecond=0)
    return dt.datetime.fromisoformat(str(anchor)).replace(tzinfo=None, microsecond=0)


class _Changes:
    def __init__(self, con: duckdb.DuckDBPyConnection, fraction: float, seed: int, anchor: dt.datetime) -> None:
        self.con = con
        self.fraction = fraction
        self.seed = seed
        self.anchor = anchor
        self.as_of = anchor + dt.timedelta(days=1)
        self.day = (self.as_of.date() - dt.date(2020, 1, 1)).days % DAY_BLOCKS
        self.log: list[dict[str, Any]] = []

    # ---- helpers ---------------------------------------------------------------------------------
    def u(self, expr: str, salt: str) -> str:
        """A uniform number in [0, 1) from a row's id, the seed and a salt (md5: stable everywhere)."""
        return f"((md5_number_lower(cast({expr} as varchar) || '|{self.seed}|{salt}') % 1000000) / 1000000.0)"

    def event_time(self, expr: str, salt: str) -> str:
        """A moment in the 12 hours after the previous as-of."""
        return f"(timestamp '{self.anchor}' + to_seconds(cast(floor({self.u(expr, salt)} * 43200) as bigint)))"

    def synced(self, expr: str) -> str:
        """A sync time in the last 10 hours before the new as-of (after every earlier sync)."""
        seconds = f"cast(300 + floor({self.u(expr, 'synced')} * 35700) as bigint)"
        return f"(timestamp '{self.as_of}' - to_seconds({seconds}))"

    def q(self, sql: str) -> None:
        self.con.execute(sql).fetchall()

    def count(self, table: str) -> int:
        return self.con.execute(f"select count(*) from {table}").fetchall()[0][0]

    def record(self, table: str, kind: str, rows: int) -> None:
        self.log.append({"table_name": table, "change": kind, "row_count": int(rows)})

    def new_ids(self, name: str, k: int, make) -> None:
        """Temp table `name`(rn, new_id) with k fresh ids from `make(counters)`."""
        counters = [NEW_COUNTER_BASE + self.day * 1_000_000 + i for i in range(k)]
        ids = make(counters) if k else pa.array([], pa.string())
        arrow = pa.table({"rn": pa.array(range(1, k + 1), pa.int64()), "new_id": ids})
        self.con.register("_ids_arrow", arrow)
        self.q(f"create or replace temp table {name} as select * from _ids_arrow")
        self.con.unregister("_ids_arrow")

    def exists(self, schema: str, table: str) -> bool:
        return bool(
            self.con.execute(
                "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
            ).fetchall()[0][0]
        )

    # ---- setup -------------------------------------------------------------------------------------
    def setup(self) -> None:
        self.q(
            """
            create or replace temp table _protected as
            select distinct id from (
                select unnest(record_ids) as id from demo_meta.planted
                union all select record_id from demo_meta.merge_resolution
                union all select referenced_id from demo_meta.merge_resolution
                union all select expected_surviving_id from demo_meta.merge_resolution
                union all select record_id from demo_meta.sla_cases
                union all select owner_user_id from demo_meta.sla_cases
                union all select customer_id from demo_meta.customer_match
                union all select expected_crm_account_id from demo_meta.customer_match
            ) where id is not null
            """
        )
        # Every Stripe customer has an expected match (customer_match); a clone of one matches the
        # same way and a description change matches as before, so only defect customers are kept out.
        self.q(
            """
            create or replace temp table _protected_customers as
            select distinct id from (
                select unnest(record_ids) as id from demo_meta.planted
                where object = 'customer' and category not in ('crm_link', 'domain_match', 'unmatched_customer')
                union all select record_id from demo_meta.merge_resolution
                union all select referenced_id from demo_meta.merge_resolution
                union all select customer_id from demo_meta.customer_match where has_invalid_crm_link
            ) where id is not null
            """
        )
        with (RULES_DIR / "stage_definitions.csv").open() as f:
            rows = list(csv.DictReader(f))
        stages = pa.table(
            {
                "object": [r["object"] for r in rows],
                "stage_name": [r["stage_name"] for r in rows],
                "stage_order": [int(r["stage_order"]) for r in rows],
                "is_open": [r["is_open"].strip().lower() == "true" for r in rows],
                "default_probability": [
                    float(r["default_probability"]) if r["default_probability"].strip() else None for r in rows
                ],
            }
        )
        self.con.register("_stages_arrow", stages)
        self.q("create or replace temp table _stages as select * from _stages_arrow")
        self.con.unregister("_stages_arrow")
        # The next open stage after each open stage (by order), per object.
        self.q(
            """
            create or replace temp table _next_stage as
            select s.object, s.stage_name, n.stage_name as next_stage_name, n.default_probability as next_probability
            from _stages s
            join _stages n
                on n.object = s.object and n.is_open
                and n.stage_order = (
                    select min(m.stage_order) from _stages m
                    where m.object = s.object and m.is_open and m.stage_order > s.stage_order
                )
            where s.is_open
            """
        )
        # Forecast category of each opportunity stage, as the data already has it.
        self.q(
            f"""
            create or replace temp table _forecast as
            select stage_name, mode(forecast_category) as forecast_category
            from {SF}.opportunity where not coalesce(is_deleted, false) group by stage_name
            """
        )

    def candidates(self, table: str, name: str, extra: str = "") -> None:
        """Surviving, unplanted rows of a Salesforce object table."""
        master = "and master_record_id is null" if table in ("account", "contact", "lead") else ""
        self.q(
            f"""
            create or replace temp table {name} as
            select * from {SF}."{table}" t
            where not coalesce(is_deleted, false) {master}
                and id not in (select id from _protected) {extra}
            """
        )

    # ---- Salesforce --------------------------------------------------------------------------------
    def accounts(self) -> None:
        self.candidates("account", "_acc")
        f = self.fraction
        self.q(
            f"""create or replace temp table _acc_new_src as
            select *, row_number() over (order by id) as rn from _acc where {self.u("id", "acc_new")} < {f}"""
        )
        k = self.count("_acc_new_src")
        self.new_ids("_acc_ids", k, lambda c: salesforce_ids("001", c))
        t = self.event_time("i.new_id", "t")
        self.q(
            f"""
            insert into {SF}.account by name
            select s.* exclude (rn) replace (
                i.new_id as id,
                s.name || ' ' || substr(i.new_id, 11, 5) as name,
                'www.n' || substr(md5(i.new_id), 1, 10) || '-' || regexp_replace(coalesce(s.website, 'example.com'),
                    '^(https?://)?(www\\.)?', '') as website,
                null as parent_id,
                {t} as created_date,
                {t} as last_modified_date,
                null as last_activity_date,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _acc_new_src s join _acc_ids i using (rn)
            """
        )
        self.record("account", "new", k)
        # Changed: a new employee count; merged: into another changed-free surviving account.
        changed = f"{self.u('id', 'acc_chg')} < {f}"
        self.q(
            f"""
            update {SF}.account set
                number_of_employees = coalesce(number_of_employees, 0) + 1,
                last_modified_date = {self.event_time("id", "t")},
                _fivetran_synced = {self.synced("id")}
            where id in (select id from _acc where {changed})
            """
        )
        self.record("account", "changed", self.count(f"_acc where {changed}"))
        self.merge("account", "_acc", f"{self.u('id', 'acc_chg')} >= {f}")

    def merge(self, table: str, candidates: str, not_changed: str) -> None:
        """Merge a tenth of `fraction` of the candidates into another surviving candidate."""
        f = self.fraction / 10
        self.q(
            f"""
            create or replace temp table _merge_pairs as
            with losers as (
                select id, row_number() over (order by id) as rn from {candidates}
                where {self.u("id", table + "_merge")} < {f} and {not_changed}
            ),
            winners as (
                select id, row_number() over (order by {self.u("id", table + "_winner")}, id) as rn
                from {candidates}
                where {self.u("id", table + "_merge")} >= {f} and {not_changed}
            )
            select losers.id as loser, winners.id as winner from losers join winners using (rn)
            """
        )
        self.q(
            f"""
            update {SF}."{table}" set
                master_record_id = p.winner,
                is_deleted = true,
                last_modified_date = {self.event_time("id", "t")},
                _fivetran_synced = {self.synced("id")}
            from _merge_pairs p where {SF}."{table}".id = p.loser
            """
        )
        self.record(table, "merged", self.count("_merge_pairs"))
        # The survivors were modified too (Salesforce updates the master record).
        self.q(
            f"""
            update {SF}."{table}" set
                last_modified_date = {self.event_time("id", "t")},
                _fivetran_synced = {self.synced("id")}
            where id in (select winner from _merge_pairs)
            """
        )

    def contacts(self) -> None:
        self.candidates("contact", "_con", "and (account_id is null or account_id not in (select id from _protected))")
        f = self.fraction
        self.q(
            f"""create or replace temp table _con_new_src as
            select *, row_number() over (order by id) as rn from _con where {self.u("id", "con_new")} < {f}
            and account_id in (select id from {SF}.account where not coalesce(is_deleted, false)
                and master_record_id is null)"""
        )
        k = self.count("_con_new_src")
        self.new_ids("_con_ids", k, lambda c: salesforce_ids("003", c))
        t = self.event_time("i.new_id", "t")
        self.q(
            f"""
            insert into {SF}.contact by name
            select s.* exclude (rn) replace (
                i.new_id as id,
                case when s.email is not null then 'n' || substr(md5(i.new_id), 1, 10) || '.' || s.email end as email,
                {t} as created_date,
                {t} as last_modified_date,
                null as last_activity_date,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _con_new_src s join _con_ids i using (rn)
            """
        )
        self.record("contact", "new", k)
        changed = f"{self.u('id', 'con_chg')} < {f}"
        self.q(
            f"""
            update {SF}.contact set
                phone = '+1 555 ' || lpad(cast(cast({self.u("id", "phone")} * 10000 as bigint) as varchar), 4, '0'),
                last_modified_date = {self.event_time("id", "t")},
                _fivetran_synced = {self.synced("id")}
            where id in (select id from _con where {changed})
            """
        )
        self.record("contact", "changed", self.count(f"_con where {changed}"))
        self.merge("contact", "_con", f"{self.u('id', 'con_chg')} >= {f}")

    def leads(self) -> None:
        self.candidates("lead", "_lead", "and not coalesce(is_converted, false)")
        f = self.fraction
        # New leads, in the first open status, with their 'created' history row.
        self.q(
            f"""create or replace temp table _lead_new_src as
            select *, row_number() over (order by id) as rn from _lead where {self.u("id", "lead_new")} < {f}"""
        )
        k = self.count("_lead_new_src")
        self.new_ids("_lead_ids", k, lambda c: salesforce_ids("00Q", c))
        t = self.event_time("i.new_id", "t")
        self.q(
            f"""
            insert into {SF}.lead by name
            select s.* exclude (rn) replace (
                i.new_id as id,
                case when s.email is not null then 'n' || substr(md5(i.new_id), 1, 10) || '.' || s.email end as email,
                (select stage_name from _stages where object = 'lead' and is_open
                    order by stage_order limit 1) as status,
                {t} as created_date,
                {t} as last_modified_date,
                null as last_activity_date,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _lead_new_src s join _lead_ids i using (rn)
            """
        )
        self.record("lead", "new", k)
        # Status moves: to the next open status, with a LeadHistory 'Status' row.
        moved = f"{self.u('id', 'lead_move')} < {f}"
        moved_l = f"{self.u('l.id', 'lead_move')} < {f}"
        self.q(
            f"""
            create or replace temp table _lead_moves as
            select l.id, l.status as old_status, n.next_stage_name as new_status, l.owner_id,
                {self.event_time("l.id", "move")} as moved_at,
                row_number() over (order by l.id) as rn
            from _lead l join _next_stage n on n.object = 'lead' and n.stage_name = l.status
            where {moved_l}
            """
        )
        m = self.count("_lead_moves")
        self.new_ids("_lead_hist_ids", k + m, lambda c: salesforce_ids("017", c))
        self.q(
            f"""
            insert into {SF}.lead_history by name
            select i.new_id as id, s.id_new as lead_id, 'created' as field, null as old_value, null as new_value,
                s.created_date, s.created_by_id, false as is_deleted, s._fivetran_synced
            from (select l.id as id_new, l.created_date, l.created_by_id, l._fivetran_synced,
                    row_number() over (order by l.id) as rn
                  from {SF}.lead l join _lead_ids n on l.id = n.new_id) s
            join _lead_hist_ids i using (rn)
            """
        )
        self.q(
            f"""
            insert into {SF}.lead_history by name
            select i.new_id as id, mv.id as lead_id, 'Status' as field, mv.old_status as old_value,
                mv.new_status as new_value, mv.moved_at as created_date, mv.owner_id as created_by_id,
                false as is_deleted, {self.synced("i.new_id")} as _fivetran_synced
            from _lead_moves mv join _lead_hist_ids i on i.rn = mv.rn + {k}
            """
        )
        self.q(
            f"""
            update {SF}.lead set
                status = mv.new_status, last_modified_date = mv.moved_at, _fivetran_synced = {self.synced("lead.id")}
            from _lead_moves mv where lead.id = mv.id
            """
        )
        self.record("lead", "status_moved", m)
        self.record("lead_history", "new", k + m)
        self.merge("lead", "_lead", f"not ({moved})")

    def opportunities(self) -> None:
        self.candidates(
            "opportunity", "_opp", "and (account_id is null or account_id not in (select id from _protected))"
        )
        f = self.fraction
        # New opportunities in the first open stage, each with its first history row.
        self.q(
            f"""create or replace temp table _opp_new_src as
            select *, row_number() over (order by id) as rn from _opp where {self.u("id", "opp_new")} < {f}
            and account_id in (select id from {SF}.account where not coalesce(is_deleted, false)
                and master_record_id is null)"""
        )
        k = self.count("_opp_new_src")
        self.new_ids("_opp_ids", k, lambda c: salesforce_ids("006", c))
        t = self.event_time("i.new_id", "t")
        self.q(
            """
            create or replace temp table _first_stage as
            select s.stage_name, s.default_probability, fc.forecast_category
            from _stages s left join _forecast fc using (stage_name)
            where s.object = 'opportunity' and s.is_open order by s.stage_order limit 1
            """
        )
        self.q(
            f"""
            insert into {SF}.opportunity by name
            select s.* exclude (rn) replace (
                i.new_id as id,
                s.name || ' - expansion' as name,
                fs.stage_name as stage_name,
                cast(fs.default_probability as decimal(28, 6)) as probability,
                fs.forecast_category as forecast_category,
                false as is_closed,
                false as is_won,
                cast({t} + interval 60 day as date) as close_date,
                {t} as created_date,
                {t} as last_modified_date,
                null as last_activity_date,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _opp_new_src s join _opp_ids i using (rn) cross join _first_stage fs
            """
        )
        self.record("opportunity", "new", k)
        # Stage moves: the next open stage, with a history row.
        moved = f"{self.u('o.id', 'opp_move')} < {f}"
        self.q(
            f"""
            create or replace temp table _opp_moves as
            select o.id, n.next_stage_name as new_stage, cast(n.next_probability as decimal(28, 6)) as probability,
                fc.forecast_category, o.amount, o.close_date, o.owner_id,
                {self.event_time("o.id", "move")} as moved_at,
                row_number() over (order by o.id) as rn
            from _opp o
            join _next_stage n on n.object = 'opportunity' and n.stage_name = o.stage_name
            left join _forecast fc on fc.stage_name = n.next_stage_name
            where {moved}
            """
        )
        m = self.count("_opp_moves")
        # Late rows: a same-stage copy of an opportunity's latest history row, dated a minute later.
        self.q(
            f"""
            create or replace temp table _opp_late as
            select h.* , row_number() over (order by h.id) as rn from (
                select h.*, row_number() over (partition by h.opportunity_id order by h.created_date desc, h.id) as k
                from {SF}.opportunity_history h
                join _opp o on o.id = h.opportunity_id
                where not coalesce(h.is_deleted, false)
                    and {self.u("o.id", "opp_late")} < {f / 5} and not ({moved})
            ) h where k = 1
            """
        )
        late = self.count("_opp_late")
        self.new_ids("_opp_hist_ids", k + m + late, lambda c: salesforce_ids("008", c))
        self.q(
            f"""
            insert into {SF}.opportunity_history by name
            select i.new_id as id, o.id as opportunity_id, o.stage_name, o.amount, o.close_date, o.probability,
                o.forecast_category, o.created_date, o.created_by_id, false as is_deleted, o._fivetran_synced
            from (select o.*, row_number() over (order by o.id) as rn
                  from {SF}.opportunity o join _opp_ids n on o.id = n.new_id) o
            join _opp_hist_ids i using (rn)
            """
        )
        self.q(
            f"""
            insert into {SF}.opportunity_history by name
            select i.new_id as id, mv.id as opportunity_id, mv.new_stage as stage_name, mv.amount, mv.close_date,
                mv.probability, mv.forecast_category, mv.moved_at as created_date, mv.owner_id as created_by_id,
                false as is_deleted, {self.synced("i.new_id")} as _fivetran_synced
            from _opp_moves mv join _opp_hist_ids i on i.rn = mv.rn + {k}
            """
        )
        self.q(
            f"""
            insert into {SF}.opportunity_history by name
            select l.* exclude (k, rn) replace (
                i.new_id as id,
                l.created_date + interval 1 minute as created_date,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _opp_late l join _opp_hist_ids i on i.rn = l.rn + {k + m}
            """
        )
        self.q(
            f"""
            update {SF}.opportunity set
                stage_name = mv.new_stage, probability = mv.probability, forecast_category = mv.forecast_category,
                last_modified_date = mv.moved_at, _fivetran_synced = {self.synced("opportunity.id")}
            from _opp_moves mv where opportunity.id = mv.id
            """
        )
        self.record("opportunity", "stage_moved", m)
        self.record("opportunity_history", "new", k + m)
        self.record("opportunity_history", "late_arriving", late)
        # Deleted opportunities (a tenth of the fraction, none of the moved ones).
        deleted = f"{self.u('id', 'opp_del')} < {f / 10} and not ({moved.replace('o.id', 'id')})"
        self.q(
            f"""
            update {SF}.opportunity set is_deleted = true, _fivetran_synced = {self.synced("id")}
            where id in (select id from _opp where {deleted})
            """
        )
        self.record("opportunity", "deleted", self.count(f"_opp where {deleted}"))
        # Deleted history rows that repeat the previous row's stage (about the fraction of them).
        self.history_deletions(
            "opportunity_history", "opportunity_id", "stage_name", f"select id from _opp where not ({deleted})"
        )

    def history_deletions(self, table: str, parent: str, value: str, parents: str, where: str = "true") -> None:
        self.q(
            f"""
            create or replace temp table _hist_del as
            select id from (
                select h.id, h.{value},
                    lag(h.{value}) over (partition by h.{parent} order by h.created_date, h.id) as previous_value,
                    h.{parent}
                from {SF}.{table} h
                where not coalesce(h.is_deleted, false) and {where} and h._fivetran_synced < timestamp '{self.anchor}'
            )
            where {value} = previous_value and {parent} in ({parents})
                and {self.u("id", table + "_del")} < {self.fraction}
                and id not in (select id from _protected)
            """
        )
        self.q(
            f"""update {SF}.{table} set is_deleted = true, _fivetran_synced = {self.synced("id")}
            where id in (select id from _hist_del)"""
        )
        self.record(table, "deleted", self.count("_hist_del"))

    def lead_history(self) -> None:
        self.history_deletions("lead_history", "lead_id", "new_value", "select id from _lead", "h.field = 'Status'")

    def tasks(self) -> None:
        f = self.fraction
        refs = " and ".join(
            f"({c} is null or {c} not in (select id from _protected))" for c in ("who_id", "what_id", "account_id")
        )
        self.q(
            f"""create or replace temp table _task as select * from {SF}.task
            where not coalesce(is_deleted, false) and id not in (select id from _protected) and {refs}"""
        )
        self.q(
            f"""create or replace temp table _task_new_src as
            select *, row_number() over (order by id) as rn from _task where {self.u("id", "task_new")} < {f}"""
        )
        k = self.count("_task_new_src")
        self.new_ids("_task_ids", k, lambda c: salesforce_ids("00T", c))
        t = self.event_time("i.new_id", "t")
        self.q(
            f"""
            insert into {SF}.task by name
            select s.* exclude (rn) replace (
                i.new_id as id,
                cast({t} as date) as activity_date,
                {t} as created_date,
                {t} + interval 10 minute as last_modified_date,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _task_new_src s join _task_ids i using (rn)
            """
        )
        self.record("task", "new", k)
        changed = f"{self.u('id', 'task_chg')} < {f}"
        self.q(
            f"""update {SF}.task set subject = subject || ' (follow-up)',
                last_modified_date = {self.event_time("id", "t")}, _fivetran_synced = {self.synced("id")}
            where id in (select id from _task where {changed})"""
        )
        self.record("task", "changed", self.count(f"_task where {changed}"))
        deleted = f"{self.u('id', 'task_del')} < {f / 10} and not ({changed})"
        self.q(
            f"""update {SF}.task set is_deleted = true, _fivetran_synced = {self.synced("id")}
            where id in (select id from _task where {deleted})"""
        )
        self.record("task", "deleted", self.count(f"_task where {deleted}"))

    def resync(self, schema: str, table: str) -> None:
        """Rows re-synced without a field change (the loader re-sent them)."""
        if not self.exists(schema, table):
            return
        where = f"{self.u('id', table + '_resync')} < {self.fraction} and id not in (select id from _protected)"
        self.q(f'update {schema}."{table}" set _fivetran_synced = {self.synced("id")} where {where}')
        self.record(
            table,
            "resynced",
            self.count(f"{schema}.\"{table}\" where {where} and _fivetran_synced > timestamp '{self.anchor}'"),
        )

    # ---- Stripe ------------------------------------------------------------------------------------
    def stripe(self) -> None:
        f = self.fraction
        has_subscriptions = self.exists(ST, "subscription") and self.exists(ST, "subscription_item")
        self.q(
            f"""create or replace temp table _cus as select * from {ST}.customer
            where not coalesce(is_deleted, false) and coalesce(livemode, true)
                and id not in (select id from _protected_customers)"""
        )
        self.q(
            f"""create or replace temp table _cus_new_src as
            select *, row_number() over (order by id) as rn from _cus where {self.u("id", "cus_new")} < {f}"""
        )
        k = self.count("_cus_new_src")
        self.new_ids("_cus_ids", k, lambda c: stripe_ids("cus_", [x * 7 + 3 for x in c], 14))
        t = self.event_time("i.new_id", "t")
        self.q(
            f"""
            insert into {ST}.customer by name
            select s.* exclude (rn) replace (
                i.new_id as id,
                case when s.email is not null then 'n' || substr(md5(i.new_id), 1, 10) || '.' || s.email end as email,
                {t} as created,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _cus_new_src s join _cus_ids i using (rn)
            """
        )
        self.record("customer", "new", k)
        changed = f"{self.u('id', 'cus_chg')} < {f}"
        self.q(
            f"""update {ST}.customer set description = 'updated', _fivetran_synced = {self.synced("id")}
            where id in (select id from _cus where {changed})"""
        )
        self.record("customer", "changed", self.count(f"_cus where {changed}"))
        if not has_subscriptions:
            return
        # New customers subscribe like the customer they were cloned from (its latest subscription).
        self.q(
            f"""
            create or replace temp table _sub_new_src as
            select s.* exclude (k), row_number() over (order by s.id) as rn from (
                select s.*, c.new_id as new_customer_id,
                    row_number() over (partition by s.customer_id order by s.created desc, s.id) as k
                from {ST}.subscription s
                join (select src.id as old_id, i.new_id from _cus_new_src src join _cus_ids i using (rn)) c
                    on s.customer_id = c.old_id
                where not coalesce(s._fivetran_deleted, false)
            ) s where k = 1
            """
        )
        m = self.count("_sub_new_src")
        self.new_ids("_sub_ids", m, lambda c: stripe_ids("sub_", [x * 7 + 3 for x in c], 24))
        t = self.event_time("i.new_id", "t")
        self.q(
            f"""
            insert into {ST}.subscription by name
            select s.* exclude (rn, new_customer_id) replace (
                i.new_id as id,
                s.new_customer_id as customer_id,
                {t} as created,
                {t} as start_date,
                {t} as current_period_start,
                {t} + interval 30 day as current_period_end,
                null as canceled_at,
                null as ended_at,
                null as trial_start,
                null as trial_end,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _sub_new_src s join _sub_ids i using (rn)
            """
        )
        self.record("subscription", "new", m)
        self.q(
            f"""
            create or replace temp table _item_new_src as
            select it.*, s.new_sub_id, s.created_at as sub_created, row_number() over (order by it.id) as item_rn
            from {ST}.subscription_item it
            join (select src.id as old_id, i.new_id as new_sub_id,
                    {self.event_time("i.new_id", "t")} as created_at
                  from _sub_new_src src join _sub_ids i using (rn)) s
                on it.subscription_id = s.old_id
            where not coalesce(it._fivetran_deleted, false)
            """
        )
        n = self.count("_item_new_src")
        self.new_ids("_item_ids", n, lambda c: stripe_ids("si_", [x * 7 + 3 for x in c], 14))
        self.q(
            f"""
            insert into {ST}.subscription_item by name
            select it.* exclude (new_sub_id, sub_created, item_rn) replace (
                i.new_id as id,
                it.new_sub_id as subscription_id,
                it.sub_created as created,
                {self.synced("i.new_id")} as _fivetran_synced
            )
            from _item_new_src it join _item_ids i on i.rn = it.item_rn
            """
        )
        self.record("subscription_item", "new", n)

    def run(self) -> dict[str, Any]:
        self.setup()
        self.accounts()
        self.contacts()
        self.leads()
        self.lead_history()
        self.opportunities()
        self.tasks()
        self.stripe()
        for schema, table in (
            (SF, "user"),
            (SF, "user_role"),
            (ST, "product"),
            (ST, "price"),
            (ST, "plan"),
            (ST, "subscription"),
            (ST, "subscription_item"),
        ):
            self.resync(schema, table)
        self.q(
            """create table if not exists demo_meta.applied_changes (
                as_of timestamp, previous_as_of timestamp, seed bigint, fraction double,
                table_name varchar, change varchar, row_count bigint)"""
        )
        for entry in self.log:
            self.con.execute(
                "insert into demo_meta.applied_changes values (?, ?, ?, ?, ?, ?, ?)",
                [
                    self.as_of,
                    self.anchor,
                    self.seed,
                    self.fraction,
                    entry["table_name"],
                    entry["change"],
                    entry["row_count"],
                ],
            ).fetchall()
        return {
            "as_of": self.as_of.strftime("%Y-%m-%d %H:%M:%S"),
            "previous_as_of": self.anchor.strftime("%Y-%m-%d %H:%M:%S"),
            "seed": self.seed,
            "fraction": self.fraction,
            "changes": self.log,
        }


def latest_as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The as-of of the warehouse's data: the last applied change's, else the generator's anchor."""
    tables = {
        r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'demo_meta'").fetchall()
    }
    if "applied_changes" in tables:
        value = con.execute("select max(as_of) from demo_meta.applied_changes").fetchall()[0][0]
        if value is not None:
            return value
    return con.execute("select max(anchor) from demo_meta.run_info").fetchall()[0][0]


def apply_changes(
    database: str | Path | duckdb.DuckDBPyConnection,
    fraction: float = 0.01,
    seed: int = 7,
    anchor: str | dt.datetime | None = None,
) -> dict[str, Any]:
    """Apply one day of new, changed and deleted source rows; return the new as-of and what changed.

    `anchor` is the previous as-of (default: the warehouse's latest, see latest_as_of); the new
    as-of is a day later. Everything happens in one transaction.
    """
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction!r}")
    own = not isinstance(database, duckdb.DuckDBPyConnection)
    con = duckdb.connect(str(database)) if own else database
    try:
        previous = _parse(anchor) if anchor is not None else latest_as_of(con)
        con.execute("begin transaction").fetchall()
        try:
            result = _Changes(con, fraction, int(seed), previous).run()
            con.execute("commit").fetchall()
        except Exception:
            con.execute("rollback").fetchall()
            raise
        return result
    finally:
        if own:
            con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database")
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--anchor", default=None)
    args = parser.parse_args(argv)
    print(json.dumps(apply_changes(args.database, args.fraction, args.seed, args.anchor), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
