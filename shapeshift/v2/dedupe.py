"""Format-2 `drop_duplicates` with the functional-dependency check (format-v2.md 9)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import EntityError
from ..hints import name_list
from ..issues import IssueCode

FD_SHOWN = 5  # violating keys listed in a message (9.2)


class FunctionalDependencyError(EntityError):
    """A list de-duplication whose listed columns do not determine the other columns (strict, 9.2)."""


@dataclass(frozen=True)
class DedupeSetting:
    """What `drop_duplicates` asks for: `columns` None = whole rows; [] (or disabled) = nothing."""

    enabled: bool
    columns: list[str] | None = None
    check_fd: bool = True
    strict: bool = True

    def __bool__(self) -> bool:
        return self.enabled


NO_DEDUPE = DedupeSetting(False, [])


def dedupe_setting(entity_raw: dict, project_raw: dict | None = None) -> DedupeSetting:
    """The entity's (or sub-table's) de-duplication (9.1).

    A plain string names one column (format-v2.md 20 #12: the reference splits it into characters and
    then finds none of them). The FD switches at the entity level win over those of the mapping form;
    both default to true. `project_raw` is accepted for the contract; no project-level key exists.
    """
    value = entity_raw.get("drop_duplicates") if isinstance(entity_raw, dict) else None
    form = value if isinstance(value, dict) else {}
    columns = form.get("columns") if isinstance(value, dict) else value
    check_fd = _switch(entity_raw, form, "check_functional_dependency")
    strict = _switch(entity_raw, form, "strict_functional_dependency")
    if columns is True:
        return DedupeSetting(True, None, check_fd, strict)
    if isinstance(columns, str) and columns:
        return DedupeSetting(True, [columns], check_fd, strict)
    if isinstance(columns, (list, tuple)) and columns:
        names = list(dict.fromkeys(c for c in columns if isinstance(c, str)))
        return DedupeSetting(bool(names), names, check_fd, strict)
    return NO_DEDUPE


def _switch(entity_raw: dict, form: dict, key: str) -> bool:
    for holder in (entity_raw, form):
        value = holder.get(key) if isinstance(holder, dict) else None
        if value is not None:
            return bool(value)
    return True


def is_delayed(entity_raw: dict, unnest_names: list) -> bool:
    """De-duplication waits for the melt when its column list names the unnest var/value name (6.3 step 6)."""
    setting = dedupe_setting(entity_raw)
    return bool(setting and setting.columns and unnest_names and set(setting.columns) & set(unnest_names))


def drop_duplicates(table: pd.DataFrame, setting: DedupeSetting, *, entity: str, report) -> pd.DataFrame:
    """Keep the first of duplicate rows (whole rows, or per listed columns after the FD check, 9)."""
    if not setting:
        return table
    if setting.columns is None:
        deduped = table.drop_duplicates()
    else:
        missing = [c for c in setting.columns if c not in table.columns]
        if missing:
            report.warn(
                IssueCode.DROP_DUPLICATES_COLUMNS_MISSING,
                f"drop_duplicates columns not found, nothing dropped: {name_list(missing)}",
            )
            return table
        if setting.check_fd:
            check_functional_dependency(
                table, setting.columns, strict=setting.strict, entity=entity, report=report
            )
        deduped = table.drop_duplicates(subset=setting.columns)
    return deduped.reset_index(drop=True)  # the index is renumbered after a de-duplication (9.1)


def check_functional_dependency(
    table: pd.DataFrame, columns: list, *, strict: bool, entity: str, report
) -> None:
    """Every other column must have one value per combination of `columns` (9.2).

    Null determinant values form a group of their own; a null and a value are different dependent
    values. Strict: FunctionalDependencyError; else the same message is reported and processing goes on.
    """
    dependent = [c for c in table.columns if c not in columns]
    if not dependent or len(table) < 2:
        return
    distinct = table[list(columns) + dependent].drop_duplicates()
    if len(distinct) == distinct[list(columns)].drop_duplicates().shape[0]:
        return
    sizes = distinct.groupby(list(columns), sort=False, dropna=False, observed=True).size()
    bad = [_plain(key) for key in sizes[sizes > 1].index.tolist()]
    more = f" (showing first {FD_SHOWN} of {len(bad)})" if len(bad) > FD_SHOWN else ""
    message = f"drop_duplicates {list(columns)}: the other columns vary within keyset: {bad[:FD_SHOWN]}{more}"
    if strict:
        raise FunctionalDependencyError(
            f"entity '{entity}': {message} (set strict_functional_dependency: false to keep the first row)"
        )
    report.warn(IssueCode.DROP_DUPLICATES_FD_VIOLATION, message)


def _plain(key):
    """A group key with numpy scalars as Python values (so a message reads ['S1'] or [(1, 'a')])."""
    if isinstance(key, tuple):
        return tuple(_plain(part) for part in key)
    return key.item() if hasattr(key, "item") else key
