"""File loaders: CSV/TSV through pandas.read_csv and Excel through pandas.read_excel."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..errors import EntityError, FileUnavailable, SourceUnavailable
from ..paths import join_relative
from .context import SourceContext


def local_path(ctx: SourceContext, filename: str, what: str):
    relative = join_relative(ctx.base_dir, str(filename))
    try:
        return ctx.resolver.local_path(relative)
    except FileUnavailable as exc:
        raise SourceUnavailable(f"{what}: {exc}") from None
    except FileNotFoundError:
        raise SourceUnavailable(f"{what}: file not found: {relative}") from None


_TEXT_DTYPES = ("str", "string", "object", "O")


def compact_text_dtype(options: dict) -> dict:
    """Read all-text CSVs as `category`: same values, a fraction of the memory.

    When the options ask for every column as text (`dtype: str`), repeated strings are stored once;
    the pipeline treats categorical columns like text and finalisation turns them back to object.
    """
    dtype = options.get("dtype")
    if dtype is str or (isinstance(dtype, str) and dtype in _TEXT_DTYPES):
        options = dict(options)
        options["dtype"] = "category"
    return options


# A table wider than this is read in slices of WIDE_SLICE columns, as plain text: `category` costs pandas
# a fixed time per column (minutes at 100,000 columns) and saves nothing on the few rows such files have,
# and between slices a cancel can land, where one read_csv call cannot be interrupted.
WIDE_COLUMNS = 2_000
WIDE_SLICE = 5_000
# Options under which a slice of columns is not simply the same read restricted to those columns.
_NOT_SLICEABLE = ("usecols", "index_col", "names", "header", "converters", "iterator", "chunksize")


def read_header(path, options: dict) -> list | None:
    """The column names a read with `options` would give, or None when the file cannot be read so."""
    header_options = {
        k: v for k, v in options.items() if k not in ("nrows", "dtype", "converters", "usecols")
    }
    try:
        # nrows=1, not 0: pandas (2.3) handles a header without rows in time quadratic in its columns
        return list(pd.read_csv(path, nrows=1, **header_options).columns)
    except Exception:  # noqa: BLE001 - the real read reports the problem
        return None


def _prune_columns(header: list | None, wanted):
    """`usecols` that reads only wanted columns, but never zero columns (that would also drop the rows)."""
    if header is None:
        return None
    if any(wanted(column) for column in header):
        return wanted
    return header[:1] or None


def _read_wide(path, options: dict, positions: list[int], ctx: SourceContext) -> pd.DataFrame:
    """`read_csv` of a very wide file, WIDE_SLICE columns at a time, text as text; cancellable between.

    Columns are read by position, so duplicate names and their pandas suffixes keep their order; the
    slices are joined side by side in file order.
    """
    options.pop("usecols", None)
    if options.get("dtype") == "category":
        options["dtype"] = str
    frames, chunk = [], []
    for position in ctx.checkpoint(positions):
        chunk.append(position)
        if len(chunk) == WIDE_SLICE:
            frames.append(pd.read_csv(path, usecols=chunk, **options))
            chunk = []
    if chunk:
        frames.append(pd.read_csv(path, usecols=chunk, **options))
    return pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]


def load_csv(
    name: str,
    options: dict,
    ctx: SourceContext,
    *,
    default_sep: str | None = ",",
    what: str | None = None,
    rename: Callable[[list], list] | None = None,
) -> pd.DataFrame:
    """Read a delimited file; every option except `filename` goes to pandas.read_csv unchanged.

    `rename` turns the file's header into the table's column names (format 2 sanitises them); columns
    are then pruned by their final names. `default_sep=None` leaves pandas' own default.
    """
    options = dict(options)
    filename = options.pop("filename", None)
    if not filename:
        raise EntityError(f"entity '{name}': load options have no filename")
    path = local_path(ctx, filename, what or f"CSV source of entity '{name}'")
    if default_sep is not None and "sep" not in options and "delimiter" not in options:
        options["sep"] = default_sep
    if ctx.max_rows is not None:
        options["nrows"] = min(ctx.max_rows, options.get("nrows") or ctx.max_rows)
    header = names = None  # read only when columns are pruned: no file is opened more often than before
    wanted = ctx.wanted_columns
    if wanted is not None and "usecols" not in options:
        header = read_header(path, options)
        if rename is None:
            options["usecols"] = _prune_columns(header, wanted)
        elif header is not None:
            final = rename(header)
            options["usecols"] = [i for i, column in enumerate(final) if wanted(column)] or [0]
            names = [final[i] for i in options["usecols"]]
    options = compact_text_dtype(options)
    try:
        sliceable = not any(key in options for key in _NOT_SLICEABLE if key != "usecols")
        if sliceable and header is not None and len(header) > WIDE_COLUMNS:
            usecols = options.get("usecols")
            if names is not None:
                table = _read_wide(path, options, usecols, ctx)
            elif not isinstance(usecols, list):
                positions = [i for i, column in enumerate(header) if usecols is None or usecols(column)]
                table = _read_wide(path, options, positions or [0], ctx)
            else:
                table = pd.read_csv(path, **options)
        else:
            table = pd.read_csv(path, **options)
    except (ValueError, TypeError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise EntityError(f"entity '{name}': cannot read {filename}: {exc}") from None
    if rename is not None:
        table.columns = (
            names if names is not None and len(names) == table.shape[1] else rename(list(table.columns))
        )
    return table


def load_excel(name: str, options: dict, ctx: SourceContext, what: str | None = None) -> pd.DataFrame:
    """Read one sheet of a workbook (options: filename, sheet_name, header, plus read_excel keywords)."""
    options = dict(options)
    filename = options.pop("filename", None)
    if not filename:
        raise EntityError(f"entity '{name}': load options have no filename")
    path = local_path(ctx, filename, what or f"Excel source of entity '{name}'")
    options.pop("sanitize_header", None)
    options.pop("range", None)
    options.setdefault("sheet_name", 0)
    excel_header_and_rows(options, ctx)
    try:
        return pd.read_excel(path, engine="openpyxl", **options)
    except (ValueError, KeyError, OSError) as exc:
        raise EntityError(f"entity '{name}': cannot read {filename}: {exc}") from None


def excel_header_and_rows(options: dict, ctx: SourceContext) -> None:
    """Set read_excel's `header` for the configuration's true/false (row 0 / no header) and `nrows`
    for the run's row limit, in `options`."""
    if options.get("header") is True:
        options["header"] = 0
    elif options.get("header") is False:
        options["header"] = None
    if ctx.max_rows is not None:
        options["nrows"] = ctx.max_rows
