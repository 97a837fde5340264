"""File loaders of format 2: CSV/TSV, Excel through pandas, openpyxl ranges (format-v2.md 7.3-7.5).

Headers are sanitised (7.3) unless `sanitize_header: false`; `location` and `sanitize_header` are loader
settings and never reach pandas (the reference passes them to read_csv and crashes, section 20 #1-#3).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from ...errors import EntityError
from .. import files
from ..context import SourceContext
from ..files import local_path
from .headers import sanitize_headers

# Option keys the loaders read themselves; the rest goes to the pandas reader.
LOADER_KEYS = ("filename", "location", "sanitize_header")
_CELLS = re.compile(r"^([A-Za-z]+)([1-9][0-9]*):([A-Za-z]+)([1-9][0-9]*)$")
_COLUMNS = re.compile(r"^([A-Za-z]+):([A-Za-z]+)$")


def file_options(name: str, config: dict, entry: dict | None = None) -> dict:
    """Loader options (7.3): the data source's, else the entity's, else a string or mapping `source`."""
    source = config.get("source")
    candidates = [
        entry.get("options") if isinstance(entry, dict) else None,
        config.get("options"),
        {"filename": source} if isinstance(source, str) and source else None,
        source if isinstance(source, dict) else None,
    ]
    options = next((dict(c) for c in candidates if isinstance(c, dict) and c), None)
    if options is None:
        raise EntityError(f"entity '{name}': no load options defined (give `options: {{filename: ...}}`)")
    if not options.get("filename"):
        raise EntityError(f"entity '{name}': the load options have no `filename`")
    return options


def _split(options: dict) -> tuple[str, bool, dict]:
    """(filename, sanitize, reader options): the loader's own keys taken out.

    `location: local` means "next to the configuration" (7.5), which is where every relative file name is
    looked up here: never the process's working directory. `global` is resolved by the host before the
    engine sees the configuration, as in the reference.
    """
    reader = {key: value for key, value in options.items() if key not in LOADER_KEYS}
    return str(options["filename"]), options.get("sanitize_header", True) is not False, reader


def _pruned(table: pd.DataFrame, wanted: Callable[[str], bool] | None) -> pd.DataFrame:
    """Only the wanted columns, but never zero columns: that would also lose the row count."""
    if wanted is None or table.shape[1] == 0:
        return table
    keep = [column for column in table.columns if wanted(column)] or list(table.columns[:1])
    return table if len(keep) == table.shape[1] else table[keep]


def load_csv(name: str, options: dict, ctx: SourceContext, what: str) -> pd.DataFrame:
    """A delimited file through the shared CSV reader, headers sanitised (7.3) and pruned by those names.

    No default separator, not even for `tsv` (7.3: the reference's tsv loader is its csv loader).
    """
    filename, sanitize, reader = _split(options)
    rename = sanitize_headers if sanitize else None
    return files.load_csv(
        name, {**reader, "filename": filename}, ctx, default_sep=None, what=what, rename=rename
    )


def load_excel(name: str, options: dict, ctx: SourceContext, what: str, default_sheet=None) -> pd.DataFrame:
    """One sheet through pandas.read_excel (`xlsx`, `xls`); `header: true/false` mean row 0 / no header.

    Without `sheet_name` (and without a string `source`) the first sheet is read: the reference refuses
    every workbook then ("supports loading a single sheet only", section 20 #34).
    """
    filename, sanitize, reader = _split(options)
    path = local_path(ctx, filename, what)
    reader["sheet_name"] = reader.get("sheet_name", default_sheet)
    if reader["sheet_name"] is None:
        reader["sheet_name"] = 0
    files.excel_header_and_rows(reader, ctx)
    try:
        table = pd.read_excel(path, **reader)
    except (ValueError, KeyError, OSError, ImportError) as exc:
        raise EntityError(f"entity '{name}': cannot read {filename}: {exc}") from None
    if not isinstance(table, pd.DataFrame):
        raise EntityError(f"entity '{name}': {filename}: give one `sheet_name`, not a list of sheets")
    if sanitize:
        table.columns = sanitize_headers(table.columns)
    return _pruned(table, ctx.wanted_columns)


def _range(name: str, text) -> dict:
    """openpyxl iter_rows bounds of `range`: cells `B2:D4` or whole columns `B:C` (7.4)."""
    from openpyxl.utils.cell import column_index_from_string

    text = str(text).strip()
    if match := _CELLS.match(text):
        first, top, last, bottom = match.groups()
        return {
            "min_col": column_index_from_string(first.upper()),
            "min_row": int(top),
            "max_col": column_index_from_string(last.upper()),
            "max_row": int(bottom),
        }
    if match := _COLUMNS.match(text):
        first, last = match.groups()
        return {
            "min_col": column_index_from_string(first.upper()),
            "max_col": column_index_from_string(last.upper()),
        }
    raise EntityError(f"entity '{name}': range {text!r} is neither cells (like B2:D4) nor columns (like B:C)")


def _read_rows(name: str, path, filename: str, sheet_name, bounds: dict) -> list[tuple]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)  # cached formula values
    except (OSError, ValueError, KeyError) as exc:
        raise EntityError(f"entity '{name}': cannot read {filename}: {exc}") from None
    try:
        if sheet_name is None:
            sheet = workbook.active
        elif sheet_name in workbook.sheetnames:
            sheet = workbook[sheet_name]
        else:
            raise EntityError(
                f"entity '{name}': {filename} has no sheet {sheet_name!r} (sheets: {workbook.sheetnames})"
            )
        return list(sheet.iter_rows(values_only=True, **bounds))
    finally:
        workbook.close()


def load_openpyxl(
    name: str, options: dict, ctx: SourceContext, what: str, default_sheet=None
) -> pd.DataFrame:
    """A sheet, or a `range` of it, through openpyxl (7.4); other option keys are ignored.

    `header: true` (default) takes the range's first row as names, `false` names the columns C_1, C_2, ...
    and a list gives the names itself. With a list the reference still drops the range's first row; here
    that row is data (section 20 #7).
    """
    filename, sanitize, reader = _split(options)
    path = local_path(ctx, filename, what)
    bounds = _range(name, reader["range"]) if reader.get("range") else {}
    rows = _read_rows(name, path, filename, reader.get("sheet_name", default_sheet), bounds)
    header = reader.get("header", True)
    width = max((len(row) for row in rows), default=0)
    if isinstance(header, list):
        if len(header) != width:
            raise EntityError(
                f"entity '{name}': header lists {len(header)} names but the range has {width} columns"
            )
        names = list(header)
    elif header is False:
        names = [f"C_{i}" for i in range(1, width + 1)]
    else:
        names, rows = (list(rows[0]) if rows else []), rows[1:]
    if ctx.max_rows is not None:
        rows = rows[: ctx.max_rows]
    table = pd.DataFrame(rows, columns=names)
    if sanitize:
        table.columns = sanitize_headers(table.columns)
    return _pruned(table, ctx.wanted_columns)
