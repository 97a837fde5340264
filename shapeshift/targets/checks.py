"""Data-level checks of a run's tables against a target model (format-v2.md 19.4, issue #11 item 2).

After the entities are processed, their tables are measured against the model: required entities and
columns present, values compatible with the declared type, no nulls where the model forbids them, unique
sets and identity columns unique, required foreign keys filled, and every foreign-key value an existing
parent row. Each check is reported, passed or not; one that cannot run is SKIPPED with its reason.

Everything is vectorised: a check costs a few passes over its columns (object columns are judged per
distinct value), so tables of a million rows are fine.

Deviation from the reference (19.4, section 20 #31/#32): referential integrity compares the FK values
with the parent's `system_id` (what an FK column holds, 5.3), not with the parent's `public_id` column; and
`decimal` is checked as a number instead of being skipped.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum, unique
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from dateutil import parser as dateutil_parser
from pandas.api import types as ptypes

from ..issues import Severity
from .model import ModelEntity, TargetModel

if TYPE_CHECKING:
    from ..config.model import Project

MAX_SAMPLE_ROWS = 20
SYSTEM_ID = "system_id"  # every processed table's row id (5.1); FK columns hold the parent's


@unique
class CheckKind(StrEnum):
    REQUIRED_ENTITY = "required_entity"
    REQUIRED_COLUMN = "required_column"
    TYPE = "type"
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    REQUIRED_FK = "required_fk"
    REFERENTIAL_INTEGRITY = "referential_integrity"
    # checks of the author's own (`checks:`, authored.py); they reuse UNIQUE and NOT_NULL
    ROW_COUNT = "row_count"
    ACCEPTED_VALUES = "accepted_values"
    RELATIONSHIP = "relationship"
    EQUALS_BASELINE = "equals_baseline"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


# An ERROR is data the target cannot take as it is: a missing entity or column, a null where the model
# forbids one, a row not linked to its required parent, a link to a parent row that does not exist.
# TYPE and UNIQUE are WARNINGs: the model's types are free text and the import casts values, so a type
# check can only be a heuristic (the reference also warns); unique sets and identity columns are
# informational in the model (19.1), and duplicates can be legitimate before reconciliation.
SEVERITIES = {
    CheckKind.REQUIRED_ENTITY: Severity.ERROR,
    CheckKind.REQUIRED_COLUMN: Severity.ERROR,
    CheckKind.TYPE: Severity.WARNING,
    CheckKind.NOT_NULL: Severity.ERROR,
    CheckKind.UNIQUE: Severity.WARNING,
    CheckKind.REQUIRED_FK: Severity.ERROR,
    CheckKind.REFERENTIAL_INTEGRITY: Severity.ERROR,
}


@dataclass(frozen=True)
class CheckResult:
    """One data-level check of one entity.

    `columns` are the columns checked (for FK checks: the FK column); `message` says what was found;
    `reason` says why a check was SKIPPED ("" otherwise). `failing_rows` counts the rows that break the
    rule (0 for checks about the table's shape: required entity/column, a required FK column that is
    absent); `sample` holds up to MAX_SAMPLE_ROWS of them as {column: value} with `system_id` first, values
    made JSON-ready. `details` holds kind-specific facts: `type` (declared type), `parent`,
    `parent_column`, `orphan_values` (distinct FK values without a parent row).
    """

    entity: str
    kind: CheckKind
    columns: tuple[str, ...]
    severity: Severity
    status: CheckStatus
    message: str
    reason: str = ""
    failing_rows: int = 0
    sample: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "entity": self.entity,
            "kind": self.kind.value,
            "columns": list(self.columns),
            "severity": self.severity.value,
            "status": self.status.value,
            "message": self.message,
            "reason": self.reason,
            "failing_rows": self.failing_rows,
            "sample": self.sample,
            "details": self.details,
        }


class _Outcome(NamedTuple):
    status: CheckStatus
    message: str
    reason: str = ""
    failing: np.ndarray | None = None  # boolean mask over the table's rows
    details: dict | None = None


class _Check(NamedTuple):
    kind: CheckKind
    columns: tuple[str, ...]
    details: dict
    run: Callable[[pd.DataFrame], _Outcome]


def _passed(message: str, **details) -> _Outcome:
    return _Outcome(CheckStatus.PASSED, message, details=details or None)


def _failed(message: str, failing: np.ndarray | None = None, **details) -> _Outcome:
    return _Outcome(CheckStatus.FAILED, message, failing=failing, details=details or None)


def _skipped(reason: str) -> _Outcome:
    return _Outcome(CheckStatus.SKIPPED, f"not checked: {reason}", reason)


# --- values ------------------------------------------------------------------------------------------


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    """The column `name` (the first, should a table repeat a name)."""
    return table.iloc[:, int(np.flatnonzero(table.columns == name)[0])]


def _missing(series: pd.Series) -> np.ndarray:
    """Nulls, and empty strings: both are written as an empty cell, which the target reads as null."""
    mask = series.isna().to_numpy(dtype=bool)
    dtype = series.dtype
    if (
        ptypes.is_object_dtype(dtype)
        or ptypes.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        mask |= (series == "").fillna(False).to_numpy(dtype=bool)
    return mask


def _plain(value):
    """A sample value as JSON can hold it."""
    if value is None or (np.ndim(value) == 0 and not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, datetime.date | datetime.time):  # Timestamp included
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _sample(table: pd.DataFrame, failing: np.ndarray, columns: tuple[str, ...]) -> list[dict]:
    names = [SYSTEM_ID, *(c for c in columns if c != SYSTEM_ID)]
    names = [name for name in names if name in table.columns]
    rows = np.flatnonzero(failing)[:MAX_SAMPLE_ROWS]
    picked = {name: _column(table, name).iloc[rows].tolist() for name in names}
    return [{name: _plain(picked[name][i]) for name in names} for i in range(len(rows))]


# --- declared types ----------------------------------------------------------------------------------


class _Family(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


# the documented vocabulary (19.1) and a few common SQL spellings; anything else is not checked
TYPE_FAMILIES = {
    "string": _Family.STRING,
    "text": _Family.STRING,
    "varchar": _Family.STRING,
    "char": _Family.STRING,
    "integer": _Family.INTEGER,
    "int": _Family.INTEGER,
    "smallint": _Family.INTEGER,
    "bigint": _Family.INTEGER,
    "decimal": _Family.NUMBER,
    "numeric": _Family.NUMBER,
    "float": _Family.NUMBER,
    "double": _Family.NUMBER,
    "real": _Family.NUMBER,
    "number": _Family.NUMBER,
    "boolean": _Family.BOOLEAN,
    "bool": _Family.BOOLEAN,
    "date": _Family.DATE,
    "datetime": _Family.DATE,
    "timestamp": _Family.DATE,
}
BOOLEAN_WORDS = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n", "1", "0", "1.0", "0.0"})


def _integral(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values == np.floor(values))


def _parses_as_date(text: str) -> bool:
    """dateutil reads any year 1-9999 (pandas' nanosecond timestamps stop at 1677, too early for SEAD)."""
    try:
        dateutil_parser.parse(text)
    except (ValueError, OverflowError):
        return False
    return True


def _bad_texts(texts: pd.Index, family: _Family) -> np.ndarray:
    """For each distinct value (as text): True where it does not read as `family`."""
    if family is _Family.BOOLEAN:
        return ~texts.str.lower().isin(BOOLEAN_WORDS)
    if family is _Family.DATE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": then each is parsed on its own
            parsed = pd.to_datetime(texts, errors="coerce", utc=True)
        bad = np.asarray(parsed.isna(), dtype=bool)
        # distinct values pandas cannot hold or read (usually none) get a second, slower reading; text
        # without a digit is no date, so a column of words costs no more than the first reading
        retry = bad & np.asarray(texts.str.contains(r"\d", regex=True), dtype=bool)
        for position in np.flatnonzero(retry):
            bad[position] = not _parses_as_date(texts[position])
        return bad
    numbers = np.asarray(pd.to_numeric(texts, errors="coerce"), dtype="float64")
    if family is _Family.INTEGER:
        return ~_integral(numbers)
    return ~np.isfinite(numbers)


def _by_distinct_value(series: pd.Series, family: _Family) -> np.ndarray:
    """Judge an object/string/category column by its distinct values' text (one parse per value)."""
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, mappings): judge their text
        codes, uniques = pd.factorize(series.astype(str), use_na_sentinel=True)
    texts = pd.Index(np.asarray(uniques, dtype=object)).astype(str).str.strip()
    bad_unique = _bad_texts(texts, family) if len(texts) else np.zeros(0, dtype=bool)
    bad = np.zeros(len(series), dtype=bool)
    valid = codes >= 0
    bad[valid] = bad_unique[codes[valid]]
    return bad


