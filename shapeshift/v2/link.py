"""Foreign-key linking of format 2 (format-v2.md 12, 5.3).

Linking entity E to remote entity P adds a column named after P's `public_id` that holds P's `system_id`
of the matched row. `link_foreign_keys` tries every foreign key of E that is not linked yet, in
configuration order, and records each one's state; the pipeline calls it again for entities with
deferred links (12.5) and decides when to stop.

The merge itself is in `link_merge.py`, the constraints and null-key modes in `link_constraints.py`.
The run options (`LinkOptions`) mean what they mean in format 1: `validate_constraints=False` turns
constraint violations into warnings, `validate_foreign_keys` reports the local rows of an inner or left
join that found no match.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum, unique

import pandas as pd

from ..config.model import JOIN_TYPES, EntitySpec, ForeignKeySpec
from ..errors import EntityError
from ..hints import did_you_mean
from ..issues import IssueCode
from ..pipeline.link import LinkOptions, report_unmatched, unmatched_rows
from ..pipeline.report import EntityReport
from . import link_constraints as constraints
from .link_constraints import SYSTEM_ID, NullKeys
from .link_merge import coerce_keys, merge, select_remote

RETRY_HINT = "fix the keys; the output lacks this foreign-key column"


@unique
class FkState(StrEnum):
    """Where one foreign key of an entity stands (keyed by `ForeignKeySpec.index`)."""

    PENDING = "pending"  # not tried yet
    LINKED = "linked"  # linked, or skipped because its columns already exist (12.1)
    DEFERRED = "deferred"  # remote not processed yet, or the unnest columns do not exist yet (12.5)
    FAILED = "failed"  # a configuration/data check failed: logged, tried again on later passes (12.5)


def is_deferred(states: dict[int, FkState]) -> bool:
    """True when the entity is in the deferred set (12.5): some foreign key waits."""
    return any(state == FkState.DEFERRED for state in states.values())


def link_foreign_keys(
    spec: EntitySpec,
    table: pd.DataFrame,
    entities: Mapping[str, EntitySpec],
    store: Mapping[str, pd.DataFrame],
    states: dict[int, FkState],
    *,
    options: LinkOptions,
    report: EntityReport,
    unnest_pending: bool = False,
) -> pd.DataFrame:
    """Try every foreign key of `spec` not LINKED yet; update `states`; return the table with the new columns.

    Raises EntityError on merge errors, and ConstraintViolation on constraint violations and strict null
    keys unless `options.validate_constraints` is off (then each violation is a warning).
    """
    for fk in spec.foreign_keys:
        if states.get(fk.index) == FkState.LINKED:
            continue
        state, table = _link_one(spec, fk, table, entities, store, options, report, unnest_pending)
        states[fk.index] = state
    return table


def _label(spec: EntitySpec, fk: ForeignKeySpec) -> str:
    return f"entity '{spec.name}': foreign key {fk.index} (-> {fk.entity})"


def _link_one(
    spec, fk, table, entities, store, options, report, unnest_pending
) -> tuple[FkState, pd.DataFrame]:
    label = _label(spec, fk)
    remote = entities.get(fk.entity) if fk.entity else None
    if remote is None:
        report.warn(IssueCode.FK_UNKNOWN_ENTITY, f"{label}: unknown remote entity {fk.entity!r}", RETRY_HINT)
        return FkState.FAILED, table
    if fk.how not in JOIN_TYPES:
        raise EntityError(f"{label}: invalid how {fk.how!r} (one of {sorted(JOIN_TYPES)})")
    remote_table = store.get(fk.entity)
    if remote_table is None or SYSTEM_ID not in remote_table.columns:
        # not processed yet; or stored but not numbered yet (6.3 steps 7, 15): a self-reference waits
        return FkState.DEFERRED, table
    problems = _config_problems(spec, fk, remote)
    problems += _data_problems(spec, fk, table, remote_table)
    if problems:
        report.warn(IssueCode.FK_CHECK_FAILED, f"{label} not linked: {'; '.join(problems)}", RETRY_HINT)
        return FkState.FAILED, table
    if _waits_for_unnest(spec, fk, table, unnest_pending):
        return FkState.DEFERRED, table
    if _already_linked(fk, remote, table):
        report.info(
            IssueCode.FK_ALREADY_LINKED,
            f"{label} skipped: column '{remote.public_id}' (or all its extra columns) already exists",
        )
        return FkState.LINKED, table
    return FkState.LINKED, _link(spec, fk, table, remote, remote_table, label, options, report)


# --- 12.1 preconditions ------------------------------------------------------------------------


def _config_problems(spec: EntitySpec, fk: ForeignKeySpec, remote: EntitySpec) -> list[str]:
    """The configuration checks of 12.1; a missing public_id is reported alone, as the reference does."""
    if fk.how == "cross" and (fk.local_keys or fk.remote_keys):
        return ["a cross join takes no local_keys/remote_keys"]
    if not remote.public_id:
        # also for cross joins: the reference adds a column with an empty name there (format-v2.md 20 #6)
        return [f"remote entity '{remote.name}' must have a public_id defined"]
    if fk.how == "cross":
        return []
    problems = []
    if not fk.local_keys or not fk.remote_keys:
        problems.append("local_keys and remote_keys must be specified for non-cross joins")
    if len(fk.local_keys) != len(fk.remote_keys):
        problems.append(f"{len(fk.local_keys)} local_keys but {len(fk.remote_keys)} remote_keys")
    not_names = [key for key in [*fk.local_keys, *fk.remote_keys] if not isinstance(key, str)]
    if not_names:
        return [*problems, f"keys must be column names, not {not_names}"]
    declared = set(spec.keys) | set(spec.columns) | set(spec.fk_local_keys) | _unnest_names(spec)
    missing = [key for key in fk.local_keys if key not in declared]
    if missing:
        problems.append(f"local keys {missing} not found in local entity '{spec.name}'")
    declared = remote.declared_columns
    missing = [key for key in fk.remote_keys if key not in declared]
    if missing:
        problems.append(
            f"remote keys {missing} not found in remote entity '{remote.name}' (its keys, columns, "
            "foreign-key local keys, extra columns or unnest names; system_id and public_id only when listed)"
        )
    return problems


def _data_problems(spec, fk, table: pd.DataFrame, remote_table: pd.DataFrame) -> list[str]:
    """The data checks of 12.1: key columns missing from the tables (pending unnest columns excepted)."""
    if any(not isinstance(key, str) for key in [*fk.local_keys, *fk.remote_keys]):
        return []
    problems = []
    unnest = _unnest_names(spec)
    missing = [key for key in fk.local_keys if key not in table.columns and key not in unnest]
    if missing:
        hint = did_you_mean(missing, table.columns)
        problems.append(f"local keys {missing} not found in the data of '{spec.name}'" + _hint(hint))
    missing = [key for key in fk.remote_keys if key not in remote_table.columns]
    if missing:
        hint = did_you_mean(missing, remote_table.columns)
        problems.append(f"remote keys {missing} not found in the data of '{fk.entity}'" + _hint(hint))
    return problems


def _hint(hint: str) -> str:
    return f" ({hint})" if hint else ""


def _unnest_names(spec: EntitySpec) -> set:
    return set(spec.unnest.names) if spec.unnest else set()


def _waits_for_unnest(spec: EntitySpec, fk: ForeignKeySpec, table: pd.DataFrame, unnest_pending) -> bool:
    """Every FK of an entity whose unnest columns do not exist yet waits for the melt (12.5)."""
    names = _unnest_names(spec)
    if unnest_pending and names & set(fk.local_keys):
        return True
    return any(name not in table.columns for name in names)


def _already_linked(fk: ForeignKeySpec, remote: EntitySpec, table: pd.DataFrame) -> bool:
    """The silent skips of 12.1: the remote public_id column, or every FK extra column, already exists."""
    if remote.public_id in table.columns:
        return True
    return bool(fk.extra_columns) and all(local in table.columns for local in fk.extra_columns)


# --- 12.2 linking steps ------------------------------------------------------------------------


def _link(spec, fk, table, remote, remote_table, label, options, report) -> pd.DataFrame:
    local_keys = list(fk.local_keys)
    mode = constraints.null_key_mode(fk, remote)
    violated = constraints.on_violation(label, options, report)
    if fk.constraints:
        constraints.warn_unchecked(fk, label, report)
        if mode is NullKeys.STRICT:
            constraints.check_null_keys(fk, local_keys, table, remote_table, violated)
        constraints.check_before_merge(fk, local_keys, table, remote_table, violated)
    selection = select_remote(fk, remote, remote_table)
    if selection.missing:
        report.warn(
            IssueCode.FK_EXTRA_COLUMNS_MISSING,
            f"{label}: remote columns {selection.missing} not in the data of '{remote.name}'; not added",
        )
    left, right = coerce_keys(table, selection.table, local_keys, selection.keys)
    indicator = _free_indicator(fk, left, right)
    try:
        merged = merge(left, right, fk, local_keys, selection.keys, mode, indicator)
    except (ValueError, KeyError, TypeError) as exc:
        raise EntityError(
            f"{label}: Failed to link '{spec.name}' to '{remote.name}' on keys "
            f"{local_keys} -> {list(fk.remote_keys)}: {exc}"
        ) from None
    if options.validate_foreign_keys and fk.how in ("inner", "left"):
        unmatched = _unmatched(left, right, local_keys, selection.keys, mode)
        report_unmatched(unmatched, len(table), fk.how, remote.name, label, report)
    if fk.constraints:
        constraints.check_after_merge(fk, len(table), merged, indicator, violated)
    if indicator:
        merged = merged.drop(columns=[indicator])
    _report_shape(fk, table, right, merged, label, report)
    if fk.extra_columns and fk.drop_remote_id:
        merged = merged.drop(columns=[remote.public_id], errors="ignore")
    return merged


def _unmatched(left: pd.DataFrame, right: pd.DataFrame, left_keys: list, right_keys: list, mode) -> int:
    """How many local rows the merge found no match for: a null key matches nothing in a null-safe merge,
    and any null key in a plain one (12.3)."""
    if mode is NullKeys.NULL_SAFE:
        keyed = left.dropna(subset=left_keys)
        return len(left) - len(keyed) + unmatched_rows(keyed, right, left_keys, right_keys)
    return unmatched_rows(left, right, left_keys, right_keys)


def _free_indicator(fk: ForeignKeySpec, left: pd.DataFrame, right: pd.DataFrame) -> str | None:
    if not constraints.wants_indicator(fk):
        return None
    name = f"_merge_indicator_{fk.entity}"
    while name in left.columns or name in right.columns:
        name = f"_{name}"
    return name


def _report_shape(fk, table: pd.DataFrame, right: pd.DataFrame, merged: pd.DataFrame, label, report) -> None:
    """Row and column count changes (12.2 step 6): warnings when the FK has constraints, as logged by the
    reference; a changed row count is worth an info line otherwise."""
    before, after = len(table), len(merged)
    if fk.how != "cross" and before != after:
        message = f"{label}: join changed the row count: before={before}, after={after}"
        if fk.constraints:
            report.warn(IssueCode.FK_ROWS_CHANGED, message)
        else:
            report.info(IssueCode.FK_ROWS_CHANGED, message)
    if not fk.constraints:
        return
    expected = [name for name in right.columns if name not in table.columns]
    added = [name for name in merged.columns if name not in table.columns]
    if sorted(added) != sorted(expected):
        report.warn(
            IssueCode.FK_COLUMNS_UNEXPECTED,
            f"{label}: join added columns {added}, expected {expected}",
            "a remote column whose name exists locally gets the suffix _<remote entity>; "
            "a null-safe merge adds a same-named remote key again when some key is null",
        )
