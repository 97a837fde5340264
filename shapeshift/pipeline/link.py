"""Foreign-key linking (spec 2.12) with the runtime checks of 3.3 and the constraints of 2.13.

`link_entity` adds, per foreign key in configuration order, the remote entity's id column (and the
remote key / extra columns pandas brings along) to the local table with one `DataFrame.merge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique

import pandas as pd

from ..config.model import JOIN_TYPES, EntitySpec, ForeignKeySpec
from ..errors import ConstraintViolation, EntityError
from ..hints import did_you_mean
from ..issues import IssueCode
from .report import EntityReport


@unique
class LinkState(StrEnum):
    """Where one foreign key of an entity stands while the entity is processed.

    Not an EntityStatus: it never leaves the engine, and a foreign key that is skipped or failed only
    warns; the entity itself still succeeds.
    """

    LINKED = "linked"
    SKIPPED = "skipped"  # the remote id column (or all its extra columns) was already there
    FAILED = "failed"  # unknown remote entity or a key check failed: the output lacks this column
    DEFERRED = "deferred"  # waits for unnest to create its local keys


CARDINALITIES = {"one_to_one", "many_to_one", "one_to_many", "many_to_many"}
KNOWN_CONSTRAINTS = {
    "cardinality",
    "allow_unmatched_left",
    "allow_unmatched_right",
    "allow_row_decrease",
    "require_unique_left",
    "require_unique_right",
    "allow_null_keys",
}


@dataclass
class LinkOptions:
    """Run-level switches: enforce constraints (else report them) and report unmatched rows."""

    validate_constraints: bool = True
    validate_foreign_keys: bool = True


def remote_id_name(remote: EntitySpec) -> str:
    return remote.surrogate_id or f"{remote.name}_id"


def _config_check(spec: EntitySpec, fk: ForeignKeySpec, remote: EntitySpec) -> str | None:
    if fk.how == "cross":
        if fk.local_keys or fk.remote_keys:
            return "a cross join must not have local_keys/remote_keys"
        return None
    if not fk.local_keys or not fk.remote_keys:
        return "local_keys and remote_keys are required (except for how: cross)"
    if len(fk.local_keys) != len(fk.remote_keys):
        return f"{len(fk.local_keys)} local_keys but {len(fk.remote_keys)} remote_keys"
    local_declared = set(spec.keys) | set(spec.columns) | set(spec.fk_local_keys)
    if spec.unnest:
        local_declared |= set(spec.unnest.names)
    bad = [k for k in fk.local_keys if k not in local_declared]
    if bad:
        return f"local keys {bad} are not declared on '{spec.name}'"
    declared = remote.declared_columns  # a property that builds the set: once, not per key
    bad = [k for k in fk.remote_keys if k not in declared]
    if bad:
        return (
            f"remote keys {bad} are not declared columns of '{remote.name}' (its keys, columns, "
            "foreign-key local keys, extra columns or unnest names)"
        )
    return None


def _data_check(
    spec: EntitySpec, fk: ForeignKeySpec, table: pd.DataFrame, remote_table: pd.DataFrame
) -> tuple[LinkState, str | None]:
    unnest_names = set(spec.unnest.names) if spec.unnest else set()
    missing = [k for k in fk.local_keys if k not in table.columns and k not in unnest_names]
    if missing:
        hint = did_you_mean(missing, table.columns)
        return LinkState.FAILED, f"local keys {missing} not found in the data of '{spec.name}'" + (
            f" ({hint})" if hint else ""
        )
    if spec.unnest and not all(n in table.columns for n in spec.unnest.names):
        return LinkState.DEFERRED, None
    if any(k not in table.columns for k in fk.local_keys):
        return LinkState.DEFERRED, None
    missing = [k for k in fk.remote_keys if k not in remote_table.columns]
    if missing:
        hint = did_you_mean(missing, remote_table.columns)
        return LinkState.FAILED, f"remote keys {missing} not found in the data of '{fk.entity}'" + (
            f" ({hint})" if hint else ""
        )
    return LinkState.LINKED, None


def _cardinality(constraints: dict, report: EntityReport, label: str) -> str | None:
    value = constraints.get("cardinality")
    if not value:
        return None
    normalised = str(value).replace("-", "_")
    if normalised not in CARDINALITIES:
        report.warn(IssueCode.FK_CONSTRAINT_UNKNOWN, f"{label}: unknown cardinality '{value}'")
        return None
    return normalised


def violation(message: str, options: LinkOptions, report: EntityReport) -> None:
    """A constraint is violated: raise ConstraintViolation, or only warn when constraints are not enforced.

    The one rule of `validate_constraints` for both formats; `message` names the foreign key.
    """
    if options.validate_constraints:
        raise ConstraintViolation(message)
    report.warn(IssueCode.FK_CONSTRAINT_VIOLATION, message + " (not enforced: validate_constraints=False)")


def _has_null(frame: pd.DataFrame, columns: list) -> list:
    return [c for c in columns if c in frame.columns and frame[c].isna().any()]


def _pre_merge(fk, table, remote_table, label, options, report) -> None:
    constraints = fk.constraints
    if constraints.get("allow_null_keys", True) is False:
        nulls = _has_null(table, fk.local_keys)
        if nulls:
            violation(f"{label}: null values in local key {nulls}", options, report)
        nulls = _has_null(remote_table, fk.remote_keys)
        if nulls:
            violation(f"{label}: null values in remote key {nulls}", options, report)
    if constraints.get("require_unique_left") and fk.local_keys:
        duplicates = int(table.duplicated(subset=fk.local_keys).sum())
        if duplicates:
            violation(f"{label}: {duplicates} duplicate local key(s)", options, report)
    if constraints.get("require_unique_right") and fk.remote_keys:
        duplicates = int(remote_table.duplicated(subset=fk.remote_keys).sum())
        if duplicates:
            violation(f"{label}: {duplicates} duplicate remote key(s)", options, report)


def _post_merge(fk, before: int, merged: pd.DataFrame, indicator: str, label, options, report) -> None:
    constraints = fk.constraints
    after = len(merged)
    cardinality = _cardinality(constraints, report, label)
    if cardinality == "one_to_one" and after != before:
        violation(
            f"{label}: cardinality one_to_one violated, rows changed {before} -> {after}", options, report
        )
    elif cardinality == "many_to_one" and after > before:
        violation(
            f"{label}: cardinality many_to_one violated, rows increased {before} -> {after}", options, report
        )
    elif cardinality == "one_to_many" and after < before:
        violation(
            f"{label}: cardinality one_to_many violated, rows decreased {before} -> {after}", options, report
        )
    if constraints.get("allow_row_decrease", True) is False and after < before:
        violation(f"{label}: rows decreased {before} -> {after}", options, report)
    flags = merged[indicator]
    if constraints.get("allow_unmatched_left", True) is False:
        count = int((flags == "left_only").sum())
        if count:
            violation(f"{label}: {count} local row(s) without a match", options, report)
    if constraints.get("allow_unmatched_right", True) is False:
        count = int((flags == "right_only").sum())
        if count:
            violation(f"{label}: {count} remote row(s) without a match", options, report)


def unmatched_rows(left: pd.DataFrame, right: pd.DataFrame, left_keys: list, right_keys: list) -> int:
    """How many rows of ``left`` a plain merge on these keys finds no match for in ``right``, in both formats.

    pandas' merge matches a null key with a null key, None and NaN alike. `Series.isin` tells None from NaN,
    so a null key counts as matched when the other side has any; `MultiIndex.isin` already treats them alike.
    """
    if len(left_keys) == 1:
        local, remote = left[left_keys[0]], right[right_keys[0]]
        matched = local.isin(remote)
        if remote.isna().any():
            matched |= local.isna()
        return int((~matched).sum())
    local = pd.MultiIndex.from_frame(left[left_keys])
    return int((~local.isin(pd.MultiIndex.from_frame(right[right_keys]))).sum())


def report_unmatched(
    unmatched: int, before: int, how: str, remote: str, label: str, report: EntityReport
) -> None:
    """The info `validate_foreign_keys` asks for, in both formats: how many local rows found no match.

    Called for inner and left joins only; an inner join has dropped those rows. Nothing when all matched.
    """
    if unmatched:
        report.info(
            IssueCode.FK_UNMATCHED,
            f"{label}: {unmatched} of {before} rows have no match in '{remote}'"
            + (" and were dropped (inner join)" if how == "inner" else ""),
        )


def link_one(
    spec: EntitySpec,
    fk: ForeignKeySpec,
    table: pd.DataFrame,
    remote: EntitySpec,
    remote_table: pd.DataFrame,
    options: LinkOptions,
    report: EntityReport,
) -> pd.DataFrame:
    """Merge one foreign key into `table` (checks already passed)."""
    label = f"{spec.name} -> {remote.name}"
    remote_id = remote_id_name(remote)
    if remote_id not in remote_table.columns:
        raise EntityError(
            f"{label}: remote entity '{remote.name}' has no id column '{remote_id}' (give it a surrogate_id)"
        )
    if fk.constraints:
        unknown = sorted(set(fk.constraints) - KNOWN_CONSTRAINTS)
        if unknown:
            report.warn(IssueCode.FK_CONSTRAINT_UNKNOWN, f"{label}: unknown constraints {unknown}")
        _pre_merge(fk, table, remote_table, label, options, report)
    extras = {local: remote_name for local, remote_name in fk.extra_columns.items()}
    missing_extras = [r for r in extras.values() if r not in remote_table.columns]
    if missing_extras:
        report.warn(
            IssueCode.FK_EXTRA_COLUMNS_MISSING,
            f"{label}: extra columns not found in '{remote.name}': {missing_extras}",
        )
    selected = list(
        dict.fromkeys(
            [remote_id] + list(fk.remote_keys) + [r for r in extras.values() if r in remote_table.columns]
        )
    )
    right = remote_table[selected]
    rename = {r: local for local, r in extras.items() if r in remote_table.columns and r != local}
    if rename:
        right = right.rename(columns=rename)
    indicator = f"_merge_indicator_{remote.name}"
    keep_indicator = bool(fk.constraints)
    track = keep_indicator or (options.validate_foreign_keys and fk.how in ("inner", "left"))
    before = len(table)
    try:
        if fk.how == "cross":
            merged = table.merge(right, how="cross", suffixes=("", f"_{remote.name}"))
        else:
            merged = table.merge(
                right,
                how=fk.how,
                left_on=fk.local_keys,
                right_on=[rename.get(k, k) for k in fk.remote_keys],
                suffixes=("", f"_{remote.name}"),
                indicator=indicator if track else False,
            )
    except (ValueError, KeyError, TypeError) as exc:
        raise EntityError(f"{label}: cannot merge on {fk.local_keys} = {fk.remote_keys}: {exc}") from None
    if track and fk.how != "cross":
        if options.validate_foreign_keys:
            if fk.how == "left":
                unmatched = int((merged[indicator] == "left_only").sum())
            else:
                unmatched = unmatched_rows(
                    table, right, fk.local_keys, [rename.get(k, k) for k in fk.remote_keys]
                )
            report_unmatched(unmatched, before, fk.how, remote.name, label, report)
        if fk.constraints:
            _post_merge(fk, before, merged, indicator, label, options, report)
        if not keep_indicator:
            merged = merged.drop(columns=[indicator])
    elif fk.constraints:
        _post_merge(fk, before, merged.assign(**{indicator: "both"}), indicator, label, options, report)
    if fk.how == "cross" and keep_indicator:
        # pandas marks every cross-join row 'both'; kept like the reference's indicator column
        merged[indicator] = pd.Categorical(
            ["both"] * len(merged), categories=["left_only", "right_only", "both"]
        )
    if fk.how != "cross" and len(merged) != before:
        report.info(IssueCode.FK_ROWS_CHANGED, f"{label}: row count changed {before} -> {len(merged)}")
    if fk.extra_columns and fk.drop_remote_id and remote_id in merged.columns:
        merged = merged.drop(columns=[remote_id])
    return merged


def link_entity(
    spec: EntitySpec,
    table: pd.DataFrame,
    entities: dict[str, EntitySpec],
    store: dict,
    states: dict[int, LinkState],
    options: LinkOptions,
    report: EntityReport,
    defer_all: bool = False,
) -> pd.DataFrame:
    """Link every not-yet-linked foreign key of `spec`; `states` remembers each FK's outcome by index."""
    for fk in spec.foreign_keys:
        if states.get(fk.index) in (LinkState.LINKED, LinkState.SKIPPED, LinkState.FAILED):
            continue
        if not fk.entity or fk.entity not in entities:
            states[fk.index] = LinkState.FAILED
            report.warn(
                IssueCode.FK_UNKNOWN_ENTITY, f"foreign key #{fk.index}: unknown remote entity {fk.entity!r}"
            )
            continue
        remote = entities[fk.entity]
        remote_id = remote_id_name(remote)
        if remote_id in table.columns or (
            fk.extra_columns and all(local in table.columns for local in fk.extra_columns)
        ):
            states[fk.index] = LinkState.SKIPPED
            report.info(
                IssueCode.FK_ALREADY_LINKED,
                f"foreign key #{fk.index} to '{fk.entity}' skipped: column "
                f"'{remote_id}' (or all its extra columns) already exists",
            )
            continue
        if fk.how not in JOIN_TYPES:
            raise EntityError(f"foreign key #{fk.index} to '{fk.entity}': invalid how '{fk.how}'")
        problem = _config_check(spec, fk, remote)
        if problem is None:
            if fk.entity not in store:
                raise EntityError(f"foreign key #{fk.index}: remote entity '{fk.entity}' is not processed")
            if defer_all:
                states[fk.index] = LinkState.DEFERRED
                continue
            state, problem = _data_check(spec, fk, table, store[fk.entity])
            if state == LinkState.DEFERRED:
                states[fk.index] = LinkState.DEFERRED
                continue
        if problem is not None:
            states[fk.index] = LinkState.FAILED
            report.warn(
                IssueCode.FK_CHECK_FAILED,
                f"foreign key #{fk.index} to '{fk.entity}' not linked: {problem}",
                "fix the keys; the output lacks this foreign-key column",
            )
            continue
        table = link_one(spec, fk, table, remote, store[fk.entity], options, report)
        states[fk.index] = LinkState.LINKED
    return table
