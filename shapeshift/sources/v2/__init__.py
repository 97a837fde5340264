"""The loaders of format 2 (format-v2.md section 7), chosen by `load_table` when `ctx.format_version == 2`."""

from __future__ import annotations

import pandas as pd

from ...errors import EntityError
from ..context import SourceContext
from ..sql import SQL_DRIVERS
from .files import file_options, load_csv, load_excel, load_openpyxl
from .fixed import load_fixed
from .sql import conform_sql_result, sql_query

FILE_LOADERS = {
    "csv": load_csv,
    "tsv": load_csv,
    "xlsx": load_excel,
    "xls": load_excel,
    "openpyxl": load_openpyxl,
}
SHEET_LOADERS = {"xlsx", "xls", "openpyxl"}


def _load_file(name: str, kind: str, config: dict, ctx: SourceContext, entry=None, what="") -> pd.DataFrame:
    options = file_options(name, config, entry)
    loader = FILE_LOADERS[kind]
    what = what or f"{kind} source of entity '{name}'"
    if kind in SHEET_LOADERS:
        source = config.get("source")
        # A string `source` is also the default sheet (7.4, Trap: the planner makes it a dependency too).
        return loader(name, options, ctx, what, default_sheet=source if isinstance(source, str) else None)
    return loader(name, options, ctx, what)


def _load_data_source(name: str, config: dict, data_sources: dict, ctx: SourceContext) -> pd.DataFrame:
    """7.1 step 1: the data source's driver picks the loader, whatever the entity's `type`."""
    ds_name = config["data_source"]
    if ds_name not in data_sources:
        raise EntityError(
            f"entity '{name}': data source 'options.data_sources.{ds_name}' not found in configuration"
        )
    entry = data_sources[ds_name] if isinstance(data_sources[ds_name], dict) else {}
    driver = str(entry.get("driver") or "")
    if driver in SQL_DRIVERS:
        if config.get("type") != "sql":
            raise EntityError(
                f"entity '{name}' reads SQL data source '{ds_name}' ({driver}) but is not type: sql "
                f"(type: {config.get('type')!r})"
            )
        result = SQL_DRIVERS[driver](ds_name, entry, sql_query(name, config), ctx)
        return conform_sql_result(name, config, result)
    if driver in FILE_LOADERS:
        return _load_file(name, driver, config, ctx, entry, f"data source '{ds_name}' of entity '{name}'")
    if driver == "fixed":
        raise EntityError(f"entity '{name}': data source '{ds_name}' has driver 'fixed', which reads no data")
    raise EntityError(
        f"entity '{name}': data source '{ds_name}' has driver {driver or '(none)'!r}, which is not "
        f"registered (known: {', '.join(sorted([*FILE_LOADERS, *SQL_DRIVERS]))})"
    )


def load_table(name: str, config: dict, data_sources: dict, ctx: SourceContext) -> pd.DataFrame | None:
    """The raw table of one sub-table (entity, append item) of a format-2 entity, or None (7.1).

    1. `data_source` set: its driver's loader. 2. `type` a loader key (fixed, csv, tsv, xlsx, xls,
    openpyxl): that loader; a database driver as `type` is refused. 3. None: the pipeline reads `source`
    (or the default entity) from the table store.
    """
    kind = config.get("type")
    if config.get("data_source"):
        return _load_data_source(name, config, data_sources, ctx)
    if kind == "fixed":
        return load_fixed(name, config)
    if kind in FILE_LOADERS:
        return _load_file(name, kind, config, ctx)
    if kind in SQL_DRIVERS:
        raise EntityError(
            f"entity '{name}': type {kind!r} is a database driver, not an entity type: use type: sql with a "
            f"data_source whose driver is {kind}"
        )
    return None
