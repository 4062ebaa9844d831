"""The raw contract (source YAML) as Python: which tables and columns staging reads, typed.

Used by tests and tooling to create raw tables of the right shape; the YAML stays the one place
where the contract is written down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from revops_warehouse.settings import PROJECT_DIR

SOURCE_FILES = (
    PROJECT_DIR / "models/staging/salesforce/_salesforce__sources.yml",
    PROJECT_DIR / "models/staging/stripe/_stripe__sources.yml",
)
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "numeric": "DECIMAL(28, 6)",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class ContractColumn:
    name: str
    type: str
    required: bool

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


def load_contract(files: tuple[Path, ...] = SOURCE_FILES) -> dict[str, dict[str, list[ContractColumn]]]:
    """{source_name: {table_name: [columns]}} as declared in the sources YAML."""
    contract: dict[str, dict[str, list[ContractColumn]]] = {}
    for path in files:
        doc = yaml.safe_load(path.read_text())
        for source in doc["sources"]:
            tables = contract.setdefault(source["name"], {})
            for table in source["tables"]:
                columns = []
                for column in table["columns"]:
                    meta = column.get("config", {}).get("meta", {})
                    if meta.get("type") not in DUCKDB_TYPES:
                        raise ValueError(
                            f"{path.name}: {source['name']}.{table['name']}.{column['name']} has "
                            f"type {meta.get('type')!r}; expected one of {sorted(DUCKDB_TYPES)}"
                        )
                    columns.append(ContractColumn(column["name"], meta["type"], bool(meta.get("required"))))
                tables[table["name"]] = columns
    return contract


def create_empty_raw_tables(con, schemas: dict[str, str] | None = None) -> None:
    """Create every contract table, empty, in a DuckDB connection (schema per source name)."""
    schemas = schemas or {}
    for source_name, tables in load_contract().items():
        schema = schemas.get(source_name, source_name)
        con.execute(f'create schema if not exists "{schema}"')
        for table, columns in tables.items():
            cols = ", ".join(f'"{c.name}" {c.duckdb_type}' for c in columns)
            con.execute(f'create or replace table "{schema}"."{table}" ({cols})')
