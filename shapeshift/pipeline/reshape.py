"""Table reshaping after linking: unnest (2.14), delayed de-duplication with the
functional-dependency check (2.15), drop_empty_rows (2.16) and surrogate ids (2.17)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config.model import UnnestSpec, as_name_list
from ..errors import EntityError
from ..issues import IssueCode
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
    if any(c not in table.columns for c in columns):
        report.info(
            IssueCode.COLUMNS_MISSING,
            f"drop_duplicates columns not found, nothing dropped: "
            f"{[c for c in columns if c not in table.columns]}",
        )
        return table
    others = [c for c in table.columns if c not in columns]
    if others and len(table):
        counts = table.groupby(columns, dropna=True, sort=False, observed=True)[others].nunique(dropna=False)
        bad = counts[(counts > 1).any(axis=1)]
        if len(bad):
            keys = list(bad.index[:10])
            raise EntityError(f"[fd_check]: inconsistent non-subset values for keys: {keys}")
    deduped = table.drop_duplicates(subset=columns)
    return deduped.reset_index(drop=True) if len(deduped) != len(table) else table


def _blank_to_na(series: pd.Series) -> pd.Series:
    if (
        series.dtype == object
        or isinstance(series.dtype, pd.StringDtype)
        or isinstance(series.dtype, pd.CategoricalDtype)
    ):
        mask = series.eq("").fillna(False).to_numpy(dtype=bool)
        if mask.any():
            series = series.astype(object).mask(mask, pd.NA)
    return series


def drop_empty_rows(table: pd.DataFrame, setting, report: EntityReport) -> pd.DataFrame:
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
    if isinstance(setting, dict):
        for column, empties in setting.items():
            empties = empties if isinstance(empties, list) else [empties]
            mask = table[column].isin(empties).to_numpy()
            if mask.any():
                table[column] = table[column].astype(object).mask(mask, pd.NA)
    else:
        for column in columns:
            table[column] = _blank_to_na(table[column])
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
