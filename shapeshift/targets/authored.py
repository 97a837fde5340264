"""Checks of the author's own: the `checks:` section of a configuration (ShiftBench's, issue #11 item 3).

A target model says what every project of a database must satisfy (checks.py); `checks:` says what this
project's author expects of its own tables, where the model cannot say it: row count bounds, unique and
not-null columns, accepted values, relationships to another entity and "unchanged against the baseline
run". The section is ShiftBench's own: the reference tool ignores top-level keys it does not know
(configuration-format.md 1.8, format-v2.md 3), so a file carrying it still runs there.

    checks:
      sample:
        - rows: {min: 1, max: 100000}
        - unique: [sample_name]                 # one column, or a list: the combination is unique
        - not_null: [sample_name, site_id]      # each column
        - accepted_values: {column: sample_type, values: [pit, layer]}
        - relationship: {column: site_id, to: site}   # to_column: system_id unless named
        - equals_baseline: true
          severity: warning                     # on any item: error (default) or warning

checks, issues = parse_checks(project)           # issues: bad shapes, unknown entities and columns
results = run_checks(checks, tables, baseline=baseline_from_diff(diff_runs(base, head, identities(project))))

Nulls and empty strings are alike (an empty cell is read as null): they never fail `unique`,
`accepted_values` or `relationship` (as in SQL; `not_null` is the check that forbids them). A column
a check names that is absent from the run's table FAILS the check: the author declared it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ..config.model import as_name_list
from ..hints import did_you_mean, name_list
from ..issues import Issue, IssueCode, Severity
from .checks import (
    MAX_SAMPLE_ROWS,
    SYSTEM_ID,
    CheckKind,
    CheckResult,
    CheckStatus,
    _column,
    _missing,
    _plain,
    _sample,
    duplicate_rows,
)

if TYPE_CHECKING:
    from ..config.model import EntitySpec, Project
    from ..diff import EntityDiff

SECTION = "checks"
# the item keys of `checks:` and the kind each reports as
KINDS = {
    "rows": CheckKind.ROW_COUNT,
    "unique": CheckKind.UNIQUE,
    "not_null": CheckKind.NOT_NULL,
    "accepted_values": CheckKind.ACCEPTED_VALUES,
    "relationship": CheckKind.RELATIONSHIP,
    "equals_baseline": CheckKind.EQUALS_BASELINE,
}
SEVERITY_KEY = "severity"
SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING}


@dataclass(frozen=True)
class AuthoredCheck:
    """One check of `checks:`, validated. `params` by kind: row_count {min, max} (None: unbounded);
    accepted_values {values}; relationship {parent, parent_column}; others {}. `index` is the item's
    position in the entity's list (0-based, as in the YAML path), `location` its 'file:line'."""

    entity: str
    kind: CheckKind
    columns: tuple[str, ...]
    severity: Severity = Severity.ERROR
    params: dict = field(default_factory=dict)
    index: int = 0
    location: str = ""


# --- the columns a configuration says an entity's table has ----------------------------------------------


def _names(value) -> set[str]:
    return {name for name in as_name_list(value) if isinstance(name, str)}


def output_columns(spec: EntitySpec, project: Project) -> frozenset[str] | None:
    """The column names `spec`'s table can have, as its configuration declares them; None when the
    configuration cannot say (an SQL entity that lists no column takes its columns from its query).

    keys, columns, FK local keys, extra_columns, unnest names and id_vars (less the melted value_vars),
    append items' keys/columns, system_id, the entity's own identity column (public_id, format 1's
    surrogate_id) and surrogate_name, per FK the parent's identity column (unless dropped, 12.2 step 5)
    and the FK's extra_columns; for a merged entity (format-v2.md 16) its `<entity>_branch` column and
    each branch source's identity column (else `<source>_id`) and columns.
    """
    if spec.type == "sql" and not (spec.keys or spec.columns):
        return None
    names = {name for name in spec.declared_columns if isinstance(name, str)}
    if spec.unnest:
        names |= _names(spec.unnest.id_vars)
        names -= _names(spec.unnest.value_vars) - _names(spec.unnest.id_vars)
    for item in spec.append:
        names |= _names(item.get("keys")) | _names(item.get("columns"))
    names |= {name for name in (SYSTEM_ID, spec.identity, spec.surrogate_name) if isinstance(name, str)}
    for fk in spec.foreign_keys:
        names |= {name for name in fk.extra_columns if isinstance(name, str)}
        parent = project.entities.get(fk.entity) if fk.entity else None
        if parent is not None and parent.identity and not (fk.drop_remote_id and fk.extra_columns):
            names.add(parent.identity)
    for branch in spec.branches:
        names.add(f"{spec.name}_branch")
        source = branch.get("source")
        if isinstance(source, str) and source:
            origin = project.entities.get(source)
            names.add(origin.identity if origin is not None and origin.identity else f"{source}_id")
            if origin is not None:
                names |= _names(origin.columns)
    return frozenset(names)


