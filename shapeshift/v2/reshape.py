"""Format-2 reshaping of a linked table: unnest (format-v2.md 13), the duplicate-key report
(6.3 step 13) and `drop_empty_rows` (14)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from ..config.model import UnnestSpec, as_name_list
from ..errors import EntityError
from ..issues import IssueCode
from ..pipeline.frames import replace_columns, unchecked
from ..pipeline.reshape import _blank_to_na, _with_na, drop_rows_all_null
from .extra_columns import Kind, kind_of


def check_unnest_settings(name: str, spec: UnnestSpec | None) -> None:
    """var_name and value_name are required as soon as the entity is processed (13)."""
    if spec is not None and (not spec.var_name or not spec.value_name):
        raise EntityError(
            f"Invalid unnest configuration (missing var_name or value_name) for entity '{name}': "
            f"var_name={spec.var_name!r}, value_name={spec.value_name!r}"
        )


def copied_columns(table: pd.DataFrame, extra_columns: dict) -> list[str]:
    """Extra columns of `table` that are copies of another column (format-v2.md 8.1 rule 6).

    A plain text naming a column, ignoring case, that is not the name of another item.
    """
    keys = {str(k).lower() for k in extra_columns}
    present = {str(c).lower() for c in table.columns}
    copies = []
    for name, value in extra_columns.items():
        if name not in table.columns or kind_of(value) is not Kind.TEXT:
            continue
        text = value.lower()
        if text in present and (text == str(name).lower() or text not in keys):
            copies.append(name)
    return copies


def unnest(table: pd.DataFrame, spec: UnnestSpec, *, entity: str, extra_columns: dict) -> pd.DataFrame:
    """Melt wide to long (format-v2.md 13); nothing to do when `value_name` already exists.

    Missing `id_vars` or `value_vars` columns fail the entity: the reference logs the error and goes on
    with the wide table, whose foreign keys then never link (format-v2.md 20 #24). Copies of other
    columns made by `extra_columns` are kept as id columns, so a copy keeps its values instead of
    turning into the constant text of its source's name once the melt drops that source (20 #25).
    """
    if spec.value_name in table.columns:
        return table
    id_vars = list(spec.id_vars or [])
    missing = [c for c in id_vars if c not in table.columns]
    if missing:
        raise EntityError(f"entity '{entity}': Cannot unnest entity, missing `id_vars` columns: {missing}")
    value_vars = list(spec.value_vars or [])
    missing = [c for c in value_vars if c not in table.columns]
    if missing:
        raise EntityError(
            f"entity '{entity}': Cannot unnest entity, missing `value_vars` columns: {missing}. "
            f"Available columns: {list(table.columns)}"
        )
    melting = set(value_vars)
    id_vars += [c for c in copied_columns(table, extra_columns) if c not in id_vars and c not in melting]
    return table.melt(
        id_vars=id_vars or None,
        value_vars=value_vars or None,
        var_name=spec.var_name,
        value_name=spec.value_name,
    )


def report_duplicate_keys(table: pd.DataFrame, keys: list, report) -> None:
    """Step 13 of 6.3: rows repeating a key combination are reported, never dropped."""
    if not keys or any(k not in table.columns for k in keys):
        return
    repeated = int(table.duplicated(subset=list(keys)).sum())
    if repeated:
        report.warn(
            IssueCode.DUPLICATE_KEYS,
            f"{repeated} {'rows repeat' if repeated != 1 else 'row repeats'} a combination of the keys "
            f"{list(keys)}",
            "list more columns in `keys`, or de-duplicate with `drop_duplicates`",
        )


def _checked_columns(table: pd.DataFrame, setting) -> list:
    if isinstance(setting, dict):
        return list(setting)
    if isinstance(setting, list):
        return as_name_list(setting)
    return list(table.columns)


def drop_empty_rows(
    table: pd.DataFrame,
    setting,
    *,
    report,
    checkpoint: Callable[[Iterable], Iterable] = unchecked,
) -> pd.DataFrame:
    """format-v2.md 14: drop rows whose checked columns are all empty.

    true: every column; list: those; mapping: its keys, where the listed values count as empty too.
    Empty strings count as empty in every form (format 1: not in the mapping form) and stay null in
    the output. A checked column that does not exist: warning, nothing dropped.
    """
    if not setting:
        return table
    columns = _checked_columns(table, setting)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        report.warn(IssueCode.DROP_EMPTY_COLUMNS_MISSING, f"drop_empty_rows: columns missing: {missing}")
        return table
    positions = {name: i for i, name in enumerate(table.columns)}
    blanked = {}
    for column in checkpoint(columns):
        original = table[column]
        values = _blank_to_na(original)
        if isinstance(setting, dict):
            empties = setting[column] if isinstance(setting[column], list) else [setting[column]]
            mask = values.isin(empties).to_numpy() & values.notna().to_numpy()
            if mask.any():
                values = _with_na(values, mask)
        if values is not original:
            blanked[positions[column]] = values
    return drop_rows_all_null(replace_columns(table, blanked), columns)
