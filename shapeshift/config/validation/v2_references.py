"""Format-2 rules that look at other entities: foreign keys, extra columns, append, filters, public ids.

format-v2.md 8, 11, 12, 15 and the section-18 rule table, at the severities of the package docstring.
"""

from __future__ import annotations

from ...hints import did_you_mean, name_list
from ...issues import IssueCode
from ...v2.formulas import FormulaError
from ..model import JOIN_TYPES, EntitySpec, Project
from .collector import INFO, Collector, E, W, missing
from .expressions import Kind, check_query, formula_columns, interpolation_names, kind_of, query_columns
from .v2_entity import ENTITY_KEYS, fixed_problems, unknown_keys
from .v2_names import (
    SYSTEM_ID,
    declares_columns,
    entity,
    extracted_names,
    final_names,
    fk_names,
    linked_names,
    strings,
    unnest_names,
)

FK_KEYS = {
    "entity", "local_keys", "remote_keys", "how", "extra_columns", "drop_remote_id", "defer_dependency",
    "constraints",
}  # fmt: skip
CONSTRAINT_KEYS = {
    "cardinality", "allow_unmatched_left", "allow_unmatched_right", "allow_row_decrease",
    "require_unique_left", "require_unique_right", "allow_null_keys",
}  # fmt: skip
CARDINALITIES = {"one_to_one", "one_to_many", "many_to_one", "many_to_many"}
FILTER_KEYS = {"type", "column", "other_entity", "other_column", "drop_duplicates", "stage", "query"}
STAGES = ("extract", "after_link", "after_unnest")
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


# --- foreign keys (12) --------------------------------------------------------------------------------


def foreign_key_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    name = spec.name
    raw_fks = spec.raw.get("foreign_keys")
    if raw_fks is not None and not isinstance(raw_fks, list):
        c.add(E, IssueCode.FOREIGN_KEYS_NOT_LIST, name, "foreign_keys must be a list", "", "foreign_keys")
        return
    for fk in spec.foreign_keys:
        path = ("foreign_keys", fk.index - 1)
        remote = entity(declared, fk.entity)
        label = f"foreign key #{fk.index}" + (f" (-> {fk.entity})" if fk.entity else "")
        if "_invalid" in fk.raw:
            c.add(E, IssueCode.FK_NOT_MAPPING, name, f"{label} is not a mapping", "", *path)
            continue
        unknown_keys(c, name, fk.raw, FK_KEYS, f"{label}: ", *path)
        if not fk.entity:
            c.add(E, IssueCode.FK_MISSING_ENTITY, name, f"{label} has no entity", "", *path)
            continue
        if fk.how not in JOIN_TYPES:
            c.add(
                E,
                IssueCode.FK_INVALID_HOW,
                name,
                f"{label}: invalid how '{fk.how}'",
                "use inner, left, right, outer or cross",
                *path,
                "how",
            )
        _key_rules(c, spec, fk, remote, label, path)
        if remote is not None and not remote.public_id:
            c.add(
                W,
                IssueCode.FK_REMOTE_WITHOUT_PUBLIC_ID,
                name,
                f"{label}: '{fk.entity}' has no public_id, so no foreign-key column can be named after it: "
                "the link is skipped (12.1"
                + (
                    "; the reference adds a column with an empty name to cross joins, 20 #6)"
                    if fk.how == "cross"
                    else ")"
                ),
                f"give '{fk.entity}' a public_id",
                *path,
            )
        _fk_option_rules(c, spec, fk, label, path)


def _key_rules(c: Collector, spec: EntitySpec, fk, remote, label: str, path: tuple) -> None:
    name = spec.name
    if fk.how == "cross":
        if fk.local_keys or fk.remote_keys:
            c.add(
                W,
                IssueCode.FK_CROSS_WITH_KEYS,
                name,
                f"{label} is a cross join with keys: the link is skipped (12.1)",
                "remove local_keys/remote_keys",
                *path,
            )
        return
    for key, code in (
        ("local_keys", IssueCode.FK_MISSING_LOCAL_KEYS),
        ("remote_keys", IssueCode.FK_MISSING_REMOTE_KEYS),
    ):
        value = fk.raw.get(key)
        if missing(value):
            c.add(E, code, name, f"{label} has no {key}", "", *path)
        elif not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            c.add(
                E,
                code,
                name,
                f"{label}: {key} must be a list of column names, got {value!r}"[:200],
                "",
                *path,
                key,
            )
    if fk.local_keys and fk.remote_keys and len(fk.local_keys) != len(fk.remote_keys):
        c.add(
            E,
            IssueCode.FK_KEY_COUNT,
            name,
            f"{label}: {len(fk.local_keys)} local_keys but {len(fk.remote_keys)} remote_keys",
            "",
            *path,
        )
    if remote is None or not fk.remote_keys:
        return
    # 12.1: remote keys are looked up in the remote's configuration, not in its table
    known = set(strings(remote.keys + remote.columns + remote.fk_local_keys + list(remote.extra_columns)))
    known |= set(unnest_names(remote))
    absent = [key for key in fk.remote_keys if isinstance(key, str) and key not in known]
    if absent and remote.type != "merged":
        c.add(
            W,
            IssueCode.FK_CHECK_FAILED,
            name,
            f"{label}: remote keys {absent} are not keys, columns or extra columns of '{fk.entity}'; "
            "the link is skipped (12.1)",
            f"list them in '{fk.entity}'.columns",
            *path,
            "remote_keys",
        )


