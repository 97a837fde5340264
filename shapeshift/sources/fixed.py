"""`type: fixed`: literal rows from `values` (spec 2.7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import EntityError


def load_fixed(name: str, config: dict) -> pd.DataFrame:
    """Build the table of a fixed entity exactly as the reference loader does."""
    values = config.get("values")
    if values is None:
        raise EntityError(f"fixed entity '{name}' has no values defined")
    columns = config.get("columns")
    columns = list(columns) if isinstance(columns, list) else []
    surrogate_id = config.get("surrogate_id") or None
    if len(columns) <= 1:
        column = config.get("surrogate_name") or (columns[0] if columns else None)
        if not column:
            raise EntityError(f"fixed entity '{name}' must have a surrogate_name or one column defined")
        rows = values if isinstance(values, list) else [values]
        table = pd.DataFrame({column: pd.Series(rows, dtype=object) if not rows else rows})
    else:
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            raise EntityError(f"fixed entity '{name}' must have values as a list of lists")
        for number, row in enumerate(values, start=1):
            if len(row) != len(columns):
                raise EntityError(
                    f"fixed entity '{name}': mismatched number of columns and values "
                    f"(row {number} has {len(row)} values, {len(columns)} columns)"
                )
        table = (
            pd.DataFrame(values, columns=columns)
            if values
            else pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        )
    if surrogate_id and surrogate_id not in table.columns:
        table[surrogate_id] = np.arange(1, len(table) + 1, dtype=np.int64)
    return table
