"""Format-2 rules about one entity's own definition (format-v2.md 4, 7.2, 7.6, 9, 10, 13, 14, 16, 18).

Severity as for format 1 (see the package docstring): ERROR where processing fails or cannot do what
is written; where only the reference's validator objects and processing works, a WARNING that says so
(format-v2.md 20 #33).
"""

from __future__ import annotations

from ...hints import did_you_mean
from ...issues import IssueCode
from ..model import V2_KINDS, V2_UNUSABLE_LOADER_TYPES, EntitySpec
from .collector import Collector, E, W, missing
from .v2_names import SYSTEM_ID, entity, final_names, strings, unnest_names

# section 4
ENTITY_KEYS = {
    "type", "source", "public_id", "system_id", "surrogate_id", "surrogate_name", "keys", "columns",
    "extra_columns", "drop_duplicates", "check_functional_dependency", "strict_functional_dependency",
    "drop_empty_rows", "replacements", "filters", "unnest", "foreign_keys", "append", "append_mode",
    "branches", "depends_on", "data_source", "query", "values", "options", "check_column_names",
    "auto_detect_columns", "materialized",
}  # fmt: skip
UNKNOWN_KEY_HINTS = {
    "table": "there is no table: key in format 2 (7.6); write query: select ... from <table>"
}
# keys read by one kind of entity only (7.2, 7.6, 16): key -> (reader, kinds whose own rules speak of it)
KEY_READERS = {
    "values": ("fixed", {"fixed", "sql"}),
    "query": ("sql", {"sql", "fixed", "entity", "merged"}),
    "auto_detect_columns": ("sql", {"sql"}),
    "check_column_names": ("sql", {"sql"}),
    "branches": ("merged", {"merged"}),
}
FD_FLAGS = ("check_functional_dependency", "strict_functional_dependency")
UNNEST_KEYS = {"id_vars", "value_vars", "var_name", "value_name"}
MATCH_KINDS = {
    "equals", "in", "contains", "startswith", "endswith", "regex", "regex_sub",
    "not_equals", "not_in", "not_contains", "not_startswith", "not_endswith", "not_regex",
}  # fmt: skip
COERCIONS = {"string", "str", "int", "int64", "integer", "float", "double", "number"}
FILLS = {"forward", "backward", "none", "null", "false"}
FILE_LOCATIONS = {"local", "global"}


def present(raw: dict, key: str) -> bool:
    """The reference counts a key with a null value as absent (7.2)."""
    return raw.get(key) is not None


def unknown_keys(c: Collector, entity: str, mapping: dict, known: set, where: str, *path) -> None:
    """One warning per key format 2 does not read, naming it (section 4: unknown keys are ignored)."""
    for key in mapping:
        if key in known:
            continue
        hint = UNKNOWN_KEY_HINTS.get(key) or did_you_mean([key], sorted(known))
        c.add(
            W,
            IssueCode.V2_UNKNOWN_KEY,
            entity,
            f"{where}key '{key}' is not a format-2 key and is ignored",
            hint or "remove it, or keep @value: anchors at the top level",
            *path,
            key,
        )