# --- parsing -------------------------------------------------------------------------------------------


class _Invalid(Exception):
    """A check item that cannot be used; args: (code, message, suggestion)."""

    def __init__(self, message: str, suggestion: str = "", code: IssueCode = IssueCode.CHECK_INVALID):
        super().__init__(message)
        self.code, self.message, self.suggestion = code, message, suggestion


def _column_name(value, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid(f"{what} must be a column name, not {value!r}")
    return value


def _column_names(value, what: str) -> tuple[str, ...]:
    """A column name or a non-empty list of them (duplicates dropped, order kept)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _Invalid(f"{what} must be a column name or a list of them, not {value!r}")
    return tuple(dict.fromkeys(_column_name(item, what) for item in items))


def _arguments(value, kind: str, required: set[str], optional: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(f"{kind} takes a mapping of {', '.join(sorted(required | optional))}, not {value!r}")
    unknown = sorted(str(key) for key in value if key not in required | optional)
    if unknown:
        raise _Invalid(
            f"{kind}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(required | optional))})",
            did_you_mean(unknown, required | optional),
        )
    absent = sorted(required - set(value))
    if absent:
        raise _Invalid(f"{kind}: {', '.join(absent)} is required")
    return value


def _bound(value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(f"rows: {what} must be a whole number >= 0, not {value!r}")
    return value


def _row_count(value, project: Project) -> tuple[tuple[str, ...], dict]:
    arguments = _arguments(value, "rows", set(), {"min", "max"})
    low, high = _bound(arguments.get("min"), "min"), _bound(arguments.get("max"), "max")
    if low is None and high is None:
        raise _Invalid("rows needs min, max or both", "e.g. rows: {min: 1}")
    if low is not None and high is not None and low > high:
        raise _Invalid(f"rows: min {low} is greater than max {high}")
    return (), {"min": low, "max": high}


def _accepted_values(value, project: Project) -> tuple[tuple[str, ...], dict]:
    arguments = _arguments(value, "accepted_values", {"column", "values"}, set())
    column = _column_name(arguments["column"], "accepted_values: column")
    values = arguments["values"]
    if not isinstance(values, list) or not values:
        raise _Invalid(f"accepted_values: values must be a non-empty list, not {values!r}")
    for item in values:
        if item is None:
            raise _Invalid(
                "accepted_values: values cannot hold null (nulls always pass)", "add not_null to forbid them"
            )
        if not isinstance(item, str | int | float | bool):
            raise _Invalid(f"accepted_values: a value must be text, a number or a boolean, not {item!r}")
    return (column,), {"values": list(dict.fromkeys(values))}


def _relationship(value, project: Project) -> tuple[tuple[str, ...], dict]:
    arguments = _arguments(value, "relationship", {"to"}, {"column", "to_column"})
    parent = arguments["to"]
    if not isinstance(parent, str) or not parent:
        raise _Invalid(f"relationship: to must be an entity name, not {parent!r}")
    spec = project.entities.get(parent)
    if spec is None:
        raise _Invalid(
            f"relationship: to names entity '{parent}', which is not declared",
            did_you_mean([parent], project.entities),
            IssueCode.CHECK_ENTITY_UNKNOWN,
        )
    if "column" in arguments:
        column = _column_name(arguments["column"], "relationship: column")
    elif spec.identity:
        column = spec.identity  # the column a foreign key to the parent fills (format-v2.md 5.3)
    else:
        raise _Invalid(
            f"relationship to '{parent}': name the column ('{parent}' has no public_id to default to)"
        )
    parent_column = _column_name(arguments.get("to_column", SYSTEM_ID), "relationship: to_column")
    return (column,), {"parent": parent, "parent_column": parent_column}


def _equals_baseline(value, project: Project) -> tuple[tuple[str, ...], dict]:
    if value is not True:
        raise _Invalid(f"equals_baseline takes true, not {value!r}", "remove the item to drop the check")
    return (), {}


def _unique_columns(value, project: Project) -> tuple[tuple[str, ...], dict]:
    return _column_names(value, "unique"), {}


def _not_null_columns(value, project: Project) -> tuple[tuple[str, ...], dict]:
    return _column_names(value, "not_null"), {}


PARSERS: dict[str, Callable[[object, Project], tuple[tuple[str, ...], dict]]] = {
    "rows": _row_count,
    "unique": _unique_columns,
    "not_null": _not_null_columns,
    "accepted_values": _accepted_values,
    "relationship": _relationship,
    "equals_baseline": _equals_baseline,
}


def _kind_key(item) -> str:
    if not isinstance(item, dict):
        raise _Invalid(
            f"a check is a mapping like {{not_null: [column]}}, not {item!r}",
            f"known checks: {', '.join(KINDS)}",
        )
    keys = [key for key in item if key != SEVERITY_KEY]
    known = [key for key in keys if key in KINDS]
    others = sorted(str(key) for key in keys if key not in KINDS)
    if not known:
        raise _Invalid(
            f"unknown check {', '.join(others) or '(none named)'} (known: {', '.join(KINDS)})",
            did_you_mean(others, KINDS),
            IssueCode.CHECK_KIND_UNKNOWN,
        )
    if len(known) > 1 or others:
        raise _Invalid(
            f"one check per item, found {', '.join(str(key) for key in keys)}", "split them into items"
        )
    return known[0]


def _severity(item: dict) -> Severity:
    value = item.get(SEVERITY_KEY, "error")
    if not isinstance(value, str) or value not in SEVERITIES:
        raise _Invalid(f"severity must be error or warning, not {value!r}")
    return SEVERITIES[value]


def _unknown_columns(columns: Iterable[str], known: frozenset[str] | None, entity: str) -> None:
    if known is None:
        return
    unknown = [name for name in columns if name not in known]
    if unknown:
        listed = ", ".join(f"'{name}'" for name in unknown)
        raise _Invalid(
            f"{listed} {'is no column' if len(unknown) == 1 else 'are no columns'} of '{entity}' "
            f"(its columns: {name_list(sorted(known))})",
            did_you_mean(unknown, known),
            IssueCode.CHECK_COLUMN_UNKNOWN,
        )


def _item_checks(entity: str, index: int, item, project: Project, location: str) -> list[AuthoredCheck]:
    key = _kind_key(item)
    severity = _severity(item)
    columns, params = PARSERS[key](item[key], project)
    spec = project.entities[entity]
    _unknown_columns(columns, output_columns(spec, project), entity)
    if key == "relationship":
        parent = project.entities[params["parent"]]
        _unknown_columns((params["parent_column"],), output_columns(parent, project), parent.name)
    make = dict(entity=entity, kind=KINDS[key], severity=severity, index=index, location=location)
    if key == "not_null":  # one check per column: each gets its own verdict and sample
        return [AuthoredCheck(columns=(column,), params=params, **make) for column in columns]
    return [AuthoredCheck(columns=columns, params=params, **make)]


def parse_checks(project: Project) -> tuple[list[AuthoredCheck], list[Issue]]:
    """The `checks:` section as checks, in the written order, and an ERROR issue for each item that
    cannot be used (it is left out): a section or list of the wrong shape, an undeclared entity, an
    unknown check kind, bad arguments or severity, a column the entity does not produce. Never raises;
    a configuration without `checks:` gives ([], [])."""
    section = project.raw.get(SECTION)
    if section is None:
        return [], []
    if not isinstance(section, dict):
        return [], [
            Issue(
                Severity.ERROR,
                IssueCode.CHECKS_NOT_MAPPING,
                None,
                f"checks: must map entity names to lists of checks, not {type(section).__name__}",
                "e.g. checks: {sample: [{not_null: [sample_name]}]}",
                project.location(SECTION),
            )
        ]
    checks: list[AuthoredCheck] = []
    issues: list[Issue] = []
    for name, items in section.items():
        entity = str(name)
        where = project.location(SECTION, name)
        if entity not in project.entities:
            issues.append(
                Issue(
                    Severity.ERROR,
                    IssueCode.CHECK_ENTITY_UNKNOWN,
                    None,
                    f"checks: entity '{entity}' is not declared",
                    did_you_mean([entity], project.entities),
                    where,
                )
            )
            continue
        if items is None:
            continue  # `sample:` with nothing under it yet
        if not isinstance(items, list):
            issues.append(
                Issue(
                    Severity.ERROR,
                    IssueCode.CHECKS_NOT_LIST,
                    entity,
                    f"checks of '{entity}' must be a list of checks, not {type(items).__name__}",
                    "write each check as a list item: - not_null: [column]",
                    where,
                )
            )
            continue
        for index, item in enumerate(items):
            location = project.location(SECTION, name, index)
            try:
                checks.extend(_item_checks(entity, index, item, project, location))
            except _Invalid as invalid:
                issues.append(
                    Issue(
                        Severity.ERROR,
                        invalid.code,
                        entity,
                        f"checks of '{entity}', item {index + 1}: {invalid.message}",
                        invalid.suggestion,
                        location,
                    )
                )
    return checks, issues


# --- running -------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: CheckStatus
    message: str
    reason: str = ""
    failing: np.ndarray | None = None  # boolean mask over the table's rows
    details: dict = field(default_factory=dict)


def _skipped(reason: str) -> _Outcome:
    return _Outcome(CheckStatus.SKIPPED, f"not checked: {reason}", reason)


def _judged(failing: np.ndarray, failed: str, passed: str, **details) -> _Outcome:
    if failing.any():
        return _Outcome(CheckStatus.FAILED, failed, failing=failing, details=details)
    return _Outcome(CheckStatus.PASSED, passed, details=details)


def _bounds(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"exactly {low}" if low == high else f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _row_count_outcome(check: AuthoredCheck, table: pd.DataFrame) -> _Outcome:
    rows, low, high = len(table), check.params["min"], check.params["max"]
    expected = _bounds(low, high)
    if (low is not None and rows < low) or (high is not None and rows > high):
        message = f"entity '{check.entity}' has {rows} row(s), {expected} expected"
        return _Outcome(CheckStatus.FAILED, message, details={"rows": rows})
    message = f"entity '{check.entity}' has {rows} row(s) ({expected} expected)"
    return _Outcome(CheckStatus.PASSED, message, details={"rows": rows})


def _unique_outcome(check: AuthoredCheck, table: pd.DataFrame) -> _Outcome:
    label = ", ".join(check.columns)
    failing = duplicate_rows(table, check.columns)
    return _judged(
        failing,
        f"entity '{check.entity}': {int(failing.sum())} row(s) share their ({label}) with another row",
        f"entity '{check.entity}': ({label}) is unique",
    )


def _not_null_outcome(check: AuthoredCheck, table: pd.DataFrame) -> _Outcome:
    (column,) = check.columns
    failing = _missing(_column(table, column))
    return _judged(
        failing,
        f"entity '{check.entity}': column '{column}' has {int(failing.sum())} null value(s)",
        f"entity '{check.entity}': column '{column}' has no null values",
    )


def _outside(values: pd.Series, accepted: list) -> np.ndarray:
    """Per value: True where it is none of `accepted`, compared as it is or as text (a table read from
    CSV holds "1" where the YAML says 1); judged per distinct value."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells: judge their text
        codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=True)
    distinct = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
    texts = {str(value) for value in accepted}
    bad = ~(np.asarray(distinct.isin(accepted), dtype=bool) | np.asarray(distinct.astype(str).isin(texts)))
    outside = np.zeros(len(values), dtype=bool)
    known = codes >= 0
    outside[known] = bad[codes[known]]
    return outside


