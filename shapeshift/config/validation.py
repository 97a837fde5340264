"""`validate`: the rules of spec 3.2 plus run-time reachability checks, as a list of Issues.

Never raises. Severity follows what the engine will actually do, not the reference tool's
validator (whose verdict its own CLI inverts): ERROR only when the configuration or an entity's
definition cannot be processed as written; WARNING when an entity will fail or lose data for a
reason outside its definition (unreachable source, undeclared dependency) or behaves surprisingly;
INFO for harmless notes. See docs/compatibility.md for every severity that differs.
"""

from __future__ import annotations

from ..issues import Issue, IssueCode, Severity
from .loading import data_source_file
from .model import FILE_TYPES, JOIN_TYPES, UNUSABLE_LOADER_TYPES, EntitySpec, Project
from .resolver import join_relative, parent_of

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SQL_DRIVERS = {"sqlite", "postgres", "postgresql", "ucanaccess", "access"}
FILE_DRIVERS = {"csv", "tsv", "xlsx", "xls", "openpyxl"}


class _Collector:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.issues: list[Issue] = []

    def add(
        self,
        severity: Severity,
        code: IssueCode,
        entity: str | None,
        message: str,
        suggestion: str = "",
        *path,
    ) -> None:
        location = self.project.entity_location(entity, *path) if entity else self.project.location(*path)
        self.issues.append(Issue(severity, code, entity, message, suggestion, location))