def _fk_option_rules(c: Collector, spec: EntitySpec, fk, label: str, path: tuple) -> None:
    name = spec.name
    extra = fk.raw.get("extra_columns")
    if extra is not None and not isinstance(extra, (str, list, dict)):
        c.add(
            E,
            IssueCode.FK_EXTRA_COLUMNS_TYPE,
            name,
            f"{label}: extra_columns must be a mapping {{local name: remote column}}",
            "",
            *path,
            "extra_columns",
        )
    if "defer_dependency" in fk.raw and not isinstance(fk.raw["defer_dependency"], bool):
        c.add(
            W,
            IssueCode.FK_DEFER_DEPENDENCY_INVALID,
            name,
            f"{label}: defer_dependency must be true or false, got {fk.raw['defer_dependency']!r}; "
            "read as false",
            "",
            *path,
            "defer_dependency",
        )
    constraints = fk.raw.get("constraints")
    if constraints is None:
        return
    if not isinstance(constraints, dict):
        c.add(W, IssueCode.FK_CONSTRAINT_UNKNOWN, name, f"{label}: constraints must be a mapping", "", *path)
        return
    unknown_keys(c, name, constraints, CONSTRAINT_KEYS, f"{label} constraints: ", *path, "constraints")
    cardinality = constraints.get("cardinality")
    if isinstance(cardinality, str) and "-" in cardinality:
        c.add(
            INFO,
            IssueCode.FK_CARDINALITY_HYPHENATED,
            name,
            f"{label}: cardinality '{cardinality}' is not recognised and not checked (12.4)",
            f"write {cardinality.replace('-', '_')}",
            *path,
            "constraints",
        )
    elif cardinality is not None and (not isinstance(cardinality, str) or cardinality not in CARDINALITIES):
        c.add(
            W,
            IssueCode.FK_CONSTRAINT_UNKNOWN,
            name,
            f"{label}: unknown cardinality {cardinality!r}, not checked",
            did_you_mean([str(cardinality)], sorted(CARDINALITIES)),
            *path,
            "constraints",
        )


# --- extra columns (8) --------------------------------------------------------------------------------


def extra_column_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    extra = raw.get("extra_columns")
    if extra is None:
        return
    if not isinstance(extra, dict):
        c.add(
            W,
            IssueCode.EXTRA_COLUMNS_NOT_MAPPING,
            name,
            "extra_columns must be a mapping {column: value}; it is ignored",
            "",
            "extra_columns",
        )
        return
    available = linked_names(spec, declared) | set(unnest_names(spec))
    for column, value in extra.items():
        kind = kind_of(value)
        if kind is Kind.FORMULA:
            try:
                references = formula_columns(value)
            except FormulaError as exc:
                c.add(
                    E,
                    IssueCode.FORMULA_INVALID,
                    name,
                    f"extra column '{column}': formula {value!r} cannot be evaluated: {exc} (8.4)",
                    "",
                    "extra_columns",
                    column,
                )
                continue
        elif kind is Kind.INTERPOLATION:
            references = interpolation_names(value)
        else:
            if kind is Kind.TEXT:
                _plain_string_rule(c, spec, column, value, declared)
            continue
        _reference_rule(c, spec, column, [r for r in references if r not in available], available, declared)
    _shadow_rule(c, spec)


