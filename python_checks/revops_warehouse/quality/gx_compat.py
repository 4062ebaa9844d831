"""The small, version-pinned adaptation that lets Great Expectations push rules down to DuckDB.

great-expectations 1.24.1 has no DuckDB datasource. Its SQL datasource connects through
`duckdb-engine`, but then every expectation fails to run: GX opens a new SQLAlchemy connection per
query unless the dialect is in its persisted-connection list, and with DuckDB that loses the
temporary table GX created for the batch, so each metric query returns no row and the result
carries an `IndexError` in `exception_info` (great_expectations issues #10738 and #11579).
Regex expectations also need DuckDB's `regexp_matches`, which GX's dialect table does not know.

`apply()` adds duckdb to the persisted-connection dialects and teaches the regex metrics
`regexp_matches` for a dialect GX has no module for. It refuses to run on another
great-expectations version: an upgrade must re-run `python_checks/tests/test_quality_gx_compat.py`,
which proves both that the adaptation is still needed and that it still works.
"""

from __future__ import annotations

ADAPTED_GX_VERSION = "1.24.1"

_applied = False


class GXVersionError(RuntimeError):
    pass


class _DuckDBDialect(str):
    """Stands in the persisted-connection tuple beside GX's dialect enum members.

    GX tests membership two ways: `dialect_name in _PERSISTED_CONNECTION_DIALECTS` (a str equal to
    "duckdb") and `url.startswith(dialect.value)` (the `.value` attribute).
    """

    value = "duckdb"


def check_version() -> None:
    import great_expectations as gx

    if gx.__version__ != ADAPTED_GX_VERSION:
        raise GXVersionError(
            f"great-expectations {gx.__version__} is installed; the DuckDB adaptation in "
            f"{__name__} was written and tested for {ADAPTED_GX_VERSION}. Run "
            "python_checks/tests/test_quality_gx_compat.py, drop the adaptation if GX now supports "
            "DuckDB (the test says so), and update ADAPTED_GX_VERSION."
        )


def _is_duckdb(dialect) -> bool:
    # GX hands the metric its dialect module, or the SQLAlchemy dialect when it has no module.
    inner = getattr(dialect, "dialect", dialect)
    return getattr(inner, "name", None) == "duckdb" or "duckdb" in getattr(dialect, "__name__", "")


def apply() -> None:
    """Install the adaptation (idempotent)."""
    global _applied
    check_version()
    if _applied:
        return
    import sqlalchemy as sa
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_match_regex,
        column_values_not_match_regex,
    )

    dialects = engine_module._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in [getattr(d, "value", d) for d in dialects]:
        engine_module._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect("duckdb"))

    for module in (column_values_match_regex, column_values_not_match_regex):
        original = module.get_dialect_regex_expression

        def regex_expression(column, regex, dialect, positive=True, _original=original):
            expression = _original(column, regex, dialect, positive)
            if expression is None and _is_duckdb(dialect):
                matches = sa.func.regexp_matches(column, sa.literal(regex))
                return matches if positive else sa.not_(matches)
            return expression

        module.get_dialect_regex_expression = regex_expression
    _applied = True
