"""Table reshaping after linking: unnest (2.14), delayed de-duplication with the
functional-dependency check (2.15), drop_empty_rows (2.16) and surrogate ids (2.17)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from ..config.model import UnnestSpec, as_name_list
from ..errors import EntityError
from ..issues import IssueCode
from .frames import replace_columns, unchecked
from .report import EntityReport


def unnest(table: pd.DataFrame, spec: UnnestSpec, report: EntityReport) -> tuple[pd.DataFrame, bool]:
    """Melt wide to long; returns (table, melted). Failures are reported, not raised (as the reference)."""
    if spec.value_name in table.columns:
        return table, True
    if spec.id_vars:
        missing = [c for c in spec.id_vars if c not in table.columns]
        if missing:
            report.warn(
                IssueCode.UNNEST_FAILED,
                f"unnest failed: id_vars {missing} not in the table; the table stays wide and its "
                "foreign keys are not linked",
                "extract the id_vars (list them in keys/columns)",
            )
            return table, False
    if spec.value_vars:
        missing = [c for c in spec.value_vars if c not in table.columns]
        if missing:
            report.warn(
                IssueCode.UNNEST_FAILED,
                f"unnest skipped: value_vars {missing} not in the table; the table stays wide",
            )
            return table, False
    melted = table.melt(
        id_vars=spec.id_vars or None,
        value_vars=spec.value_vars or None,
        var_name=spec.var_name,
        value_name=spec.value_name,
    )
    return melted, True


def is_delayed(drop_duplicates_setting, spec: UnnestSpec | None) -> bool:
    """De-duplication waits for the melt when its column list names an unnest output column."""
    return bool(
        isinstance(drop_duplicates_setting, list)
        and spec is not None
        and (spec.var_name in drop_duplicates_setting or spec.value_name in drop_duplicates_setting)
    )


def dedupe_with_fd_check(table: pd.DataFrame, columns: list, report: EntityReport) -> pd.DataFrame:
    """Keep the first row per `columns` after checking the other columns are determined by them."""
    columns = list(dict.fromkeys(columns))
    listed = set(columns)
    if any(c not in table.columns for c in columns):
        report.info(
            IssueCode.DROP_DUPLICATES_COLUMNS_MISSING,
            f"drop_duplicates columns not found, nothing dropped: "
            f"{[c for c in columns if c not in table.columns]}",
        )
        return table
    others = [c for c in table.columns if c not in listed]
    if others and len(table):
        counts = table.groupby(columns, dropna=True, sort=False, observed=True)[others].nunique(dropna=False)
        bad = counts[(counts > 1).any(axis=1)]
        if len(bad):
            keys = list(bad.index[:10])
            raise EntityError(f"[fd_check]: inconsistent non-subset values for keys: {keys}")
    deduped = table.drop_duplicates(subset=columns)
    return deduped.reset_index(drop=True) if len(deduped) != len(table) else table


def _with_na(series: pd.Series, mask: np.ndarray) -> pd.Series:
    """`series` as object with NA where `mask` is set (numpy, not Series.mask: once per column)."""
    values = series.to_numpy(dtype=object, copy=True)
    values[mask] = pd.NA
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


def _blank_to_na(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories
        if "" not in categories:
            return series  # the common case, answered without a pass over the rows (tables can be wide)
        mask = series.cat.codes.to_numpy() == categories.get_loc("")
    elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        mask = series.eq("").fillna(False).to_numpy(dtype=bool)
    else:
        return series
    return _with_na(series, mask) if mask.any() else series


def drop_empty_rows(
    table: pd.DataFrame,
    setting,
    report: EntityReport,
    checkpoint: Callable[[Iterable], Iterable] = unchecked,
) -> pd.DataFrame:
    """true: all columns; list: those columns; mapping: column -> values counted as empty."""
    if not setting:
        return table
    if isinstance(setting, dict):
        columns = list(setting)
    elif isinstance(setting, list):
        columns = as_name_list(setting)
    else:
        columns = list(table.columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        report.warn(
            IssueCode.DROP_EMPTY_COLUMNS_MISSING,
            f"drop_empty_rows columns not found, nothing dropped: {missing}",
        )
        return table
    positions = {name: i for i, name in enumerate(table.columns)}  # the last of duplicate names
    blanked = {}
    if isinstance(setting, dict):
        for column, empties in checkpoint(setting.items()):
            empties = empties if isinstance(empties, list) else [empties]
            mask = table[column].isin(empties).to_numpy()
            if mask.any():
                blanked[positions[column]] = _with_na(table[column], mask)
    else:
        for column in checkpoint(columns):
            values = table[column]
            if (replaced := _blank_to_na(values)) is not values:
                blanked[positions[column]] = replaced
    return drop_rows_all_null(replace_columns(table, blanked), columns)


def drop_rows_all_null(table: pd.DataFrame, columns: list) -> pd.DataFrame:
    """`table` without the rows whose `columns` are all null, renumbered if any goes; no columns: all kept."""
    if not columns:
        return table
    keep = table[columns].notna().any(axis=1)
    if keep.all():
        return table
    return table[keep.to_numpy()].reset_index(drop=True)


def add_surrogate_id(table: pd.DataFrame, name: str | None) -> pd.DataFrame:
    """Append `name` = 1..n (int64) in final row order unless the column exists."""
    if not name or name in table.columns:
        return table
    table = table.reset_index(drop=True)
    table[name] = np.arange(1, len(table) + 1, dtype=np.int64)
    return table