def _accepted_values_outcome(check: AuthoredCheck, table: pd.DataFrame) -> _Outcome:
    (column,) = check.columns
    accepted = check.params["values"]
    series = _column(table, column)
    failing = ~_missing(series)
    failing[failing] = _outside(series[failing], accepted)
    unexpected = pd.unique(series[failing])[:MAX_SAMPLE_ROWS] if failing.any() else []
    return _judged(
        failing,
        f"entity '{check.entity}': column '{column}' has {int(failing.sum())} row(s) with a value not in "
        f"{name_list(accepted)} (e.g. {', '.join(repr(_plain(value)) for value in unexpected[:5])})",
        f"entity '{check.entity}': every '{column}' value is in {name_list(accepted)}",
        values=accepted,
        unexpected_values=[_plain(value) for value in unexpected],
    )


def _comparable(values: pd.Series, other: pd.Series) -> pd.Series:
    """`values` as numbers when `other` holds numbers and they do not: ids read back as text still match."""
    if ptypes.is_numeric_dtype(other.dtype) and not ptypes.is_numeric_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce")
    return values


def _relationship_outcome(check: AuthoredCheck, table: pd.DataFrame, tables: Mapping) -> _Outcome:
    (column,) = check.columns
    parent, parent_column = check.params["parent"], check.params["parent_column"]
    details = {"parent": parent, "parent_column": parent_column}
    parent_table = tables.get(parent)
    if parent_table is None:
        return _skipped(f"entity '{parent}' did not produce a table")
    if parent_column not in parent_table.columns:
        return _Outcome(
            CheckStatus.FAILED,
            f"entity '{check.entity}': relationship to '{parent}': column '{parent_column}' is not in the "
            f"table of '{parent}'",
            details=details,
        )
    targets = _column(parent_table, parent_column)
    targets = targets[~_missing(targets)]
    values = _column(table, column)
    present = ~_missing(values)
    child = values[present]
    child, targets = _comparable(child, targets), _comparable(targets, child)
    failing = np.zeros(len(table), dtype=bool)
    failing[present] = ~child.isin(pd.unique(targets)).to_numpy(dtype=bool)
    orphans = int(values[failing].nunique(dropna=False))
    return _judged(
        failing,
        f"entity '{check.entity}': {int(failing.sum())} row(s) have a '{column}' that is no "
        f"'{parent}.{parent_column}' ({orphans} distinct value(s))",
        f"entity '{check.entity}': every '{column}' value is a '{parent}.{parent_column}'",
        **details,
        orphan_values=orphans,
    )


