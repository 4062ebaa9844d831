"""The static hygiene scorecard page: one self-contained HTML file that opens offline.

`write_report(database, output)` reads the marts of the latest scorecard snapshot (and every
snapshot for the trend) from the DuckDB warehouse, read-only, and writes one HTML file with
plotly.js inlined once. Every label, stage name, rule id and threshold comes from the warehouse
(the marts and the rules seeds); nothing here names a stage, a field or a target. Every value is
HTML-escaped by the template (jinja2 autoescape); chart labels are escaped too, because plotly
reads its text as a small HTML subset.

`python -m revops_warehouse.report --database X --output Y [--run-id R]` does the same from a shell.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from revops_warehouse import settings

DEFAULT_OUTPUT = settings.PROJECT_DIR / "artifacts" / "report" / "hygiene_scorecard.html"
GX_TABLE = "quality.gx_validation_results"
OWNERS_SHOWN = 15  # owners in the owner summary and its chart
WORST_OWNERS = 10  # owners whose worst failing records are listed ...
WORST_PER_OWNER = 5  # ... this many each: at most 50 rows
TREND_COLUMNS = 6  # snapshots shown as columns of the trend table (the chart shows all)

# Colours: a qualitative palette for categories, and one for the 1-5 scores (weak → strong).
PALETTE = ["#2f6db5", "#e07b39", "#3a9d6e", "#b8476f", "#7a5cb8", "#8c7a3b", "#2aa3b8", "#c44b3b"]
SCORE_COLOURS = {1: "#b3261e", 2: "#d9622b", 3: "#d8a31a", 4: "#5e9e3f", 5: "#1f7a4d"}
SEVERITY_COLOURS = {"error": "#b3261e", "warn": "#d8a31a"}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


# ----------------------------------------------------------------------------------------------
# Formatting


def fmt_int(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def fmt_pct(rate: Any) -> str:
    """A 0-1 rate as a percent with one decimal."""
    return "–" if rate is None else f"{float(rate) * 100:.1f}%"


def fmt_pct100(percent: Any) -> str:
    """A value already in percent (0-100, as Great Expectations reports it), one decimal."""
    return "–" if percent is None else f"{float(percent):.1f}%"


def fmt_pp(delta: Any) -> str:
    """A difference of two rates, in percentage points."""
    return "–" if delta is None else f"{float(delta) * 100:+.1f} pp"


def fmt_date(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fmt_datetime(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def rate(numerator: Any, denominator: Any) -> float | None:
    return None if not denominator else float(numerator or 0) / float(denominator)


def label(value: Any) -> str:
    """A category label for plotly, which reads text as a small HTML subset: escape it."""
    return html.escape("–" if value is None else str(value))


FORMATS = {
    "int": fmt_int,
    "pct": fmt_pct,
    "pct100": fmt_pct100,
    "pp": fmt_pp,
    "date": fmt_date,
    "datetime": fmt_datetime,
    "text": lambda v: "–" if v is None else str(v),
    "long": lambda v: "" if v is None else str(v),  # free text (descriptions, messages, id lists): wraps
}


# ----------------------------------------------------------------------------------------------
# Page model


@dataclass
class Column:
    key: str
    title: str
    kind: str = "text"  # a FORMATS key

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "pct", "pct100", "pp")


@dataclass
class Table:
    table_id: str
    columns: list[Column]
    rows: list[dict]  # each row: the columns' values, "_key" (its data-key) and optional "_class"
    caption: str = ""

    def cells(self, row: dict) -> list[tuple[Column, str, str]]:
        """(column, formatted text, css class) for each column of the row."""
        cells = []
        for column in self.columns:
            text = FORMATS[column.kind](row.get(column.key))
            if column.numeric:
                css = "num"
            elif column.kind == "long":
                css = "wrap"
            elif column.key == "severity":
                css = f"sev sev-{text}"
            else:
                css = ""
            cells.append((column, text, css))
        return cells


@dataclass
class Section:
    section_id: str
    title: str
    how_to_read: str
    source: str
    empty: str | None = None  # set when the section has no data: said instead of tables and charts
    notes: list[str] = field(default_factory=list)
    kpis: list[dict] = field(default_factory=list)
    figures: list[Markup] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Reading the warehouse


class Warehouse:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.tables = {
            f"{schema}.{name}"
            for schema, name in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, sql: str, params: list | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]


def missing(wh: Warehouse, section: Section, *tables: str) -> bool:
    """True (and the section says so) when a table the section reads is not in the warehouse."""
    absent = [table for table in tables if not wh.has(table)]
    if absent:
        section.empty = f"{', '.join(absent)} not in the warehouse: run the build, then regenerate this page."
    return bool(absent)


def stage_order_join(wh: Warehouse, alias: str) -> tuple[str, str]:
    """A join to the stage_definitions seed for the stage order, when the seed is there."""
    if wh.has("rules.stage_definitions"):
        return (
            f"left join rules.stage_definitions as sd on sd.object = {alias}.object_name "
            f"and sd.stage_name = {alias}.stage_name",
            "min(sd.stage_order)",
        )
    return "", "cast(null as integer)"


class Thresholds:
    """hygiene_score_thresholds: a 1-5 score per metric, as the scorecard model computes it."""

    def __init__(self, wh: Warehouse):
        self.by_metric: dict[str, list[tuple[float, int, str]]] = {}
        if wh.has("rules.hygiene_score_thresholds"):
            for row in wh.rows(
                "select metric, score, min_health, description from rules.hygiene_score_thresholds "
                "order by metric, min_health desc"
            ):
                self.by_metric.setdefault(row["metric"], []).append(
                    (float(row["min_health"]), int(row["score"]), row["description"] or "")
                )

    def score(self, metric: str, health: float | None) -> int | None:
        """The highest score whose threshold the health reaches; 1 below every threshold."""
        if health is None:
            return None
        reached = [score for minimum, score, _ in self.by_metric.get(metric, []) if health >= minimum]
        return max(reached) if reached else 1

    def lines(self, metric: str) -> list[tuple[float, int]]:
        return [(minimum, score) for minimum, score, _ in self.by_metric.get(metric, [])]


# ----------------------------------------------------------------------------------------------
# Charts


def figure_html(fig: go.Figure, div_id: str) -> Markup:
    fig.update_layout(
        template="plotly_white",
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 12, "color": "#1d2733"},
        margin={"l": 60, "r": 110, "t": 40, "b": 50},
        height=fig.layout.height or 360,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        hoverlabel={"font": {"size": 12}},
    )
    return Markup(
        pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config=PLOTLY_CONFIG, validate=True)
    )


def add_threshold_lines(fig: go.Figure, thresholds: Thresholds, metric: str, axis: str = "y") -> None:
    for minimum, score in thresholds.lines(metric):
        line = {"color": SCORE_COLOURS.get(score, "#888"), "width": 1, "dash": "dot"}
        text = f"score {score} ≥ {minimum * 100:.1f}%"
        if axis == "y":
            fig.add_hline(
                y=minimum,
                line=line,
                annotation_text=text,
                annotation_position="right",
                annotation_font={"size": 10, "color": line["color"]},
            )
        else:
            fig.add_vline(
                x=minimum,
                line=line,
                annotation_text=text,
                annotation_position="top",
                annotation_font={"size": 10, "color": line["color"]},
            )


def zoomed_range(values: list[float | None], lines: list[tuple[float, int]]) -> list[float]:
    """A 0-1 axis range starting a little below the lowest value (rates here sit near 100 %)."""
    present = [v for v in values if v is not None]
    low = min(present, default=0.0)
    visible_lines = [m for m, _ in lines if m >= low - 0.05]
    low = min([low, *visible_lines])
    start = max(0.0, (int(low * 20) / 20) - 0.05)  # a 5 % step below
    return [start, 1.005]


# ----------------------------------------------------------------------------------------------
# Sections


def header(wh: Warehouse, thresholds: Thresholds, as_of: date) -> dict:
    totals = wh.rows(
        """
        select
            sum(records_in_scope) as records,
            sum(required_field_checks) as checks,
            sum(required_fields_filled) as filled,
            sum(duplicate_records) as duplicates,
            sum(records_rule_checked) as rule_checked,
            sum(stale_records) as stale,
            sum(open_records_tracked) as tracked,
            sum(sla_instances_met) as sla_met,
            sum(sla_instances_decided) as sla_decided,
            sum(routing_failures) as routing_failures
        from hygiene.hygiene_scorecard
        where as_of_date = ?
        """,
        [as_of],
    )[0]
    previous = wh.rows(
        """
        select as_of_date, sum(required_fields_filled) as filled, sum(required_field_checks) as checks
        from hygiene.hygiene_scorecard
        where as_of_date < ?
        group by as_of_date
        order by as_of_date desc
        limit 1
        """,
        [as_of],
    )
    completion = rate(totals["filled"], totals["checks"])
    duplicate_rate = rate(totals["duplicates"], totals["rule_checked"])
    stale_rate = rate(totals["stale"], totals["tracked"])
    sla = rate(totals["sla_met"], totals["sla_decided"])
    metrics = [
        (
            "completion",
            "Required-field completion",
            completion,
            completion,
            f"{fmt_int(totals['filled'])} of {fmt_int(totals['checks'])} required fields filled",
        ),
        (
            "duplicates",
            "Records in a duplicate group",
            duplicate_rate,
            None if duplicate_rate is None else 1 - duplicate_rate,
            f"{fmt_int(totals['duplicates'])} of {fmt_int(totals['rule_checked'])} records checked",
        ),
        (
            "staleness",
            "Open records gone stale",
            stale_rate,
            None if stale_rate is None else 1 - stale_rate,
            f"{fmt_int(totals['stale'])} of {fmt_int(totals['tracked'])} open records",
        ),
        (
            "sla",
            "SLA adherence",
            sla,
            sla,
            f"{fmt_int(totals['sla_met'])} of {fmt_int(totals['sla_decided'])} decided SLA clocks met",
        ),
    ]
    kpis = []
    for metric, title, value, health, detail in metrics:
        score = thresholds.score(metric, health)
        kpis.append({"metric": metric, "title": title, "value": fmt_pct(value), "score": score, "detail": detail})
    if previous and completion is not None:
        previous_completion = rate(previous[0]["filled"], previous[0]["checks"])
        if previous_completion is not None:
            kpis[0]["trend"] = f"{fmt_pp(completion - previous_completion)} since {fmt_date(previous[0]['as_of_date'])}"
    scores = [k["score"] for k in kpis if k["score"] is not None]
    weakest = [k["title"].lower() for k in kpis if k["score"] is not None and k["score"] == min(scores)]
    return {
        "weakest": ", ".join(weakest),
        "records": fmt_int(totals["records"]),
        "overall_score": min(scores) if scores else None,
        "kpis": kpis,
        "snapshots": wh.one("select count(distinct as_of_date) from hygiene.hygiene_scorecard"),
    }


def completion_section(wh: Warehouse, thresholds: Thresholds, as_of: date) -> Section:
    section = Section(
        "completion",
        "Required-field completion by stage",
        "Each bar is the share of required fields that are filled on the records now in that stage, per "
        "the data dictionary (a field is required from its stage onward). The dotted lines are the score "
        "thresholds; a stage below the top line pulls the completion score down. The table gives the "
        "counts behind each bar, by object in stage order; rows scored 3 or less are shaded.",
        "hygiene.hygiene_scorecard: required_field_checks, required_fields_filled, required_fields_missing "
        "(completion = filled ÷ checks); stage order from rules.stage_definitions",
    )
    join, order = stage_order_join(wh, "s")
    rows = wh.rows(
        f"""
        select
            s.object_name,
            s.stage_name,
            {order} as stage_order,
            sum(s.records_in_scope) as records,
            sum(s.required_field_checks) as checks,
            sum(s.required_fields_filled) as filled,
            sum(s.required_fields_missing) as missing
        from hygiene.hygiene_scorecard as s
        {join}
        where s.as_of_date = ?
        group by s.object_name, s.stage_name
        having sum(s.required_field_checks) > 0
        order by s.object_name, stage_order nulls first, s.stage_name
        """,
        [as_of],
    )
    if not rows:
        section.empty = "No required-field checks in this snapshot: the data dictionary has no rule in scope."
        return section
    for row in rows:
        row["rate"] = rate(row["filled"], row["checks"])
        row["score"] = thresholds.score("completion", row["rate"])
        row["_key"] = f"{row['object_name']}|{row['stage_name']}"
        if row["score"] is not None and row["score"] <= 3:
            row["_class"] = "weak"

    fig = go.Figure()
    objects = list(dict.fromkeys(r["object_name"] for r in rows))
    for i, obj in enumerate(objects):
        mine = [r for r in rows if r["object_name"] == obj]
        fig.add_trace(
            go.Bar(
                name=label(obj),
                x=[[label(obj)] * len(mine), [label(r["stage_name"]) for r in mine]],
                y=[r["rate"] for r in mine],
                marker_color=PALETTE[i % len(PALETTE)],
                text=[fmt_pct(r["rate"]) for r in mine],
                textposition="inside",
                insidetextanchor="end",
                textangle=-90,
                textfont={"size": 11, "color": "#fff"},
                customdata=[[fmt_int(r["filled"]), fmt_int(r["checks"])] for r in mine],
                hovertemplate="%{x}<br>%{text} (%{customdata[0]} of %{customdata[1]} filled)<extra></extra>",
            )
        )
    add_threshold_lines(fig, thresholds, "completion")
    fig.update_layout(barmode="group", showlegend=False, height=420, bargap=0.25)
    fig.update_yaxes(
        tickformat=".0%",
        range=zoomed_range([r["rate"] for r in rows], thresholds.lines("completion")),
        title_text="completion",
    )
    fig.update_xaxes(tickangle=-35)
    section.figures.append(figure_html(fig, "fig-completion"))
    section.notes.append("The value axis starts below the lowest rate so that differences between stages show.")
    section.tables.append(
        Table(
            "t-completion",
            [
                Column("object_name", "Object"),
                Column("stage_name", "Stage"),
                Column("records", "Records", "int"),
                Column("checks", "Required checks", "int"),
                Column("filled", "Filled", "int"),
                Column("missing", "Missing", "int"),
                Column("rate", "Completion", "pct"),
                Column("score", "Score", "text"),
            ],
            rows,
        )
    )
    return section


def trend_section(wh: Warehouse, thresholds: Thresholds, as_of: date) -> Section:
    section = Section(
        "trend",
        "Completion trend, snapshot by snapshot",
        "One point per scorecard snapshot (each refresh keeps one per as-of date). The bold line is all "
        "objects together; a falling line means required fields are being left empty faster than they are "
        "fixed. The table shows each stage over the latest snapshots, and the change since the one before.",
        "hygiene.hygiene_scorecard, every as_of_date: sum(required_fields_filled) ÷ sum(required_field_checks)",
    )
    join, order = stage_order_join(wh, "s")
    rows = wh.rows(
        f"""
        select
            s.as_of_date,
            s.object_name,
            s.stage_name,
            {order} as stage_order,
            sum(s.required_field_checks) as checks,
            sum(s.required_fields_filled) as filled
        from hygiene.hygiene_scorecard as s
        {join}
        where s.as_of_date <= ?
        group by s.as_of_date, s.object_name, s.stage_name
        having sum(s.required_field_checks) > 0
        order by s.object_name, stage_order nulls first, s.stage_name, s.as_of_date
        """,
        [as_of],
    )
    dates = sorted({r["as_of_date"] for r in rows})
    if not rows:
        section.empty = "No snapshot with required-field checks yet."
        return section
    if len(dates) == 1:
        section.notes.append(
            f"Only one snapshot so far ({fmt_date(dates[0])}): the trend starts with the next refresh on a "
            "later as-of date."
        )

    def by_date(selected: list[dict]) -> dict[date, float | None]:
        sums: dict[date, list[int]] = {}
        for r in selected:
            pair = sums.setdefault(r["as_of_date"], [0, 0])
            pair[0] += int(r["filled"] or 0)
            pair[1] += int(r["checks"] or 0)
        return {d: rate(f, c) for d, (f, c) in sums.items()}

    fig = go.Figure()
    objects = list(dict.fromkeys(r["object_name"] for r in rows))
    for i, obj in enumerate(objects):
        series = by_date([r for r in rows if r["object_name"] == obj])
        fig.add_trace(
            go.Scatter(
                name=label(obj),
                x=[fmt_date(d) for d in series],
                y=list(series.values()),
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                hovertemplate=label(obj) + " %{x}: %{y:.1%}<extra></extra>",
            )
        )
    overall = by_date(rows)
    fig.add_trace(
        go.Scatter(
            name="all objects",
            x=[fmt_date(d) for d in overall],
            y=list(overall.values()),
            mode="lines+markers",
            line={"color": "#1d2733", "width": 4},
            hovertemplate="all objects %{x}: %{y:.1%}<extra></extra>",
        )
    )
    add_threshold_lines(fig, thresholds, "completion")
    fig.update_yaxes(
        tickformat=".0%",
        title_text="completion",
        range=zoomed_range(
            [r for r in overall.values()] + [rate(r["filled"], r["checks"]) for r in rows],
            thresholds.lines("completion"),
        ),
    )
    fig.update_xaxes(type="category", title_text="as-of date")
    section.figures.append(figure_html(fig, "fig-trend"))

    shown = dates[-TREND_COLUMNS:]
    columns = [Column("object_name", "Object"), Column("stage_name", "Stage")]
    columns += [Column(f"d{i}", fmt_date(d), "pct") for i, d in enumerate(shown)]
    columns.append(Column("change", "Change", "pp"))
    table_rows: dict[str, dict] = {}
    for r in rows:
        key = f"{r['object_name']}|{r['stage_name']}"
        row = table_rows.setdefault(key, {"_key": key, "object_name": r["object_name"], "stage_name": r["stage_name"]})
        if r["as_of_date"] in shown:
            row[f"d{shown.index(r['as_of_date'])}"] = rate(r["filled"], r["checks"])
    last, before = f"d{len(shown) - 1}", f"d{len(shown) - 2}"
    for row in table_rows.values():
        if len(shown) > 1 and row.get(last) is not None and row.get(before) is not None:
            row["change"] = row[last] - row[before]
            if row["change"] < 0:
                row["_class"] = "weak"
    section.tables.append(Table("t-trend", columns, list(table_rows.values())))
    return section


def duplicates_section(wh: Warehouse, thresholds: Thresholds, as_of: date) -> Section:
    section = Section(
        "duplicates",
        "Duplicates",
        "Records that fall in a duplicate group under each duplicate rule (every member of a group counts, "
        "the surviving one too), and their share of the object's records the rules check. Error-severity "
        "rules are merge work for the rule's owner role; a rule at zero is listed so you see it ran. "
        "The second table is the duplicate rate per object that the scorecard scores.",
        "hygiene.hygiene_failing_records (failure_type = 'duplicate'): records per rule_id; "
        "hygiene.hygiene_scorecard: records_rule_checked, duplicate_records per object; "
        "rules listed from rules.duplicate_rules",
    )
    if missing(wh, section, "hygiene.hygiene_failing_records"):
        return section
    counts = wh.rows(
        """
        select rule_id, object_name, max(severity) as severity, max(rule_owner_role) as owner_role,
               count(distinct record_id) as records
        from hygiene.hygiene_failing_records
        where as_of_date = ? and failure_type = 'duplicate'
        group by rule_id, object_name
        """,
        [as_of],
    )
    checked = {
        r["object_name"]: r
        for r in wh.rows(
            """
            select object_name, sum(records_rule_checked) as checked, sum(duplicate_records) as duplicates
            from hygiene.hygiene_scorecard where as_of_date = ? group by object_name
            """,
            [as_of],
        )
    }
    by_rule = {(r["rule_id"], r["object_name"]): r for r in counts}
    if wh.has("rules.duplicate_rules"):
        for rule in wh.rows(
            "select rule_id, object as object_name, severity, owner_role, description from rules.duplicate_rules"
        ):
            row = by_rule.setdefault(
                (rule["rule_id"], rule["object_name"]),
                {
                    "rule_id": rule["rule_id"],
                    "object_name": rule["object_name"],
                    "severity": rule["severity"],
                    "owner_role": rule["owner_role"],
                    "records": 0,
                },
            )
            row["description"] = rule["description"]
    rows = sorted(by_rule.values(), key=lambda r: (-int(r["records"] or 0), r["rule_id"]))
    if not rows:
        section.empty = "No duplicate rule and no duplicate record in this snapshot."
        return section
    for row in rows:
        object_checked = checked.get(row["object_name"], {}).get("checked")
        row["checked"] = object_checked
        row["rate"] = rate(row["records"], object_checked)
        row["_key"] = row["rule_id"]
        if row["records"] and row["severity"] == "error":
            row["_class"] = "weak"
    fig = go.Figure(
        go.Bar(
            x=[r["records"] for r in rows][::-1],
            y=[label(f"{r['rule_id']} ({r['object_name']})") for r in rows][::-1],
            orientation="h",
            marker_color=[SEVERITY_COLOURS.get(r["severity"], "#888") for r in rows][::-1],
            text=[f"{fmt_int(r['records'])} · {fmt_pct(r['rate'])}" for r in rows][::-1],
            textposition="auto",
            hovertemplate="%{y}: %{x} records<extra></extra>",
        )
    )
    fig.update_layout(height=max(220, 60 + 45 * len(rows)), showlegend=False, margin={"l": 200, "r": 20})
    fig.update_xaxes(title_text="records in a duplicate group (colour: severity)")
    section.figures.append(figure_html(fig, "fig-duplicates"))
    section.tables.append(
        Table(
            "t-duplicates",
            [
                Column("rule_id", "Rule"),
                Column("object_name", "Object"),
                Column("description", "What it matches", "long"),
                Column("severity", "Severity"),
                Column("owner_role", "Owner role"),
                Column("records", "Records in groups", "int"),
                Column("checked", "Records checked", "int"),
                Column("rate", "Share", "pct"),
            ],
            rows,
        )
    )
    per_object = [
        {
            "_key": obj,
            "object_name": obj,
            "checked": r["checked"],
            "duplicates": r["duplicates"],
            "rate": rate(r["duplicates"], r["checked"]),
            "score": thresholds.score(
                "duplicates", None if not r["checked"] else 1 - rate(r["duplicates"], r["checked"])
            ),
        }
        for obj, r in sorted(checked.items())
        if r["checked"]
    ]
    section.tables.append(
        Table(
            "t-duplicates-by-object",
            [
                Column("object_name", "Object"),
                Column("checked", "Records checked", "int"),
                Column("duplicates", "In a duplicate group", "int"),
                Column("rate", "Duplicate rate", "pct"),
                Column("score", "Score"),
            ],
            per_object,
            caption="Per object (the scorecard's duplicate rate and score)",
        )
    )
    return section


def sla_section(wh: Warehouse, thresholds: Thresholds, as_of: date) -> Section:
    section = Section(
        "sla",
        "SLA adherence by policy and team",
        "Adherence is met ÷ (met + breached + still open past due), over every SLA clock started up to the "
        "as-of date; clocks still open within their target are counted apart, not as met. Read the chart "
        "by policy: a team's bar below the dotted lines lowers the SLA score.",
        "sla.fct_sla_adherence_weekly: met_count, breached_count, open_breached_count, "
        "open_within_target_count, instance_count summed by policy_id/policy_name and owner_team; "
        "targets from rules.sla_policies",
    )
    if missing(wh, section, "sla.fct_sla_adherence_weekly"):
        return section
    measures = """
        sum(instance_count) as instances,
        sum(met_count) as met,
        sum(breached_count) as breached,
        sum(open_breached_count) as open_breached,
        sum(open_within_target_count) as open_within_target
    """
    target = "cast(null as double) as target_value, cast(null as varchar) as target_unit"
    join = ""
    if wh.has("rules.sla_policies"):
        target = "max(cast(p.target_value as double)) as target_value, max(p.target_unit) as target_unit"
        join = "left join rules.sla_policies as p on p.policy_id = w.policy_id"
    by_policy = wh.rows(
        f"""
        select w.policy_id, max(w.policy_name) as policy_name, {target}, {measures}
        from sla.fct_sla_adherence_weekly as w {join}
        group by w.policy_id order by w.policy_id
        """
    )
    by_team = wh.rows(
        f"select owner_team, {measures} from sla.fct_sla_adherence_weekly group by owner_team order by owner_team"
    )
    by_both = wh.rows(
        f"""
        select policy_id, max(policy_name) as policy_name, owner_team, {measures}
        from sla.fct_sla_adherence_weekly group by policy_id, owner_team order by policy_id, owner_team
        """
    )
    if not by_policy:
        section.empty = "No SLA clock has started yet (sla.fct_sla_adherence_weekly is empty)."
        return section
    for row in by_policy + by_team + by_both:
        row["decided"] = int(row["met"] or 0) + int(row["breached"] or 0) + int(row["open_breached"] or 0)
        row["rate"] = rate(row["met"], row["decided"])
        row["score"] = thresholds.score("sla", row["rate"])
        if row["score"] is not None and row["score"] <= 3:
            row["_class"] = "weak"
    for row in by_policy:
        row["_key"] = row["policy_id"]
        if row["target_value"] is not None:
            row["target"] = f"{row['target_value']:g} {(row['target_unit'] or '').replace('_', ' ')}".strip()
    for row in by_team:
        row["_key"] = row["owner_team"]

    fig = go.Figure()
    teams = list(dict.fromkeys(r["owner_team"] for r in by_both))
    for i, team in enumerate(teams):
        mine = [r for r in by_both if r["owner_team"] == team]
        fig.add_trace(
            go.Bar(
                name=label(team),
                x=[label(r["policy_name"] or r["policy_id"]) for r in mine],
                y=[r["rate"] for r in mine],
                marker_color=PALETTE[i % len(PALETTE)],
                text=[fmt_pct(r["rate"]) for r in mine],
                textposition="inside",
                insidetextanchor="end",
                textfont={"size": 11, "color": "#fff"},
                customdata=[[fmt_int(r["met"]), fmt_int(r["decided"])] for r in mine],
                hovertemplate=label(team) + " · %{x}<br>%{text} (%{customdata[0]} of %{customdata[1]} met)"
                "<extra></extra>",
            )
        )
    add_threshold_lines(fig, thresholds, "sla")
    fig.update_layout(barmode="group", height=400)
    fig.update_yaxes(
        tickformat=".0%",
        title_text="adherence",
        range=zoomed_range([r["rate"] for r in by_both], thresholds.lines("sla")),
    )
    section.figures.append(figure_html(fig, "fig-sla"))
    section.notes.append("The value axis starts below the lowest adherence so that differences between teams show.")
    counts = [
        Column("instances", "Clocks", "int"),
        Column("met", "Met", "int"),
        Column("breached", "Breached", "int"),
        Column("open_breached", "Open, past due", "int"),
        Column("open_within_target", "Open, within target", "int"),
        Column("rate", "Adherence", "pct"),
        Column("score", "Score"),
    ]
    section.tables.append(
        Table(
            "t-sla-policy",
            [Column("policy_id", "Policy"), Column("policy_name", "Name"), Column("target", "Target"), *counts],
            by_policy,
            caption="By policy",
        )
    )
    section.tables.append(
        Table("t-sla-team", [Column("owner_team", "Owner team"), *counts], by_team, caption="By owner team")
    )
    return section


def owners_section(wh: Warehouse, as_of: date) -> Section:
    section = Section(
        "owners",
        "Failing records by owner",
        f"Who has records to fix: each owner's failing records (a record failing several rules counts once) "
        f"and failures (record × rule), error severity first. Owners are ranked by error-severity failures, "
        f"then all failures; the chart and summary show the top {OWNERS_SHOWN}. Below, the worst "
        f"{WORST_PER_OWNER} failures of each of the top {WORST_OWNERS} owners: errors first, longest failing "
        f"first. 'No owner' rows are routing work for the queue or team lead.",
        "hygiene.hygiene_failing_records: one row per record × failing rule with owner_id, owner_name, "
        "owner_team, rule_id, failure_type, severity, failing_since, days_failing",
    )
    if missing(wh, section, "hygiene.hygiene_failing_records"):
        return section
    owners = wh.rows(
        """
        select
            coalesce(owner_id, '') as owner_key,
            max(owner_id) as owner_id,
            max(owner_name) as owner_name,
            max(owner_team) as owner_team,
            count(distinct object_name || ':' || record_id) as records,
            count(*) as failures,
            count(*) filter (where severity = 'error') as errors,
            count(*) filter (where severity <> 'error' or severity is null) as warnings,
            max(days_failing) as max_days
        from hygiene.hygiene_failing_records
        where as_of_date = ?
        group by coalesce(owner_id, '')
        order by errors desc, failures desc, owner_key
        """,
        [as_of],
    )
    if not owners:
        other = wh.one("select max(as_of_date) from hygiene.hygiene_failing_records")
        section.empty = (
            "No failing record in this snapshot."
            if other is None or other == as_of
            else f"hygiene_failing_records holds the evaluation of {fmt_date(other)}, not of this snapshot's "
            f"as-of date: rebuild to see the failing records."
        )
        return section
    for row in owners:
        row["owner"] = owner_label(row)
        row["_key"] = row["owner_key"]
    top = owners[:OWNERS_SHOWN]
    fig = go.Figure()
    for severity, column in (("error", "errors"), ("warn", "warnings")):
        fig.add_trace(
            go.Bar(
                name=severity,
                orientation="h",
                marker_color=SEVERITY_COLOURS[severity],
                y=[label(f"{r['owner']} · {r['owner_team'] or '–'}") for r in top][::-1],
                x=[r[column] for r in top][::-1],
                hovertemplate="%{y}: %{x} " + severity + " failures<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack", height=max(260, 70 + 26 * len(top)), margin={"l": 260, "r": 20}, legend_traceorder="normal"
    )
    fig.update_xaxes(title_text="failures (record × rule)")
    section.figures.append(figure_html(fig, "fig-owners"))
    section.tables.append(
        Table(
            "t-owners",
            [
                Column("owner", "Owner"),
                Column("owner_team", "Team"),
                Column("records", "Failing records", "int"),
                Column("failures", "Failures", "int"),
                Column("errors", "Errors", "int"),
                Column("warnings", "Warnings", "int"),
                Column("max_days", "Longest failing (days)", "int"),
            ],
            top,
            caption=f"Top {len(top)} of {len(owners)} owners with failing records",
        )
    )
    worst_owner_keys = [r["owner_key"] for r in owners[:WORST_OWNERS]]
    worst = wh.rows(
        """
        with ranked as (
            select
                f.*,
                coalesce(f.owner_id, '') as owner_key,
                row_number() over (
                    partition by coalesce(f.owner_id, '')
                    order by case when f.severity = 'error' then 0 else 1 end, f.days_failing desc,
                             f.object_name, f.record_id, f.rule_id
                ) as rank_in_owner
            from hygiene.hygiene_failing_records as f
            where f.as_of_date = ?
        )
        select * from ranked
        where rank_in_owner <= ? and list_contains(?, owner_key)
        """,
        [as_of, WORST_PER_OWNER, worst_owner_keys],
    )
    position = {key: i for i, key in enumerate(worst_owner_keys)}
    worst.sort(key=lambda r: (position[r["owner_key"]], r["rank_in_owner"]))
    by_key = {r["owner_key"]: r for r in owners}
    for row in worst:
        row["_key"] = f"{row['object_name']}:{row['record_id']}:{row['rule_id']}"
        row["rule"] = row["rule_id"] + (f" ({row['field_name']})" if row["field_name"] else "")
        row["_group"] = row["owner_key"]
        owner = by_key[row["owner_key"]]
        row["_group_title"] = (
            f"{owner['owner']} · {owner['owner_team'] or '–'} — {fmt_int(owner['failures'])} failures on "
            f"{fmt_int(owner['records'])} records, {fmt_int(owner['errors'])} of error severity"
        )
    section.tables.append(
        Table(
            "t-worst",
            [
                Column("object_name", "Object"),
                Column("record_id", "Record"),
                Column("stage_name", "Stage"),
                Column("rule", "Rule (field)"),
                Column("failure_type", "Failure"),
                Column("severity", "Severity"),
                Column("failing_since", "Failing since", "date"),
                Column("days_failing", "Days failing", "int"),
            ],
            worst,
            caption=f"Worst failing records of the top {len(worst_owner_keys)} owners ({len(worst)} rows)",
        )
    )
    return section


def owner_label(row: dict) -> str:
    if row.get("owner_name"):
        return str(row["owner_name"])
    if row.get("owner_id"):
        return f"{row['owner_id']} (not a user)"
    return "No owner"


def gx_section(wh: Warehouse, run_id: str | None, as_of: date | None) -> Section:
    section = Section(
        "gx",
        "Great Expectations results",
        "The data-dictionary and duplicate rules, run as Great Expectations expectations on the warehouse. "
        "A failed rule lists how many records break it (rate = share of the records it looked at) and up to "
        "20 sample ids to open in the CRM; a rule that failed to run is a broken check, not clean data.",
        f"{GX_TABLE}: one row per expectation result (ran, success, severity, unexpected_count, "
        "unexpected_percent, failing_sample); the run given with --run-id, else the latest run_at",
    )
    if not wh.has(GX_TABLE):
        section.empty = (
            f"No Great Expectations run yet: the table {GX_TABLE} is not in the warehouse. "
            "The rules have not been validated by Great Expectations for this page."
        )
        return section
    if run_id is None:
        run = wh.rows(f"select run_id, run_at from {GX_TABLE} order by run_at desc nulls last, run_id desc limit 1")
        if not run:
            section.empty = f"No Great Expectations run yet: {GX_TABLE} is empty."
            return section
        run_id = run[0]["run_id"]
    results = wh.rows(f"select * from {GX_TABLE} where run_id = ?", [run_id])
    if not results:
        section.empty = f"No Great Expectations result for run {run_id} in {GX_TABLE}."
        return section
    ran = [r for r in results if r["ran"]]
    failed = [r for r in ran if not r["success"]]
    totals = {
        "rules": len(results),
        "ran": len(ran),
        "passed": len([r for r in ran if r["success"]]),
        "failed_error": len([r for r in failed if r["severity"] == "error"]),
        "failed_warn": len([r for r in failed if r["severity"] != "error"]),
        "not_ran": len(results) - len(ran),
    }
    run_at = max((r["run_at"] for r in results if r["run_at"] is not None), default=None)
    run_as_of = max((r["as_of"] for r in results if r["as_of"] is not None), default=None)
    suites = sorted({r["suite_name"] for r in results if r["suite_name"]})
    section.notes.append(
        f"Run {run_id}, ran at {fmt_datetime(run_at)} on data as of {fmt_datetime(run_as_of)}; "
        f"suite{'s' if len(suites) != 1 else ''}: {', '.join(suites) or '–'}."
    )
    if as_of is not None and run_as_of is not None and fmt_date(run_as_of) != fmt_date(as_of):
        section.notes.append(
            f"Note: this Great Expectations run is of {fmt_date(run_as_of)}, the scorecard of {fmt_date(as_of)}."
        )
    section.kpis = [
        {
            "key": "ran",
            "title": "Rules run",
            "value": fmt_int(totals["ran"]),
            "detail": f"of {totals['rules']} rules in the run",
        },
        {"key": "passed", "title": "Passed", "value": fmt_int(totals["passed"]), "tone": "good"},
        {
            "key": "failed_error",
            "title": "Failed · error",
            "value": fmt_int(totals["failed_error"]),
            "tone": "bad" if totals["failed_error"] else "good",
        },
        {
            "key": "failed_warn",
            "title": "Failed · warn",
            "value": fmt_int(totals["failed_warn"]),
            "tone": "warn" if totals["failed_warn"] else "good",
        },
        {
            "key": "not_ran",
            "title": "Failed to run",
            "value": fmt_int(totals["not_ran"]),
            "tone": "bad" if totals["not_ran"] else "good",
        },
    ]
    rule_types = sorted({r["rule_type"] or "–" for r in results})
    fig = go.Figure()
    for name, colour, test in (
        ("passed", "#3a9d6e", lambda r: r["ran"] and r["success"]),
        (
            "failed · error",
            SEVERITY_COLOURS["error"],
            lambda r: r["ran"] and not r["success"] and r["severity"] == "error",
        ),
        (
            "failed · warn",
            SEVERITY_COLOURS["warn"],
            lambda r: r["ran"] and not r["success"] and r["severity"] != "error",
        ),
        ("failed to run", "#6b7280", lambda r: not r["ran"]),
    ):
        fig.add_trace(
            go.Bar(
                name=name,
                marker_color=colour,
                x=[label(t) for t in rule_types],
                y=[len([r for r in results if (r["rule_type"] or "–") == t and test(r)]) for t in rule_types],
                hovertemplate="%{x}: %{y} " + name + "<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", height=280, margin={"r": 20}, legend_traceorder="normal")
    most = max(Counter(r["rule_type"] or "–" for r in results).values())
    fig.update_yaxes(title_text="rules", tickformat=",d", tick0=0, dtick=max(1, math.ceil(most / 5)))
    section.figures.append(figure_html(fig, "fig-gx"))
    failed.sort(
        key=lambda r: (0 if r["severity"] == "error" else 1, -int(r["unexpected_count"] or 0), r["rule_id"] or "")
    )
    for row in failed:
        row["_key"] = row["rule_id"]
        row["stage"] = row["stage_name"] if row["stage_name"] is not None else "every stage"
        row["samples"] = sample_ids(row["failing_sample"])
        if row["severity"] == "error":
            row["_class"] = "weak"
    if failed:
        section.tables.append(
            Table(
                "t-gx-failed",
                [
                    Column("rule_id", "Rule"),
                    Column("rule_type", "Type"),
                    Column("object_name", "Object"),
                    Column("column_name", "Column"),
                    Column("stage", "Stage"),
                    Column("unexpected_count", "Failing", "int"),
                    Column("element_count", "Checked", "int"),
                    Column("unexpected_percent", "Rate", "pct100"),
                    Column("owner_role", "Owner role"),
                    Column("severity", "Severity"),
                    Column("samples", "Sample ids", "long"),
                ],
                failed,
                caption=f"Failing rules ({len(failed)})",
            )
        )
    else:
        section.notes.append("Every rule that ran passed.")
    broken = [r for r in results if not r["ran"]]
    for row in broken:
        row["_key"] = row["rule_id"]
        message = row["exception_message"] or ""
        row["message"] = message if len(message) <= 300 else message[:300] + " …"
    if broken:
        section.tables.append(
            Table(
                "t-gx-not-ran",
                [
                    Column("rule_id", "Rule"),
                    Column("object_name", "Object"),
                    Column("column_name", "Column"),
                    Column("expectation_type", "Expectation"),
                    Column("message", "Error", "long"),
                ],
                sorted(broken, key=lambda r: r["rule_id"] or ""),
                caption=f"Rules that failed to run ({len(broken)})",
            )
        )
    return section


def sample_ids(raw: Any) -> str:
    if raw is None:
        return ""
    try:
        ids = json.loads(raw) if isinstance(raw, str) else list(raw)
    except (ValueError, TypeError):
        return str(raw)
    if not isinstance(ids, list):
        return str(raw)
    return ", ".join(str(i) for i in ids)


# ----------------------------------------------------------------------------------------------
# Page

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>CRM hygiene scorecard{% if as_of %} · {{ as_of }}{% endif %}</title>
<style>
:root { --ink:#1d2733; --muted:#5b6675; --line:#e3e7ee; --bg:#f5f7fa; --card:#fff; --accent:#2f6db5; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:14px/1.45 Inter, "Segoe UI", Helvetica, Arial, sans-serif; }
header.top { background:#14213d; color:#fff; padding:24px 32px 20px; }
header.top h1 { margin:0 0 4px; font-size:24px; font-weight:650; letter-spacing:.2px; }
header.top .meta { color:#c9d3e3; font-size:13px; }
header.top .meta b { color:#fff; }
main { max-width:1240px; margin:0 auto; padding:20px 24px 40px; }
nav.toc { margin:0 0 18px; font-size:13px; }
nav.toc a { color:var(--accent); text-decoration:none; margin-right:16px; }
.kpi-how { margin:-8px 0 16px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fit, minmax(200px, 1fr)); gap:12px; margin:0 0 20px; }
.kpi { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px;
       border-top:4px solid #9aa5b5; }
.kpi .title { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
.kpi .value { font-size:28px; font-weight:650; margin:4px 0 2px; font-variant-numeric:tabular-nums; }
.kpi .detail, .kpi .trend { color:var(--muted); font-size:12px; }
.kpi .value .of { font-size:16px; font-weight:500; }
.kpi.overall { background:#14213d; color:#fff; border-color:#14213d; }
.kpi.overall .title, .kpi.overall .detail { color:#c9d3e3; }
{% for score, colour in score_colours.items() %}.score-{{ score }} { border-top-color:{{ colour }}; }
.badge.score-{{ score }} { background:{{ colour }}; }
{% endfor %}
.tone-good { border-top-color:#3a9d6e; } .tone-bad { border-top-color:#b3261e; }
.tone-warn { border-top-color:#d8a31a; }
.badge { display:inline-block; color:#fff; border-radius:999px; padding:1px 9px; font-size:12px; font-weight:600;
         background:#9aa5b5; vertical-align:middle; }
section.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 22px 20px;
               margin:0 0 20px; }
section.card h2 { margin:0 0 6px; font-size:18px; }
.how { background:#eef3fb; border-left:3px solid var(--accent); padding:8px 12px; margin:6px 0 12px;
       color:#2c3a4d; font-size:13px; border-radius:0 6px 6px 0; }
.how b { color:var(--ink); }
.source { color:var(--muted); font-size:12px; margin:10px 0 0; }
.source code { font-size:11.5px; }
.note { color:var(--muted); font-size:12.5px; margin:4px 0; }
.empty { background:#fff8e6; border:1px dashed #d8a31a; padding:12px 14px; border-radius:8px; color:#5c4a12; }
.figure { margin:4px 0 10px; }
table.data { border-collapse:collapse; width:100%; margin:8px 0 4px; font-size:12.5px; }
table.data caption { text-align:left; font-weight:600; padding:6px 0; color:var(--ink); }
table.data th { text-align:left; color:var(--muted); font-weight:600; border-bottom:2px solid var(--line);
                padding:6px 8px; white-space:nowrap; }
table.data td { border-bottom:1px solid var(--line); padding:5px 8px; vertical-align:top; }
table.data td.num, table.data th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
table.data tr.weak td { background:#fdf1ef; }
table.data tr.group-head th { text-align:left; background:#eef1f6; color:var(--ink); padding:7px 8px;
                              border-top:2px solid #c8d0db; font-weight:600; }
td.sev-error { color:#b3261e; font-weight:600; } td.sev-warn { color:#8a6100; font-weight:600; }
table.data td.wrap { max-width:340px; word-break:break-word; }
.gx-kpis .kpi .value { font-size:24px; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:10px 0 30px; }
</style>
<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>
<script>{{ plotlyjs }}</script>
</head>
<body>
<header class="top">
  <h1>CRM hygiene scorecard</h1>
  <div class="meta">
    {% if as_of %}As of <b id="as-of">{{ as_of }}</b> · {{ head.records }} records in scope ·
    {{ head.snapshots }} snapshot{{ '' if head.snapshots == 1 else 's' }} kept · {% endif %}
    generated {{ generated }}{% if run_id %} · Great Expectations run <b>{{ run_id }}</b>{% endif %}
  </div>
</header>
<main>
{% if not as_of %}
  <section class="card"><h2>No scorecard yet</h2>
  <p class="empty" id="no-scorecard">The warehouse has no hygiene scorecard snapshot
  (hygiene.hygiene_scorecard is missing or empty). Run the build, then regenerate this page.</p></section>
{% else %}
  <div class="kpis" id="kpis">
    <div class="kpi overall {% if head.overall_score %}score-{{ head.overall_score }}{% endif %}">
      <div class="title">Overall hygiene score</div>
      <div class="value"><span id="overall-score">{{ head.overall_score or '–' }}</span>
        <span class="of">/ 5</span></div>
      <div class="detail">the weakest metric's score{% if head.weakest %}: {{ head.weakest }}{% endif %}
        (thresholds: rules.hygiene_score_thresholds)</div>
    </div>
    {% for kpi in head.kpis %}
    <div class="kpi {% if kpi.score %}score-{{ kpi.score }}{% endif %}" data-metric="{{ kpi.metric }}">
      <div class="title">{{ kpi.title }}</div>
      <div class="value">{{ kpi.value }}
        {% if kpi.score %}<span class="badge score-{{ kpi.score }}">score {{ kpi.score }}</span>{% endif %}</div>
      <div class="detail">{{ kpi.detail }}</div>
      {% if kpi.trend %}<div class="trend">{{ kpi.trend }}</div>{% endif %}
    </div>
    {% endfor %}
  </div>
  <p class="note kpi-how"><b>How to read:</b> each card is one metric over every record of the snapshot, with
    its 1-5 score (5 best) from rules.hygiene_score_thresholds; the card's top edge takes the score's colour.
    The overall score is the weakest card's: the scorecard is only as good as its worst enforced rule.</p>
{% endif %}
  <nav class="toc">{% for s in sections %}<a href="#{{ s.section_id }}">{{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
  <section class="card" id="{{ s.section_id }}">
    <h2>{{ s.title }}</h2>
    <div class="how"><b>How to read:</b> {{ s.how_to_read }}</div>
    {% if s.empty %}
      <p class="empty">{{ s.empty }}</p>
    {% else %}
      {% for note in s.notes %}<p class="note">{{ note }}</p>{% endfor %}
      {% if s.kpis %}<div class="kpis gx-kpis">{% for kpi in s.kpis %}
        <div class="kpi {% if kpi.tone %}tone-{{ kpi.tone }}{% endif %}" data-key="{{ kpi.key }}">
          <div class="title">{{ kpi.title }}</div><div class="value">{{ kpi.value }}</div>
          {% if kpi.detail %}<div class="detail">{{ kpi.detail }}</div>{% endif %}
        </div>{% endfor %}</div>{% endif %}
      {% for fig in s.figures %}<div class="figure">{{ fig }}</div>{% endfor %}
      {% for t in s.tables %}
      <table class="data" id="{{ t.table_id }}">
        {% if t.caption %}<caption>{{ t.caption }}</caption>{% endif %}
        <thead><tr>
          {% for c in t.columns %}<th class="{{ 'num' if c.numeric }}">{{ c.title }}</th>{% endfor %}
        </tr></thead>
        <tbody>
        {% set ns = namespace(group=None) %}
        {% for row in t.rows %}
          {% if row._group is defined and row._group != ns.group %}
          <tr class="group-head" data-group="{{ row._group }}">
            <th colspan="{{ t.columns | length }}">{{ row._group_title }}</th></tr>
          {% set ns.group = row._group %}
          {% endif %}
          <tr data-key="{{ row._key }}" class="{{ row._class }}">
          {% for c, text, css in t.cells(row) %}<td data-col="{{ c.key }}" class="{{ css }}">{{ text }}</td>{% endfor %}
          </tr>
        {% endfor %}
        </tbody>
      </table>
      {% endfor %}
    {% endif %}
    <p class="source">Source: <code>{{ s.source }}</code></p>
  </section>
{% endfor %}
</main>
<footer>revops-warehouse · static page written by <code>python -m revops_warehouse.report</code>;
every figure is read from the warehouse file {{ database }}</footer>
</body>
</html>
"""


