"""Pick and run the loader of an entity (spec 2.5 steps 1-2, 2.7-2.9, section 6 file types)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import EntityError
from .context import SourceContext
from .files import load_csv, load_excel
from .fixed import load_fixed
from .sql import SQL_DRIVERS
from .v2 import load_table as load_table_v2

CSV_DRIVERS = {"csv": ",", "tsv": "\t"}
EXCEL_DRIVERS = {"xlsx", "xls", "openpyxl"}
UNUSABLE_TYPES = {"fixed2", "sqlite", "postgres", "ucanaccess"}


def _names(value) -> list:
    if isinstance(value, str):
        return list(dict.fromkeys(value))
    if isinstance(value, list):
        return list(dict.fromkeys(v for v in value if isinstance(v, (str, int, float, bool))))
    return []


def file_options(config: dict, entry: dict | None = None) -> dict | None:
    """Loader options: first non-empty of data-source options, entity options, string/mapping source."""
    candidates = []
    if isinstance(entry, dict):
        candidates.append(entry.get("options"))
    candidates.append(config.get("options"))
    source = config.get("source")
    if isinstance(source, str) and source:
        candidates.append({"filename": source})
    candidates.append(source if isinstance(source, dict) else None)
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate:
            return dict(candidate)
    return None


def sql_text(config: dict) -> str:
    """`query`, else legacy `values` with the characters s, q, l, ':' stripped from the left (trap 1.9.3)."""
    query = config.get("query")
    if isinstance(query, str) and query.strip():
        return query
    table = config.get("table")
    if isinstance(table, str) and table.strip():
        return f"select * from {table.strip()}"  # section 6: `table` instead of `query`
    values = config.get("values")
    if isinstance(values, str):
        return values.lstrip("sql:").strip()
    raise EntityError("SQL entity has neither `query` nor legacy `values` SQL")


def conform_sql_result(name: str, config: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Check result columns against keys ∪ columns, rename by position if asked, write the ids."""
    expected = list(dict.fromkeys(_names(config.get("keys")) + _names(config.get("columns"))))
    result_names = list(dict.fromkeys(table.columns))
    if len(result_names) != len(expected):
        raise EntityError(
            f"entity '{name}': SQL result has a different number of columns "
            f"({len(result_names)}: {result_names}) than configured keys + columns "
            f"({len(expected)}: {expected})"
        )
    if config.get("check_column_names", True) is False:
        table = table.copy()
        table.columns = expected
    elif set(result_names) != set(expected):
        raise EntityError(
            f"entity '{name}': mismatched columns between configuration and SQL result: "
            f"only in result {sorted(set(result_names) - set(expected))}, "
            f"only in configuration {sorted(set(expected) - set(result_names))}"
        )
    surrogate_id = config.get("surrogate_id")
    if surrogate_id:
        table[surrogate_id] = np.arange(1, len(table) + 1, dtype=np.int64)
    return table


def load_table(name: str, config: dict, data_sources: dict, ctx: SourceContext) -> pd.DataFrame | None:
    """The loader output for an entity (or append item) configuration; None when no loader applies."""
    if ctx.format_version == 2:
        return load_table_v2(name, config, data_sources, ctx)  # format-v2.md section 7
    ds_name = config.get("data_source")
    kind = config.get("type")
    if ds_name:
        if ds_name not in data_sources:
            raise EntityError(f"Data source 'options.data_sources.{ds_name}' not found in configuration")
        entry = data_sources[ds_name] if isinstance(data_sources[ds_name], dict) else {}
        driver = str(entry.get("driver") or "")
        if driver in SQL_DRIVERS:
            if kind != "sql":
                raise EntityError(
                    f"entity '{name}' uses SQL data source '{ds_name}' ({driver}) but is not "
                    f"configured as SQL data (type: {kind!r})"
                )
            result = SQL_DRIVERS[driver](ds_name, entry, sql_text(config), ctx)
            return conform_sql_result(name, config, result)
        what = f"data source '{ds_name}' of entity '{name}'"
        if driver in CSV_DRIVERS:
            options = file_options(config, entry)
            if not options:
                raise EntityError(f"entity '{name}' has no load options defined")
            return load_csv(name, options, ctx, default_sep=CSV_DRIVERS[driver], what=what)
        if driver in EXCEL_DRIVERS:
            options = file_options(config, entry)
            if not options:
                raise EntityError(f"entity '{name}' has no load options defined")
            return load_excel(name, options, ctx, what=what)
        raise EntityError(
            f"preprocessor {driver or '(no driver)'} is not registered (data source '{ds_name}')"
        )
    if kind == "fixed":
        return load_fixed(name, config)
    if kind in CSV_DRIVERS:
        options = file_options(config)
        if not options:
            raise EntityError(f"entity '{name}' has no load options defined")
        return load_csv(name, options, ctx, default_sep=CSV_DRIVERS[kind])
    if kind in EXCEL_DRIVERS:
        options = file_options(config)
        if not options:
            raise EntityError(f"entity '{name}' has no load options defined")
        return load_excel(name, options, ctx)
    if kind in UNUSABLE_TYPES:
        raise EntityError(
            f"entity '{name}': type '{kind}' is a loader name, not an entity type "
            "(use type: sql with a data_source)"
        )
    return None