def _equals_baseline_outcome(check: AuthoredCheck, baseline: Mapping[str, bool] | None) -> _Outcome:
    if baseline is None:
        return _skipped("no baseline run")
    if check.entity not in baseline:
        return _skipped(f"entity '{check.entity}' was not compared with the baseline run")
    if baseline[check.entity]:
        return _Outcome(CheckStatus.PASSED, f"entity '{check.entity}' equals the baseline run")
    return _Outcome(CheckStatus.FAILED, f"entity '{check.entity}' differs from the baseline run")


def _outcome(
    check: AuthoredCheck,
    table: pd.DataFrame | None,
    tables: Mapping[str, pd.DataFrame],
    baseline: Mapping[str, bool] | None,
) -> _Outcome:
    if table is None:
        return _skipped("entity did not produce a table")
    absent = [name for name in check.columns if name not in table.columns]
    if absent:  # the author named the column: its absence is a finding, not a reason to skip
        listed = ", ".join(f"'{name}'" for name in absent)
        return _Outcome(CheckStatus.FAILED, f"entity '{check.entity}': column {listed} is not in the table")
    kind = check.kind
    if kind is CheckKind.ROW_COUNT:
        return _row_count_outcome(check, table)
    if kind is CheckKind.UNIQUE:
        return _unique_outcome(check, table)
    if kind is CheckKind.NOT_NULL:
        return _not_null_outcome(check, table)
    if kind is CheckKind.ACCEPTED_VALUES:
        return _accepted_values_outcome(check, table)
    if kind is CheckKind.RELATIONSHIP:
        return _relationship_outcome(check, table, tables)
    return _equals_baseline_outcome(check, baseline)


