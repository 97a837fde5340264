"""The table explorer: an entity's whole stored table, paged, sorted, filtered, profiled and downloaded.

The stored CSV stays the table of record (downloads and exports read it; diffs read the copy, a column
at a time). Beside it the explorer
keeps a copy in Arrow's IPC file format (``runs/<id>/<entity>.arrow``), made from the CSV's own text when
the table is final (``store_copy``), or on the first visit for a table stored before there were copies.
An Arrow file is memory-mapped, not read: opening a million-row table costs milliseconds in any process,
and a page touches only the columns it sorts or filters by and the rows it shows
(benchmarks/explorer.py). Text columns are dictionary-encoded, so sorting one sorts its distinct values
and a filter compares each distinct value once; columns whose stored dtype is a number or a boolean are
typed (numeric order, numeric equality); everything else keeps the CSV's text.

Every operation is a pyarrow compute kernel over whole columns; no Python runs per row, except for the
rows of the page shown and the cells of an Excel download.
"""

import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.ipc as ipc
from django.core.files.storage import default_storage

from configurations.storage import StagedFile, is_local
from shapeshift.excel import shorten

logger = logging.getLogger(__name__)

PAGE_ROWS = 50
TOP_VALUES = 5
CELL_CHARS = 1_000  # a page's text cell is cut beyond this (as previews are): the downloads keep it whole
DOWNLOAD_CHUNK_ROWS = 65_536
SUFFIX = ".arrow"
# A CSV block must hold a whole row: a table with a longer row is read again with a block this big.
BLOCK_SIZE = 16 * 1024 * 1024
OPERATORS = {"eq": "equals", "contains": "contains", "empty": "is empty", "notempty": "is not empty"}
WITHOUT_VALUE = ("empty", "notempty")


class InvalidQuery(ValueError):
    """A query the table cannot answer (unknown column, bad operator or value); the message says which."""


class NoTable(Exception):
    """The entity has no stored table to explore, or its copy cannot be made; the message says why."""


# --- the stored copy ---


def copy_name(csv_name: str) -> str:
    """The explorer's copy of a stored CSV: the same name, ending ``.arrow``."""
    stem = csv_name[: -len(".csv")] if csv_name.endswith(".csv") else csv_name
    return stem + SUFFIX


def copy_problem(name: str, columns: list[str], rows: int | None, storage=None) -> str | None:
    """What is wrong with the stored copy ``name`` of a table with these ``columns`` and ``rows``, or None.

    Reads the file's footer, schema and record batch headers, not its values (memory-mapped where the
    storage is local): a truncated or foreign file does not open, a stale one has other columns or rows.
    """
    storage = storage or default_storage
    try:
        if is_local(storage):
            source = pa.memory_map(storage.path(name))
        else:
            with storage.open(name, "rb") as handle:
                source = pa.BufferReader(handle.read())
        with source:
            reader = ipc.open_file(source)
            names = reader.schema.names
            count = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    except (OSError, pa.ArrowException) as exc:
        return f"does not open as an Arrow file: {exc}"
    if names != list(columns):
        return f"columns {_listed(names)}, expected {_listed(columns)}"
    if rows is not None and count != rows:
        return f"{count:,} rows, expected {rows:,}"
    return None


def _listed(names) -> str:
    shown = ", ".join(names[:8]) + (f" … ({len(names)} in all)" if len(names) > 8 else "")
    return f"[{shown}]"


def _arrow_type(dtype: str):
    """The Arrow type of a column by its stored pandas dtype; None: text (the CSV's own)."""
    dtype = dtype.lower()
    if dtype.startswith(("int", "uint")):
        return pa.int64()
    if dtype.startswith("float"):
        return pa.float64()
    if dtype in ("bool", "boolean"):
        return pa.bool_()
    return None


def _header(handle) -> list[str]:
    """The CSV's column names, read with the csv module: no pass of Arrow's type inference over a block."""
    import csv

    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    try:
        return next(csv.reader(text), [])
    finally:
        text.detach()
        handle.seek(0)


