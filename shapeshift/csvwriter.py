"""`write_csv`: write a table as CSV, byte for byte what `table.to_csv(target, index=False)` writes.

Why it exists: pandas turns every cell into a Python object and passes it through the csv module;
writing the Arbodat tables took most of a full CLI run. Final tables are mostly text kept as
`category` (few distinct values per column) and integers, so this writer formats and quotes each
distinct value once and takes the results by code. Neighbouring coded columns whose codes combine
into few enough keys are joined once per combination that occurs, so a row is a handful of pieces
instead of one per column. A chunk of rows at a time is laid out in one object array and written
with a single C-level `str.join`, so memory stays bounded.

What it matches (pandas' defaults): UTF-8, "," between fields, `os.linesep` after each row,
minimal quoting as the csv module does it (quoted when a field holds a character the csv module
quotes for, `"` doubled), missing values as empty fields, a row of one empty field as `""`, floats
as numpy's `astype(str)`, everything else as `str(value)`; the header line comes from pandas itself.
Tables with a column it does not format itself (datetimes, timedeltas, periods, intervals, sparse,
datetime categories, a column MultiIndex, no columns) are written by pandas: correctness first.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import BinaryIO

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

# About this many fields are laid out and joined at once: a few MiB of text per chunk.
CHUNK_FIELDS = 500_000
# Neighbouring coded columns are combined while their number of code combinations stays at most
# this share of the rows: formatting every combination then costs at most that share of the work.
COMBINATIONS_PER_ROW = 1 / 8
MAX_COMBINATIONS = 65_536

_LINE_END = os.linesep  # what to_csv ends rows with unless told otherwise
_MASKED_ARRAYS = (
    pd.arrays.IntegerArray,
    pd.arrays.FloatingArray,
    pd.arrays.BooleanArray,
    pd.arrays.StringArray,
)


def _characters_the_csv_module_quotes() -> tuple[str, ...]:
    """Ask the csv module (the one pandas writes through) which characters make it quote a field.

    Python 3.11 leaves a "\\r" unquoted when the line terminator is "\\n"; later versions may not.
    """
    quoted = []
    for character in ',"\r\n':
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=_LINE_END).writerow([f"a{character}b", ""])
        if buffer.getvalue().startswith('"'):
            quoted.append(character)
    return tuple(quoted)


_QUOTED = _characters_the_csv_module_quotes()


def write_csv(table: pd.DataFrame, target: str | os.PathLike | BinaryIO) -> None:
    """Write `table` to a path or a binary file object as `table.to_csv(target, index=False)` would."""
    pieces = _pieces(table)
    if pieces is None:
        table.to_csv(target, index=False, encoding="utf-8")
        return
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as handle:
            _write(table, pieces, handle)
    else:
        _write(table, pieces, target)


def _write(table: pd.DataFrame, pieces: list[_Piece], handle: BinaryIO) -> None:
    handle.write(table.iloc[:0].to_csv(index=False).encode("utf-8"))
    step = max(1, CHUNK_FIELDS // len(pieces))
    # Every field already ends in "," or the line end, so a chunk is one join over its rows.
    block = np.empty((min(step, len(table)), len(pieces)), dtype=object)
    for start in range(0, len(table), step):
        stop = min(start + step, len(table))
        for position, piece in enumerate(pieces):
            block[: stop - start, position] = piece.fields(start, stop)
        handle.write("".join(block[: stop - start].ravel().tolist()).encode("utf-8"))


# --- pieces of a row ---------------------------------------------------------------------------


class _Piece:
    """The text of one or more neighbouring columns for rows [start, stop), separators included."""

    def fields(self, start: int, stop: int) -> np.ndarray:
        raise NotImplementedError


class _Coded(_Piece):
    """A column as codes (missing = -1) and the text of each code; the last text is the missing one."""

    def __init__(self, codes: np.ndarray, text: np.ndarray) -> None:
        self.codes, self.text = codes, text

    def fields(self, start, stop):
        return self.text.take(self.codes[start:stop])

    def keys(self, start: int, stop: int) -> np.ndarray:
        codes = self.codes[start:stop].astype(np.int64)
        codes[codes < 0] = len(self.text) - 1
        return codes


class _Combined(_Piece):
    """Neighbouring coded columns: each combination of their codes that occurs is joined once."""

    def __init__(self, columns: list[_Coded]) -> None:
        self.columns = columns
        self.sizes = [len(column.text) for column in columns]
        combinations = math.prod(self.sizes)
        self.text = np.empty(combinations, dtype=object)
        self.known = np.zeros(combinations, dtype=bool)

    def fields(self, start, stop):
        key = self.columns[0].keys(start, stop)
        for column, size in zip(self.columns[1:], self.sizes[1:], strict=True):
            key *= size
            key += column.keys(start, stop)
        seen = np.bincount(key, minlength=len(self.known)).astype(bool)
        new = np.flatnonzero(seen & ~self.known)
        if new.size:
            parts, rest = [], new
            for column, size in zip(reversed(self.columns), reversed(self.sizes), strict=True):
                rest, code = np.divmod(rest, size)
                parts.append(column.text.take(code))
            self.text[new] = list(map("".join, zip(*reversed(parts), strict=True)))
            self.known[new] = True
        return self.text.take(key)


class _Integers(_Piece):
    """Integers (or booleans) too many to code: digits and "-" (or True/False), never quoted or missing."""

    def __init__(self, values: np.ndarray, ends: str) -> None:
        self.values, self.ends = values, ends

    def fields(self, start, stop):
        return _add(self.values[start:stop].astype(StringDType()), self.ends)


class _Floats(_Piece):
    """Floats as numpy's `astype(str)` writes them (what pandas writes), NaN as an empty field."""

    def __init__(self, values: np.ndarray, ends: str, empty: str) -> None:
        self.values, self.ends, self.empty = values, ends, empty

    def fields(self, start, stop):
        values = self.values[start:stop]
        text = _add(values.astype(str).astype(StringDType()), self.ends)
        text[np.isnan(values)] = self.empty + self.ends
        return text