def _reference_rule(
    c: Collector, spec: EntitySpec, column: str, unknown: list, available: set, declared
) -> None:
    """A name the entity never has is still fine when the source has it (a helper column, 8.2)."""
    if not unknown:
        return
    lowered = {name.lower(): name for name in available}
    case = [name for name in unknown if name.lower() in lowered]
    if case:
        pairs = ", ".join(f"'{name}' vs '{lowered[name.lower()]}'" for name in case)
        c.add(
            W,
            IssueCode.EXTRA_COLUMN_REFERENCE,
            spec.name,
            f"extra column '{column}' refers to {case}, which differ in case from the entity's columns "
            f"({pairs}): references are case-sensitive, so the column is never computed (8.2)",
            "use the exact names (file headers are lower-cased, 7.3)",
            "extra_columns",
            column,
        )
        unknown = [n for n in unknown if n not in case]
        if not unknown:
            return
    source = entity(declared, spec.source)
    if source is not None and declares_columns(source):
        absent = [n for n in unknown if n not in final_names(source, declared)]
        if absent:
            c.add(
                W,
                IssueCode.EXTRA_COLUMN_REFERENCE,
                spec.name,
                f"extra column '{column}' refers to {absent}, which neither this entity nor its source "
                f"'{spec.source}' has: the column is never computed (8.2)",
                did_you_mean(absent, sorted(available)),
                "extra_columns",
                column,
            )
        return
    c.add(
        INFO,
        IssueCode.EXTRA_COLUMN_REFERENCE,
        spec.name,
        f"extra column '{column}' refers to {unknown}, which are not columns of this entity: they are read "
        "from the source as helper columns, and the column stays empty if the source lacks them (8.2); "
        "the reference's validator rejects this",
        f"list {unknown} in columns to be sure",
        "extra_columns",
        column,
    )


def _plain_string_rule(c: Collector, spec: EntitySpec, column: str, value: str, declared: dict) -> None:
    """8.1 rules 6-7 and 8.2: plain strings that look like copies but are (or become) constants."""
    extra_names = {str(key).lower() for key in spec.extra_columns}
    late = {n.lower() for n in fk_names(spec, declared) | set(unnest_names(spec))}
    melted = {n.lower() for n in strings(spec.unnest.value_vars)} if spec.unnest else set()
    lowered = value.lower()
    severity = W
    if lowered in extra_names:  # often meant as the text (`type: abundance`), so only a note
        why, severity = "it names an extra column of the same mapping, which is never copied (8.1)", INFO
    elif lowered in late:
        why = "that column only exists after linking or unnesting, and copies are never deferred (8.2)"
    elif lowered in melted:
        c.add(
            W,
            IssueCode.EXTRA_COLUMN_CONSTANT,
            spec.name,
            f"extra column '{column}' copies '{value}', which the unnest melts: after the melt the column is "
            f"re-made as the constant text '{value}' (8.2, 13, 20 #25)",
            "copy it into an id_vars column instead",
            "extra_columns",
            column,
        )
        return
    else:
        return
    c.add(
        severity,
        IssueCode.EXTRA_COLUMN_CONSTANT,
        spec.name,
        f"extra column '{column}' is the constant text '{value}', not a copy: {why}",
        f"write '{{{value}}}' to take the value",
        "extra_columns",
        column,
    )


def _shadow_rule(c: Collector, spec: EntitySpec) -> None:
    reserved = {
        **{n: "a listed column, which is then not extracted (8.5)" for n in strings(spec.columns)},
        **{n: "an unnest column" for n in unnest_names(spec)},
        SYSTEM_ID: "the identity column: its values are kept as the row ids (5.1)",
    }
    if spec.public_id:
        reserved[spec.public_id] = "the public_id: its values are kept (5.2)"
    for column in spec.extra_columns:
        if column in reserved:
            c.add(
                W,
                IssueCode.EXTRA_COLUMN_SHADOWS,
                spec.name,
                f"extra column '{column}' is named like {reserved[column]}; the reference's validator "
                "rejects this",
                "",
                "extra_columns",
                column,
            )


# --- public ids (5.2) ---------------------------------------------------------------------------------


def shared_public_ids(c: Collector, project: Project) -> None:
    users: dict[str, list[str]] = {}
    for name, spec in project.entities.items():
        if spec.public_id:
            users.setdefault(spec.public_id, []).append(name)
    for public_id, names in users.items():
        if len(names) > 1:
            c.add(
                INFO,
                IssueCode.PUBLIC_ID_SHARED,
                names[0],
                f"public_id '{public_id}' is used by {', '.join(names)}: a foreign-key column is named after "
                "it, so an entity can link to only one of them (12.1)",
                "give each entity its own public_id",
                "public_id",
            )


# --- append (15) --------------------------------------------------------------------------------------


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


# --- filters (11) -------------------------------------------------------------------------------------


