"""Rules about one entity's own definition: required fields, fixed, SQL, unnest, de-duplication."""

from __future__ import annotations

from ...issues import IssueCode
from ..model import UNUSABLE_LOADER_TYPES, EntitySpec
from .collector import INFO, Collector, E, W, missing


def required_fields(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("type") == "fixed":
        if missing(raw.get("surrogate_id")):
            c.add(
                W,
                IssueCode.FIXED_MISSING_SURROGATE_ID,
                name,
                "fixed entity has no surrogate_id; no id "
                "column is generated and other entities cannot link to it without a '<name>_id' column",
                "add surrogate_id: <name>_id",
            )
        if missing(raw.get("columns")):
            if missing(raw.get("surrogate_name")):
                c.add(
                    E,
                    IssueCode.FIXED_MISSING_COLUMNS,
                    name,
                    "fixed entity has neither columns nor surrogate_name",
                    "add columns: [...]",
                )
            else:
                c.add(
                    W,
                    IssueCode.FIXED_VALUES_LOST,
                    name,
                    "fixed entity without columns: its values are "
                    "loaded under surrogate_name but not selected, so the table keeps only the id",
                    f"add columns: [{raw.get('surrogate_name')}]",
                )
        if missing(raw.get("values")):
            c.add(E, IssueCode.FIXED_MISSING_VALUES, name, "fixed entity has no values", "add values: [...]")
    elif missing(raw.get("columns")) and missing(raw.get("keys")):
        c.add(
            INFO,
            IssueCode.DATA_MISSING_COLUMNS,
            name,
            "entity has no columns or keys: only foreign-key columns, extra columns and ids are kept",
        )
    raw_type = raw.get("type")
    if raw_type in UNUSABLE_LOADER_TYPES:
        c.add(
            E,
            IssueCode.INVALID_TYPE,
            name,
            f"type '{raw_type}' is a loader name, not an entity type",
            "use type: sql with a data_source",
            "type",
        )
    elif raw_type is not None and not isinstance(raw_type, str):
        c.add(
            W, IssueCode.INVALID_TYPE, name, f"type {raw_type!r} is not a string; treated as data", "", "type"
        )
    columns = raw.get("columns")
    if isinstance(columns, str):
        c.add(
            W,
            IssueCode.COLUMNS_NOT_LIST,
            name,
            f"columns is the string {columns!r}; it is read as a list "
            "of its characters (an unresolved @value: reference?)",
            "make columns a list",
            "columns",
        )
    elif isinstance(columns, list) and not all(isinstance(x, str) for x in columns):
        c.add(E, IssueCode.COLUMNS_NOT_LIST, name, "columns must be a list of strings", "", "columns")
    elif columns is not None and not isinstance(columns, (list, str)):
        c.add(E, IssueCode.COLUMNS_NOT_LIST, name, "columns must be a list of strings", "", "columns")
    keys = raw.get("keys")
    if keys is not None and not isinstance(keys, list):
        c.add(W, IssueCode.KEYS_NOT_LIST, name, f"keys should be a list, got {keys!r}", "", "keys")


def sql_rules(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("type") != "sql":
        return
    if missing(raw.get("data_source")):
        c.add(E, IssueCode.SQL_MISSING_DATA_SOURCE, name, "type sql requires data_source", "", "type")
    query = raw.get("query")
    if missing(query):
        values = raw.get("values")
        if isinstance(values, str) and values.strip().startswith("sql:"):
            c.add(
                INFO,
                IssueCode.SQL_LEGACY_VALUES,
                name,
                'SQL given in legacy `values: "sql: ..."`; prefer `query`',
                "",
                "values",
            )
        elif isinstance(values, str) and values.strip():
            c.add(
                E,
                IssueCode.SQL_LEGACY_VALUES,
                name,
                "legacy `values` SQL without the 'sql:' prefix: the "
                'characters s, q, l, \':\' are stripped from its start ("select" becomes "elect")',
                "use query: instead",
                "values",
            )
        else:
            c.add(E, IssueCode.SQL_MISSING_QUERY, name, "type sql requires query", "", "type")
    elif isinstance(query, str) and not query.strip():
        c.add(E, IssueCode.SQL_EMPTY_QUERY, name, "query is empty", "", "query")
    if raw.get("source") is not None:
        c.add(
            W,
            IssueCode.SQL_HAS_SOURCE,
            name,
            "sql entity has a source (ignored; it only adds a dependency)",
            "remove source",
            "source",
        )


def fixed_rules(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("type") != "fixed":
        return
    values, columns = raw.get("values"), raw.get("columns")
    if missing(values):
        return  # reported by the required-fields rule
    if isinstance(values, list) and isinstance(columns, list) and len(columns) >= 2:
        for number, row in enumerate(values, start=1):
            if not isinstance(row, list):
                c.add(
                    E,
                    IssueCode.FIXED_ROW_NOT_LIST,
                    name,
                    f"value row {number} is not a list but {len(columns)} columns are defined",
                    "",
                    "values",
                )
            elif len(row) != len(columns):
                c.add(
                    E,
                    IssueCode.FIXED_ROW_LENGTH,
                    name,
                    f"value row {number} has {len(row)} items but {len(columns)} columns are defined",
                    "",
                    "values",
                )
    elif isinstance(values, list) and isinstance(columns, list) and len(columns) <= 1:
        if any(isinstance(row, list) for row in values):
            c.add(
                W,
                IssueCode.FIXED_ROW_IS_LIST,
                name,
                "single-column fixed entity has list rows; each list becomes one cell",
                "",
                "values",
            )
        surrogate_name = raw.get("surrogate_name")
        if surrogate_name and columns and surrogate_name != columns[0]:
            c.add(
                W,
                IssueCode.FIXED_VALUES_LOST,
                name,
                f"surrogate_name '{surrogate_name}' differs from the "
                f"only column '{columns[0]}': the values are lost",
                f"set columns: [{surrogate_name}]",
                "surrogate_name",
            )
    if raw.get("source") is not None:
        c.add(
            W,
            IssueCode.FIXED_HAS_SOURCE,
            name,
            "fixed entity has a source (ignored; it only adds a dependency)",
            "remove source",
            "source",
        )


def unnest_rules(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    unnest = raw.get("unnest")
    if not unnest:
        return
    if not isinstance(unnest, dict):
        c.add(E, IssueCode.UNNEST_NOT_MAPPING, name, "unnest must be a mapping", "", "unnest")
        return
    if missing(unnest.get("value_vars")):
        c.add(
            W,
            IssueCode.UNNEST_MISSING_VALUE_VARS,
            name,
            "unnest has no value_vars: every non-id column is melted, including extra columns",
            "",
            "unnest",
        )
    if missing(unnest.get("var_name")):
        c.add(E, IssueCode.UNNEST_MISSING_VAR_NAME, name, "unnest lacks var_name", "", "unnest")
    if missing(unnest.get("value_name")):
        c.add(E, IssueCode.UNNEST_MISSING_VALUE_NAME, name, "unnest lacks value_name", "", "unnest")
    if unnest.get("id_vars") is None:
        c.add(INFO, IssueCode.UNNEST_MISSING_ID_VARS, name, "unnest has no id_vars", "", "unnest")


def drop_duplicates_rules(c: Collector, spec: EntitySpec) -> None:
    value = spec.raw.get("drop_duplicates")
    if value is not None and not isinstance(value, (bool, str, list)):
        c.add(
            W,
            IssueCode.DROP_DUPLICATES_TYPE,
            spec.name,
            "drop_duplicates should be a boolean or a list of columns; this value acts like true",
            "",
            "drop_duplicates",
        )
    elif isinstance(value, str) and value:
        c.add(
            W,
            IssueCode.DROP_DUPLICATES_TYPE,
            spec.name,
            f"drop_duplicates is the string {value!r}: it acts like true (an unresolved @value: reference?)",
            "",
            "drop_duplicates",
        )


def ignored_fields(c: Collector, spec: EntitySpec) -> None:
    """Keys the reference tool reads but ignores at this version (spec 1.9)."""
    raw, name = spec.raw, spec.name
    if "check_functional_dependency" in raw:
        c.add(
            INFO,
            IssueCode.IGNORED_FIELD,
            name,
            "check_functional_dependency has no effect (only delayed "
            "drop_duplicates checks functional dependency)",
            "",
            "check_functional_dependency",
        )
    for fk in spec.foreign_keys:
        for key in ("drop_duplicates", "check_functional_dependency"):
            if key in fk.raw:
                c.add(
                    INFO,
                    IssueCode.IGNORED_FIELD,
                    name,
                    f"foreign key #{fk.index}: {key} has no effect",
                    "",
                    "foreign_keys",
                )
        if "contraints" in fk.raw:
            c.add(
                W,
                IssueCode.IGNORED_FIELD,
                name,
                f"foreign key #{fk.index}: 'contraints' is misspelt and ignored",
                "rename it to constraints",
                "foreign_keys",
            )
