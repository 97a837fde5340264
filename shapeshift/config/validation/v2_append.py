"""Format-2 rules of `append` items (format-v2.md 15, and the append rows of 18).

Each item is checked as the sub-table configuration it becomes (15.1); renaming is checked against the
columns the item extracts from its source entity, when that entity says which columns it has.
"""

from __future__ import annotations

from ...hints import did_you_mean, name_list
from ...issues import IssueCode
from ..model import EntitySpec
from .collector import Collector, E, W
from .v2_entity import ENTITY_KEYS, unknown_keys
from .v2_kinds import fixed_problems
from .v2_names import SYSTEM_ID, declares_columns, entity, final_names, strings

# 15.1: never inherited by an append item, and not read from one
NOT_IN_APPEND_ITEMS = {
    "foreign_keys",
    "unnest",
    "append",
    "append_mode",
    "depends_on",
    "branches",
    "materialized",
}
SOURCE_ITEM_NOT_INHERITED = {"type", "values", "query", "data_source", "sql"}
ITEM_KEYS = (ENTITY_KEYS - NOT_IN_APPEND_ITEMS) | {"align_by_position", "column_mapping"}


def append_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    value = raw.get("append")
    if value is None:
        return
    if not isinstance(value, (list, dict)):
        c.add(
            W,
            IssueCode.APPEND_ITEM_INVALID,
            name,
            "append must be a list of items; it is ignored",
            "",
            "append",
        )
        return
    mode = raw.get("append_mode")
    if mode is not None and mode not in ("all", "distinct"):
        c.add(
            W,
            IssueCode.APPEND_MODE_INVALID,
            name,
            f"append_mode {mode!r} is not all/distinct (it has no effect in format 2 anyway, 15.4)",
            "remove append_mode",
            "append_mode",
        )
    items = [value] if isinstance(value, dict) else value
    for number, item in enumerate(items, start=1):
        path = ("append", number - 1) if isinstance(value, list) else ("append",)
        if not isinstance(item, dict):
            c.add(
                W,
                IssueCode.APPEND_ITEM_INVALID,
                name,
                f"append item #{number} is not a mapping; skipped",
                "",
                *path,
            )
            continue
        _append_item_rules(c, spec, item, f"append item #{number}", path, declared)


def item_config(spec: EntitySpec, item: dict, declared: dict) -> dict:
    """The sub-table configuration of an append item (15.1)."""
    source_based = item.get("source") is not None
    config = {
        key: value
        for key, value in spec.raw.items()
        if key not in NOT_IN_APPEND_ITEMS | {"align_by_position", "column_mapping"}
        and not (source_based and key in SOURCE_ITEM_NOT_INHERITED)
    }
    config.update(item)
    source = entity(declared, item.get("source")) if source_based else None
    renaming = item.get("align_by_position") or item.get("column_mapping")
    if renaming and source is not None and "columns" not in item and "keys" not in item:
        config["columns"], config["keys"] = source.raw.get("columns"), source.raw.get("keys")
    config["columns"] = [col for col in strings(config.get("columns")) if col != spec.public_id]
    return config


def _append_item_rules(c: Collector, spec: EntitySpec, item: dict, label: str, path: tuple, declared) -> None:
    name = spec.name
    unknown_keys(c, name, item, ITEM_KEYS, f"{label}: ", *path)
    config = item_config(spec, item, declared)
    kind, source = config.get("type"), item.get("source")
    if source is None and item.get("type") is None:
        c.add(
            W,
            IssueCode.APPEND_NO_TYPE_OR_SOURCE,
            name,
            f"{label} has neither type nor source: it repeats the entity's own loading"
            f"{f' (type {kind})' if kind else ''}; the reference's validator requires one",
            "",
            *path,
        )
    if source is not None and item.get("type") not in (None, "entity"):
        c.add(
            W,
            IssueCode.APPEND_TYPE_AND_SOURCE,
            name,
            f"{label} has type '{item.get('type')}' and a source; only type: entity goes with a source",
            "",
            *path,
        )
    if source is None and kind == "fixed":
        for severity, code, message, _key in fixed_problems(config, config.get("public_id")):
            code = {
                IssueCode.FIXED_MISSING_VALUES: IssueCode.APPEND_FIXED_MISSING_VALUES,
                IssueCode.FIXED_VALUES_NOT_LIST: IssueCode.APPEND_FIXED_VALUES_NOT_LIST,
            }.get(code, code)
            c.add(severity, code, name, f"{label} (fixed): {message}", "", *path)
    if (
        source is None
        and kind == "sql"
        and (not isinstance(config.get("query"), str) or not config["query"].strip())
    ):
        c.add(E, IssueCode.APPEND_SQL_MISSING_QUERY, name, f"{label} (sql) has no query", "", *path)
    if source is not None:
        _source_item_rules(c, spec, item, config, label, path, declared)


