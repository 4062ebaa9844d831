"""Structural rules of the project, checked over dbt's manifest so they cannot rot.

See ../shared/style.md: source() only in staging, no model joining two sources, staging never
reads staging, every model, column, seed and macro documented, every mart's primary key tested,
and no stage name written into SQL (the stage_definitions seed is the only place for them).
"""

from __future__ import annotations

import csv
import re

import pytest

from revops_warehouse import settings


@pytest.fixture(scope="module")
def manifest(demo_build):
    return demo_build.manifest()


def project_nodes(manifest, resource_type):
    return {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] == resource_type and node["package_name"] == "revops_warehouse"
    }


def test_sources_are_read_only_in_staging(manifest):
    offenders = [
        node["original_file_path"]
        for node in project_nodes(manifest, "model").values()
        if any(dep.startswith("source.") for dep in node["depends_on"]["nodes"])
        and not node["original_file_path"].startswith("models/staging/")
    ]
    assert offenders == []


def test_no_model_reads_two_sources(manifest):
    offenders = [
        node["name"]
        for node in project_nodes(manifest, "model").values()
        if len([dep for dep in node["depends_on"]["nodes"] if dep.startswith("source.")]) > 1
    ]
    assert offenders == []


def test_staging_reads_exactly_one_source_and_no_model(manifest):
    for node in project_nodes(manifest, "model").values():
        if not node["original_file_path"].startswith("models/staging/"):
            continue
        deps = node["depends_on"]["nodes"]
        assert [d for d in deps if d.startswith("source.")], f"{node['name']} reads no source"
        assert [d for d in deps if d.startswith("model.")] == [], f"{node['name']} reads a model"


def test_model_names_follow_the_layer_conventions(manifest):
    patterns = {
        "models/staging/": r"^stg_(salesforce|stripe)__[a-z_]+s$",
        "models/intermediate/": r"^int_[a-z_]+_[a-z]+ed$",
        "models/marts/": r"^(fct|dim|audit|hygiene)_[a-z_]+$",
    }
    for node in project_nodes(manifest, "model").values():
        for prefix, pattern in patterns.items():
            if node["original_file_path"].startswith(prefix):
                assert re.match(pattern, node["name"]), f"{node['name']} does not match {pattern}"


def test_every_model_and_column_is_documented_and_exists(manifest, demo_build):
    with demo_build.connect() as con:
        actual = {}
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall():
            actual.setdefault((schema, table), set()).add(column)
    problems = []
    for node in project_nodes(manifest, "model").values():
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        documented = node["columns"]
        for name, column in documented.items():
            if not column["description"].strip():
                problems.append(f"{node['name']}.{name}: no description")
        built = actual.get((node["schema"], node["alias"]))
        assert built is not None, f"{node['name']} was not built"
        missing_docs = sorted(built - set(documented))
        stale_docs = sorted(set(documented) - built)
        if missing_docs:
            problems.append(f"{node['name']}: undocumented columns {missing_docs}")
        if stale_docs:
            problems.append(f"{node['name']}: documented columns that do not exist {stale_docs}")
    assert problems == []


def test_every_seed_and_macro_is_documented(manifest):
    problems = []
    for node in project_nodes(manifest, "seed").values():
        if not node["description"].strip() or not node["columns"]:
            problems.append(f"seed {node['name']}")
        problems += [f"seed {node['name']}.{c}" for c, col in node["columns"].items() if not col["description"].strip()]
    for macro in manifest["macros"].values():
        if macro["package_name"] != "revops_warehouse" or macro["name"].startswith("test_"):
            continue
        if macro["name"].split("__")[0] in ("default", "postgres", "spark", "duckdb"):
            continue  # dispatch implementations are documented with their macro
        if not macro["description"].strip():
            problems.append(f"macro {macro['name']}")
    assert problems == []


def test_every_mart_primary_key_is_tested(manifest):
    tests = project_nodes(manifest, "test")
    tested = {}
    for test in tests.values():
        meta = test.get("test_metadata") or {}
        attached = test.get("attached_node")
        if not attached:
            continue
        entry = (meta.get("name"), test.get("column_name"), test["config"].get("where"))
        tested.setdefault(attached, []).append(entry)
    problems = []
    for key, node in project_nodes(manifest, "model").items():
        if not node["original_file_path"].startswith("models/marts/"):
            continue
        node_tests = tested.get(key, [])
        unique_cols = {c for name, c, where in node_tests if name == "unique" and where is None}
        not_null_cols = {c for name, c, where in node_tests if name == "not_null" and where is None}
        combo = any(name == "revops_unique_combination" for name, _, _ in node_tests)
        if not (unique_cols & not_null_cols) and not combo:
            problems.append(node["name"])
    assert problems == []


def test_no_stage_name_is_written_into_sql():
    with open(settings.RULES_DIR / "stage_definitions.csv") as f:
        stage_names = {row["stage_name"].lower() for row in csv.DictReader(f)}
    offenders = []
    for path in (
        list((settings.PROJECT_DIR / "models").rglob("*.sql"))
        + list((settings.PROJECT_DIR / "models").rglob("*.py"))
        + list((settings.PROJECT_DIR / "macros").rglob("*.sql"))
    ):
        text = path.read_text().lower()
        for literal in re.findall(r"'([^']*)'", text):
            if literal in stage_names:
                offenders.append(f"{path.relative_to(settings.PROJECT_DIR)}: '{literal}'")
    assert offenders == []
