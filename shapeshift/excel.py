"""Excel workbooks that show what the tables say: text stays text, cells and sheet names fit Excel's limits.

Used by the CLI's ``--format xlsx`` and by ShiftBench's Excel export of a run:

- ``Cells(sheet)`` makes the cells of one sheet and counts the text cells it had to cut.
- ``sheet_names(names)`` gives each table a sheet name Excel accepts, unique ignoring case.
- ``shorten(text, limit)`` cuts text with a visible marker (previews use it too).

openpyxl is imported only when a cell is made: importing it costs every process some 170 ms.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable

MAX_CELL_TEXT = 32_767  # Excel shows no more in a cell; openpyxl would cut the rest silently
MAX_ROWS = 1_048_576  # per sheet, the header row included
# Control characters Excel refuses in a cell (openpyxl's ILLEGAL_CHARACTERS_RE, which raises on them).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# openpyxl binds a str starting with "=" as a formula and "#N/A"-like text as an error value, and Excel
# re-reads "=", "+", "-" and "@" as a formula when someone edits the cell: text starting with one of these
# gets an explicit string cell, marked with Excel's quote prefix.
_FORMULA_STARTS = ("=", "+", "-", "@", "#")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_SHEET_MAX = 31


def shorten(text: str, limit: int) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its start and a marker with its
    full length, ``limit`` characters in all:
    ``shorten("a" * 100, 40)`` → ``"aaaaaaaaaaa… [truncated: 100 characters]"``.
    """
    if len(text) <= limit:
        return text
    marker = f"… [truncated: {len(text):,} characters]"
    return text[: max(limit - len(marker), 0)] + marker


def whole_number(number: int) -> int | str:
    """An int Excel keeps exactly, else its digits as text: Excel keeps numbers as doubles, so a longer id
    would lose its last digits."""
    return number if abs(number) <= 2**53 else str(number)


def real_number(number: float) -> float | str:
    """A finite float, else ``inf``/``nan`` as text: they are no Excel numbers."""
    return number if math.isfinite(number) else str(number)


class Cells:
    """Makes the cells of one write-only sheet: text is always a string cell, never a formula, and at most
    MAX_CELL_TEXT characters; ``truncated`` counts the text cells that were cut.
    """

    def __init__(self, sheet):
        self.sheet = sheet
        self.truncated = 0

    def text(self, text: str, bold: bool = False):
        """A string cell holding ``text`` (cut with a marker when too long, control characters dropped)."""
        if len(text) > MAX_CELL_TEXT:
            text = shorten(text, MAX_CELL_TEXT)
            self.truncated += 1
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
        formula_like = text.startswith(_FORMULA_STARTS)
        if not (bold or formula_like):
            return text  # a plain str: openpyxl binds it as a string cell and reuses one cell object
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        cell = WriteOnlyCell(self.sheet, value=text)
        cell.data_type = "s"  # after the value: binding it made "=…" a formula and "#N/A" an error
        if formula_like:
            cell.quotePrefix = True
        if bold:
            cell.font = Font(bold=True)
        return cell

    def value(self, value):
        """A cell for a table value: None for missing, numbers and booleans as such, text as text.

        Dates without a time zone are dates; everything else (time zones, lists, bytes) is its text.
        """
        if value is None:
            return None
        if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar
            value = value.item()
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return whole_number(value)
        if isinstance(value, float):
            return None if math.isnan(value) else real_number(value)
        if isinstance(value, str):
            return self.text(value) if value else None
        if isinstance(value, (datetime.datetime, datetime.time)) and value.tzinfo is None:
            return None if value != value else value  # NaT is no date
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        if _missing(value):
            return None
        return self.text(value.isoformat() if hasattr(value, "isoformat") else str(value))


def _missing(value) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not one missing value
        return False


def sheet_names(names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """A sheet name for each table: at most 31 characters, none of ``[]:*?/\\``, no quote at either end,
    not "History", unique ignoring case (as Excel compares them).

    Clashes after cutting get ``~2``, ``~3``… (``taken``: names already used, like a summary sheet):
    ``sheet_names(["a/b", "summary"], taken=["Summary"])`` → ``{"a/b": "a_b", "summary": "summary~2"}``.
    """
    used = {name.lower() for name in taken}
    result = {}
    for name in names:
        base = _SHEET_FORBIDDEN.sub("_", name).strip("'") or "entity"
        if base.lower() == "history":  # Excel reserves it
            base = "history_"
        candidate, number = base[:_SHEET_MAX].rstrip("'"), 1
        while candidate.lower() in used:
            number += 1
            suffix = f"~{number}"
            candidate = base[: _SHEET_MAX - len(suffix)] + suffix
        used.add(candidate.lower())
        result[name] = candidate
    return result