def _source_item_rules(
    c: Collector, spec: EntitySpec, item: dict, config: dict, label, path, declared
) -> None:
    name, source_name = spec.name, item["source"]
    source = entity(declared, source_name)
    if source is None:
        c.add(
            W,
            IssueCode.APPEND_SOURCE_UNKNOWN,
            name,
            f"{label}: source {source_name!r} is not a declared entity; this entity cannot be processed",
            did_you_mean([str(source_name)], declared),
            *path,
        )
        return
    align, mapping = item.get("align_by_position"), item.get("column_mapping")
    if "columns" not in item and not ((align or mapping) and "keys" not in item):
        c.add(
            W,
            IssueCode.APPEND_SOURCE_NO_COLUMNS,
            name,
            f"{label} has no columns of its own: it extracts the entity's columns {config['columns']} "
            f"from '{source.name}' (15.1)",
            "",
            *path,
        )
    if SYSTEM_ID in config["columns"]:
        c.add(
            W,
            IssueCode.SYSTEM_ID_IN_COLUMNS,
            name,
            f"{label} lists system_id: the source's ids are copied and the union has duplicate system_ids "
            "(15.1, 20 #36)",
            "remove system_id from the item's columns",
            *path,
        )
    if align and mapping is not None:
        c.add(
            W,
            IssueCode.APPEND_COLUMN_MAPPING_INVALID,
            name,
            f"{label} has both align_by_position and column_mapping (the reference's validator rejects this)",
            "keep one",
            *path,
        )
    offered = _offered_columns(config, source, spec, declared)
    if mapping is not None:
        _column_mapping_rule(c, spec, mapping, offered, label, path)
    elif align:
        _align_rule(c, spec, offered, label, path)
    elif offered is not None:
        absent = [col for col in config["columns"] if col not in final_names(source, declared)]
        if absent:
            c.add(
                W,
                IssueCode.APPEND_COLUMNS_NOT_IN_SOURCE,
                name,
                f"{label}: columns {absent} are not columns of '{source.name}'; they stay empty in its rows",
                "rename with column_mapping or align_by_position",
                *path,
            )


def _offered_columns(config: dict, source: EntitySpec, spec: EntitySpec, declared: dict) -> list | None:
    """The item's extracted columns (6.4 step 1), when the source's columns are known; else None."""
    if not declares_columns(source):
        return None
    have = final_names(source, declared)
    wanted = list(dict.fromkeys(strings(config.get("keys")) + config["columns"]))
    return [col for col in wanted if col in have]


def _column_mapping_rule(c: Collector, spec: EntitySpec, mapping, offered, label: str, path: tuple) -> None:
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        c.add(
            E,
            IssueCode.APPEND_COLUMN_MAPPING_INVALID,
            spec.name,
            f"{label}: column_mapping must map source column names to target names",
            "",
            *path,
            "column_mapping",
        )
        return
    if offered is None:
        return
    absent = [col for col in mapping if col not in offered]
    if absent:
        c.add(
            E,
            IssueCode.APPEND_COLUMN_MAPPING_INVALID,
            spec.name,
            f"{label}: column_mapping renames {absent}, which the item does not extract "
            f"(it has {name_list(offered)}): the entity fails (15.3)",
            did_you_mean(absent, offered) or "list them in the item's columns",
            *path,
            "column_mapping",
        )


def _align_rule(c: Collector, spec: EntitySpec, offered, label: str, path: tuple) -> None:
    if offered is None:
        return
    skip = {SYSTEM_ID, spec.public_id}
    parent = [col for col in strings(spec.columns) if col not in skip]
    mine = [col for col in offered if col not in skip]
    if len(parent) != len(mine):
        c.add(
            E,
            IssueCode.APPEND_ALIGN_COUNT,
            spec.name,
            f"{label}: align_by_position pairs {len(mine)} columns {mine} with the entity's {len(parent)} "
            f"columns {parent}: the entity fails (15.3)",
            "give the item as many columns as the entity",
            *path,
        )
