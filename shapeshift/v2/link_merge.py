"""The merge of one format-2 foreign key: remote selection, key dtype coercion, plain and null-safe merges.

format-v2.md 12.2 steps 2-3, 12.3 and 12.6. Nothing here checks constraints or reports; `link.py` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pandas.api import types

from ..config.model import EntitySpec, ForeignKeySpec
from .link_constraints import SYSTEM_ID, NullKeys


@dataclass
class RemoteSelection:
    """The right-hand side of the merge and the names of its key columns after renaming."""

    table: pd.DataFrame
    keys: list
    missing: list  # remote key / extra columns the remote table does not have


def select_remote(fk: ForeignKeySpec, remote: EntitySpec, remote_table: pd.DataFrame) -> RemoteSelection:
    """`system_id` + remote keys + remote extra columns, renamed (12.2 step 2).

    Columns that are targets of a renaming (the remote public_id, the local names of extra columns) are
    not selected themselves, so that e.g. a remote listing its own public_id column does not produce two
    columns of that name after `system_id` is renamed.
    """
    by_remote = {remote_name: local for local, remote_name in fk.extra_columns.items()}
    renames = {SYSTEM_ID: remote.public_id} | by_remote
    targets = {target for source, target in renames.items() if source != target}
    wanted = list(dict.fromkeys([*fk.remote_keys, *by_remote]))
    missing = [name for name in wanted if name not in remote_table.columns]
    selected = [name for name in wanted if name in remote_table.columns and name not in targets]
    table = remote_table[list(dict.fromkeys([SYSTEM_ID, *selected]))].rename(columns=renames)
    # a remote key that is renamed as an extra column is joined under its new name
    return RemoteSelection(table, [renames.get(key, key) for key in fk.remote_keys], missing)


def coerce_keys(left: pd.DataFrame, right: pd.DataFrame, left_keys: list, right_keys: list):
    """dev's key dtype coercion (12.6): a text key joined to a numeric key becomes numbers if all are numbers.

    Also (not in the reference, which aborts the merge there): an all-null numeric key joined to a text key
    becomes object, so the merge runs and the nulls behave as nulls.
    """
    for left_key, right_key in zip(left_keys, right_keys, strict=True):
        left_column, right_column = _coerced_pair(left[left_key], right[right_key])
        if left_column is not left[left_key]:
            left = left.assign(**{left_key: left_column})
        if right_column is not right[right_key]:
            right = right.assign(**{right_key: right_column})
    return left, right


def _coerced_pair(first: pd.Series, second: pd.Series) -> tuple[pd.Series, pd.Series]:
    first_numeric, second_numeric = _is_numeric(first), _is_numeric(second)
    if first_numeric == second_numeric:
        return first, second
    if first_numeric:
        second, first = _against_numbers(second, first)
        return first, second
    return _against_numbers(first, second)


def _against_numbers(text: pd.Series, numbers: pd.Series) -> tuple[pd.Series, pd.Series]:
    if not _is_text(text):
        return text, numbers
    if isinstance(text.dtype, pd.CategoricalDtype):
        text = text.astype(object)  # text read as category (sources.files.compact_text_dtype)
    converted = pd.to_numeric(text, errors="coerce")
    if not (converted.isna() & text.notna()).any():
        return converted, numbers
    if numbers.isna().all():
        return text, numbers.astype(object)
    return text, numbers


def _is_numeric(column: pd.Series) -> bool:
    return types.is_numeric_dtype(column.dtype) and not types.is_bool_dtype(column.dtype)


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    return types.is_object_dtype(dtype) or types.is_string_dtype(dtype)


def has_null_keys(left: pd.DataFrame, left_keys: list, right: pd.DataFrame, right_keys: list) -> bool:
    return bool(left[left_keys].isna().any().any() or right[right_keys].isna().any().any())


def merge(
    left: pd.DataFrame,
    right: pd.DataFrame,
    fk: ForeignKeySpec,
    left_keys: list,
    right_keys: list,
    mode: NullKeys,
    indicator: str | None,
) -> pd.DataFrame:
    """pandas merge with suffixes ("", "_<remote>"); null-safe only when a key value is null (12.3)."""
    options = {"suffixes": ("", f"_{fk.entity}"), "indicator": indicator or False}
    if fk.how == "cross":
        return left.merge(right, how="cross", **options)
    if mode is NullKeys.NULL_SAFE and has_null_keys(left, left_keys, right, right_keys):
        return _null_safe_merge(left, right, fk.how, left_keys, right_keys, options)
    return left.merge(right, how=fk.how, left_on=left_keys, right_on=right_keys, **options)


def _null_safe_merge(left, right, how, left_keys, right_keys, options) -> pd.DataFrame:
    """Join on copies of the keys plus a guard column that differs between the sides for rows with a null.

    Observable like the reference's sentinel merge: the key columns themselves are not join keys, so a
    same-named remote key comes back as `<key>_<remote>` (case 19); but no sentinel value or temporary
    name can collide with real data (format-v2.md 20 #28).
    """
    taken = set(left.columns) | set(right.columns)
    names = [_free_name(f"__link_key_{i}__", taken) for i in range(len(left_keys))]
    guard = _free_name("__link_null_guard__", taken)
    left = _with_join_columns(left, left_keys, names, guard, null_mark=-1)
    right = _with_join_columns(right, right_keys, names, guard, null_mark=-2)
    merged = left.merge(right, how=how, on=[*names, guard], **options)
    return merged.drop(columns=[*names, guard])


def _with_join_columns(frame, keys, names, guard, null_mark: int) -> pd.DataFrame:
    copies = {name: frame[key] for name, key in zip(names, keys, strict=True)}
    has_null = frame[keys].isna().any(axis=1)
    return frame.assign(**copies, **{guard: has_null.map({True: null_mark, False: 0}).astype("int64")})


def _free_name(name: str, taken: set) -> str:
    while name in taken:
        name = f"_{name}"
    taken.add(name)
    return name
