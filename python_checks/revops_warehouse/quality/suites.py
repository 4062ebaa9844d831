"""Great Expectations suites generated from the rules the warehouse holds.

The rules are the seeds `dbt seed` loaded (schema `rules`): data_dictionary, duplicate_rules,
duplicate_rule_keys, stage_definitions and value_formats. Nothing here lists a field, a stage or a
pattern: `build_plan` turns the rule rows into

* one query asset per object with every record of the object (`<object>__every_record`), holding
  the not-null expectations of rules required at every stage, the allowed-value (in set) and
  format (regex) expectations: the dbt scorecard checks values and formats on every record too;
* one query asset per object and stage a rule is required from (`<object>__from_<stage>`), limited
  in SQL to the records at or past that stage in the stage order of the stage_definitions seed,
  holding the not-null expectations of the rules required from that stage;
* one query asset per duplicate rule (`duplicates__<rule_id>`) over the normalized match keys
  (`int_duplicate_keys_normalized`, the same keys the dbt duplicate groups use), with a uniqueness
  expectation.

Each asset is SQL that the warehouse runs (pushed down): it projects the record key, the stage and
each checked field as trimmed text with blanks as null, exactly as int_field_rules_evaluated reads
them, so the two count the same failures. Where each object lives (model, key, filter, stage
column) comes from the `hygiene_objects` var in dbt_project.yml, which the dbt macro of the same
name reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

RULE_TYPES = ("required_field", "allowed_values", "value_format", "duplicate")
SEVERITIES = ("warn", "error")
TRUE_VALUES = {"true", "t", "1", "yes", "y"}


class RuleError(ValueError):
    """A rule row the suites cannot be generated from; the message names the seed and the row."""

    def __init__(self, seed: str, row_id: str, message: str):
        self.seed = seed
        self.row_id = row_id
        super().__init__(f"{seed} row {row_id}: {message}")


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    model: str
    key: str
    where: str
    stage: str | None


@dataclass(frozen=True)
class Relation:
    """A model as the warehouse holds it: its qualified name and its columns (lower case)."""

    qualified_name: str
    columns: frozenset[str]


@dataclass(frozen=True)
class RuleSet:
    """The rule seeds' rows, as dicts of column -> value (strings or None)."""

    data_dictionary: list[dict]
    duplicate_rules: list[dict]
    duplicate_rule_keys: list[dict]
    stage_definitions: list[dict]
    value_formats: list[dict]


@dataclass(frozen=True)
class Check:
    """One expectation and the rule it enforces."""

    rule_id: str
    rule_type: str
    object_name: str
    column_name: str
    stage_name: str | None
    severity: str
    owner_role: str | None
    expectation_type: str
    expectation_kwargs: Mapping
    asset_name: str

    @property
    def suite_name(self) -> str:
        return self.asset_name


@dataclass(frozen=True)
class Asset:
    name: str
    object_name: str
    stage_name: str | None
    query: str


@dataclass
class Plan:
    assets: dict[str, Asset] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def suites(self) -> dict[str, list[Check]]:
        """Suite name -> its checks, in a stable order (suite = asset)."""
        out: dict[str, list[Check]] = {name: [] for name in sorted(self.assets)}
        for check in self.checks:
            out[check.suite_name].append(check)
        return {name: checks for name, checks in out.items() if checks}


def load_object_specs(project_dir: Path) -> dict[str, ObjectSpec]:
    """The `hygiene_objects` var of dbt_project.yml."""
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    specs = {}
    for name, spec in (config.get("vars") or {}).get("hygiene_objects", {}).items():
        specs[name] = ObjectSpec(name, spec["model"], spec["key"], spec["where"], spec.get("stage"))
    if not specs:
        raise RuntimeError("dbt_project.yml has no hygiene_objects var")
    return specs


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value) -> bool:
    return str(value).strip().lower() in TRUE_VALUES if value is not None else False


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


def _field_expression(column: str) -> str:
    # As int_field_rules_evaluated reads a field: text, trimmed, blank = missing.
    return f"nullif(trim(cast({column} as varchar)), '')"