def baseline_from_diff(diffs: Iterable[EntityDiff]) -> dict[str, bool]:
    """`run_checks`' baseline from shapeshift.diff.diff_runs(baseline_run, this_run, ...): entity -> True
    when its table equals the baseline run's (rows matched by identity, so renumbered ids do not count)."""
    return {diff.entity: not diff.differs for diff in diffs}


def run_checks(
    checks: Iterable[AuthoredCheck],
    tables: Mapping[str, pd.DataFrame],
    *,
    baseline: Mapping[str, bool] | None = None,
) -> list[CheckResult]:
    """Each check against the run's `tables` (entity -> final table, with `system_id`), in order.

    `baseline` maps an entity to whether its diff against the configuration's baseline run found no
    difference (the caller computes it with shapeshift.diff); without it `equals_baseline` is SKIPPED
    ("no baseline run"). A check of an entity without a table is SKIPPED; one that names a column
    absent from the table FAILS. Failing rows: up to MAX_SAMPLE_ROWS in `sample`, `system_id` first.
    """
    results = []
    for check in checks:
        table = tables.get(check.entity)
        outcome = _outcome(check, table, tables, baseline)
        failing = outcome.failing
        has_rows = failing is not None and table is not None
        results.append(
            CheckResult(
                entity=check.entity,
                kind=check.kind,
                columns=check.columns,
                severity=check.severity,
                status=outcome.status,
                message=outcome.message,
                reason=outcome.reason,
                failing_rows=int(failing.sum()) if has_rows else 0,
                sample=_sample(table, failing, check.columns) if has_rows else [],
                details={**check.params, **outcome.details, "location": check.location},
            )
        )
    return results