def filter_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    value, name = spec.raw.get("filters"), spec.name
    if value is None:
        return
    if not isinstance(value, list):
        c.add(W, IssueCode.FILTER_INVALID, name, "filters must be a list; it is ignored", "", "filters")
        return
    for number, item in enumerate(value, start=1):
        path, label = ("filters", number - 1), f"filter #{number}"
        if not isinstance(item, dict):
            c.add(E, IssueCode.FILTER_INVALID, name, f"{label} is not a mapping", "", *path)
            continue
        unknown_keys(c, name, item, FILTER_KEYS, f"{label}: ", *path)
        kind, stage = item.get("type"), item.get("stage") or "extract"
        if missing(kind):
            c.add(W, IssueCode.FILTER_INVALID, name, f"{label} has no type and is skipped (11)", "", *path)
            continue
        if kind not in ("exists_in", "query"):
            c.add(
                E,
                IssueCode.FILTER_INVALID,
                name,
                f"{label}: unknown type {kind!r}",
                "use exists_in or query",
                *path,
            )
            continue
        if stage not in STAGES:
            c.add(
                E,
                IssueCode.FILTER_STAGE_INVALID,
                name,
                f"{label}: invalid stage {stage!r}: the entity fails (11)",
                did_you_mean([str(stage)], STAGES) or f"use one of {', '.join(STAGES)}",
                *path,
                "stage",
            )
            continue
        if stage == "after_unnest" and spec.unnest is None:
            c.add(
                W,
                IssueCode.FILTER_STAGE_INVALID,
                name,
                f"{label}: stage after_unnest never runs without unnest",
                "",
                *path,
            )
        if kind == "exists_in":
            _exists_in_rules(c, spec, item, stage, label, path, declared)
        else:
            _query_rules(c, spec, item, stage, label, path, declared)


def _stage_names(spec: EntitySpec, stage: str, declared: dict) -> set | None:
    if not declares_columns(spec):
        return None
    if stage == "extract":
        return extracted_names(spec, declared)
    names = linked_names(spec, declared)
    return names | set(unnest_names(spec)) if stage == "after_unnest" else names


def _unavailable(
    c: Collector, spec: EntitySpec, names: list, stage: str, label: str, path: tuple, declared
) -> None:
    available = _stage_names(spec, stage, declared)
    if available is None:
        return
    absent = [n for n in names if not isinstance(n, str) or n not in available]
    if absent:
        later = [n for n in absent if n in final_names(spec, declared)]
        c.add(
            E,
            IssueCode.FILTER_COLUMN_UNAVAILABLE,
            spec.name,
            f"{label} (stage {stage}) reads {absent}, which the table does not have at that stage: the "
            "entity fails (11)",
            f"use a later stage for {later}"
            if later
            else did_you_mean(absent, sorted(available)) or "list them in columns",
            *path,
        )


def _exists_in_rules(c: Collector, spec: EntitySpec, item: dict, stage, label, path, declared) -> None:
    name = spec.name
    column, other = item.get("column"), item.get("other_entity")
    if missing(column) or missing(other):
        c.add(
            E, IssueCode.FILTER_INVALID, name, f"{label} (exists_in) needs column and other_entity", "", *path
        )
        return
    _unavailable(c, spec, [column], stage, label, path, declared)
    target = entity(declared, other)
    if target is None:
        c.add(
            W,
            IssueCode.FILTER_UNKNOWN_ENTITY,
            name,
            f"{label}: other_entity '{other}' is not declared; this entity cannot be processed",
            did_you_mean([str(other)], declared),
            *path,
        )
        return
    other_column = item.get("other_column") or column
    if declares_columns(target) and other_column not in final_names(target, declared):
        c.add(
            W,
            IssueCode.FILTER_COLUMN_UNAVAILABLE,
            name,
            f"{label}: '{other}' has no column '{other_column}' in its configuration; the entity fails if "
            "its table lacks it (11)",
            did_you_mean([other_column], sorted(final_names(target, declared))),
            *path,
        )


def _query_rules(c: Collector, spec: EntitySpec, item: dict, stage, label, path, declared) -> None:
    query = item.get("query")
    if not isinstance(query, str) or not query.strip():
        c.add(
            W,
            IssueCode.FILTER_INVALID,
            spec.name,
            f"{label} (query) has no query and is skipped (11)",
            "",
            *path,
        )
        return
    try:
        check_query(query)
    except ValueError as exc:
        c.add(
            E,
            IssueCode.FILTER_INVALID,
            spec.name,
            f"{label}: the query {query!r} is refused: {exc}; the entity fails (11)",
            "keep to comparisons, column methods and literals",
            *path,
            "query",
        )
        return
    names = query_columns(query)
    if names:
        _unavailable(c, spec, names, stage, label, path, declared)