def build_plan(
    rules: RuleSet,
    objects: Mapping[str, ObjectSpec],
    relations: Mapping[str, Relation],
    rules_schema: str = "rules",
    duplicate_keys_relation: str = "intermediate.int_duplicate_keys_normalized",
) -> Plan:
    """Turn rule rows into assets (SQL) and expectations. Raises RuleError naming a bad row."""
    stages: dict[str, dict[str, int]] = {}
    for row in rules.stage_definitions:
        try:
            order = int(float(row["stage_order"]))
        except (TypeError, ValueError):
            raise RuleError(
                "stage_definitions",
                f"{row.get('object')}/{row.get('stage_name')}",
                f"stage_order '{row.get('stage_order')}' is not a number",
            ) from None
        stages.setdefault(row["object"], {})[row["stage_name"]] = order
    formats = {row["value_format"]: row["pattern"] for row in rules.value_formats}

    plan = Plan()
    fields_by_asset: dict[str, list[str]] = {}

    def object_of(seed: str, row_id: str, object_name: str) -> tuple[ObjectSpec, Relation]:
        if object_name not in objects:
            raise RuleError(seed, row_id, f"unknown object '{object_name}'; use one of {', '.join(sorted(objects))}")
        spec = objects[object_name]
        if spec.model not in relations:
            raise RuleError(seed, row_id, f"model {spec.model} of object {object_name} is not in the warehouse")
        return spec, relations[spec.model]

    def severity_of(seed: str, row_id: str, value) -> str:
        severity = (_text(value) or "").lower()
        if severity not in SEVERITIES:
            raise RuleError(seed, row_id, f"severity '{value}' is not one of {', '.join(SEVERITIES)}")
        return severity

    def asset_for(spec: ObjectSpec, relation: Relation, stage: str | None) -> str:
        name = f"{spec.name}__every_record" if stage is None else f"{spec.name}__from_{_slug(stage)}"
        if name in plan.assets and plan.assets[name].stage_name != stage:
            raise RuleError(
                "stage_definitions",
                f"{spec.name}/{stage}",
                f"stages '{plan.assets[name].stage_name}' and '{stage}' make the same suite name {name}; rename one",
            )
        if name not in plan.assets:
            stage_column = spec.stage or "cast(null as varchar)"
            scope = ""
            if stage is not None:
                # At or past the stage, in the stage order of the seed the warehouse holds.
                scope = (
                    f"\n  and {spec.stage} in (select stage_name from {rules_schema}.stage_definitions"
                    f" where object = {_literal(spec.name)} and stage_order >= (select stage_order from"
                    f" {rules_schema}.stage_definitions where object = {_literal(spec.name)}"
                    f" and stage_name = {_literal(stage)}))"
                )
            plan.assets[name] = Asset(
                name,
                spec.name,
                stage,
                f"select cast({spec.key} as varchar) as record_id, {stage_column} as stage_name{{fields}}"
                f"\nfrom {relation.qualified_name}\nwhere ({spec.where}){scope}",
            )
            fields_by_asset[name] = []
        return name

    def add(check: Check, column: str | None = None) -> None:
        plan.checks.append(check)
        if column is not None and column not in fields_by_asset[check.asset_name]:
            fields_by_asset[check.asset_name].append(column)

    seen_rules: set[str] = set()
    for row in rules.data_dictionary:
        rule_id = _text(row.get("rule_id"))
        if not rule_id:
            raise RuleError("data_dictionary", str(row), "has no rule_id")
        if rule_id in seen_rules:
            raise RuleError("data_dictionary", rule_id, "rule_id appears twice")
        seen_rules.add(rule_id)
        spec, relation = object_of("data_dictionary", rule_id, _text(row.get("object")) or "")
        column = (_text(row.get("field")) or "").lower()
        if column not in relation.columns:
            raise RuleError(
                "data_dictionary",
                rule_id,
                f"field '{row.get('field')}' is not a column of {relation.qualified_name} (object {spec.name})",
            )
        severity = severity_of("data_dictionary", rule_id, row.get("severity"))
        owner = _text(row.get("owner_role"))
        required_from = _text(row.get("required_from_stage"))
        if required_from is not None:
            if spec.stage is None:
                raise RuleError(
                    "data_dictionary",
                    rule_id,
                    f"object {spec.name} has no stages, but the rule names stage '{required_from}'",
                )
            if required_from not in stages.get(spec.name, {}):
                raise RuleError(
                    "data_dictionary",
                    rule_id,
                    f"unknown stage '{required_from}' for object {spec.name}; stages: "
                    + ", ".join(sorted(stages.get(spec.name, {}), key=stages.get(spec.name, {}).get)),
                )
        common = dict(rule_id=rule_id, object_name=spec.name, column_name=column, severity=severity, owner_role=owner)
        every = asset_for(spec, relation, None)
        if _flag(row.get("is_required")):
            asset = asset_for(spec, relation, required_from) if required_from else every
            add(
                Check(
                    rule_type="required_field",
                    stage_name=required_from,
                    expectation_type="expect_column_values_to_not_be_null",
                    expectation_kwargs={"column": column},
                    asset_name=asset,
                    **common,
                ),
                column,
            )
        allowed = _text(row.get("allowed_values"))
        if allowed:
            values = [v for v in allowed.split("|")]
            add(
                Check(
                    rule_type="allowed_values",
                    stage_name=None,
                    expectation_type="expect_column_values_to_be_in_set",
                    expectation_kwargs={"column": column, "value_set": values},
                    asset_name=every,
                    **common,
                ),
                column,
            )
        value_format = _text(row.get("value_format"))
        if value_format:
            if value_format not in formats:
                raise RuleError(
                    "data_dictionary",
                    rule_id,
                    f"unknown value_format '{value_format}'; value_formats has {', '.join(sorted(formats))}",
                )
            add(
                Check(
                    rule_type="value_format",
                    stage_name=None,
                    expectation_type="expect_column_values_to_match_regex",
                    expectation_kwargs={"column": column, "regex": formats[value_format]},
                    asset_name=every,
                    **common,
                ),
                column,
            )

    keys_by_rule: dict[str, list[dict]] = {}
    for row in rules.duplicate_rule_keys:
        keys_by_rule.setdefault(row["rule_id"], []).append(row)
    duplicate_ids = [_text(row.get("rule_id")) or "" for row in rules.duplicate_rules]
    for rule_id in keys_by_rule:
        if rule_id not in duplicate_ids:
            raise RuleError("duplicate_rule_keys", rule_id, "names no rule of duplicate_rules")
    for row in rules.duplicate_rules:
        rule_id = _text(row.get("rule_id")) or ""
        if duplicate_ids.count(rule_id) > 1:
            raise RuleError("duplicate_rules", rule_id, "rule_id appears twice")
        spec, relation = object_of("duplicate_rules", rule_id, _text(row.get("object")) or "")
        keys = keys_by_rule.get(rule_id)
        if not keys:
            raise RuleError("duplicate_rules", rule_id, "no rows in duplicate_rule_keys")
        for key in keys:
            if (_text(key.get("field")) or "").lower() not in relation.columns:
                raise RuleError(
                    "duplicate_rule_keys",
                    rule_id,
                    f"field '{key.get('field')}' is not a column of {relation.qualified_name} (object {spec.name})",
                )
        name = f"duplicates__{_slug(rule_id)}"
        if name in plan.assets:
            raise RuleError("duplicate_rules", rule_id, f"makes the same suite name {name} as another rule; rename one")
        plan.assets[name] = Asset(
            name,
            spec.name,
            None,
            f"select record_id, match_key from {duplicate_keys_relation} where rule_id = {_literal(rule_id)}",
        )
        plan.checks.append(
            Check(
                rule_id=rule_id,
                rule_type="duplicate",
                object_name=spec.name,
                column_name="match_key",
                stage_name=None,
                severity=severity_of("duplicate_rules", rule_id, row.get("severity")),
                owner_role=_text(row.get("owner_role")),
                expectation_type="expect_column_values_to_be_unique",
                expectation_kwargs={"column": "match_key"},
                asset_name=name,
            )
        )

    for name, asset in plan.assets.items():
        if "{fields}" in asset.query:
            projected = "".join(f",\n  {_field_expression(c)} as {c}" for c in fields_by_asset.get(name, []))
            plan.assets[name] = Asset(
                asset.name, asset.object_name, asset.stage_name, asset.query.replace("{fields}", projected)
            )
    # Assets with nothing to check (an object whose rules are all optional) are dropped.
    used = {c.asset_name for c in plan.checks}
    plan.assets = {n: a for n, a in plan.assets.items() if n in used}
    return plan


def rows_as_dicts(columns: Iterable[str], rows: Iterable[tuple]) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, (None if v is None else str(v) for v in row), strict=True)) for row in rows]
