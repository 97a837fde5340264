"""Rules about references between entities: existence, cycles, foreign keys, append, filters, ids."""

from __future__ import annotations

from ...issues import IssueCode
from ..model import FILE_TYPES, JOIN_TYPES, EntitySpec, Project
from .collector import INFO, Collector, E, W, missing


def entity_exists(c: Collector, spec: EntitySpec, declared: dict) -> None:
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
        hint = " (a file name? use options.filename)" if str(raw.get("type")) in FILE_TYPES else ""
        c.add(
            W,
            IssueCode.SOURCE_UNKNOWN,
            name,
            f"source '{source}' is not a declared entity{hint}; this entity cannot be processed",
            f"declare '{source}' or fix source",
            "source",
        )


CYCLE_EDGES = "source, depends_on, foreign keys, filters or append sources"


def cycles(c: Collector, project: Project, edges: str = CYCLE_EDGES, suggestion: str = "") -> None:
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
            f"circular dependency {' -> '.join(path)} (through {edges})",
            suggestion or "break the cycle; an entity cannot link to itself",
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


def foreign_key_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
    name = spec.name
    raw_fks = spec.raw.get("foreign_keys")
    if raw_fks is not None and not isinstance(raw_fks, list):
        c.add(E, IssueCode.FOREIGN_KEYS_NOT_LIST, name, "foreign_keys must be a list", "", "foreign_keys")
        return
    for fk in spec.foreign_keys:
        label = f"foreign key #{fk.index}"
        if "_invalid" in fk.raw:
            c.add(E, IssueCode.FK_NOT_MAPPING, name, f"{label} is not a mapping", "", "foreign_keys")
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
                columns = remote.declared_columns  # a property that builds the set: once, not per key
                bad = [k for k in fk.remote_keys if k not in columns]
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
                IssueCode.FK_CARDINALITY_HYPHENATED,
                name,
                f"{label}: cardinality '{cardinality}' is read as "
                f"'{cardinality.replace('-', '_')}' (the reference tool ignores hyphenated values)",
                "",
                "foreign_keys",
            )


def surrogate_ids(c: Collector, project: Project) -> None:
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


def append_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
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
        if kind == "fixed" and missing(merged.get("values")):
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
        if kind == "sql" and missing(merged.get("query")) and not isinstance(merged.get("values"), str):
            c.add(
                E,
                IssueCode.APPEND_SQL_MISSING_QUERY,
                name,
                f"SQL append item #{number} has no query",
                "",
                "append",
            )
        if isinstance(source, str) and source and missing(merged.get("columns")):
            c.add(
                INFO,
                IssueCode.APPEND_SOURCE_NO_COLUMNS,
                name,
                f"source-based append item #{number} has no columns",
                "",
                "append",
            )


def filter_rules(c: Collector, spec: EntitySpec, declared: dict) -> None:
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
                IssueCode.FILTER_UNKNOWN_ENTITY,
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