def _missing(value) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def _find_literals(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _find_literals(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _find_literals(value, path + (index,))
    elif isinstance(node, str) and node.startswith(("@value:", "@include", "@load")):
        yield path, node


def _required_fields(c: _Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("type") == "fixed":
        if _missing(raw.get("surrogate_id")):
            c.add(
                W,
                IssueCode.FIXED_MISSING_SURROGATE_ID,
                name,
                "fixed entity has no surrogate_id; no id "
                "column is generated and other entities cannot link to it without a '<name>_id' column",
                "add surrogate_id: <name>_id",
            )
        if _missing(raw.get("columns")):
            if _missing(raw.get("surrogate_name")):
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
        if _missing(raw.get("values")):
            c.add(E, IssueCode.FIXED_MISSING_VALUES, name, "fixed entity has no values", "add values: [...]")
    elif _missing(raw.get("columns")) and _missing(raw.get("keys")):
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


def _entity_exists(c: _Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    for fk in spec.foreign_keys:
        if fk.entity and fk.entity not in declared:
            c.add(
                E,
                IssueCode.FK_UNKNOWN_ENTITY,
                name,
                f"foreign key #{fk.index} references non-existent entity '{fk.entity}'",
                "",
                "foreign_keys",
            )
    for dep in spec.depends_on:
        if dep not in declared:
            c.add(
                W,
                IssueCode.DEPENDS_ON_UNKNOWN,
                name,
                f"depends on non-existent entity '{dep}'; this "
                "entity cannot be processed (it and its dependents fail at run time)",
                f"declare '{dep}' or remove it from depends_on",
                "depends_on",
            )
    source = raw.get("source")
    if isinstance(source, str) and source and source not in declared:
        hint = " (a file name? use options.filename)" if raw.get("type") in FILE_TYPES else ""
        c.add(
            W,
            IssueCode.SOURCE_UNKNOWN,
            name,
            f"source '{source}' is not a declared entity{hint}; this entity cannot be processed",
            f"declare '{source}' or fix source",
            "source",
        )


def _cycles(c: _Collector, project: Project) -> None:
    entities = project.entities
    graph = {name: [d for d in spec.dependencies if d in entities] for name, spec in entities.items()}
    index, low, stack, on_stack, counter = {}, {}, [], set(), [0]
    components: list[list[str]] = []

    def strongconnect(root: str) -> None:
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1 or node in graph[node]:
                    components.append(members)

    for name in entities:
        if name not in index:
            strongconnect(name)
    for members in components:
        ordered = sorted(members, key=lambda n: entities[n].index)
        path = _cycle_path(graph, ordered[0], set(members))
        c.add(
            E,
            IssueCode.CIRCULAR_DEPENDENCY,
            ordered[0],
            f"circular dependency {' -> '.join(path)} (through source, depends_on, foreign keys, filters or "
            "append sources)",
            "break the cycle; an entity cannot link to itself",
        )


def _cycle_path(graph: dict, start: str, members: set) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component."""
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in graph[node]:
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [start]
            if child in members and child not in previous:
                previous[child] = node
                queue.append(child)
    return [start, start]


def _data_sources(c: _Collector, spec: EntitySpec, project: Project) -> None:
    sources = project.data_sources
    raw, name = spec.raw, spec.name
    items = [(raw, None)] + [
        ({**{k: v for k, v in raw.items() if k not in ("append", "foreign_keys")}, **item}, i)
        for i, item in enumerate(spec.append, start=1)
    ]
    for config, number in items:
        ds = config.get("data_source")
        where = f"append item #{number}" if number else "entity"
        if not isinstance(ds, str) or not ds:
            continue
        if ds not in sources:
            c.add(
                E,
                IssueCode.DATA_SOURCE_UNKNOWN,
                name,
                f"{where} references non-existent data source '{ds}'",
                "add it under options.data_sources",
                "data_source",
            )
            continue
        entry = sources[ds] if isinstance(sources[ds], dict) else {}
        driver = str(entry.get("driver") or "")
        if driver not in SQL_DRIVERS | FILE_DRIVERS:
            c.add(
                E,
                IssueCode.DRIVER_UNKNOWN,
                name,
                f"data source '{ds}' has unknown driver '{driver}'",
                "use sqlite, postgres, csv, tsv, xlsx or ucanaccess",
                "data_source",
            )
            continue
        if driver in SQL_DRIVERS and config.get("type") != "sql":
            c.add(
                E,
                IssueCode.INVALID_TYPE,
                name,
                f"{where} uses SQL data source '{ds}' but is not type: sql",
                "set type: sql (or data_source: null in an append item)",
                "type",
            )
        problem = _source_problem(project, ds, entry, driver)
        if problem:
            c.add(
                W,
                IssueCode.SOURCE_UNAVAILABLE,
                name,
                f"{where} cannot be loaded: {problem}",
                "provide the source, or run only entities that do not need it",
                "data_source",
            )


def _source_problem(project: Project, ds: str, entry: dict, driver: str) -> str | None:
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    if driver in ("ucanaccess", "access"):
        return (
            f"data source '{ds}' is MS Access ({options.get('filename')}); the ucanaccess driver "
            "needs Java and UCanAccess, which this engine does not support"
        )
    if driver in ("postgres", "postgresql"):
        host = options.get("host") or options.get("hostname") or options.get("dbhost")
        if "host" in options and not options.get("host"):
            return f"data source '{ds}' (PostgreSQL) has an empty host (unset environment variable?)"
        if not host:
            return None
        return None
    filename = data_source_file(entry)
    if filename and not project.resolver.exists(join_relative(parent_of(project.main), filename)):
        return f"data source '{ds}': file not found: {filename}"
    return None


def _sql(c: _Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("type") != "sql":
        return
    if _missing(raw.get("data_source")):
        c.add(E, IssueCode.SQL_MISSING_DATA_SOURCE, name, "type sql requires data_source", "", "type")
    query = raw.get("query")
    if _missing(query):
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


def _fixed(c: _Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("type") != "fixed":
        return
    values, columns = raw.get("values"), raw.get("columns")
    if _missing(values):
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
                IssueCode.FIXED_ROW_NOT_LIST,
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


def _foreign_keys(c: _Collector, spec: EntitySpec, declared: dict) -> None:
    name = spec.name
    raw_fks = spec.raw.get("foreign_keys")
    if raw_fks is not None and not isinstance(raw_fks, list):
        c.add(E, IssueCode.FK_MISSING_ENTITY, name, "foreign_keys must be a list", "", "foreign_keys")
        return
    for fk in spec.foreign_keys:
        label = f"foreign key #{fk.index}"
        if "_invalid" in fk.raw:
            c.add(E, IssueCode.FK_MISSING_ENTITY, name, f"{label} is not a mapping", "", "foreign_keys")
            continue
        if not fk.entity:
            c.add(
                E,
                IssueCode.FK_MISSING_ENTITY,
                name,
                f"{label} lacks the required field entity",
                "",
                "foreign_keys",
            )
            continue
        if fk.entity == name:
            c.add(
                E,
                IssueCode.FK_SELF_REFERENCE,
                name,
                f"{label} links the entity to itself",
                "",
                "foreign_keys",
            )
        if fk.how not in JOIN_TYPES:
            c.add(
                E,
                IssueCode.FK_INVALID_HOW,
                name,
                f"{label}: invalid how '{fk.how}'",
                "use inner, left, right, outer or cross",
                "foreign_keys",
            )
        if fk.how == "cross":
            if fk.local_keys or fk.remote_keys:
                c.add(
                    W,
                    IssueCode.FK_CROSS_WITH_KEYS,
                    name,
                    f"{label} is a cross join with keys: it is not linked",
                    "remove local_keys/remote_keys",
                    "foreign_keys",
                )
        else:
            if not fk.local_keys:
                c.add(
                    E, IssueCode.FK_MISSING_LOCAL_KEYS, name, f"{label} lacks local_keys", "", "foreign_keys"
                )
            if not fk.remote_keys:
                c.add(
                    E,
                    IssueCode.FK_MISSING_REMOTE_KEYS,
                    name,
                    f"{label} lacks remote_keys",
                    "",
                    "foreign_keys",
                )
            if fk.local_keys and fk.remote_keys and len(fk.local_keys) != len(fk.remote_keys):
                c.add(
                    E,
                    IssueCode.FK_KEY_COUNT,
                    name,
                    f"{label}: {len(fk.local_keys)} local_keys but {len(fk.remote_keys)} remote_keys",
                    "",
                    "foreign_keys",
                )
            if fk.entity in declared and fk.remote_keys:
                remote = declared[fk.entity]
                bad = [k for k in fk.remote_keys if k not in remote.declared_columns]
                if bad:
                    c.add(
                        W,
                        IssueCode.FK_CHECK_FAILED,
                        name,
                        f"{label}: remote keys {bad} are not declared "
                        f"columns of '{fk.entity}'; this foreign key will not be linked",
                        f"list them in '{fk.entity}'.columns",
                        "foreign_keys",
                    )
        extra = fk.raw.get("extra_columns")
        if extra is not None and not isinstance(extra, (str, list, dict)):
            c.add(
                E,
                IssueCode.FK_EXTRA_COLUMNS_TYPE,
                name,
                f"{label}: extra_columns must be a string, list or mapping",
                "",
                "foreign_keys",
            )
        cardinality = fk.constraints.get("cardinality")
        if isinstance(cardinality, str) and "-" in cardinality:
            c.add(
                INFO,
                IssueCode.FK_CONSTRAINT_UNKNOWN,
                name,
                f"{label}: cardinality '{cardinality}' is read as "
                f"'{cardinality.replace('-', '_')}' (the reference tool ignores hyphenated values)",
                "",
                "foreign_keys",
            )


def _unnest(c: _Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    unnest = raw.get("unnest")
    if not unnest:
        return
    if not isinstance(unnest, dict):
        c.add(E, IssueCode.UNNEST_MISSING_VAR_NAME, name, "unnest must be a mapping", "", "unnest")
        return
    if _missing(unnest.get("value_vars")):
        c.add(
            W,
            IssueCode.UNNEST_MISSING_VALUE_VARS,
            name,
            "unnest has no value_vars: every non-id column is melted, including extra columns",
            "",
            "unnest",
        )
    if _missing(unnest.get("var_name")):
        c.add(E, IssueCode.UNNEST_MISSING_VAR_NAME, name, "unnest lacks var_name", "", "unnest")
    if _missing(unnest.get("value_name")):
        c.add(E, IssueCode.UNNEST_MISSING_VALUE_NAME, name, "unnest lacks value_name", "", "unnest")
    if unnest.get("id_vars") is None:
        c.add(INFO, IssueCode.UNNEST_MISSING_ID_VARS, name, "unnest has no id_vars", "", "unnest")


def _drop_duplicates(c: _Collector, spec: EntitySpec) -> None:
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


def _surrogate_ids(c: _Collector, project: Project) -> None:
    users: dict[str, list[str]] = {}
    for name, spec in project.entities.items():
        sid = spec.surrogate_id
        if not sid:
            continue
        if not str(sid).endswith("_id"):
            c.add(
                INFO,
                IssueCode.SURROGATE_ID_NAMING,
                name,
                f"surrogate_id '{sid}' does not end with _id",
                "",
                "surrogate_id",
            )
        users.setdefault(sid, []).append(name)
    for sid, names in users.items():
        if len(names) > 1:
            c.add(
                W,
                IssueCode.SURROGATE_ID_SHARED,
                names[0],
                f"surrogate_id '{sid}' is used by several "
                f"entities: {', '.join(names)}; a table can link to only one of them",
                "give each entity its own surrogate_id",
            )


def _append(c: _Collector, spec: EntitySpec, declared: dict) -> None:
    raw, name = spec.raw, spec.name
    if not spec.append:
        return
    if spec.append_mode not in ("all", "distinct"):
        c.add(
            W,
            IssueCode.APPEND_MODE_INVALID,
            name,
            f"append_mode '{spec.append_mode}' is not all/distinct; treated as all",
            "",
            "append_mode",
        )
    for number, item in enumerate(spec.append, start=1):
        merged = {
            k: v
            for k, v in raw.items()
            if k not in ("foreign_keys", "unnest", "append", "append_mode", "depends_on")
        }
        merged.update(item)
        source = item.get("source")
        if isinstance(source, str) and source and source not in declared:
            c.add(
                W,
                IssueCode.APPEND_SOURCE_UNKNOWN,
                name,
                f"append item #{number}: source '{source}' is not "
                "a declared entity; this entity cannot be processed",
                "",
                "append",
            )
        if item.get("type") and item.get("source"):
            c.add(
                INFO,
                IssueCode.APPEND_TYPE_AND_SOURCE,
                name,
                f"append item #{number} has both type and source; "
                "the type's loader wins, source only adds a dependency",
                "",
                "append",
            )
        if "type" not in item and "source" not in item and raw.get("type"):
            c.add(
                INFO,
                IssueCode.APPEND_NO_TYPE_OR_SOURCE,
                name,
                f"append item #{number} inherits type '{raw.get('type')}' from the entity",
                "",
                "append",
            )
        if isinstance(source, str) and source and "type" not in item and raw.get("type") == "fixed":
            c.add(
                W,
                IssueCode.APPEND_TYPE_AND_SOURCE,
                name,
                f"append item #{number} inherits type: fixed and "
                "the entity's values, so its source is never read",
                "set type: data in the item",
                "append",
            )
        kind = merged.get("type")
        if kind == "fixed" and _missing(merged.get("values")):
            c.add(
                E,
                IssueCode.APPEND_FIXED_MISSING_VALUES,
                name,
                f"fixed append item #{number} has no values",
                "",
                "append",
            )
        elif kind == "fixed" and not isinstance(merged.get("values"), list):
            c.add(
                E,
                IssueCode.APPEND_FIXED_VALUES_NOT_LIST,
                name,
                f"append item #{number}: values must be a list",
                "",
                "append",
            )
        if kind == "sql" and _missing(merged.get("query")) and not isinstance(merged.get("values"), str):
            c.add(
                E,
                IssueCode.APPEND_SQL_MISSING_QUERY,
                name,
                f"SQL append item #{number} has no query",
                "",
                "append",
            )
        if isinstance(source, str) and source and _missing(merged.get("columns")):
            c.add(
                INFO,
                IssueCode.APPEND_SOURCE_NO_COLUMNS,
                name,
                f"source-based append item #{number} has no columns",
                "",
                "append",
            )


def _filters(c: _Collector, spec: EntitySpec, declared: dict) -> None:
    for number, item in enumerate(spec.filters, start=1):
        if not isinstance(item, dict) or not item.get("type"):
            c.add(
                W,
                IssueCode.FILTER_INVALID,
                spec.name,
                f"filter #{number} has no type and is skipped",
                "",
                "filters",
            )
            continue
        if item["type"] != "exists_in":
            c.add(
                E,
                IssueCode.FILTER_INVALID,
                spec.name,
                f"filter #{number}: unknown type '{item['type']}'",
                "",
                "filters",
            )
            continue
        if not item.get("column") or not item.get("other_entity"):
            c.add(
                E,
                IssueCode.FILTER_INVALID,
                spec.name,
                f"filter #{number} needs column and other_entity",
                "",
                "filters",
            )
            continue
        other = item["other_entity"]
        if other not in declared:
            c.add(
                W,
                IssueCode.FILTER_INVALID,
                spec.name,
                f"filter #{number}: other_entity '{other}' is not declared; this entity will fail",
                "",
                "filters",
            )
        elif other not in spec.depends_on and other != spec.source:
            c.add(
                INFO,
                IssueCode.FILTER_TARGET_NOT_DEPENDENCY,
                spec.name,
                f"filter #{number}: '{other}' is not in "
                "depends_on; this engine waits for it, the reference tool may not",
                f"add '{other}' to depends_on",
                "filters",
            )


def _file_inputs(c: _Collector, spec: EntitySpec, project: Project) -> None:
    raw = spec.raw
    if spec.data_source or raw.get("type") not in FILE_TYPES:
        return
    options = raw.get("options")
    filename = options.get("filename") if isinstance(options, dict) else None
    if not filename:
        c.add(
            E,
            IssueCode.FILE_MISSING,
            spec.name,
            f"type {raw.get('type')} needs options.filename",
            "",
            "options",
        )
        return
    if not project.resolver.exists(join_relative(parent_of(project.main), str(filename))):
        c.add(
            W, IssueCode.FILE_MISSING, spec.name, f"file not found: {filename}", "provide the file", "options"
        )


def validate(project: Project) -> list[Issue]:
    """Check a loaded configuration; return issues in rule order, entity by entity. Never raises."""
    c = _Collector(project)
    try:
        for message, path in project.load_warnings:
            c.add(W, IssueCode.LOAD_DIRECTIVE_FAILED, None, message, "", *path)
        entities = project.raw.get("entities")
        if not isinstance(entities, dict) or not entities:
            c.add(
                E,
                IssueCode.ENTITIES_MISSING,
                None,
                "the configuration has no entities",
                "add entities:",
                "entities",
            )
            return c.issues
        declared = project.entities
        usable: list[EntitySpec] = []
        for name, raw in entities.items():
            if raw is None or raw == {}:
                c.add(E, IssueCode.ENTITY_EMPTY, str(name), "entity has no configuration")
            elif not isinstance(raw, dict):
                c.add(E, IssueCode.ENTITY_NOT_MAPPING, str(name), "entity must be a mapping")
            else:
                usable.append(declared[str(name)])
        for spec in usable:
            _required_fields(c, spec)
        for spec in usable:
            _entity_exists(c, spec, declared)
        _cycles(c, project)
        for spec in usable:
            _data_sources(c, spec, project)
            _file_inputs(c, spec, project)
        for spec in usable:
            _sql(c, spec)
        for spec in usable:
            _fixed(c, spec)
        for spec in usable:
            _foreign_keys(c, spec, declared)
        for spec in usable:
            _unnest(c, spec)
        for spec in usable:
            _drop_duplicates(c, spec)
        _surrogate_ids(c, project)
        for spec in usable:
            _append(c, spec, declared)
            _filters(c, spec, declared)
        for path, literal in _find_literals(entities, ("entities",)):
            entity = path[1] if len(path) > 1 else None
            c.add(
                W,
                IssueCode.UNRESOLVED_REFERENCE,
                str(entity) if entity else None,
                f"unresolved directive left as text at {'.'.join(map(str, path[2:]))}: {literal!r}",
                "check the referenced path",
                *path[2:],
            )
        sourceless = [s.name for s in usable if not s.has_loader and not s.source]
        default = project.default_entity
        if sourceless and not default:
            c.add(
                INFO,
                IssueCode.DATA_MISSING_COLUMNS,
                None,
                f"{len(sourceless)} entities have no source and no "
                f"loader and read the input table (default entity): {', '.join(sourceless[:8])}"
                + (" ..." if len(sourceless) > 8 else ""),
                "run with an input table as default entity",
            )
    except Exception as exc:  # noqa: BLE001 - validate never raises
        c.issues.append(
            Issue(E, IssueCode.ENTITY_FAILED, None, f"validation crashed: {type(exc).__name__}: {exc}")
        )
    return c.issues
