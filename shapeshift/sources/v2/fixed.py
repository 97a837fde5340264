"""`type: fixed` in format 2: load-time requirement checks, then the table (format-v2.md 7.2)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ...errors import EntityError

SYSTEM_ID = "system_id"


def _is_name_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _present(config: dict, key: str) -> bool:
    """A key with a null value counts as absent (7.2)."""
    return config.get(key) is not None


def _identity_columns(config: dict, columns: list[str]) -> list[str]:
    """The identity names a prefixed row carries in front of its data: system_id, then public_id if set."""
    public_id = config.get("public_id")
    names = [SYSTEM_ID] if SYSTEM_ID not in columns else []
    if isinstance(public_id, str) and public_id and public_id not in columns:
        names.append(public_id)
    return names


def _row_problems(config: dict, columns: list[str], values: list) -> list[str]:
    """Why the rows of `values` do not fit `columns`; dict rows must cover every column."""
    if not values:
        return []
    if isinstance(values[0], Mapping):
        if not all(isinstance(row, Mapping) for row in values):
            return ["values mixes mapping rows (from @load) with other rows"]
        keys = {key for row in values for key in row}
        missing = [column for column in columns if column not in keys]
        return [f"columns {missing} are in no row of the loaded values"] if missing else []
    rows = _as_rows(values)
    if rows is None:
        return ["values mixes list rows and single values; give every row as a list"]
    lengths = sorted({len(row) for row in rows})
    if len(lengths) > 1:
        return [f"rows have different numbers of values ({', '.join(map(str, lengths))})"]
    with_identity = len(columns) + len(_identity_columns(config, columns))
    if lengths[0] not in (len(columns), with_identity):
        identity = ", ".join(_identity_columns(config, columns))
        got = (
            "values are single values, 1 per row," if rows is not values else f"rows have {lengths[0]} values"
        )
        return [
            f"{got} but columns {columns} need {len(columns)} per row "
            f"(or {with_identity} with the identity values {identity} in front)"
        ]
    return []


def _as_rows(values: list) -> list[list] | None:
    """List rows as they are, single values as one-value rows; None when both kinds are mixed."""
    lists = [isinstance(row, list) for row in values]
    if all(lists):
        return values
    if not any(lists):
        return [[value] for value in values]
    return None


def fixed_problems(config: dict) -> list[str]:
    """What makes a fixed entity unloadable: the field checks the reference runs at load time (7.2)."""
    problems = []
    for key in ("keys", "columns"):
        if key not in config:
            problems.append(f"`{key}` is required (a list of names, may be empty)")
        elif not _is_name_list(config[key]):
            problems.append(f"`{key}` must be a list of names, got {config[key]!r}")
    if not isinstance(config.get("type"), str):
        problems.append("`type` must be set")
    if not (config.get("public_id") or config.get("surrogate_id")):
        problems.append("`public_id` is required")
    named = _is_name_list(config.get("columns"))
    columns = list(dict.fromkeys(config["columns"])) if named else []
    surrogate_name = config.get("surrogate_name")
    if surrogate_name is not None and named and surrogate_name not in columns:
        problems.append(f"surrogate_name {surrogate_name!r} is not one of columns {columns}")
    problems += [
        f"a fixed entity must not have `{key}`" for key in ("data_source", "query") if _present(config, key)
    ]
    values = config.get("values")
    if not isinstance(values, list):
        shown = "missing" if values is None else f"{type(values).__name__} {values!r}"
        problems.append(f"`values` must be a list of rows, got {shown}")
    elif named:
        problems += _row_problems(config, columns, values)
    return problems


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series([], dtype=object) for column in columns})


def load_fixed(name: str, config: dict) -> pd.DataFrame:
    """The table of a fixed entity, after the load-time checks (EntityError naming every problem).

    Dict rows (from `@load`) keep all their keys as columns; list rows get `columns` as names, or the
    identity names in front when the rows carry identity values (7.2). A provisional `system_id` 1..n is
    added when the rows do not give one (5.1); extraction drops it unless listed.
    """
    problems = fixed_problems(config)
    if problems:
        raise EntityError(f"entity '{name}': invalid fixed entity: " + "; ".join(problems))
    columns = list(dict.fromkeys(config["columns"]))
    values = config["values"]
    if not values:
        table = _empty(columns)
    elif isinstance(values[0], Mapping):
        table = pd.DataFrame([dict(row) for row in values])  # columns: every key, in order of appearance
    else:
        rows = _as_rows(values)
        names = columns if len(rows[0]) == len(columns) else _identity_columns(config, columns) + columns
        table = pd.DataFrame(rows, columns=names)
    if SYSTEM_ID not in table.columns:
        table[SYSTEM_ID] = np.arange(1, len(table) + 1, dtype=np.int64)
    return table
