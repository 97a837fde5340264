"""SQL entities in format 2: the query, and the result's columns checked and shaped (format-v2.md 7.6).

Running the query is the format-1 drivers' job (sources/sql.py: read-only SQLite and PostgreSQL).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import EntityError
from .fixed import SYSTEM_ID


def _names(value) -> list[str]:
    return list(dict.fromkeys(v for v in value if isinstance(v, str))) if isinstance(value, list) else []


def sql_query(name: str, config: dict) -> str:
    """The entity's `query`; the legacy `values: "sql: ..."` form and `table:` are no longer read (7.6)."""
    query = config.get("query")
    if isinstance(query, str) and query.strip():
        return query
    values = config.get("values")
    if isinstance(values, str) and values.lstrip().lower().startswith("sql:"):
        raise EntityError(
            f"entity '{name}': the SQL text in `values` (legacy \"sql: ...\" form) is not read in format 2; "
            "move it to `query`"
        )
    if config.get("table"):
        raise EntityError(
            f"entity '{name}': `table` is not read in format 2; write `query: select * from ...`"
        )
    raise EntityError(f"entity '{name}': a type: sql entity needs a `query`")


def _check_auto_detected(name: str, config: dict, result: list[str]) -> None:
    """auto_detect_columns: every configured key and column must be a result column (extra ones are fine)."""
    extra = config.get("extra_columns")
    derived = set(extra) if isinstance(extra, dict) else set()
    missing_keys = [key for key in _names(config.get("keys")) if key not in derived and key not in result]
    if missing_keys:
        raise EntityError(
            f"entity '{name}': SQL result has no key column(s) {missing_keys} (result columns: {result}); "
            "with auto_detect_columns every key must be a result column"
        )
    identity = {SYSTEM_ID, config.get("public_id")}
    missing = [
        column
        for column in _names(config.get("columns"))
        if column not in identity and column not in derived and column not in result
    ]
    if missing:
        raise EntityError(
            f"entity '{name}': SQL result has no column(s) {missing} listed in columns "
            f"(result columns: {result}); with auto_detect_columns every listed column must be a result "
            "column (or set auto_detect_columns: false to rename the result columns by position)"
        )


def _rename_by_position(name: str, config: dict, table: pd.DataFrame) -> pd.DataFrame:
    columns = _names(config.get("columns"))
    if len(columns) != len(table.columns):
        raise EntityError(
            f"entity '{name}': auto_detect_columns is false, so the {len(table.columns)} SQL result columns "
            f"{list(table.columns)} are renamed by position, but columns lists {len(columns)}: {columns}"
        )
    table.columns = columns  # in place: the frame is the driver's fresh result
    return table


def conform_sql_result(name: str, config: dict, table: pd.DataFrame) -> pd.DataFrame:
    """The result checked by `check_column_names` and shaped by `auto_detect_columns` (7.6 table).

    auto_detect_columns (default true) keeps the result's own names, extra columns included; false renames
    the result columns by position to `columns`. check_column_names: false skips the checks, and so does
    an `unnest` (the reference's check is not implemented there). A provisional `system_id` is added when
    the query delivers none (5.1).
    """
    check = config.get("check_column_names", True) is not False and not config.get("unnest")
    if config.get("auto_detect_columns", True) is False:
        table = _rename_by_position(name, config, table)
    elif check:
        _check_auto_detected(name, config, [str(column) for column in table.columns])
    if SYSTEM_ID not in table.columns:
        table[SYSTEM_ID] = np.arange(1, len(table) + 1, dtype=np.int64)
    return table
