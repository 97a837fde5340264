"""Foreign-key constraints and null-key handling of format 2 (format-v2.md 12.3, 12.4).

Which null-key behaviour a foreign key gets is decided once per link (`null_key_mode`); the checks tell
each violation to `on_violation`, which raises `ConstraintViolation` (an EntityError) with a message that
names the entity, the foreign key and the constraint, or only warns when the run does not enforce
constraints (`validate_constraints=False`, as in format 1). Checks compare row counts only, as the
reference does (12.4).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum, unique

import pandas as pd

from ..config.model import EntitySpec, ForeignKeySpec
from ..issues import IssueCode
from ..pipeline.link import CARDINALITIES, KNOWN_CONSTRAINTS, LinkOptions, violation
from ..pipeline.report import EntityReport

SYSTEM_ID = "system_id"

Violated = Callable[[str], None]  # called with the reason of one violation


@unique
class NullKeys(StrEnum):
    """How null key values take part in a merge (format-v2.md 12.3)."""

    PLAIN = "plain"  # pandas merge: a null key matches a null key
    NULL_SAFE = "null_safe"  # nulls never match
    STRICT = "strict"  # any null key is a constraint violation


def null_key_mode(fk: ForeignKeySpec, remote: EntitySpec) -> NullKeys:
    """The table of 12.3, row by row."""
    if fk.how == "cross":
        return NullKeys.PLAIN
    constraints = fk.constraints
    if "allow_null_keys" in constraints:
        return NullKeys.NULL_SAFE if constraints["allow_null_keys"] else NullKeys.STRICT
    if fk.how == "left" and list(fk.remote_keys) not in ([SYSTEM_ID], [remote.public_id]):
        return NullKeys.NULL_SAFE  # lookup-style left join: no strictness even with other constraints
    return NullKeys.STRICT if constraints else NullKeys.PLAIN


def warn_unchecked(fk: ForeignKeySpec, label: str, report: EntityReport) -> None:
    """Constraints the reference silently ignores: unknown names and unrecognised cardinalities."""
    unknown = sorted(str(name) for name in set(fk.constraints) - KNOWN_CONSTRAINTS)
    if unknown:
        report.warn(IssueCode.FK_CONSTRAINT_UNKNOWN, f"{label}: unknown constraints {unknown}: not checked")
    cardinality = fk.constraints.get("cardinality")
    if cardinality is not None and cardinality not in CARDINALITIES:
        # hyphenated values (many-to-one) are not recognised by the reference either (12.4)
        report.warn(
            IssueCode.FK_CONSTRAINT_UNKNOWN,
            f"{label}: cardinality {cardinality!r} is not recognised and not checked",
            f"write one of {sorted(CARDINALITIES)}",
        )


def on_violation(label: str, options: LinkOptions, report: EntityReport) -> Violated:
    """What the checks of one link call with a violation's reason: format 1's rule (`violation`)."""
    return lambda reason: violation(f"{label}: {reason}", options, report)


def check_null_keys(
    fk: ForeignKeySpec, local_keys: list, table: pd.DataFrame, remote_table: pd.DataFrame, violated: Violated
) -> None:
    """Strict mode: any null in a local, then in a remote key column is a violation (12.3)."""
    for side, keys, frame in (("local", local_keys, table), ("remote", fk.remote_keys, remote_table)):
        for key in keys:
            if frame[key].isna().any():
                violated(f"null values found in {side} key '{key}' (allow_null_keys=False)")


def check_before_merge(
    fk: ForeignKeySpec, local_keys: list, table: pd.DataFrame, remote_table: pd.DataFrame, violated: Violated
) -> None:
    """`require_unique_left` / `require_unique_right` (12.4); only called with non-empty constraints."""
    sides = (
        ("left", "require_unique_left", local_keys, table),
        ("right", "require_unique_right", fk.remote_keys, remote_table),
    )
    for side, name, keys, frame in sides:
        if fk.constraints.get(name) and keys:
            duplicates = int(frame.duplicated(subset=list(keys)).sum())
            if duplicates:
                violated(f"{duplicates} duplicate {side} key(s) found ({name}=True)")


def wants_indicator(fk: ForeignKeySpec) -> bool:
    """The merge indicator is needed only by the allow_unmatched_* checks (format-v2.md 20 #29)."""
    if fk.how == "cross":
        return False
    return any(fk.constraints.get(f"allow_unmatched_{side}") is False for side in ("left", "right"))


def check_after_merge(
    fk: ForeignKeySpec, before: int, merged: pd.DataFrame, indicator: str | None, violated: Violated
) -> None:
    """Cardinality, `allow_row_decrease` and the enforced `allow_unmatched_*` checks (12.4)."""
    after = len(merged)
    cardinality = fk.constraints.get("cardinality")
    if cardinality == "one_to_one" and after != before:
        violated(f"one_to_one cardinality violated (rows: {before} -> {after})")
    if cardinality == "many_to_one" and after > before:
        violated(f"many_to_one cardinality violated (rows increased: {before} -> {after})")
    if cardinality == "one_to_many" and after < before:
        violated(f"one_to_many cardinality violated (rows decreased: {before} -> {after})")
    if fk.constraints.get("allow_row_decrease") is False and after < before:
        violated(f"row decrease not allowed (rows: {before} -> {after}; allow_row_decrease=False)")
    if indicator is None:
        return
    for side, flag in (("left", "left_only"), ("right", "right_only")):
        name = f"allow_unmatched_{side}"
        if fk.constraints.get(name) is False:
            unmatched = int((merged[indicator] == flag).sum())
            if unmatched:
                violated(f"{unmatched} unmatched {side} rows ({name}=False)")
