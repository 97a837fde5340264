"""Format-2 extraction of one sub-table from its source table (format-v2.md 6.4).

A sub-table is the entity itself, one `append` item, or one `merged` branch. Extraction selects the
requested columns plus the helper columns its `extra_columns` read, evaluates those extra columns,
drops the helpers again, de-duplicates (unless delayed by unnest), orders the requested columns first
and applies `replacements`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..config.model import as_name_list
from ..hints import did_you_mean, name_list
from ..issues import IssueCode
from .dedupe import dedupe_setting, drop_duplicates
from .extra_columns import evaluate_extra_columns, helper_columns, self_copies
from .replacements import apply_replacements

SYSTEM_ID = "system_id"


@dataclass
class SubTable:
    """What extraction needs to know about one sub-table (decided by the pipeline)."""

    config: dict  # effective entity-like mapping (the entity itself or a merged append item)
    fk_local_keys: list = field(default_factory=list)  # the entity's FK local keys ([] for append items)
    fk_extra_names: list = field(default_factory=list)  # local names of FK extra_columns (not extracted)
    unnest_names: list = field(default_factory=list)  # [var_name, value_name] of the entity's unnest
    alias: str | None = None  # column filled from the source's system_id (5.5)
    delayed_dedupe: bool = False  # de-duplication waits for the unnest (6.3 step 6)

    @property
    def extra_columns(self) -> dict:
        extra = self.config.get("extra_columns")
        return extra if isinstance(extra, dict) else {}


def requested_columns(sub: SubTable) -> list[str]:
    """keys + columns + FK local keys, minus unnest names, FK extra names and extra-column names (6.4.1)."""
    keys = as_name_list(sub.config.get("keys"))
    columns = as_name_list(sub.config.get("columns"))
    excluded = set(sub.unnest_names) | set(sub.fk_extra_names) | set(sub.extra_columns)
    requested = dict.fromkeys(keys + columns + list(sub.fk_local_keys))
    return [c for c in requested if c not in excluded]


def extract(source: pd.DataFrame, sub: SubTable, *, entity: str, project_raw: dict, report) -> pd.DataFrame:
    """The sub-table's extracted table (6.4 steps 1-10); the alias is taken from source['system_id']."""
    requested = requested_columns(sub)
    wanted = set(requested)
    alias = sub.alias
    extra = sub.extra_columns
    helpers = helper_columns(extra, source.columns, entity=entity)
    present = set(source.columns)
    missing = [c for c in requested if c not in present and c != alias]
    if missing:
        report.warn(
            IssueCode.COLUMNS_MISSING,
            f"Columns not found in source, will be skipped: {name_list(missing)}",
            did_you_mean(missing, source.columns) or "check the spelling against the source's columns",
        )
    taken = wanted | set(helpers)
    table = source[[c for c in source.columns if c in taken and c != alias]]
    if alias:
        if SYSTEM_ID in present:
            table = table.assign(**{alias: source[SYSTEM_ID].to_numpy()})
        else:
            report.warn(
                IssueCode.COLUMNS_MISSING,
                f"column '{alias}' should refer to the source's rows, but the source has no {SYSTEM_ID}",
            )
    table = evaluate_extra_columns(table, extra, entity=entity, report=report)
    # helpers served the extra columns only (a copied source column is not kept, 8.2), except the
    # column an item of the same name copies (format-v2.md 20 #35)
    kept = wanted | self_copies(extra) | ({alias} if alias else set())
    dropped = [h for h in helpers if h not in kept]
    if dropped:
        table = table.drop(columns=dropped)
    setting = dedupe_setting(sub.config, project_raw)
    if setting and not sub.delayed_dedupe:
        table = drop_duplicates(table, setting, entity=entity, report=report)
    first = [c for c in requested if c in table.columns]
    ordered = first + [c for c in table.columns if c not in wanted]
    if ordered != list(table.columns):
        table = table[ordered]
    return apply_replacements(table, sub.config.get("replacements"), entity=entity, report=report)
