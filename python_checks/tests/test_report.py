"""The static scorecard page: it shows the figures of the current run (computed here again with
SQL on the warehouse), escapes every value, says so when a section has no data, and loads in a
real headless browser (Debian's chromium) with no console error, its charts drawn.

The page is written from copies of the shared demo warehouse, with a Great Expectations results
table of known rows (the contract of quality.gx_validation_results) and an earlier scorecard
snapshot for the trend. The browser test keeps a screenshot in artifacts/test/scorecard.png.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import struct
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from revops_warehouse import report, settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = settings.PROJECT_DIR / "artifacts" / "test" / "scorecard.png"
FIGURES = ["fig-completion", "fig-trend", "fig-duplicates", "fig-sla", "fig-owners", "fig-gx"]

GX_COLUMNS = (
    "run_id varchar, run_at timestamp, as_of timestamp, suite_name varchar, expectation_type varchar, "
    "rule_id varchar, rule_type varchar, object_name varchar, column_name varchar, stage_name varchar, "
    "severity varchar, owner_role varchar, ran boolean, success boolean, element_count bigint, "
    "unexpected_count bigint, unexpected_percent double, failing_sample varchar, exception_message varchar"
)
LATEST_RUN = "gx-2026-11-02"
OLDER_RUN = "gx-2026-10-26"
GX_ROWS = [
    # run, run_at, rule, type, object, column, stage, severity, owner role, ran, success, n, failing, sample, error
    (LATEST_RUN, "2026-11-02 12:10", "lead_email", "required_field", "lead", "email", None, "error",
     "Marketing Operations", True, False, 4000, 97, '["00Q000000000001", "00Q000000000002"]', None),
    (LATEST_RUN, "2026-11-02 12:10", "opp_amount", "required_field", "opportunity", "amount", "Proposal", "error",
     "Sales Operations", True, False, 1266, 44, '["006000000000001"]', None),
    (LATEST_RUN, "2026-11-02 12:10", "opp_type", "allowed_values", "opportunity", "type", None, "warn",
     "Sales Operations", True, False, 2450, 3, '["006000000000009"]', None),
    (LATEST_RUN, "2026-11-02 12:10", "acct_domain", "value_format", "account", "website_domain", None, "error",
     "Sales Operations", True, True, 1434, 0, "[]", None),
    (LATEST_RUN, "2026-11-02 12:10", "dup_contact_email", "duplicate", "contact", "email", None, "error",
     "Sales Operations", True, True, 2951, 0, "[]", None),
    (LATEST_RUN, "2026-11-02 12:10", "lead_phone", "required_field", "lead", "phone", "Working - Contacted", "warn",
     "Marketing Operations", False, None, None, None, None, "Binder Error: column phone_e164 not found"),
    (OLDER_RUN, "2026-10-26 12:10", "lead_email", "required_field", "lead", "email", None, "error",
     "Marketing Operations", True, False, 3900, 120, '["00Q000000000003"]', None),
    (OLDER_RUN, "2026-10-26 12:10", "acct_domain", "value_format", "account", "website_domain", None, "error",
     "Sales Operations", True, True, 1400, 0, "[]", None),
]  # fmt: skip


def add_gx_results(con: duckdb.DuckDBPyConnection, rows=GX_ROWS) -> None:
    con.execute("create schema if not exists quality")
    con.execute(f"create table quality.gx_validation_results ({GX_COLUMNS})")
    for run, run_at, rule, rule_type, obj, column, stage, severity, role, ran, success, n, bad, sample, err in rows:
        con.execute(
            "insert into quality.gx_validation_results values "
            "(?, ?, ?, 'revops_rules', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run, run_at, run_at[:10] + " 12:00", f"expect_{rule_type}", rule, rule_type, obj, column, stage,
                severity, role, ran, success, n, bad, None if bad is None else 100.0 * bad / n, sample, err,
            ],
        )  # fmt: skip


def add_earlier_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """A scorecard snapshot a week before the demo's, with some required fields less filled."""
    con.execute(
        """
        insert into hygiene.hygiene_scorecard
        select * replace (
            as_of_date - 7 as as_of_date,
            scorecard_row_id || '|earlier' as scorecard_row_id,
            greatest(required_fields_filled - (hash(scorecard_row_id) % 3), 0) as required_fields_filled
        )
        from hygiene.hygiene_scorecard
        """
    )