def _incompatible(series: pd.Series, family: _Family) -> np.ndarray:
    """Rows whose (non-missing) value does not fit the declared type family; nulls never fail."""
    none = np.zeros(len(series), dtype=bool)
    if family is _Family.STRING:
        return none  # any value can be written as text
    present = ~_missing(series)
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return none if family is _Family.BOOLEAN else present
    if ptypes.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        if family is _Family.INTEGER:
            return present & (none if ptypes.is_integer_dtype(dtype) else ~_integral(values))
        if family is _Family.NUMBER:
            return present & ~np.isfinite(values)
        if family is _Family.BOOLEAN:
            return present & ~np.isin(values, (0.0, 1.0))
        return present  # a number is no date
    if ptypes.is_datetime64_any_dtype(dtype):
        return none if family is _Family.DATE else present
    if ptypes.is_timedelta64_dtype(dtype):
        return present
    return present & _by_distinct_value(series, family)


# --- the checks ----------------------------------------------------------------------------------------


def _absent(table: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    return [name for name in columns if name not in table.columns]


def _skip_absent(table: pd.DataFrame, columns: tuple[str, ...]) -> _Outcome | None:
    absent = _absent(table, columns)
    if absent:
        return _skipped("column absent: " + ", ".join(f"'{name}'" for name in absent))
    return None


def _required_column(name: str, column: str) -> _Check:
    def run(table: pd.DataFrame) -> _Outcome:
        if column in table.columns:
            return _passed(f"entity '{name}': column '{column}' is present")
        return _failed(f"entity '{name}': required column '{column}' is not in the table")

    return _Check(CheckKind.REQUIRED_COLUMN, (column,), {}, run)


def _type(name: str, column: str, declared: str) -> _Check:
    family = TYPE_FAMILIES.get(declared.strip().lower())

    def run(table: pd.DataFrame) -> _Outcome:
        if family is None:
            return _skipped(f"type '{declared}' is not checked (known: {', '.join(sorted(TYPE_FAMILIES))})")
        skip = _skip_absent(table, (column,))
        if skip:
            return skip
        failing = _incompatible(_column(table, column), family)
        count = int(failing.sum())
        if count:
            return _failed(
                f"entity '{name}': column '{column}': {count} of {len(table)} value(s) are not "
                f"{family.value} (declared type '{declared}')",
                failing,
            )
        return _passed(f"entity '{name}': column '{column}': every value fits type '{declared}'")

    return _Check(CheckKind.TYPE, (column,), {"type": declared}, run)


def _not_null(name: str, column: str) -> _Check:
    def run(table: pd.DataFrame) -> _Outcome:
        skip = _skip_absent(table, (column,))
        if skip:
            return skip
        failing = _missing(_column(table, column))
        count = int(failing.sum())
        if count:
            return _failed(
                f"entity '{name}': column '{column}' is not nullable in the target model but has {count} "
                "null value(s)",
                failing,
            )
        return _passed(f"entity '{name}': column '{column}' has no null values")

    return _Check(CheckKind.NOT_NULL, (column,), {}, run)


def duplicate_rows(table: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """Rows whose values in `columns` (all present) another row repeats; a row with a null in them never
    collides, as in SQL: only complete values can."""
    subset = pd.DataFrame({column: _column(table, column) for column in columns})
    complete = np.ones(len(table), dtype=bool)
    for column in columns:
        complete &= ~_missing(subset[column])
    failing = np.zeros(len(table), dtype=bool)
    try:
        failing[complete] = subset[complete].duplicated(keep=False).to_numpy()
    except TypeError:  # unhashable cells: compare their text
        failing[complete] = subset[complete].astype(str).duplicated(keep=False).to_numpy()
    return failing


def _unique(name: str, columns: tuple[str, ...], origin: str) -> _Check:
    """Rows with a null in the set take no part, as in SQL: only complete values can collide."""
    label = ", ".join(columns)

    def run(table: pd.DataFrame) -> _Outcome:
        skip = _skip_absent(table, columns)
        if skip:
            return skip
        failing = duplicate_rows(table, columns)
        count = int(failing.sum())
        if count:
            return _failed(
                f"entity '{name}': {count} row(s) share their ({label}) with another row ({origin})", failing
            )
        return _passed(f"entity '{name}': ({label}) is unique ({origin})")

    return _Check(CheckKind.UNIQUE, columns, {"origin": origin}, run)


def _required_fk(name: str, parent: str, column: str | None) -> _Check:
    def run(table: pd.DataFrame) -> _Outcome:
        if column is None:
            return _failed(f"entity '{name}': no column can link to '{parent}' (it has no public_id)")
        if column not in table.columns:
            return _failed(f"entity '{name}': not linked to '{parent}' (no column '{column}')")
        failing = _missing(_column(table, column))
        count = int(failing.sum())
        if count:
            return _failed(
                f"entity '{name}': {count} row(s) have no '{parent}' (null '{column}'), a required link",
                failing,
            )
        return _passed(f"entity '{name}': every row links to '{parent}'")

    return _Check(CheckKind.REQUIRED_FK, (column,) if column else (), {"parent": parent}, run)


def _referential_integrity(name: str, parent: str, column: str | None, tables: Mapping) -> _Check:
    """FK values must be parent `system_id`s (5.3): the reference compares them with the parent's
    `public_id` column instead and so reports every linked value as orphaned (19.4, bug)."""
    details = {"parent": parent, "parent_column": SYSTEM_ID}

    def run(table: pd.DataFrame) -> _Outcome:
        if column is None:
            return _skipped(f"'{parent}' has no public_id, so no column links to it")
        skip = _skip_absent(table, (column,))
        if skip:
            return skip
        parent_table = tables.get(parent)
        if parent_table is None:
            return _skipped(f"no table for '{parent}'")
        if SYSTEM_ID not in parent_table.columns:
            return _skipped(f"the table of '{parent}' has no '{SYSTEM_ID}'")
        ids = _column(parent_table, SYSTEM_ID)
        ids = pd.unique(ids[~_missing(ids)])
        values = _column(table, column)
        present = ~_missing(values)
        child = values[present]
        if ptypes.is_numeric_dtype(ids.dtype) and not ptypes.is_numeric_dtype(child.dtype):
            child = pd.to_numeric(child, errors="coerce")  # ids read back as text still match
        failing = np.zeros(len(table), dtype=bool)
        failing[present] = ~child.isin(ids).to_numpy(dtype=bool)
        count = int(failing.sum())
        if count:
            orphans = int(values[failing].nunique(dropna=False))
            return _failed(
                f"entity '{name}': {count} row(s) have a '{column}' that is no '{parent}.{SYSTEM_ID}' "
                f"({orphans} distinct value(s))",
                failing,
                orphan_values=orphans,
            )
        return _passed(f"entity '{name}': every '{column}' value is a '{parent}.{SYSTEM_ID}'")

    return _Check(CheckKind.REFERENTIAL_INTEGRITY, (column,) if column else (), details, run)


def _fk_column(parent: str, project: Project, model: TargetModel) -> str | None:
    """The column an FK to `parent` fills: named after the parent's public_id in the project (5.3; a
    format-1 project's surrogate_id, which its FK columns are named after), or in the model when the
    project has no such entity."""
    spec = project.entities.get(parent)
    if spec is not None:
        return spec.identity
    modelled = model.entities.get(parent)
    return modelled.public_id if modelled else None


def _non_nullable(column) -> bool:
    """`nullable: false`, or `required: true` without `nullable: true` (the reference's reading)."""
    return column.nullable is False or (column.required and column.nullable is not True)


def _entity_checks(
    name: str, entity: ModelEntity, project: Project, model: TargetModel, tables: Mapping
) -> Iterator[_Check]:
    columns = entity.columns.values()
    for column in columns:
        if column.required:
            yield _required_column(name, column.name)
    for column in columns:
        if column.type:
            yield _type(name, column.name, column.type)
    for column in columns:
        if _non_nullable(column):
            yield _not_null(name, column.name)
    sets = {}
    for columns_set, origin in [
        *((s, "unique set") for s in entity.unique_sets),
        (entity.identity_columns, "identity columns"),
    ]:
        if columns_set:
            sets.setdefault(frozenset(columns_set), (tuple(columns_set), origin))
    for columns_set, origin in sets.values():
        yield _unique(name, columns_set, origin)
    seen = set()
    for fk in entity.foreign_keys:
        if fk.via:
            if fk.required:
                yield _Check(
                    CheckKind.REQUIRED_FK,
                    (),
                    {"parent": fk.entity, "via": fk.via},
                    lambda table, fk=fk: _skipped(
                        f"a link through the bridge entity '{fk.via}', checked there"
                    ),
                )
            continue
        if fk.entity in seen:
            continue
        seen.add(fk.entity)
        column = _fk_column(fk.entity, project, model)
        if fk.required:
            yield _required_fk(name, fk.entity, column)
        yield _referential_integrity(name, fk.entity, column, tables)


def _result(name: str, check: _Check, table: pd.DataFrame | None) -> CheckResult:
    outcome = (
        check.run(table) if table is not None else _skipped("no table (the entity failed or was not run)")
    )
    failing = outcome.failing
    has_rows = failing is not None and table is not None
    return CheckResult(
        entity=name,
        kind=check.kind,
        columns=check.columns,
        severity=SEVERITIES[check.kind],
        status=outcome.status,
        message=outcome.message,
        reason=outcome.reason,
        failing_rows=int(failing.sum()) if has_rows else 0,
        sample=_sample(table, failing, check.columns) if has_rows else [],
        details={**check.details, **(outcome.details or {})},
    )


def _required_entity(name: str, project: Project, table: pd.DataFrame | None) -> CheckResult:
    if table is not None:
        outcome = _passed(f"entity '{name}' produced a table ({len(table)} rows)")
    elif name not in project.entities:
        outcome = _failed(f"the target model requires entity '{name}', which the project does not have")
    else:
        outcome = _skipped(f"entity '{name}' produced no table (it failed or was not run)")
    return CheckResult(
        entity=name,
        kind=CheckKind.REQUIRED_ENTITY,
        columns=(),
        severity=SEVERITIES[CheckKind.REQUIRED_ENTITY],
        status=outcome.status,
        message=outcome.message,
        reason=outcome.reason,
    )


def check_data(tables: Mapping[str, pd.DataFrame], project: Project, model: TargetModel) -> list[CheckResult]:
    """Every data-level check of the model's entities, in model order, each PASSED, FAILED or SKIPPED.

    `tables` are the processed tables by entity name (with `system_id`). Per model entity: required_entity
    (required entities only); then, for entities the project has: required_column per required column,
    type per typed column, not_null per non-nullable column, unique per distinct unique set / identity
    column list, and per model FK (bridge-mediated ones skipped) required_fk (required FKs) and
    referential_integrity. A project entity without a table gets each of its checks SKIPPED.
    """
    results = []
    for name, entity in model.entities.items():
        table = tables.get(name)
        if entity.required:
            results.append(_required_entity(name, project, table))
        if name not in project.entities:
            continue  # the conformance check reports what the project lacks
        results.extend(
            _result(name, check, table) for check in _entity_checks(name, entity, project, model, tables)
        )
    return results
