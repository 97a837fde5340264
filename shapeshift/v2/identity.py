"""The identity model of format 2: `system_id` and `public_id` columns (format-v2.md 5) and the
final column order of a processed entity (6.6)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..config.model import EntitySpec
from ..errors import EntityError
from ..issues import IssueCode
from .concat import fresh_index

SYSTEM_ID = "system_id"


def _fixed_system_ids(name: str, ids: pd.Series) -> pd.Series:
    """A fixed entity's own system_id values: nulls filled from max+1 on, duplicates refused.

    The reference keeps them verbatim (float with nulls, duplicates allowed) although its own
    helper means to fill the nulls and its validator rejects duplicates (format-v2.md 20 #10).
    """
    numbers = pd.to_numeric(ids, errors="coerce")
    bad = ids[numbers.isna() & ids.notna()]
    if len(bad):
        raise EntityError(f"entity '{name}': system_id values must be integers, got {list(bad.unique()[:5])}")
    if (numbers.dropna() % 1 != 0).any():
        raise EntityError(f"entity '{name}': system_id values must be integers, got {list(numbers.dropna())}")
    missing = numbers.isna().to_numpy()
    start = int(numbers.max()) + 1 if missing.sum() < len(numbers) else 1
    filled = numbers.to_numpy(dtype=float, copy=True)
    filled[missing] = np.arange(start, start + missing.sum())
    result = pd.Series(filled.astype(np.int64), index=ids.index, name=SYSTEM_ID)
    repeated = result[result.duplicated()].unique()
    if len(repeated):
        raise EntityError(
            f"entity '{name}': system_id values must be unique, repeated: {sorted(repeated.tolist())[:10]}"
        )
    return result


def add_identity(table: pd.DataFrame, spec: EntitySpec, *, report) -> pd.DataFrame:
    """Steps 15-16 of format-v2.md 6.3: `system_id` 1..n first (5.1), then an empty `public_id` (5.2).

    A `system_id` column that is already there is the entity's own: a fixed entity's values are kept
    (nulls filled, duplicates refused, 20 #10); any other entity's are kept only while they identify
    the rows (unique, no nulls) and renumbered otherwise, e.g. the source ids an append item copied
    (20 #36). An existing `public_id` column keeps its values.
    """
    table = fresh_index(table).copy(deep=False)  # columns are added below: never to the caller's frame
    if SYSTEM_ID in table.columns:
        ids = table[SYSTEM_ID]
        if spec.type == "fixed":
            table[SYSTEM_ID] = _fixed_system_ids(spec.name, ids)
        elif ids.isna().any() or ids.duplicated().any():
            report.warn(
                IssueCode.SYSTEM_ID_RENUMBERED,
                "the system_id column it was given has nulls or repeated values (e.g. ids copied from "
                "an append item's source); its rows are numbered 1..n instead",
            )
            table[SYSTEM_ID] = np.arange(1, len(table) + 1, dtype=np.int64)
    else:
        table.insert(0, SYSTEM_ID, np.arange(1, len(table) + 1, dtype=np.int64))
    if spec.public_id and spec.public_id not in table.columns:
        table[spec.public_id] = pd.Series([None] * len(table), index=table.index, dtype=object)
    return table


def column_order(table: pd.DataFrame, spec: EntitySpec, entities: Mapping[str, EntitySpec]) -> list:
    """format-v2.md 6.6: system_id, own public_id, FK remotes' public_ids (sorted), own extra
    columns (sorted), every other column (sorted as Python sorts strings)."""
    present = set(table.columns)
    remote_ids = {
        entities[fk.entity].public_id
        for fk in spec.foreign_keys
        if fk.entity in entities and entities[fk.entity].public_id
    }
    first = [SYSTEM_ID, spec.public_id, *sorted(remote_ids), *sorted(str(c) for c in spec.extra_columns)]
    ordered = list(dict.fromkeys(c for c in first if c is not None and c in present))
    taken = set(ordered)
    return ordered + sorted((c for c in table.columns if c not in taken), key=str)


def reorder_columns(
    table: pd.DataFrame, spec: EntitySpec, entities: Mapping[str, EntitySpec]
) -> pd.DataFrame:
    order = column_order(table, spec, entities)
    return table if order == list(table.columns) else table[order]