def _read_csv(handle, dtypes: dict, typed: bool, block_size: int) -> pa.Table:
    # A column the dtypes do not name is text, never type-inferred: "007" stays "007".
    types = {}
    for name in _header(handle):
        kind = _arrow_type(str(dtypes.get(name, ""))) if typed else None
        types[name] = kind or TEXT
    return pa_csv.read_csv(
        handle,
        read_options=pa_csv.ReadOptions(block_size=block_size),
        parse_options=_PARSE,
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            # The CSV writes a missing value as an empty field, and nothing else is missing: "NA" is text.
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            true_values=["True"],
            false_values=["False"],
        ),
    )


_PARSE = pa_csv.ParseOptions(newlines_in_values=True)
# Text is read dictionary-encoded: the copy keeps it so, and a 50x table read as plain strings first would
# take twice the memory (the copies are made by a worker right after a run).
TEXT = pa.dictionary(pa.int32(), pa.string())


def table_from_csv(handle, dtypes: dict) -> pa.Table:
    """The CSV (a seekable binary file) as the explorer keeps it: typed where ``dtypes`` say so, text
    dictionary-encoded, one chunk per column.

    A column whose text does not fit its dtype makes the whole table text (as the CSV has it); a row
    longer than BLOCK_SIZE is read with a block as big as the file.
    """
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    table = None
    for typed, block_size in ((True, BLOCK_SIZE), (False, BLOCK_SIZE), (False, max(size + 1, BLOCK_SIZE))):
        try:
            table = _read_csv(handle, dtypes, typed, block_size)
            break
        except pa.ArrowInvalid:
            handle.seek(0)
            if block_size > BLOCK_SIZE:
                raise
    table, names, columns = table.unify_dictionaries(), table.schema.names, []
    while table.num_columns:  # one column at a time: each chunked column is released as its copy is made
        columns.append(_array(table.column(0)))
        table = table.remove_column(0)
    return pa.Table.from_arrays(columns, names=names)


