"""Finalisation of a format-2 table (format-v2.md 17): drop FK key columns, translate, then
`options.mappings`. Ids and the column order were made per entity (5, 6.6); nothing is re-sorted.

Top-level `mappings` and `translation` are ignored in format 2 (3, 17.1).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..config.model import Project
from ..issues import IssueCode
from ..pipeline.finalise import _text_as_object, _translate, translation_rows
from ..pipeline.report import EntityReport


def _options(project: Project) -> dict:
    options = project.raw.get("options")
    return options if isinstance(options, dict) else {}


def translation_map(project: Project) -> dict:
    """arbodat_field -> english_column_name from `options.translation` (17.2)."""
    return translation_rows(_options(project).get("translation"))


def mapping_entry(project: Project, name: str):
    """The `options.mappings` entry of an entity, or None."""
    mappings = _options(project).get("mappings")
    return mappings.get(name) if isinstance(mappings, dict) else None


def mapping_problem(entry, columns: Iterable) -> str | None:
    """Why an `options.mappings` entry leaves the table unchanged (17.1), or None when it applies."""
    if not isinstance(entry, dict):
        return f"options.mappings entry is not a mapping: {entry!r}"
    local_key, remote_key, mapping = entry.get("local_key"), entry.get("remote_key"), entry.get("mapping")
    if not local_key or not remote_key or not mapping:
        return "options.mappings entry not applied: local_key, remote_key and mapping must all be given"
    if local_key not in set(columns):
        return f"options.mappings entry not applied: local_key '{local_key}' is not a column of the table"
    return None


def _dropped_and_translated(
    name: str, table: pd.DataFrame, project: Project, drop_foreign_keys: bool, translation
) -> pd.DataFrame:
    spec = project.entities.get(name)
    if spec is not None and drop_foreign_keys:
        listed = set(spec.columns)
        drop = [k for k in spec.fk_local_keys if k in table.columns and k not in listed]
        if drop:
            table = table.drop(columns=drop)
    return _translate(table, translation) if translation else table


def mapping_warning(
    name: str, columns: list, project: Project, *, drop_foreign_keys: bool, translation
) -> str | None:
    """Why the `options.mappings` entry of a table with these columns will not apply, or None.

    Lets the run tell the entity's outcome before the table is finalised (which may be much later).
    """
    entry = mapping_entry(project, name)
    if entry is None:
        return None
    probe = pd.DataFrame(columns=list(columns))
    return mapping_problem(
        entry, _dropped_and_translated(name, probe, project, drop_foreign_keys, translation).columns
    )


def finalise_table(
    name: str,
    table: pd.DataFrame,
    project: Project,
    *,
    drop_foreign_keys: bool = False,
    translation: dict | None = None,
    compact_text: bool = False,
    report: EntityReport | None = None,
) -> pd.DataFrame:
    """The final form of one processed table (the input is not modified): FK key columns not listed
    in `columns` dropped (17.3), columns translated in place (17.2), `options.mappings` applied (17.1)."""
    table = _dropped_and_translated(name, table.copy(deep=False), project, drop_foreign_keys, translation)
    table = _text_as_object(table, compact_text)
    entry = mapping_entry(project, name)
    if entry is None:
        return table
    problem = mapping_problem(entry, table.columns)
    if problem:
        if report is not None:
            report.warn(IssueCode.MAPPING_INVALID, problem)
        return table
    local = table[entry["local_key"]]
    if isinstance(local.dtype, pd.CategoricalDtype):
        local = local.astype(object)
    table[entry["remote_key"]] = local.map(entry["mapping"])
    return table
