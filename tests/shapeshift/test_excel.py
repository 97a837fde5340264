"""shapeshift.excel: cells that keep text as text and fit Excel, sheet names Excel accepts."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook

from shapeshift.excel import MAX_CELL_TEXT, Cells, shorten


def test_shorten_keeps_short_text_and_cuts_long_text_within_the_limit():
    assert shorten("abc", 3) == "abc"
    cut = shorten("a" * 100, 40)
    assert cut == "aaaaaaaaaaa… [truncated: 100 characters]" and len(cut) <= 40
    assert shorten(cut, 40) == cut  # cutting twice changes nothing


def test_cells_write_every_text_as_a_string_and_values_as_themselves(tmp_path):
    workbook = Workbook(write_only=True)
    cells = Cells(workbook.create_sheet("t"))
    values = [
        "=1+1", "#N/A", "+cmd", "plain", "x" * (MAX_CELL_TEXT + 1), np.int64(7), 2**60, float("inf"),
        float("nan"), pd.NaT, True, datetime.date(2024, 1, 2), pd.Timestamp("2024-01-02 03:04", tz="UTC"),
    ]  # fmt: skip
    cells.sheet.append([cells.value(value) for value in values])
    workbook.save(tmp_path / "t.xlsx")

    row = next(load_workbook(tmp_path / "t.xlsx")["t"].iter_rows())
    assert [cell.data_type for cell in row[:5]] == ["s"] * 5
    assert row[0].quotePrefix and not row[3].quotePrefix
    assert [cell.value for cell in row[:4]] == ["=1+1", "#N/A", "+cmd", "plain"]
    assert row[4].value.endswith(f"… [truncated: {MAX_CELL_TEXT + 1:,} characters]")
    assert cells.truncated == 1
    assert [cell.value for cell in row[5:11]] == [7, str(2**60), "inf", None, None, True]
    assert row[11].value == datetime.datetime(2024, 1, 2)
    assert row[12].value == "2024-01-02T03:04:00+00:00"  # Excel has no time zones: the text says it