def entity_keys(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    unknown_keys(c, name, raw, ENTITY_KEYS, "")
    for key, (reader, spoken_for) in KEY_READERS.items():
        if present(raw, key) and spec.type not in spoken_for:
            c.add(
                W,
                IssueCode.V2_KEY_NOT_READ,
                name,
                f"{key} is only read by type: {reader} entities; here (type: {raw.get('type')}) it is "
                "ignored",
                "remove it, or set the type",
                key,
            )


def kind_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    """type, keys, columns, public_id, system_id, surrogate_name: the rules every entity shares."""
    _type_rule(c, spec)
    _name_list_rules(c, spec)
    _public_id_rules(c, spec, declared)
    raw, name, fixed = spec.raw, spec.name, spec.type == "fixed"
    if SYSTEM_ID in strings(spec.columns) and not fixed:
        c.add(
            W,
            IssueCode.SYSTEM_ID_IN_COLUMNS,
            name,
            "system_id is listed in columns: its values are taken as they come (nulls and duplicates "
            "included) instead of numbering the rows 1..n (5.1); the reference's validator rejects this",
            "remove system_id from columns",
            "columns",
        )
    if present(raw, "system_id"):
        c.add(
            W,
            IssueCode.SYSTEM_ID_OVERRIDE,
            name,
            "the system_id key (renaming the identity column) is only partly honoured and unsupported (5.1)",
            "remove it",
            "system_id",
        )
    surrogate_name = raw.get("surrogate_name")
    if present(raw, "surrogate_name") and surrogate_name not in strings(spec.columns):
        c.add(
            E if fixed else W,
            IssueCode.SURROGATE_NAME_NOT_IN_COLUMNS,
            name,
            f"surrogate_name {surrogate_name!r} is not one of columns"
            + (" (the fixed loader refuses the entity, 7.2)" if fixed else ""),
            did_you_mean([str(surrogate_name)], strings(spec.columns))
            or f"add {surrogate_name!r} to columns",
            "surrogate_name",
        )
    if spec.type == "entity":
        for key in ("data_source", "query"):
            if present(raw, key):
                effect = (
                    "the data source's loader is used anyway (7.1)"
                    if key == "data_source"
                    else "the query is not read"
                )
                c.add(
                    W,
                    IssueCode.ENTITY_HAS_LOADER_KEY,
                    name,
                    f"type: entity with {key}: {effect}; the reference's validator rejects this",
                    "use type: sql with data_source and query, or remove the key",
                    key,
                )


def _type_rule(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    raw_type = raw.get("type")
    if raw_type is None:
        read = (
            "its data source's loader reads it (7.1)"
            if present(raw, "data_source")
            else "it is read like type: entity, without the source-identity alias (5.5)"
        )
        c.add(
            W,
            IssueCode.V2_TYPE_MISSING,
            name,
            f"entity has no type: {read}; the reference's validator requires a type",
            "add type: entity (or the loader type)",
        )
    elif not isinstance(raw_type, str):
        c.add(
            W,
            IssueCode.INVALID_TYPE,
            name,
            f"type {raw_type!r} is not a string; read like entity",
            "",
            "type",
        )
    elif raw_type in V2_UNUSABLE_LOADER_TYPES:
        c.add(
            E,
            IssueCode.INVALID_TYPE,
            name,
            f"type '{raw_type}' is a data-source driver, not an entity type: its loader rejects entities "
            "that are not type: sql (7.1)",
            "use type: sql with a data_source",
            "type",
        )
    elif raw_type not in V2_KINDS:
        c.add(
            W,
            IssueCode.V2_TYPE_UNKNOWN,
            name,
            f"type '{raw_type}' is not a format-2 entity type; it is read like type: entity",
            did_you_mean([raw_type], sorted(V2_KINDS - V2_UNUSABLE_LOADER_TYPES))
            or "use entity, fixed, sql, csv, tsv, xlsx, xls, openpyxl or merged",
            "type",
        )


def _name_list_rules(c: Collector, spec: EntitySpec) -> None:
    raw, name, fixed = spec.raw, spec.name, spec.type == "fixed"
    for key in ("keys", "columns"):
        value = raw.get(key)
        if value is None:
            c.add(
                E if fixed else W,
                IssueCode.V2_REQUIRED_KEY_MISSING,
                name,
                f"{key} is missing"
                + (
                    ": the fixed loader refuses the entity (7.2)"
                    if fixed
                    else " (read as []); the reference's validator requires it"
                ),
                f"add {key}: [] if there are none",
            )
        elif not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            # 6.3 step 1: columns that are not a list of strings make the entity fail
            code = IssueCode.COLUMNS_NOT_LIST if key == "columns" else IssueCode.KEYS_NOT_LIST
            c.add(
                E if key == "columns" or fixed else W,
                code,
                name,
                f"{key} must be a list of strings, got {value!r}"[:200],
                "an unresolved @value: reference?" if isinstance(value, str) else "",
                key,
            )


def _public_id_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    value = raw.get("public_id")
    if missing(value):
        if present(raw, "surrogate_id") and spec.type != "merged":
            return  # the format-mixture rule names surrogate_id (the fixed loader accepts it, 7.2)
        strict = spec.type in ("fixed", "merged")
        c.add(
            E if strict else W,
            IssueCode.PUBLIC_ID_MISSING,
            name,
            "entity has no public_id: "
            + (
                "the fixed loader refuses it (7.2)"
                if spec.type == "fixed"
                else "a merged entity needs one (16)"
                if spec.type == "merged"
                else "it gets no identity column and no foreign key can point to it (5.2)"
            ),
            f"add public_id: {name}_id",
        )
        return
    if not isinstance(value, str):
        c.add(W, IssueCode.PUBLIC_ID_INVALID, name, f"public_id {value!r} is not a string", "", "public_id")
        return
    if not value.endswith("_id"):
        c.add(
            W,
            IssueCode.PUBLIC_ID_INVALID,
            name,
            f"public_id '{value}' does not end in _id (the reference's validator rejects it)",
            f"rename it, e.g. {name}_id",
            "public_id",
        )
    source = entity(declared, spec.source)
    if source is not None and source.public_id == value:
        c.add(
            W,
            IssueCode.PUBLIC_ID_SAME_AS_SOURCE,
            name,
            f"public_id '{value}' is also the public_id of its source '{spec.source}': the source's "
            "column is taken over when listed (5.2); the reference's validator rejects this",
            f"use {name}_id",
            "public_id",
        )


# --- transforms and other entity keys ----------------------------------------------------------------


def drop_duplicates_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    value = raw.get("drop_duplicates")
    for flag in FD_FLAGS:
        if flag in raw and not isinstance(raw[flag], bool):
            c.add(
                W,
                IssueCode.FD_FLAG_NOT_BOOL,
                name,
                f"{flag} must be true or false, got {raw[flag]!r}",
                "",
                flag,
            )
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        c.add(
            W,
            IssueCode.DROP_DUPLICATES_TYPE,
            name,
            f"drop_duplicates is the string {value!r}: it is read as the list of its characters and "
            "drops nothing (9.1, 20 #12)",
            f"write drop_duplicates: [{value}]",
            "drop_duplicates",
        )
        return
    columns = value
    if isinstance(value, dict):
        unknown_keys(c, name, value, {"columns", *FD_FLAGS}, "drop_duplicates: ", "drop_duplicates")
        for flag in FD_FLAGS:
            if flag in value and not isinstance(value[flag], bool):
                c.add(
                    W,
                    IssueCode.FD_FLAG_NOT_BOOL,
                    name,
                    f"drop_duplicates.{flag} must be true or false, got {value[flag]!r}",
                    "",
                    "drop_duplicates",
                )
        if "columns" not in value:
            c.add(
                W,
                IssueCode.DROP_DUPLICATES_TYPE,
                name,
                "drop_duplicates mapping without columns drops nothing",
                "add columns: true or a list",
                "drop_duplicates",
            )
        columns = value.get("columns")
        if columns is None or isinstance(columns, bool):
            return
    if not isinstance(columns, list) or not all(isinstance(item, str) for item in columns):
        c.add(
            W,
            IssueCode.DROP_DUPLICATES_TYPE,
            name,
            f"drop_duplicates columns must be true or a list of names, got {columns!r}"[:200],
            "",
            "drop_duplicates",
        )
        return
    known = final_names(spec, declared)
    absent = [column for column in columns if column not in known]
    if absent and strings(spec.keys + spec.columns) and spec.type != "merged":
        c.add(
            W,
            IssueCode.DROP_DUPLICATES_COLUMNS_MISSING,
            name,
            f"drop_duplicates names columns the entity does not have: {absent}; nothing is dropped (9.1)",
            did_you_mean(absent, sorted(known)),
            "drop_duplicates",
        )


def drop_empty_rows_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    value = spec.raw.get("drop_empty_rows")
    if value is None or isinstance(value, bool):
        return
    if not isinstance(value, (list, dict)):
        c.add(
            W,
            IssueCode.DROP_EMPTY_ROWS_TYPE,
            spec.name,
            f"drop_empty_rows must be true/false, a list of columns or a mapping, got {value!r}"[:200],
            "",
            "drop_empty_rows",
        )
        return
    known = final_names(spec, declared)
    absent = [column for column in value if isinstance(column, str) and column not in known]
    if absent and strings(spec.keys + spec.columns) and spec.type != "merged":
        c.add(
            W,
            IssueCode.DROP_EMPTY_COLUMNS_MISSING,
            spec.name,
            f"drop_empty_rows names columns the entity does not have: {absent}",
            did_you_mean(absent, sorted(known)),
            "drop_empty_rows",
        )


def replacement_rules(c: Collector, spec: EntitySpec) -> None:
    """Shapes of the three forms of 10; a rule the reference skips (with a warning) is named here."""
    value, name = spec.raw.get("replacements"), spec.name
    if value is None:
        return
    if not isinstance(value, dict):
        c.add(
            W,
            IssueCode.REPLACEMENT_INVALID,
            name,
            "replacements must be a mapping of columns",
            "",
            "replacements",
        )
        return
    for column, rules in value.items():
        if not (isinstance(rules, list) and rules and all(isinstance(rule, dict) for rule in rules)):
            if isinstance(rules, list) and any(isinstance(rule, dict) for rule in rules):
                c.add(
                    W,
                    IssueCode.REPLACEMENT_INVALID,
                    name,
                    f"replacements for '{column}' mix rules and plain values",
                    "",
                    "replacements",
                    column,
                )
            continue
        for number, rule in enumerate(rules, start=1):
            for problem in _rule_problems(rule):
                c.add(
                    W,
                    IssueCode.REPLACEMENT_INVALID,
                    name,
                    f"replacements for '{column}', rule #{number}: {problem}",
                    "",
                    "replacements",
                    column,
                    number - 1,
                )


def _rule_problems(rule: dict) -> list[str]:
    problems = []
    kind, coerce, fill = rule.get("match"), rule.get("coerce"), rule.get("fill")
    if "match" in rule and not _one_of(kind, MATCH_KINDS):
        problems.append(f"unknown match {kind!r}: the rule is skipped")
    if coerce is not None and not _one_of(coerce, COERCIONS):
        problems.append(f"unknown coerce {coerce!r}: not converted")
    fills = _one_of(fill, FILLS) or fill in (None, False) or (isinstance(fill, dict) and "constant" in fill)
    if "blank_out" in rule and not fills:
        problems.append(f"unknown fill {fill!r}: nothing is filled")
    return problems


def _one_of(value, allowed: set) -> bool:
    return isinstance(value, str) and value in allowed


def unnest_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    unnest = raw.get("unnest")
    if unnest is None:
        return
    if not isinstance(unnest, dict):
        c.add(E, IssueCode.UNNEST_NOT_MAPPING, name, "unnest must be a mapping", "", "unnest")
        return
    unknown_keys(c, name, unnest, UNNEST_KEYS, "unnest: ", "unnest")
    for key, code in (
        ("var_name", IssueCode.UNNEST_MISSING_VAR_NAME),
        ("value_name", IssueCode.UNNEST_MISSING_VALUE_NAME),
    ):
        if missing(unnest.get(key)):
            c.add(E, code, name, f"unnest lacks {key}: the entity fails (13)", "", "unnest")
    if missing(unnest.get("value_vars")):
        c.add(
            W,
            IssueCode.UNNEST_MISSING_VALUE_VARS,
            name,
            "unnest has no value_vars: every column but id_vars is melted, extra columns included (13)",
            "",
            "unnest",
        )
    if unnest.get("id_vars") is None:
        c.add(
            W,
            IssueCode.UNNEST_MISSING_ID_VARS,
            name,
            "unnest has no id_vars: nothing identifies the rows",
            "",
            "unnest",
        )
    known = final_names(spec, declared) - set(unnest_names(spec))
    if not strings(spec.keys + spec.columns) or spec.type == "merged":
        return
    for key in ("id_vars", "value_vars"):
        names = unnest.get(key)
        if isinstance(names, str):
            c.add(
                W,
                IssueCode.UNNEST_COLUMNS_UNKNOWN,
                name,
                f"unnest {key} is a string, not a list",
                "",
                "unnest",
            )
            continue
        absent = [n for n in strings(names) if n not in known]
        if absent:
            c.add(
                W,
                IssueCode.UNNEST_COLUMNS_UNKNOWN,
                name,
                f"unnest {key} names columns the entity does not have: {absent}; the melt fails, the table "
                "stays wide and its foreign keys are never linked (13)",
                did_you_mean(absent, sorted(known)) or "list them in columns",
                "unnest",
                key,
            )


def depends_on_rules(c: Collector, spec: EntitySpec) -> None:
    value = spec.raw.get("depends_on")
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        c.add(
            W,
            IssueCode.DEPENDS_ON_NOT_LIST,
            spec.name,
            f"depends_on must be a list of entity names, got {value!r}"[:200],
            "",
            "depends_on",
        )


def file_options_rules(c: Collector, spec: EntitySpec) -> None:
    options = spec.raw.get("options")
    if not isinstance(options, dict) or "location" not in options:
        return
    if not _one_of(options["location"], FILE_LOCATIONS):
        c.add(
            W,
            IssueCode.FILE_LOCATION_INVALID,
            spec.name,
            f"options.location {options['location']!r} is neither local nor global (7.5)",
            "",
            "options",
            "location",
        )
