"""Concatenation of an entity's sub-tables (format-v2.md 6.5)."""

from __future__ import annotations

import pandas as pd

from ..issues import IssueCode


def is_empty_part(part: pd.DataFrame) -> bool:
    """Empty in the pandas sense: no rows or no columns (such a part is left out of the union)."""
    return part.empty


def fresh_index(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with the index 0..n-1, without a copy of the data when it already has it."""
    index = table.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return table
    return table.reset_index(drop=True)


def _without_null_columns(part: pd.DataFrame) -> pd.DataFrame:
    filled = part.notna().any().to_numpy()
    return part if filled.all() else part.loc[:, filled]


def concatenate(parts: list[pd.DataFrame], requested: list, *, report) -> pd.DataFrame:
    """The union of the non-empty parts, in order, with a fresh 0..n-1 index.

    Columns that are entirely null in a part are dropped from that part before the union and the
    result is re-indexed to every column seen, so a column null everywhere ends up float64 NaN, as
    in the reference. When every part is empty the first one is the result (a part with rows but no
    columns keeps its rows this way, [C29] `taxa_no_check`); with no part at all, an empty table of
    the requested columns.
    """
    kept = [part for part in parts if not is_empty_part(part)]
    if not kept:
        if not parts:
            return pd.DataFrame({name: pd.Series([], dtype=object) for name in requested})
        report.warn(IssueCode.SUB_TABLES_EMPTY, "All sub-tables are empty after processing.")
        return fresh_index(parts[0])
    columns = list(dict.fromkeys(name for part in kept for name in part.columns))
    trimmed = [_without_null_columns(part) for part in kept]
    table = pd.concat(trimmed, ignore_index=True) if len(trimmed) > 1 else fresh_index(trimmed[0])
    return table if list(table.columns) == columns else table.reindex(columns=columns)