@pytest.fixture(scope="module")
def warehouse(demo_build, tmp_path_factory) -> Path:
    """A copy of the demo warehouse with Great Expectations results and two scorecard snapshots."""
    database = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    shutil.copy(demo_build.database, database)
    with duckdb.connect(str(database)) as con:
        add_gx_results(con)
        add_earlier_snapshot(con)
    return database


@pytest.fixture(scope="module")
def page(warehouse, tmp_path_factory) -> Path:
    return report.write_report(warehouse, tmp_path_factory.mktemp("page") / "scorecard.html")


# ----------------------------------------------------------------------------------------------
# Reading the page back: the tables (data-key rows × data-col cells), the KPIs and a few ids.


class PageParser(HTMLParser):
    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "source", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self.kpis: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def nearest(self, test) -> dict | None:
        for tag, attrs in reversed(self.stack):
            if test(tag, attrs):
                return attrs
        return None

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        cell = self.nearest(lambda t, a: t == "td" and "data-col" in a)
        row = self.nearest(lambda t, a: t == "tr" and "data-key" in a)
        table = self.nearest(lambda t, a: t == "table" and "id" in a)
        if cell and row and table:
            cells = self.tables.setdefault(table["id"], {}).setdefault(row["data-key"], {})
            cells[cell["data-col"]] = (cells.get(cell["data-col"], "") + data).strip()
        value = self.nearest(lambda t, a: "value" in (a.get("class") or "").split())
        kpi = self.nearest(lambda t, a: "kpi" in (a.get("class") or "").split() and "data-key" in a)
        if value is not None and kpi is not None:
            self.kpis[kpi["data-key"]] = (self.kpis.get(kpi["data-key"], "") + data).strip()
        element = self.nearest(lambda t, a: "id" in a)
        if element is not None and element["id"] in ("as-of", "overall-score"):
            self.ids[element["id"]] = (self.ids.get(element["id"], "") + data).strip()


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser


# ----------------------------------------------------------------------------------------------
# The figures of the run, computed here with SQL on the warehouse.


def pct(numerator, denominator) -> str:
    return f"{100.0 * numerator / denominator:.1f}%"


