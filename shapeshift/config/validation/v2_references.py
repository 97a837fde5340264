"""Format-2 rules that look at other entities: foreign keys, extra columns, filters, public ids.

format-v2.md 8, 11, 12, 5.2 and the section-18 rule table, at the severities of the package docstring.
"""

from __future__ import annotations

from ...hints import did_you_mean
from ...issues import IssueCode
from ...v2.formulas import FormulaError
from ..model import JOIN_TYPES, EntitySpec, Project
from .collector import INFO, Collector, E, W, missing
from .expressions import Kind, check_query, formula_columns, interpolation_names, kind_of, query_columns
from .v2_entity import unknown_keys
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
