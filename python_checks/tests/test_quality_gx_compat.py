"""The GX 1.24.1 behaviour the runner's DuckDB adaptation and its did-not-run detection rely on.

If an upgrade of great-expectations changes any of it, these tests break: drop or update the
adaptation in revops_warehouse/quality/gx_compat.py, and re-check how a rule that failed to run is
reported (runner._exception_message), before moving the pin.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import great_expectations as gx
import pytest

from revops_warehouse.quality import gx_compat, runner

PROBE = textwrap.dedent(
    """
    import json, sys
    import great_expectations as gx
    import great_expectations.expectations as gxe
    if sys.argv[2] == "adapted":
        from revops_warehouse.quality import gx_compat
        gx_compat.apply()
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="w", connection_string="duckdb:///" + sys.argv[1])
    asset = source.add_query_asset(name="t", query="select id, email from t")
    batch = asset.add_batch_definition_whole_table("all")
    suite = context.suites.add(gx.ExpectationSuite(name="s", expectations=[
        gxe.ExpectColumnValuesToNotBeNull(column="email"),
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex="^[a-z]+@[a-z]+[.][a-z]+$"),
    ]))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
    result = definition.run(result_format={"result_format": "SUMMARY", "unexpected_index_column_names": ["id"]})
    out = []
    for item in result.results:
        info = item.exception_info or {}
        nested = [v for v in info.values() if isinstance(v, dict)]
        out.append({
            "type": item.expectation_config.type,
            "success": item.success,
            "raised": bool(info.get("raised_exception")) or any(v.get("raised_exception") for v in nested),
            "message": info.get("exception_message") or next((v.get("exception_message") for v in nested), None),
            "unexpected_count": item.result.get("unexpected_count"),
        })
    print(json.dumps(sorted(out, key=lambda o: o["type"])))
    sys.stdout.flush()
    import os
    os._exit(0)
    """
)


@pytest.fixture
def tiny_warehouse(tmp_path):
    path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table t as select * from (values (1, 'a@b.io'), (2, null), (3, 'NOT-AN-EMAIL')) v(id, email)"
        )
    return path


def probe(path, mode) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), mode], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_pinned_version_is_the_adapted_one():
    assert gx.__version__ == gx_compat.ADAPTED_GX_VERSION == "1.24.1"


def test_without_the_adaptation_every_rule_fails_to_run_on_duckdb(tiny_warehouse):
    # GX issues #10738 / #11579: the failure is visible only in exception_info; success is False
    # and there is no unexpected_count. The runner must read this as "did not run", never as data.
    results = probe(tiny_warehouse, "plain")
    assert [r["type"] for r in results] == [
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_null",
    ]
    for result in results:
        assert result["success"] is False
        assert result["raised"] is True
        assert result["unexpected_count"] is None
    assert any("list index out of range" in (r["message"] or "") for r in results)


def test_with_the_adaptation_rules_run_in_duckdb(tiny_warehouse):
    results = {r["type"]: r for r in probe(tiny_warehouse, "adapted")}
    assert results["expect_column_values_to_not_be_null"]["unexpected_count"] == 1
    assert results["expect_column_values_to_match_regex"]["unexpected_count"] == 1
    assert not any(r["raised"] for r in results.values())


def test_the_runner_reads_gx_exception_info_both_ways():
    class Item:
        def __init__(self, info, success=False, result=None):
            self.exception_info, self.success, self.result = info, success, result or {}

    nested = Item({"MetricConfigurationID(...)": {"raised_exception": True, "exception_message": "boom"}})
    flat = Item({"raised_exception": True, "exception_message": "bang"})
    silent = Item({"raised_exception": False}, success=False, result={})
    fine = Item({"raised_exception": False}, success=False, result={"unexpected_count": 3})
    assert runner._exception_message(nested) == "boom"
    assert runner._exception_message(flat) == "bang"
    assert runner._exception_message(silent).startswith("no result")
    assert runner._exception_message(fine) is None


def test_another_gx_version_is_refused(monkeypatch):
    monkeypatch.setattr(gx, "__version__", "1.99.0")
    with pytest.raises(gx_compat.GXVersionError, match="tested for 1.24.1"):
        gx_compat.check_version()
