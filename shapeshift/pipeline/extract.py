"""Subsetting (spec 2.6): column selection, extra columns, per-table de-duplication, replacements.

Plus the small table operations the pipeline applies around it: filters (2.11) and the
whole-row / by-columns de-duplication shared with `append_mode: distinct`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from ..config.model import as_name_list
from ..errors import EntityError
from ..hints import did_you_mean, name_list
from ..issues import IssueCode
from .frames import unchecked
from .report import EntityReport


def requested_columns(config: dict, fk_local_keys: list, unnest_names: list) -> list:
    """keys, then columns not among them, then FK local keys not yet listed nor unnest outputs."""
    requested = as_name_list(config.get("keys")) + as_name_list(config.get("columns"))
    requested += [k for k in fk_local_keys if k not in unnest_names]
    return list(dict.fromkeys(requested))  # first occurrence wins, in one pass (a table may be wide)


def wanted_source_columns(config: dict, fk_local_keys: list, unnest_names: list) -> set:
    """Every source column `subset` could keep: requested columns plus copy sources of extra columns."""
    wanted = set(requested_columns(config, fk_local_keys, unnest_names))
    extra = config.get("extra_columns")
    if isinstance(extra, dict):
        wanted.update(value for value in extra.values() if isinstance(value, str))
    return wanted


def drop_duplicates(table: pd.DataFrame, setting, report: EntityReport | None = None) -> pd.DataFrame:
    """list -> first row per listed columns (no-op if one is missing); other truthy -> whole rows."""
    if not setting:
        return table
    if isinstance(setting, list):
        missing = [c for c in setting if c not in table.columns]
        if missing:
            if report:
                report.info(
                    IssueCode.DROP_DUPLICATES_COLUMNS_MISSING,
                    f"drop_duplicates columns not found, nothing dropped: {missing}",
                )
            return table
        subset = list(dict.fromkeys(setting))
        deduped = table.drop_duplicates(subset=subset)
    else:
        deduped = table.drop_duplicates()
    if len(deduped) == len(table):
        return table
    return deduped.reset_index(drop=True)


def _pad_replace(series: pd.Series, values) -> pd.Series:
    """pandas' deprecated `replace(list)` pad: a matching cell takes the previous row's value."""
    values = values if isinstance(values, list) else [values]
    matches = series.isin(values).to_numpy()
    if not matches.any():
        return series
    positions = np.where(~matches, np.arange(len(series)), -1)
    last = np.maximum.accumulate(positions)
    source = np.where(matches & (last >= 0), last, np.arange(len(series)))
    dtype = object if isinstance(series.dtype, pd.CategoricalDtype) else series.dtype
    return pd.Series(series.to_numpy()[source], index=series.index, name=series.name, dtype=dtype)


def apply_replacements(
    table: pd.DataFrame, replacements, checkpoint: Callable[[Iterable], Iterable] = unchecked
) -> pd.DataFrame:
    """Per-column exact replacement (mapping) or pad (list/scalar); absent columns are ignored."""
    if not isinstance(replacements, dict):
        return table
    for column, mapping in checkpoint(replacements.items()):
        if column not in table.columns or mapping is None:
            continue
        if isinstance(mapping, dict):
            if not mapping:
                continue
            values = table[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object)  # replace() on categoricals edits categories, not cells
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                table[column] = values.replace(mapping)
        else:
            table[column] = _pad_replace(table[column], mapping)
    return table


def subset(
    source: pd.DataFrame,
    config: dict,
    *,
    fk_local_keys: list,
    unnest_names: list,
    delayed: bool,
    report: EntityReport,
    checkpoint: Callable[[Iterable], Iterable] = unchecked,
) -> pd.DataFrame:
    """Select columns, add extra columns, de-duplicate (unless delayed), apply replacements."""
    requested = requested_columns(config, fk_local_keys, unnest_names)
    extra = config.get("extra_columns") if isinstance(config.get("extra_columns"), dict) else {}
    present = set(source.columns)
    copies = {new: old for new, old in extra.items() if isinstance(old, str) and old in present}
    constants = {new: value for new, value in extra.items() if new not in copies}
    missing = [c for c in requested if c not in present]
    if missing:
        report.warn(
            IssueCode.COLUMNS_MISSING,
            f"Columns not found in source, will be skipped: {name_list(missing)}",
            did_you_mean(missing, source.columns) or "check the spelling against the source's columns",
        )
    keep = set(requested) | set(copies.values())
    table = (
        source[[c for c in source.columns if c in keep]].copy() if keep else pd.DataFrame(index=source.index)
    )
    for new, old in checkpoint(copies.items()):
        table[new] = source[old].to_numpy() if new in table.columns else source[old]
    for new, value in constants.items():
        table[new] = value if not isinstance(value, (list, dict)) else [value] * len(table)
    if config.get("drop_duplicates") and not delayed:
        table = drop_duplicates(table, config.get("drop_duplicates"), report)
    first = [c for c in requested if c in table.columns]
    listed = set(first)
    ordered = first + [c for c in table.columns if c not in listed]
    if ordered != list(table.columns):
        table = table[ordered]
    return apply_replacements(table, config.get("replacements"), checkpoint)


def apply_filters(table: pd.DataFrame, filters: list, store: dict, report: EntityReport) -> pd.DataFrame:
    """Apply `exists_in` filters in order against processed tables (spec 2.11)."""
    for number, spec in enumerate(filters, start=1):
        if not isinstance(spec, dict) or not spec.get("type"):
            report.warn(IssueCode.FILTER_INVALID, f"filter #{number} has no type and is skipped")
            continue
        kind = spec["type"]
        if kind != "exists_in":
            raise EntityError(f"Unknown filter type '{kind}' (filter #{number})")
        column, other = spec.get("column"), spec.get("other_entity")
        if not column or not other:
            raise EntityError(f"filter #{number} (exists_in) needs `column` and `other_entity`")
        if other not in store:
            raise EntityError(f"filter #{number} references unknown entity '{other}' (add it to depends_on)")
        other_column = spec.get("other_column") or column
        other_table = store[other]
        if column not in table.columns:
            raise EntityError(f"filter #{number}: column '{column}' not found")
        if other_column not in other_table.columns:
            raise EntityError(f"filter #{number}: column '{other_column}' not found in '{other}'")
        allowed = pd.unique(other_table[other_column])
        table = table[table[column].isin(allowed)].reset_index(drop=True)
        if spec.get("drop_duplicates"):
            table = drop_duplicates(table, as_name_list(spec.get("drop_duplicates")), report)
    return table