class _Objects(_Piece):
    """Objects that are not all text, or a masked array's values: each distinct text quoted once a chunk."""

    def __init__(self, values: np.ndarray | pd.api.extensions.ExtensionArray, ends: str, empty: str) -> None:
        self.values, self.ends, self.empty = values, ends, empty

    def fields(self, start, stop):
        # As pandas hands them to the csv module: the values as objects, missing ones (pd.isna) empty.
        codes, uniques = _factorize_as_text(np.asarray(self.values[start:stop].astype(object)))
        return _field_text(uniques, self.ends, self.empty).take(codes)


def _pieces(table: pd.DataFrame) -> list[_Piece] | None:
    """How to write each column (neighbouring coded ones combined), or None to leave it to pandas."""
    if isinstance(table.columns, pd.MultiIndex) or len(table.columns) == 0:
        return None
    # A row of one empty field is written `""` so that it is not a blank line.
    empty = '""' if len(table.columns) == 1 else ""
    limit = min(MAX_COMBINATIONS, int(len(table) * COMBINATIONS_PER_ROW))
    pieces: list[_Piece] = []
    run: list[_Coded] = []  # neighbouring coded columns not yet placed
    combinations = 0  # of the codes in `run`
    for position in range(len(table.columns)):
        ends = _LINE_END if position == len(table.columns) - 1 else ","
        piece = _piece(table.iloc[:, position], ends, empty, limit)
        if piece is None:
            return None
        if isinstance(piece, _Coded):
            if run and combinations * len(piece.text) <= limit:
                run.append(piece)
                combinations *= len(piece.text)
                continue
            pieces += _placed(run)
            run, combinations = [piece], len(piece.text)
        else:
            pieces += _placed(run) + [piece]
            run, combinations = [], 0
    return pieces + _placed(run)


def _placed(run: list[_Coded]) -> list[_Piece]:
    return [_Combined(run)] if len(run) > 1 else list(run)


def _piece(column: pd.Series, ends: str, empty: str, limit: int) -> _Piece | None:
    """How to write one column; `limit` is the most distinct integers worth coding."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories.to_numpy()
        if categories.dtype.kind not in "iubfO":
            return None  # datetime categories: pandas writes them as dates
        # The category values as objects, as Categorical.astype(object) hands them to pandas' writer.
        text = _field_text(_as_text(categories.astype(object)), ends, empty)
        return _Coded(column.cat.codes.to_numpy(), text)
    if isinstance(column.array, _MASKED_ARRAYS):
        return _Objects(column.array, ends, empty)
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iubfOc":
        return None
    values = column.to_numpy()
    if dtype.kind in "iub":
        return _coded_integers(values, ends, empty, limit) or _Integers(values, ends)
    if dtype.kind == "f":
        return _Floats(values, ends, empty)
    if dtype.kind == "O" and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        # Text (or nothing): coded once for the whole table, like a category.
        codes, uniques = pd.factorize(values)  # -1 where pd.isna, as pandas writes empty
        return _Coded(_smallest(codes, len(uniques)), _field_text(uniques, ends, empty))
    return _Objects(values, ends, empty)


def _coded_integers(values: np.ndarray, ends: str, empty: str, limit: int) -> _Coded | None:
    """Integers (or booleans) within a short range, coded by their distance from the lowest."""
    if not len(values):
        return None
    low, high = int(values.min()), int(values.max())
    if high - low >= max(2, limit):
        return None
    if values.dtype.kind == "b":
        text = np.array(["False", "True"][low : high + 1], dtype=object)
    else:
        text = np.fromiter(map(str, range(low, high + 1)), dtype=object, count=high - low + 1)
    codes = values.astype(np.int64) - low if values.dtype.kind != "u" else (values - np.uint64(low))
    return _Coded(_smallest(codes, len(text)), _field_text(text, ends, empty))


# --- text of values ------------------------------------------------------------------------------


def _factorize_as_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct texts of an object array: str(value), missing (pd.isna) as -1."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        missing = pd.isna(values)
        values = np.fromiter(map(str, values), dtype=object, count=len(values))
        values[missing] = None
    return pd.factorize(values)


def _as_text(values: np.ndarray) -> np.ndarray:
    """str() of each value of an object array without missing values (text stays as it is)."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values
    return np.fromiter(map(str, values), dtype=object, count=len(values))


def _field_text(text: np.ndarray, ends: str, empty: str) -> np.ndarray:
    """The CSV field of each distinct text, then `ends`; one more at the end for missing values."""
    strings = np.append(text.astype(StringDType()), np.array([""], dtype=StringDType()))
    needs = np.zeros(len(strings), dtype=bool)
    for character in _QUOTED:
        needs |= np.strings.find(strings, character) >= 0
    if needs.any():
        quoted = np.strings.add(np.strings.add('"', np.strings.replace(strings, '"', '""')), '"')
        strings = np.where(needs, quoted, strings)
    if empty:
        strings = np.where(strings == "", empty, strings)
    return _add(strings, ends)


def _add(strings: np.ndarray, ends: str) -> np.ndarray:
    return np.strings.add(strings, ends).astype(object)


def _smallest(codes: np.ndarray, count: int) -> np.ndarray:
    """Codes in the smallest integer type that holds them (a table's worth stays small)."""
    for dtype in (np.int8, np.int16, np.int32):
        if count < np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes
