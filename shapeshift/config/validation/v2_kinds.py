"""Format-2 rules of the loading kinds of entity: fixed (7.2), sql (7.6), merged (16), materialized.

Severities as in v2_entity.py: ERROR where the loader refuses the entity or it fails.
"""

from __future__ import annotations

from ...hints import did_you_mean, name_list
from ...issues import IssueCode
from ..model import EntitySpec
from .collector import INFO, Collector, E, W, missing
from .v2_entity import present, unknown_keys
from .v2_names import SYSTEM_ID, branches, strings

# --- fixed (7.2) ------------------------------------------------------------------------------------


def fixed_problems(config: dict, public_id) -> list[tuple]:
    """The fixed loader's load-time checks (7.2) on an entity or append-item configuration.

    Returns (severity, code, message, key) tuples; keys/columns/public_id are checked by kind_rules
    for entities, so only what the fixed loader adds is here.
    """
    problems = []
    for key in ("data_source", "query"):
        if present(config, key):
            problems.append(
                (E, IssueCode.FIXED_HAS_LOADER_KEY, f"a fixed entity must not have {key} (7.2)", key)
            )
    values = config.get("values")
    if values is None:
        problems.append((E, IssueCode.FIXED_MISSING_VALUES, "fixed entity has no values (7.2)", "values"))
        return problems
    if not isinstance(values, list):
        problems.append(
            (E, IssueCode.FIXED_VALUES_NOT_LIST, f"values must be a list, got {str(values)[:80]!r}", "values")
        )
        return problems
    columns = list(dict.fromkeys(strings(config.get("columns"))))
    if not values:
        problems.append(
            (W, IssueCode.FIXED_VALUES_EMPTY, "values is empty: the table has no rows of its own", "values")
        )
        return problems
    if isinstance(values[0], dict):
        found = set().union(*(row.keys() for row in values if isinstance(row, dict)))
        absent = [name for name in columns if name not in found]
        if absent:
            problems.append(
                (
                    E,
                    IssueCode.FIXED_DICT_ROWS_MISSING_COLUMNS,
                    f"columns not in any loaded row: {name_list(absent)} (7.2)",
                    "values",
                )
            )
    else:
        problems.extend(_row_length_problems(values, columns, public_id))
    problems.extend(_system_id_problems(values, columns))
    return problems


def _row_length_problems(values: list, columns: list, public_id) -> list[tuple]:
    identity = list(
        dict.fromkeys([SYSTEM_ID] + ([public_id] if isinstance(public_id, str) else []) + columns)
    )
    lengths = [len(row) if isinstance(row, list) else 1 for row in values]
    if len(set(lengths)) > 1:
        return [
            (E, IssueCode.FIXED_ROW_LENGTH, f"value rows differ in length: {sorted(set(lengths))}", "values")
        ]
    if lengths[0] in (len(columns), len(identity)):
        return []
    scalar = "" if isinstance(values[0], list) else " (scalar rows count as one value)"
    return [
        (
            E,
            IssueCode.FIXED_ROW_NOT_LIST if scalar else IssueCode.FIXED_ROW_LENGTH,
            f"value rows have {lengths[0]} values{scalar} but {len(columns)} columns are defined "
            f"({len(identity)} with the identity columns; 7.2)",
            "values",
        )
    ]


def _system_id_problems(values: list, columns: list) -> list[tuple]:
    """Explicit system_id values are kept verbatim at run time (5.1, 20 #10); say what is wrong with them."""
    if SYSTEM_ID not in columns:
        return []
    position = columns.index(SYSTEM_ID)
    ids = []
    for row in values:
        if isinstance(row, dict):
            ids.append(row.get(SYSTEM_ID))
        elif isinstance(row, list) and len(row) == len(columns):
            ids.append(row[position])
    bad = [v for v in ids if not (isinstance(v, int) and not isinstance(v, bool) and v > 0)]
    duplicated = len({v for v in ids if isinstance(v, int)}) < len([v for v in ids if isinstance(v, int)])
    if not bad and not duplicated:
        return []
    what = " and ".join(
        part for part, found in (("null or not a positive integer", bad), ("duplicated", duplicated)) if found
    )
    return [
        (
            W,
            IssueCode.FIXED_SYSTEM_ID_VALUES,
            f"some system_id values are {what}; they are kept as given and used as foreign-key targets "
            "(5.1); the reference's validator rejects this",
            "values",
        )
    ]


def fixed_rules(c: Collector, spec: EntitySpec) -> None:
    if spec.type != "fixed":
        return
    for severity, code, message, key in fixed_problems(spec.raw, spec.raw.get("public_id")):
        c.add(severity, code, spec.name, message, "", key)
    if present(spec.raw, "source"):
        c.add(
            W,
            IssueCode.FIXED_HAS_SOURCE,
            spec.name,
            "fixed entity has a source: it is not read, only waited for (a dependency)",
            "remove source",
            "source",
        )


# --- sql (7.6) --------------------------------------------------------------------------------------


def sql_rules(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if spec.type != "sql":
        return
    if not isinstance(raw.get("data_source"), str) or not raw["data_source"].strip():
        c.add(E, IssueCode.SQL_MISSING_DATA_SOURCE, name, "type sql needs a data_source", "", "type")
    query, values = raw.get("query"), raw.get("values")
    if query is None and isinstance(values, str) and values.strip():
        c.add(
            E,
            IssueCode.SQL_LEGACY_VALUES,
            name,
            'legacy `values: "sql: ..."` is not read in format 2: the entity has no query and fails (7.6)',
            "move the SQL text to query:",
            "values",
        )
    elif query is None:
        c.add(E, IssueCode.SQL_MISSING_QUERY, name, "type sql needs a query", "", "type")
    elif not isinstance(query, str) or not query.strip():
        c.add(E, IssueCode.SQL_EMPTY_QUERY, name, "query must be a non-empty string", "", "query")
    columns = strings(raw.get("columns"))
    doubled = sorted({col for col in columns if columns.count(col) > 1})
    if doubled:
        c.add(
            W,
            IssueCode.SQL_DUPLICATE_COLUMNS,
            name,
            f"columns listed twice: {doubled} (the reference's validator rejects this)",
            "",
            "columns",
        )
    if raw.get("auto_detect_columns") is False:
        absent = [key for key in strings(spec.keys) if key not in columns]
        if not columns or absent:
            c.add(
                W,
                IssueCode.SQL_POSITIONAL_COLUMNS,
                name,
                "with auto_detect_columns: false the result columns are renamed by position to columns, "
                + ("which is empty" if not columns else f"which lacks the keys {absent}"),
                "list every result column in columns, keys included",
                "auto_detect_columns",
            )
    elif raw.get("check_column_names") is False:
        c.add(
            W,
            IssueCode.SQL_CHECK_COLUMN_NAMES_ALONE,
            name,
            "check_column_names: false renames result columns only together with auto_detect_columns: "
            "false; alone the reference selects no data columns (7.6, 20 #15)",
            "add auto_detect_columns: false",
            "check_column_names",
        )
    if present(raw, "source"):
        c.add(
            W,
            IssueCode.SQL_HAS_SOURCE,
            name,
            "sql entity has a source: it is not read, only waited for (a dependency)",
            "remove source",
            "source",
        )


# --- merged (16) ------------------------------------------------------------------------------------


def merged_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    if spec.type != "merged":
        return
    raw, name = spec.raw, spec.name
    items = branches(spec)
    if not items:
        c.add(
            E,
            IssueCode.MERGED_BRANCHES_MISSING,
            name,
            "merged entity has no branches: there is nothing to merge",
            "add branches: [{name: ..., source: ...}]",
            "branches",
        )
    seen: set = set()
    for number, branch in enumerate(items, start=1):
        path = ("branches", number - 1) if isinstance(raw.get("branches"), list) else ("branches",)
        label = f"branch #{number}"
        if not isinstance(branch, dict):
            c.add(E, IssueCode.MERGED_BRANCH_INVALID, name, f"{label} is not a mapping", "", *path)
            continue
        unknown_keys(c, name, branch, {"name", "source", "keys"}, f"{label}: ", *path)
        source, branch_name = branch.get("source"), branch.get("name")
        if missing(branch_name):
            c.add(
                W,
                IssueCode.MERGED_BRANCH_INVALID,
                name,
                f"{label} has no name: its rows are labelled 'branch_{number - 1}' (16)",
                "add name:",
                *path,
            )
        elif isinstance(branch_name, str) and branch_name in seen:
            c.add(
                W,
                IssueCode.MERGED_BRANCH_INVALID,
                name,
                f"{label}: the name '{branch_name}' is used twice; the discriminator cannot tell them apart",
                "",
                *path,
            )
        seen.add(str(branch_name))
        if missing(source) or not isinstance(source, str):
            c.add(
                W,
                IssueCode.MERGED_BRANCH_INVALID,
                name,
                f"{label} has no source and is skipped (16)",
                "",
                *path,
            )
        elif source not in declared:
            c.add(
                W,
                IssueCode.MERGED_BRANCH_SOURCE_UNKNOWN,
                name,
                f"{label}: source '{source}' is not a declared entity; this entity cannot be processed",
                did_you_mean([source], declared),
                *path,
            )
        if "keys" in branch and not isinstance(branch["keys"], list):
            c.add(W, IssueCode.MERGED_BRANCH_INVALID, name, f"{label}: keys must be a list", "", *path)
    for key in ("source", "data_source", "query"):
        if present(raw, key):
            c.add(
                W,
                IssueCode.V2_KEY_NOT_READ,
                name,
                f"a merged entity reads its branches; {key} is ignored (16)",
                f"remove {key}",
                key,
            )


def materialized_rules(c: Collector, spec: EntitySpec) -> None:
    """Editor bookkeeping (7.2): no effect on processing, but the reference checks its consistency."""
    value = spec.raw.get("materialized")
    if value is None:
        return
    if not isinstance(value, dict):
        c.add(
            W, IssueCode.MATERIALIZED_INVALID, spec.name, "materialized must be a mapping", "", "materialized"
        )
        return
    if value.get("enabled") is not True:
        return
    problems = []
    if spec.type != "fixed":
        problems.append("the entity is not type: fixed")
    if missing(spec.raw.get("values")):
        problems.append("values is empty")
    if not isinstance(value.get("source_state"), dict):
        problems.append("source_state (the definition to restore) is missing")
    for problem in problems:
        c.add(
            W,
            IssueCode.MATERIALIZED_INVALID,
            spec.name,
            f"materialized.enabled is true but {problem}",
            "",
            "materialized",
        )
    if "materialized_at" not in value:
        c.add(
            INFO,
            IssueCode.MATERIALIZED_INVALID,
            spec.name,
            "materialized has no materialized_at",
            "",
            "materialized",
        )
