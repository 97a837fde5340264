"""Finalisation (spec 2.19): optional FK-column drop and translation, then system_id, column order
and mappings. Works table by table so a table can be finalised as soon as nobody reads it anymore."""

from __future__ import annotations

import math

import pandas as pd

from ..config.model import EntitySpec, Project
from ..issues import IssueCode
from .frames import replace_columns
from .report import EntityReport


def translation_map(project: Project, report: EntityReport | None = None) -> dict:
    """arbodat_field -> english_column_name from the top-level `translation` rows."""
    rows = project.raw.get("translation")
    if rows is None and isinstance(project.raw.get("options"), dict):
        rows = project.raw["options"].get("translation")  # section 6 moved it under options
    return translation_rows(rows, report)


def translation_rows(rows, report: EntityReport | None = None) -> dict:
    """arbodat_field -> english_column_name from a list of translation rows (shared with format 2)."""
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return {}
    if "arbodat_field" not in rows[0] or "english_column_name" not in rows[0]:
        if report:
            report.warn(
                IssueCode.TRANSLATION_INVALID, "translation rows lack arbodat_field/english_column_name"
            )
        return {}
    mapping = {}
    for row in rows:
        if isinstance(row, dict) and "arbodat_field" in row and "english_column_name" in row:
            target = row["english_column_name"]
            if isinstance(target, float) and math.isnan(target):
                continue  # an empty cell would rename to NaN and break sorting; see compatibility.md
            mapping[row["arbodat_field"]] = target
    return mapping


def _translate(table: pd.DataFrame, mapping: dict) -> pd.DataFrame:
    present = set(table.columns)
    rename = {c: mapping[c] for c in table.columns if c in mapping and mapping[c] not in present}
    return table.rename(columns=rename) if rename else table


def _column_order(table: pd.DataFrame, spec: EntitySpec, entities: dict[str, EntitySpec]) -> list:
    present = list(table.columns)
    first: list = []
    if "system_id" in present:
        first.append("system_id")
    if spec.surrogate_id:
        first.append(spec.surrogate_id)
    fk_ids = sorted(
        {
            entities[fk.entity].surrogate_id
            for fk in spec.foreign_keys
            if fk.entity in entities and entities[fk.entity].surrogate_id
        }
    )
    first += fk_ids
    first += sorted(str(c) for c in spec.extra_columns)
    ordered = list(dict.fromkeys(c for c in first if c in present))
    taken = set(ordered)
    rest = sorted((c for c in present if c not in taken), key=lambda c: str(c))
    return ordered + rest


def _text_as_object(table: pd.DataFrame, compact_text: bool) -> pd.DataFrame:
    if compact_text:
        return table
    categorical = [i for i, dtype in enumerate(table.dtypes) if isinstance(dtype, pd.CategoricalDtype)]
    return replace_columns(table, {i: table.iloc[:, i].astype(object) for i in categorical})


def _apply_mapping(table: pd.DataFrame, entry, report: EntityReport) -> pd.DataFrame:
    if not isinstance(entry, dict):
        return table
    local_key, remote_key, mapping = entry.get("local_key"), entry.get("remote_key"), entry.get("mapping")
    if not local_key or not remote_key or not mapping or local_key not in table.columns:
        report.warn(
            IssueCode.MAPPING_INVALID,
            f"mapping not applied: needs local_key, remote_key and a non-empty mapping, and "
            f"local_key '{local_key}' must be a column",
        )
        return table
    local = table[local_key]
    if isinstance(local.dtype, pd.CategoricalDtype):
        local = local.astype(object)
    table[remote_key] = local.map(mapping)
    return table


def finalise_table(
    name: str,
    table: pd.DataFrame,
    project: Project,
    *,
    drop_foreign_keys: bool = False,
    translation: dict | None = None,
    report: EntityReport | None = None,
    compact_text: bool = False,
) -> pd.DataFrame:
    """Return the final form of one processed table (the input is not modified).

    Text read as `category` becomes object again, as in the reference tool, unless `compact_text`
    (for callers that only write the table out: the written text is the same).
    """
    report = report or EntityReport(name)
    spec = project.entities.get(name)
    table = table.copy(deep=False)
    if spec is not None and drop_foreign_keys:
        listed = set(spec.columns)
        drop = [k for k in spec.fk_local_keys if k in table.columns and k not in listed]
        if drop:
            table = table.drop(columns=drop)
    if translation:
        table = _translate(table, translation)
    if spec is None:
        return _text_as_object(table, compact_text)
    sid = spec.surrogate_id
    if sid and sid in table.columns and "system_id" not in table.columns:
        table.insert(0, "system_id", table[sid].to_numpy())
        table[sid] = pd.Series([None] * len(table), index=table.index, dtype=object)
    order = _column_order(table, spec, project.entities)
    if order != list(table.columns):
        table = table[order]
    table = _text_as_object(table, compact_text)
    mappings = project.raw.get("mappings")
    if mappings is None and isinstance(project.raw.get("options"), dict):
        mappings = project.raw["options"].get("mappings")  # section 6 moved it under options
    if isinstance(mappings, dict) and name in mappings:
        table = _apply_mapping(table, mappings[name], report)
    return table