def expected_figures(database: Path, run_id: str = LATEST_RUN) -> dict:
    with duckdb.connect(str(database), read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from hygiene.hygiene_scorecard").fetchone()[0]
        completion = {
            f"{obj}|{stage}": {"checks": f"{checks:,}", "filled": f"{filled:,}", "rate": pct(filled, checks)}
            for obj, stage, checks, filled in con.execute(
                """
                select object_name, stage_name, sum(required_field_checks), sum(required_fields_filled)
                from hygiene.hygiene_scorecard where as_of_date = ?
                group by 1, 2 having sum(required_field_checks) > 0
                """,
                [as_of],
            ).fetchall()
        }
        earlier = {
            f"{obj}|{stage}": pct(filled, checks)
            for obj, stage, checks, filled in con.execute(
                """
                select object_name, stage_name, sum(required_field_checks), sum(required_fields_filled)
                from hygiene.hygiene_scorecard where as_of_date = ? - 7
                group by 1, 2 having sum(required_field_checks) > 0
                """,
                [as_of],
            ).fetchall()
        }
        owners = con.execute(
            """
            select coalesce(owner_id, ''), count(distinct object_name || ':' || record_id), count(*),
                   count(*) filter (where severity = 'error')
            from hygiene.hygiene_failing_records where as_of_date = ?
            group by 1 order by 4 desc, 3 desc, 1
            limit ?
            """,
            [as_of, report.OWNERS_SHOWN],
        ).fetchall()
        duplicates = {
            rule: {"records": f"{records:,}"}
            for rule, records in con.execute(
                """
                select rule_id, count(distinct record_id) from hygiene.hygiene_failing_records
                where as_of_date = ? and failure_type = 'duplicate' group by 1
                """,
                [as_of],
            ).fetchall()
        }
        sla = {
            policy: {"met": f"{met:,}", "rate": pct(met, decided)}
            for policy, met, decided in con.execute(
                """
                select policy_id, sum(met_count), sum(met_count + breached_count + open_breached_count)
                from sla.fct_sla_adherence_weekly group by 1
                """
            ).fetchall()
        }
        overall = con.execute(
            """
            with totals as (
                select
                    sum(required_fields_filled) / sum(required_field_checks) as completion,
                    1 - sum(duplicate_records) / sum(records_rule_checked) as duplicates,
                    1 - sum(stale_records) / sum(open_records_tracked) as staleness,
                    sum(sla_instances_met) / sum(sla_instances_decided) as sla
                from hygiene.hygiene_scorecard where as_of_date = ?
            ),
            healths as (unpivot totals on completion, duplicates, staleness, sla into name metric value health),
            scores as (
                select healths.metric, coalesce(max(t.score), 1) as score
                from healths left join rules.hygiene_score_thresholds as t
                    on t.metric = healths.metric and healths.health >= t.min_health
                group by healths.metric
            )
            select min(score) from scores
            """,
            [as_of],
        ).fetchone()[0]
        gx_totals = dict(
            zip(
                ["ran", "passed", "failed_error", "failed_warn", "not_ran"],
                con.execute(
                    """
                    select count(*) filter (where ran),
                           count(*) filter (where ran and success),
                           count(*) filter (where ran and not success and severity = 'error'),
                           count(*) filter (where ran and not success and severity = 'warn'),
                           count(*) filter (where not ran)
                    from quality.gx_validation_results where run_id = ?
                    """,
                    [run_id],
                ).fetchone(),
                strict=True,
            )
        )
        gx_failed = {
            rule: {"unexpected_count": f"{bad:,}", "unexpected_percent": f"{percent:.1f}%", "severity": severity}
            for rule, bad, percent, severity in con.execute(
                """
                select rule_id, unexpected_count, unexpected_percent, severity
                from quality.gx_validation_results where run_id = ? and ran and not success
                """,
                [run_id],
            ).fetchall()
        }
    return {
        "as_of": as_of.isoformat(),
        "overall": str(overall),
        "completion": completion,
        "earlier": earlier,
        "owners": [(key, {"records": f"{r:,}", "failures": f"{f:,}", "errors": f"{e:,}"}) for key, r, f, e in owners],
        "duplicates": duplicates,
        "sla": sla,
        "gx_totals": {k: f"{v:,}" for k, v in gx_totals.items()},
        "gx_failed": gx_failed,
    }


def assert_page_shows(tables: dict, kpis: dict, ids: dict, expected: dict) -> None:
    """The page's tables and KPIs (parsed from the HTML or read from the browser's DOM) equal the DB's."""
    assert ids["as-of"] == expected["as_of"]
    assert ids["overall-score"] == expected["overall"]

    completion = tables["t-completion"]
    assert set(completion) == set(expected["completion"])
    for key, figures in expected["completion"].items():
        assert {col: completion[key][col] for col in figures} == figures, key

    trend = tables["t-trend"]
    assert set(trend) == set(expected["completion"])
    for key, rate in expected["completion"].items():
        assert rate["rate"] in trend[key].values(), key
        assert expected["earlier"][key] in trend[key].values(), key

    owners = tables["t-owners"]
    assert list(owners) == [key for key, _ in expected["owners"]]
    for key, figures in expected["owners"]:
        assert {col: owners[key][col] for col in figures} == figures, key

    duplicates = tables["t-duplicates"]
    for rule, figures in expected["duplicates"].items():
        assert duplicates[rule]["records"] == figures["records"], rule

    sla = tables["t-sla-policy"]
    assert set(sla) == set(expected["sla"])
    for policy, figures in expected["sla"].items():
        assert {col: sla[policy][col] for col in figures} == figures, policy

    assert {key: kpis[key] for key in expected["gx_totals"]} == expected["gx_totals"]
    failed = tables["t-gx-failed"]
    assert set(failed) == set(expected["gx_failed"])
    for rule, figures in expected["gx_failed"].items():
        assert {col: failed[rule][col] for col in figures} == figures, rule


# ----------------------------------------------------------------------------------------------
# Unit level: the HTML


def test_the_page_shows_the_figures_of_the_current_run(page, warehouse):
    text = page.read_text()
    parsed = parse(text)
    assert_page_shows(parsed.tables, parsed.kpis, parsed.ids, expected_figures(warehouse))


def test_the_page_is_self_contained_with_plotly_inlined_once(page):
    from plotly.offline import get_plotlyjs

    text = page.read_text()
    assert text.count(get_plotlyjs()) == 1, "plotly.js must be inlined exactly once"
    rest = text.replace(get_plotlyjs(), "")  # the library names its CDN for map data; the page loads nothing
    assert "plotly.js v" not in rest
    assert " src=" not in rest and "http://" not in rest and "https://" not in rest
    for figure in FIGURES:
        assert f'id="{figure}"' in rest


def test_the_worst_failing_records_are_bounded_and_grouped_by_owner_worst_first(page, warehouse):
    worst = parse(page.read_text()).tables["t-worst"]
    assert 0 < len(worst) <= report.WORST_OWNERS * report.WORST_PER_OWNER
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {
            failing_record_id: (coalesce_owner, severity, days)
            for failing_record_id, coalesce_owner, severity, days in con.execute(
                "select failing_record_id, coalesce(owner_id, ''), severity, days_failing "
                "from hygiene.hygiene_failing_records"
            ).fetchall()
        }
    listed = [rows[key] for key in worst]  # every row listed is a failing record of the run
    for key, (_, _, days) in zip(worst, listed, strict=True):
        assert worst[key]["days_failing"] == f"{days:,}"
    owners_in_order = list(dict.fromkeys(owner for owner, _, _ in listed))
    top_owners = list(parse(page.read_text()).tables["t-owners"])[: report.WORST_OWNERS]
    assert owners_in_order == top_owners
    for owner in owners_in_order:  # within an owner: errors first, then the longest failing
        ranks = [(0 if severity == "error" else 1, -days) for o, severity, days in listed if o == owner]
        assert ranks == sorted(ranks)
        assert len(ranks) <= report.WORST_PER_OWNER


def test_an_earlier_gx_run_is_shown_when_asked_for(warehouse, tmp_path):
    older = report.write_report(warehouse, tmp_path / "older.html", run_id=OLDER_RUN)
    parsed = parse(older.read_text())
    expected = expected_figures(warehouse, OLDER_RUN)
    assert {key: parsed.kpis[key] for key in expected["gx_totals"]} == expected["gx_totals"]
    assert parsed.tables["t-gx-failed"]["lead_email"]["unexpected_count"] == "120"
    assert OLDER_RUN in older.read_text()


HOSTILE_OWNER = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE_STAGE = 'Proposal"><svg onload="window.__pwned = 3">'
HOSTILE_SAMPLE = '["</td><script>window.__pwned = 4</script>"]'


@pytest.fixture(scope="module")
def hostile_page(demo_build, tmp_path_factory) -> Path:
    """A page of a warehouse whose owner name, stage name, GX sample and error hold markup."""
    tmp = tmp_path_factory.mktemp("hostile")
    database = tmp / "warehouse.duckdb"
    shutil.copy(demo_build.database, database)
    with duckdb.connect(str(database)) as con:
        top_owner = con.execute(
            "select owner_id from hygiene.hygiene_failing_records where owner_id is not null "
            "group by 1 order by count(*) filter (where severity = 'error') desc, count(*) desc, 1 limit 1"
        ).fetchone()[0]
        con.execute(
            "update hygiene.hygiene_failing_records set owner_name = ? where owner_id = ?", [HOSTILE_OWNER, top_owner]
        )
        con.execute(
            "update hygiene.hygiene_scorecard set stage_name = ? where object_name = 'opportunity' and stage_name = "
            "(select min(stage_name) from hygiene.hygiene_scorecard where object_name = 'opportunity')",
            [HOSTILE_STAGE],
        )
        add_gx_results(
            con,
            [
                (LATEST_RUN, "2026-11-02 12:10", "lead_email", "required_field", "lead", "email", None, "error",
                 "Marketing Operations", True, False, 10, 1, HOSTILE_SAMPLE, None),
                (LATEST_RUN, "2026-11-02 12:10", "lead_phone", "required_field", "lead", "phone", None, "warn",
                 "Marketing Operations", False, None, None, None, None, HOSTILE_OWNER),
            ],
        )  # fmt: skip
    return report.write_report(database, tmp / "hostile.html")


def test_every_value_is_escaped(hostile_page):
    text = hostile_page.read_text()
    for hostile in (HOSTILE_OWNER, HOSTILE_STAGE, "</td><script>window.__pwned = 4</script>"):
        assert hostile not in text
    assert "window.__pwned" in text  # the values are there, escaped
    assert "<script>window.__pwned" not in text and "<svg onload" not in text and "<img src=x" not in text
    parsed = parse(text)
    assert HOSTILE_OWNER in {row["owner"] for row in parsed.tables["t-owners"].values()}
    assert any(row["stage_name"] == HOSTILE_STAGE for row in parsed.tables["t-completion"].values())
    assert parsed.tables["t-gx-failed"]["lead_email"]["samples"] == "</td><script>window.__pwned = 4</script>"
    assert parsed.tables["t-gx-not-ran"]["lead_phone"]["message"] == HOSTILE_OWNER
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=" in text


def test_without_gx_results_the_page_says_so(demo_build, tmp_path):
    text = report.write_report(demo_build.database, tmp_path / "no_gx.html").read_text()
    assert "No Great Expectations run yet" in text and report.GX_TABLE in text
    assert "t-gx-failed" not in text
    assert 'id="t-completion"' in text  # the rest of the page is there

    database = tmp_path / "empty_gx.duckdb"
    shutil.copy(demo_build.database, database)
    with duckdb.connect(str(database)) as con:
        add_gx_results(con, [])
    text = report.write_report(database, tmp_path / "empty_gx.html").read_text()
    assert f"No Great Expectations run yet: {report.GX_TABLE} is empty." in text

    with duckdb.connect(str(database)) as con:
        con.execute("drop table quality.gx_validation_results")
        add_gx_results(con)
    text = report.write_report(database, tmp_path / "unknown_run.html", run_id="no-such-run").read_text()
    assert "No Great Expectations result for run no-such-run" in text


def test_a_section_whose_mart_is_missing_says_so(demo_build, tmp_path):
    database = tmp_path / "partial.duckdb"
    shutil.copy(demo_build.database, database)
    with duckdb.connect(str(database)) as con:
        con.execute("drop table hygiene.hygiene_failing_records")
        con.execute("drop table sla.fct_sla_adherence_weekly")
    text = report.write_report(database, tmp_path / "partial.html").read_text()
    assert text.count("hygiene.hygiene_failing_records not in the warehouse") == 2  # duplicates, owners
    assert "sla.fct_sla_adherence_weekly not in the warehouse" in text
    assert set(parse(text).tables) >= {"t-completion", "t-trend"}


def test_a_warehouse_without_a_scorecard_gives_a_page_that_says_so(tmp_path):
    database = tmp_path / "nothing.duckdb"
    duckdb.connect(str(database)).close()
    text = report.write_report(database, tmp_path / "nothing.html").read_text()
    assert 'id="no-scorecard"' in text and "No Great Expectations run yet" in text


def test_the_command_line_writes_the_page(warehouse, tmp_path):
    output = tmp_path / "cli" / "scorecard.html"
    result = subprocess.run(
        [sys.executable, "-m", "revops_warehouse.report", "--database", str(warehouse), "--output", str(output),
         "--run-id", OLDER_RUN],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert str(output) in result.stdout
    assert f"Great Expectations run <b>{OLDER_RUN}</b>" in output.read_text()
    with pytest.raises(SystemExit):  # a missing warehouse is an error naming it, not an empty page
        report.main(["--database", str(tmp_path / "missing.duckdb"), "--output", str(output)])


# ----------------------------------------------------------------------------------------------
# Real browser: Debian's chromium through playwright


READ_DOM = """() => {
  const tables = {};
  document.querySelectorAll('table.data').forEach((table) => {
    const rows = {};
    table.querySelectorAll('tr[data-key]').forEach((tr) => {
      const cells = {};
      tr.querySelectorAll('td[data-col]').forEach((td) => { cells[td.dataset.col] = td.innerText.trim(); });
      rows[tr.dataset.key] = cells;
    });
    tables[table.id] = {order: Object.keys(rows), rows: rows};
  });
  const kpis = {};
  document.querySelectorAll('.kpi[data-key]').forEach((k) => {
    kpis[k.dataset.key] = k.querySelector('.value').innerText.trim();
  });
  const ids = {};
  for (const id of ['as-of', 'overall-score']) { ids[id] = document.getElementById(id).innerText.trim(); }
  return {tables, kpis, ids};
}"""


def chromium_browser(playwright):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the scorecard page is tested in Debian's chromium. "
            "Install it with scripts/system-packages (scripts/test does)."
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def open_page(browser, path: Path):
    """Open the file; return the page and the console errors, page errors and non-file requests."""
    tab = browser.new_page(viewport={"width": 1366, "height": 900})
    problems: dict[str, list[str]] = {"console": [], "pageerror": [], "requests": []}
    tab.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems["pageerror"].append(str(e)))
    tab.on(
        "request",
        lambda r: None if r.url.startswith(("file:", "data:", "about:")) else problems["requests"].append(r.url),
    )
    tab.goto(path.as_uri(), wait_until="load")
    return tab, problems


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_page_in_a_real_browser(page, warehouse, hostile_page):
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    expected = expected_figures(warehouse)
    with sync_playwright() as playwright:
        browser = chromium_browser(playwright)
        try:
            tab, problems = open_page(browser, page)
            for figure in FIGURES:  # every chart drawn by plotly.js
                tab.wait_for_selector(f"#{figure}.js-plotly-plot .main-svg", state="attached", timeout=15000)
                assert tab.locator(f"#{figure} .main-svg").count() >= 1, figure
            # the chart labels are the data's: every stage of the completion table is on the chart's axis
            axis_labels = set(tab.locator("#fig-completion svg text").all_text_contents())
            stages = {key.split("|", 1)[1] for key in expected["completion"]}
            assert stages <= axis_labels, stages - axis_labels

            dom = tab.evaluate(READ_DOM)
            tables = {table_id: t["rows"] for table_id, t in dom["tables"].items()}
            tables["t-owners"] = {key: tables["t-owners"][key] for key in dom["tables"]["t-owners"]["order"]}
            assert_page_shows(tables, dom["kpis"], dom["ids"], expected)
            assert tab.locator("#as-of").is_visible() and tab.locator("#t-completion").is_visible()

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT), full_page=True)
            assert problems == {"console": [], "pageerror": [], "requests": []}, problems

            # the hostile values render as text: nothing they hold runs
            hostile_tab, hostile_problems = open_page(browser, hostile_page)
            hostile_tab.wait_for_selector("#fig-owners .main-svg", state="attached", timeout=15000)
            assert hostile_tab.evaluate("() => window.__pwned") is None
            assert hostile_problems == {"console": [], "pageerror": [], "requests": []}, hostile_problems
            assert HOSTILE_OWNER in hostile_tab.locator("#t-owners").inner_text()
        finally:
            browser.close()
    width, height = png_size(SCREENSHOT)
    assert width == 1366 and height > 3000, (width, height)
    assert SCREENSHOT.stat().st_size > 100_000
    print(f"browser test {time.perf_counter() - started:.1f}s; screenshot {SCREENSHOT} {width}x{height}")


def test_gx_rows_fixture_matches_the_contract():
    """The known rows follow the contract: rule types, severities, samples as JSON arrays."""
    for row in GX_ROWS:
        assert row[3] in ("required_field", "allowed_values", "value_format", "duplicate")
        assert row[7] in ("warn", "error")
        if row[13] is not None:
            assert isinstance(json.loads(row[13]), list)


def test_the_report_code_names_no_stage_rule_or_policy():
    """Labels come from the data: no string in report.py is a stage name, rule id or SLA policy id of the seeds."""

    names: set[str] = set()
    for seed, column in (
        ("stage_definitions.csv", "stage_name"),
        ("data_dictionary.csv", "rule_id"),
        ("duplicate_rules.csv", "rule_id"),
        ("sla_policies.csv", "policy_id"),
        ("sla_policies.csv", "policy_name"),
    ):
        with open(settings.RULES_DIR / seed) as f:
            names |= {row[column].lower() for row in csv.DictReader(f)}
    source = Path(report.__file__).read_text()
    literals = {
        node.value.lower()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    quoted_in_sql = {match.lower() for match in re.findall(r"'([^']*)'", source)}
    assert (literals | quoted_in_sql) & names == set()