def _array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array (the explorer's copy has one chunk per column; an empty one may have none)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def store_copy(csv_name: str, dtypes: dict, storage=None) -> str | None:
    """Write the explorer's copy of the stored CSV ``csv_name``; returns its name, or None if it failed.

    Never raises: a table whose copy cannot be made is still stored, and the explorer tries again on its
    first visit (where the reason is shown). Written whole or not at all (StagedFile).
    """
    storage = storage or default_storage
    try:
        return _write_copy(csv_name, dtypes, storage)
    except (OSError, pa.ArrowException) as exc:
        logger.warning("explorer copy of %s not made: %s", csv_name, exc)
        return None


def store_copies(run_id, storage=None) -> int:
    """Write the copy of every stored table of run ``run_id`` that has none; returns how many were written."""
    from testruns.models import EntityResult

    storage = storage or default_storage
    written = 0
    for csv_name, dtypes in (
        EntityResult.objects.filter(run_id=run_id).exclude(output="").values_list("output", "dtypes")
    ):
        if not storage.exists(copy_name(csv_name)) and store_copy(csv_name, dtypes, storage):
            written += 1
        # Arrow's allocator keeps what a table's read freed, and the next read asks for more on top:
        # handed back after each table, a 50x run's copies peak some 40 MiB lower, below the run's own peak.
        pa.default_memory_pool().release_unused()
    return written


def _write_copy(csv_name: str, dtypes: dict, storage) -> str:
    with storage.open(csv_name, "rb") as handle:
        table = table_from_csv(handle, dtypes)
    name = copy_name(csv_name)
    with StagedFile(os.path.dirname(name), storage) as staged:
        with ipc.new_file(staged.writer, table.schema) as writer:
            writer.write_table(table)
        staged.commit(name)
    return name


def ensure_copy(csv_name: str, dtypes: dict, storage=None) -> str:
    """The name of the Arrow copy of the stored CSV ``csv_name``, made now if there is none.

    Raises NoTable when the CSV is gone or its copy cannot be made.
    """
    storage = storage or default_storage
    name = copy_name(csv_name)
    if not storage.exists(name):
        try:
            _write_copy(csv_name, dtypes, storage)
        except FileNotFoundError:
            raise NoTable("The stored table is gone.") from None
        except (OSError, pa.ArrowException) as exc:
            raise NoTable(f"The stored table cannot be explored: {exc}") from None
    return name


def open_table(result, storage=None) -> pa.Table:
    """The stored table of ``result`` (an EntityResult) as an Arrow table, memory-mapped where possible.

    Makes the copy first when there is none (a table stored before copies were made). Raises NoTable
    when the entity has no stored table or its copy cannot be made.
    """
    storage = storage or default_storage
    if not result.output:
        raise NoTable(f"Table lost: {result.output_lost}" if result.output_lost else "No stored table.")
    name = ensure_copy(result.output.name, result.dtypes, storage)
    if is_local(storage):
        return ipc.open_file(pa.memory_map(storage.path(name))).read_all()
    with storage.open(name, "rb") as handle:
        return ipc.open_file(pa.BufferReader(handle.read())).read_all()


# --- queries ---


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str = ""

    @property
    def label(self) -> str:
        what = OPERATORS[self.op]
        return f"{self.column} {what}" if self.op in WITHOUT_VALUE else f"{self.column} {what} “{self.value}”"


@dataclass(frozen=True)
class Query:
    """What the explorer shows: filters, sort, page, profiled column. Its URL form is ``params()``:
    ``col``/``op``/``q`` once per filter (in order), ``sort``, ``desc=1``, ``page``, ``profile``.
    """

    filters: tuple[Filter, ...] = ()
    sort: str = ""
    descending: bool = False
    page: int = 1
    profile: str = ""

    @classmethod
    def from_params(cls, params, columns: list[str]) -> "Query":
        """The query of a request's GET parameters (a QueryDict); raises InvalidQuery naming the bad one."""
        known = set(columns)
        cols, ops, values = params.getlist("col"), params.getlist("op"), params.getlist("q")
        if not (len(cols) == len(ops) == len(values)):
            raise InvalidQuery("col, op, q: each filter needs all three (q may be empty).")
        filters = []
        for column, op, value in zip(cols, ops, values, strict=True):
            if column not in known:
                raise InvalidQuery(f"col: the table has no column {column!r}.")
            if op not in OPERATORS:
                raise InvalidQuery(f"op: {op!r} is none of {', '.join(OPERATORS)}.")
            filters.append(Filter(column, op, "" if op in WITHOUT_VALUE else value))
        sort, profile = params.get("sort", ""), params.get("profile", "")
        for key, column in (("sort", sort), ("profile", profile)):
            if column and column not in known:
                raise InvalidQuery(f"{key}: the table has no column {column!r}.")
        try:
            page = int(params.get("page") or 1)
        except ValueError:
            raise InvalidQuery("page: expected a page number.") from None
        return cls(tuple(filters), sort, bool(sort) and params.get("desc") == "1", max(page, 1), profile)

    def params(self, **changes) -> str:
        """The query string (without "?") of this query with ``changes`` (``filters=``, ``sort=``, …)."""
        query = self.replace(**changes)
        pairs = []
        for item in query.filters:
            pairs += [("col", item.column), ("op", item.op), ("q", item.value)]
        if query.sort:
            pairs.append(("sort", query.sort))
            if query.descending:
                pairs.append(("desc", "1"))
        if query.page > 1:
            pairs.append(("page", str(query.page)))
        if query.profile:
            pairs.append(("profile", query.profile))
        return urlencode(pairs)

    def replace(self, **changes) -> "Query":
        from dataclasses import replace

        return replace(self, **changes)

    def without_filter(self, position: int) -> str:
        filters = self.filters[:position] + self.filters[position + 1 :]
        return self.params(filters=filters, page=1)

    def sorted_by(self, column: str) -> str:
        """The query string sorting by ``column``: ascending first, then the other way round."""
        descending = self.sort == column and not self.descending
        return self.params(sort=column, descending=descending, page=1)


def _text_mask(column: pa.DictionaryArray, matches) -> pa.Array:
    """Rows of a dictionary column whose value ``matches`` (a kernel over its distinct values)."""
    return pc.fill_null(pc.take(matches(column.dictionary), column.indices), False)


def _number(column: pa.Array, text: str):
    try:
        if pa.types.is_integer(column.type):
            return int(text)
        if pa.types.is_floating(column.type):
            return float(text)
    except ValueError:
        raise InvalidQuery(f"q: {text!r} is not a number, and its column holds numbers.") from None
    if text not in ("True", "False"):
        raise InvalidQuery(f"q: {text!r}: its column holds True or False.")
    return text == "True"


def filter_mask(table: pa.Table, item: Filter) -> pa.Array:
    """A boolean array: which rows of ``table`` pass ``item``. Text compares exactly (equals) or ignoring
    case (contains); numbers equal numerically, and "contain" text of their Arrow form (1.0 is "1")."""
    column = _array(table.column(item.column))
    if item.op in WITHOUT_VALUE:
        empty = pc.is_null(column, nan_is_null=True)
        return empty if item.op == "empty" else pc.invert(empty)
    text = pa.types.is_dictionary(column.type)
    if item.op == "eq":
        if text:
            return _text_mask(column, lambda values: pc.equal(values, item.value))
        return pc.fill_null(pc.equal(column, pa.scalar(_number(column, item.value), column.type)), False)
    if text:
        return _text_mask(column, lambda values: pc.match_substring(values, item.value, ignore_case=True))
    return pc.fill_null(pc.match_substring(pc.cast(column, pa.string()), item.value, ignore_case=True), False)


def sort_keys(column: pa.Array, descending: bool) -> pa.Array:
    """Keys that order ``column`` ascending as it should be ordered (nulls last either way).

    A dictionary column is ranked by its distinct values, then by the rank of each row's value: an
    integer sort instead of a string sort of every row.
    """
    if not pa.types.is_dictionary(column.type):
        return column
    order = "descending" if descending else "ascending"
    ranks = pc.rank(column.dictionary, sort_keys=order, null_placement="at_end")
    return pc.take(ranks, column.indices)


@dataclass
class View:
    """The rows a query selects (``indices`` into the table, in order; None: all, in stored order)."""

    table: pa.Table
    query: Query
    indices: pa.Array | None
    total: int = 0
    count: int = 0
    pages: int = 1
    page: int = 1
    rows: list[list] = field(default_factory=list)
    profile: "Profile | None" = None

    @property
    def start(self) -> int:
        return (self.page - 1) * PAGE_ROWS

    def take(self, start: int, stop: int) -> pa.Table:
        """Rows ``start`` to ``stop`` of the view, as a table."""
        if self.indices is None:
            return self.table.slice(start, max(stop - start, 0))
        return self.table.take(self.indices[start:stop])

    def column(self, name: str) -> pa.Array:
        column = _array(self.table.column(name))
        return column if self.indices is None else column.take(self.indices)


def select(table: pa.Table, query: Query) -> View:
    """The rows ``query`` keeps, in its order: filters first, then the sort of the rows left."""
    indices = None
    masks = [filter_mask(table, item) for item in query.filters]
    if masks:
        mask = masks[0]
        for other in masks[1:]:
            mask = pc.and_(mask, other)
        indices = pc.indices_nonzero(mask)
    if query.sort and table.num_rows:
        keys = sort_keys(_array(table.column(query.sort)), query.descending)
        if indices is not None:
            keys = keys.take(indices)
        ascending = pa.types.is_dictionary(table.column(query.sort).type) or not query.descending
        order = pc.array_sort_indices(
            keys, order="ascending" if ascending else "descending", null_placement="at_end"
        )
        indices = order if indices is None else indices.take(order)
    count = table.num_rows if indices is None else len(indices)
    return View(table, query, indices, total=table.num_rows, count=count)


def explore(table: pa.Table, query: Query) -> View:
    """The page of the view that ``query`` asks for (the last one if it asks beyond), with its profile."""
    view = select(table, query)
    view.pages = max((view.count + PAGE_ROWS - 1) // PAGE_ROWS, 1)
    view.page = min(query.page, view.pages)
    page = view.take(view.start, view.start + PAGE_ROWS)
    columns = [_cells(page.column(i)) for i in range(page.num_columns)]
    view.rows = [list(row) for row in zip(*columns, strict=True)] if columns else []
    if query.profile:
        view.profile = profile(view, query.profile)
    return view


def _cells(column: pa.ChunkedArray) -> list:
    return [shorten(value, CELL_CHARS) if isinstance(value, str) else value for value in column.to_pylist()]


# --- column profiles ---


@dataclass
class Profile:
    column: str
    kind: str
    rows: int
    nulls: int
    distinct: int
    top: list[tuple[object, int]]
    minimum: object = None
    maximum: object = None


def column_kind(data_type) -> str:
    if pa.types.is_dictionary(data_type) or pa.types.is_string(data_type):
        return "text"
    if pa.types.is_integer(data_type):
        return "whole number"
    if pa.types.is_floating(data_type):
        return "decimal number"
    if pa.types.is_boolean(data_type):
        return "true/false"
    return str(data_type)


def profile(view: View, name: str) -> Profile:
    """What the column ``name`` holds in the rows of ``view``: kind, empties, distinct values, the most
    frequent ones (ties in order of first appearance) and the smallest and largest."""
    column = view.column(name)
    values = column.indices if pa.types.is_dictionary(column.type) else column
    counts = pc.value_counts(values.drop_null())
    order = pc.array_sort_indices(counts.field("counts"), order="descending")[:TOP_VALUES]
    top = counts.take(order).to_pylist()
    if pa.types.is_dictionary(column.type):
        names = column.dictionary.to_pylist()
        top = [(names[item["values"]], item["counts"]) for item in top]
        present = column.dictionary.take(pc.unique(values.drop_null()))
        extremes = pc.min_max(present) if len(present) else None
    else:
        top = [(item["values"], item["counts"]) for item in top]
        extremes = pc.min_max(column) if len(column) else None
    extremes = extremes.as_py() if extremes is not None else {"min": None, "max": None}
    return Profile(
        column=name,
        kind=column_kind(column.type),
        rows=len(column),
        nulls=column.null_count,
        distinct=len(counts),
        top=[(shorten(v, CELL_CHARS) if isinstance(v, str) else v, n) for v, n in top],
        minimum=extremes["min"],
        maximum=extremes["max"],
    )


# --- downloads of a view ---


def _pandas(table: pa.Table):
    """A slice of the view as pandas, with the dtypes that write the stored CSV's text again."""
    import pandas as pd

    mapping = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=mapping.get)


def csv_chunks(view: View) -> Iterator[bytes]:
    """The view as CSV, a chunk of rows at a time: the stored CSV's bytes when nothing is filtered or
    sorted (the text of each value is the one ``shapeshift.write_csv`` wrote)."""
    import shapeshift

    header = io.BytesIO()
    shapeshift.write_csv(_pandas(view.take(0, 0)), header)
    yield header.getvalue()
    for start in range(0, view.count, DOWNLOAD_CHUNK_ROWS):
        chunk = io.BytesIO()
        shapeshift.write_csv(_pandas(view.take(start, start + DOWNLOAD_CHUNK_ROWS)), chunk)
        yield chunk.getvalue()[len(header.getvalue()) :]


def write_xlsx(view: View, handle, max_rows: int) -> int:
    """The view as one Excel sheet in ``handle``: header, then up to ``max_rows`` rows; every text is a
    string cell (never a formula), cut to Excel's cell limit. Returns how many text cells were cut."""
    from openpyxl import Workbook

    from shapeshift import excel

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Table")
    cells = excel.Cells(sheet)
    sheet.append([cells.text(str(name), bold=True) for name in view.table.schema.names])
    rows = min(view.count, max_rows)
    for start in range(0, rows, DOWNLOAD_CHUNK_ROWS):
        chunk = view.take(start, min(start + DOWNLOAD_CHUNK_ROWS, rows))
        for row in zip(*(column.to_pylist() for column in chunk.columns), strict=True):
            sheet.append([cells.value(value) for value in row])
    workbook.save(handle)
    return cells.truncated
