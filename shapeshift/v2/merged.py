"""The sub-tables of a `type: merged` entity: one per branch (format-v2.md 16)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..config.model import EntitySpec
from ..errors import EntityError


@dataclass
class Branch:
    name: str
    source: str
    id_column: str  # the source's public_id (or `<source>_id`): holds the source's system_id


def branches(spec: EntitySpec, entities: Mapping[str, EntitySpec]) -> list[Branch]:
    """The branches that have a source, in order; a missing name becomes `branch_<i>`."""
    raw = spec.raw.get("branches")
    items = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    found = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("source"):
            continue
        source = str(item["source"])
        if source not in entities:
            raise EntityError(f"entity '{spec.name}': branch {index + 1} reads undeclared entity '{source}'")
        name = str(item.get("name") or f"branch_{index}")
        found.append(Branch(name, source, entities[source].public_id or f"{source}_id"))
    return found


def branch_parts(
    spec: EntitySpec, entities: Mapping[str, EntitySpec], store: Mapping[str, pd.DataFrame]
) -> tuple[list[pd.DataFrame], int]:
    """One part per branch and the rows read.

    A part holds the branch source's configured `columns` only (not its keys, FK keys or FK
    columns, [C28]), the discriminator `<entity>_branch`, and for every branch an Int64 column named
    after that branch's source identity: the source row's system_id in its own branch, null elsewhere.
    """
    found = branches(spec, entities)
    discriminator = f"{spec.name}_branch"
    parts, rows_in = [], 0
    for branch in found:
        source = store.get(branch.source)
        if source is None:
            raise EntityError(
                f"entity '{spec.name}': branch '{branch.name}': "
                f"the table of '{branch.source}' is not available"
            )
        if "system_id" not in source.columns:
            raise EntityError(
                f"entity '{spec.name}': branch '{branch.name}': '{branch.source}' has no system_id"
            )
        rows_in += len(source)
        wanted = [c for c in dict.fromkeys(entities[branch.source].columns) if c in source.columns]
        rows = pd.RangeIndex(len(source))
        columns = {c: source[c].set_axis(rows) for c in wanted if c != "system_id"}
        columns[discriminator] = pd.Series([branch.name] * len(source), index=rows, dtype=object)
        for other in found:
            ids = source["system_id"].to_numpy() if other is branch else [pd.NA] * len(source)
            columns[other.id_column] = pd.Series(pd.array(ids, dtype="Int64"), index=rows)
        part = pd.DataFrame(columns, index=rows)
        parts.append(part)
    return parts, rows_in