def render(database: Path, run_id: str | None = None) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        wh = Warehouse(con)
        thresholds = Thresholds(wh)
        as_of = None
        if wh.has("hygiene.hygiene_scorecard"):
            as_of = wh.one("select max(as_of_date) from hygiene.hygiene_scorecard")
        sections: list[Section] = []
        head: dict = {}
        if as_of is not None:
            head = header(wh, thresholds, as_of)
            sections = [
                completion_section(wh, thresholds, as_of),
                trend_section(wh, thresholds, as_of),
                duplicates_section(wh, thresholds, as_of),
                sla_section(wh, thresholds, as_of),
                owners_section(wh, as_of),
            ]
        sections.append(gx_section(wh, run_id, as_of))
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    for section in sections:
        for table in section.tables:
            for row in table.rows:
                row.setdefault("_class", "")
                row.setdefault("_key", "")
    template = env.from_string(TEMPLATE)
    return template.render(
        plotlyjs=Markup(get_plotlyjs()),
        as_of=fmt_date(as_of) if as_of is not None else None,
        head=head,
        sections=sections,
        score_colours=SCORE_COLOURS,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        run_id=run_id,
        database=database.name,
    )


def write_report(database: Path, output: Path, run_id: str | None = None) -> Path:
    """Write the scorecard page of `database` (opened read-only) to `output`; return its path.

    The file is written next to its destination and renamed into place, so a reader never sees
    half a page.
    """
    database = Path(database)
    output = Path(output)
    page = render(database, run_id)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".scorecard-", suffix=".html", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the page is for people to open
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m revops_warehouse.report", description="Write the static hygiene scorecard page."
    )
    parser.add_argument("--database", help="DuckDB file (default: $REVOPS_DUCKDB_PATH or warehouse/revops.duckdb)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help=f"HTML file to write (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--run-id", default=None, help="Great Expectations run to show (default: the latest run_at)")
    args = parser.parse_args(argv)
    database = settings.database_path(args.database)
    if not database.exists():
        parser.error(f"no warehouse at {database}: build it first (python -m revops_warehouse build)")
    output = write_report(database, Path(args.output).expanduser().resolve(), args.run_id)
    print(f"scorecard page written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
