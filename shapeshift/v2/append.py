"""`append` items in format 2 (format-v2.md 15): each item's sub-table configuration and the
column renaming of source-based items."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..config.model import EntitySpec, as_name_list
from ..errors import EntityError

NEVER_INHERITED = ("foreign_keys", "unnest", "append", "append_mode", "depends_on")
ITEM_ONLY = ("align_by_position", "column_mapping")
# a source-based item reads its source's table: the parent's loader settings are not its own (v2.0.0)
LOADER_KEYS = ("type", "values", "query", "data_source", "sql")


def is_source_based(item: dict) -> bool:
    return item.get("source") is not None


def item_config(parent: dict, item: dict, entities: Mapping[str, EntitySpec]) -> dict:
    """The sub-table configuration of one append item (15.1): the item's keys over the parent's."""
    skipped = NEVER_INHERITED + ITEM_ONLY + (LOADER_KEYS if is_source_based(item) else ())
    config = {key: value for key, value in parent.items() if key not in skipped}
    config.update(item)
    source = entities.get(item["source"]) if isinstance(item.get("source"), str) else None
    renames = item.get("align_by_position") or item.get("column_mapping")
    if source is not None and renames:
        # the names to rename are the source's: without its own lists the item takes the source's
        for key in ("columns", "keys"):
            if key not in item:
                config[key] = source.raw.get(key)
    public_id = parent.get("public_id")
    if public_id and isinstance(config.get("columns"), list):
        # explicit public ids cannot come from append items: the column is added empty later
        config["columns"] = [c for c in config["columns"] if c != public_id]
    return config


def item_label(entity: str, index: int) -> str:
    """How the reference names an append item in its messages: `<entity>__append_<i>`, from 0."""
    return f"{entity}__append_{index}"


def rename_item_columns(
    table: pd.DataFrame,
    item: dict,
    parent: dict,
    entities: Mapping[str, EntitySpec],
    *,
    label: str,
) -> pd.DataFrame:
    """`column_mapping` / `align_by_position` of a source-based item's extracted table (15.3)."""
    if not is_source_based(item):
        return table
    mapping = item.get("column_mapping")
    if isinstance(mapping, dict) and mapping:
        missing = [c for c in mapping if c not in table.columns]
        if missing:
            raise EntityError(f"Columns specified in column_mapping not found in {label}: {missing}")
        table = table.rename(columns=mapping)
    if item.get("align_by_position"):
        table = _align_by_position(table, item, parent, entities, label)
    return table


def _align_by_position(
    table: pd.DataFrame, item: dict, parent: dict, entities: Mapping[str, EntitySpec], label: str
) -> pd.DataFrame:
    public_id = parent.get("public_id")
    source = entities.get(item["source"]) if isinstance(item.get("source"), str) else None
    source_public_id = source.public_id if source is not None else None
    target = [c for c in as_name_list(parent.get("columns")) if c not in ("system_id", public_id)]
    current = [c for c in table.columns if c not in ("system_id", public_id, source_public_id)]
    if len(target) != len(current):
        raise EntityError(
            f"Column count mismatch for align_by_position in {label}: parent has {len(target)} columns "
            f"{target}, append has {len(current)} columns {current}"
        )
    return table.rename(columns=dict(zip(current, target, strict=True)))
