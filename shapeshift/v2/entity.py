"""Processing of one format-2 entity (format-v2.md 6.3, steps 1-16, 18, 19) and its deferred links
(12.5; step 17 and the final passes are driven by the runner, `shapeshift.pipeline.runner`).

The runner's EntityContext is shared with format 1; `ctx.fk_states` holds the v2 link states.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..config.model import EntitySpec, ForeignKeySpec
from ..errors import EntityError
from ..issues import IssueCode
from ..pipeline.entity import EntityContext, load_source
from ..pipeline.report import EntityReport
from .append import item_config, item_label, rename_item_columns
from .concat import concatenate, is_empty_part
from .dedupe import dedupe_setting, drop_duplicates, is_delayed
from .extra_columns import (
    Kind,
    evaluate_extra_columns,
    kind_of,
    references,
    report_unresolved,
    unresolved_extra_columns,
)
from .extract import SubTable, extract, requested_columns
from .filters import apply_filters
from .identity import add_identity, reorder_columns
from .link import FkState, is_deferred, link_foreign_keys
from .merged import branch_parts
from .reshape import check_unnest_settings, drop_empty_rows, report_duplicate_keys, unnest


def _entity_config(ctx: EntityContext, spec: EntitySpec) -> dict:
    raw = spec.raw
    if not raw:
        declared = (ctx.project.raw.get("entities") or {}).get(spec.name)
        shape = "empty" if declared in (None, {}) else f"not a mapping but {type(declared).__name__}"
        raise EntityError(f"No configuration found for entity '{spec.name}' ({shape})")
    columns = raw.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        # step 1 of 6.3
        raise EntityError(
            f"Invalid columns configuration for entity '{spec.name}': all columns must be strings, "
            f"got {columns!r}"
        )
    return raw


# --- sub-tables (6.3 step 2, 6.4) --------------------------------------------------------------
def source_alias(sub: SubTable, entities: Mapping[str, EntitySpec]) -> str | None:
    """format-v2.md 5.5: a `type: entity` sub-table listing its source's public_id reads that
    column from the source's `system_id` (unless it is its own public_id or an extra column)."""
    config = sub.config
    source = config.get("source")
    if config.get("type") != "entity" or not isinstance(source, str) or source not in entities:
        return None
    alias = entities[source].public_id
    extra = config.get("extra_columns")
    if not alias or alias == config.get("public_id") or (isinstance(extra, dict) and alias in extra):
        return None
    return alias if alias in requested_columns(sub) else None


def _wanted_columns(sub: SubTable, entity: str):
    """Which loaded columns extraction can use: the requested ones and those its extra columns read
    (6.4 steps 1, 3), compared ignoring case as copies are matched (8.2)."""
    names = {str(c).lower() for c in requested_columns(sub)}
    for name, value in sub.extra_columns.items():
        if kind_of(value) is Kind.TEXT:
            names.add(value.lower())
        else:
            names.update(c.lower() for c in references(name, value, entity=entity))
    return lambda column: str(column).lower() in names


def _entity_sub_table(spec: EntitySpec, raw: dict, unnest_names: list, delayed: bool) -> SubTable:
    return SubTable(
        config=raw,
        fk_local_keys=spec.fk_local_keys,
        fk_extra_names=list(dict.fromkeys(n for fk in spec.foreign_keys for n in fk.extra_columns)),
        unnest_names=list(unnest_names),
        alias=None,
        delayed_dedupe=delayed,
    )


def _extract_parts(
    ctx: EntityContext, spec: EntitySpec, raw: dict, unnest_names: list, delayed: bool, report
) -> tuple[list, list, int]:
    """(parts, their extra-column gaps, rows read): the entity's own sub-table, then one per append item."""
    entities = ctx.project.entities
    subs: list[tuple[SubTable, int | None]] = [(_entity_sub_table(spec, raw, unnest_names, delayed), None)]
    for index, item in enumerate(spec.append):
        subs.append((SubTable(item_config(raw, item, entities), [], [], [], None, delayed), index))
    parts, gaps, rows_in = [], [], 0
    for sub, index in subs:
        sub.alias = source_alias(sub, entities)
        ctx.phase(spec.name, "load")
        source = load_source(
            ctx, spec.name, sub.config, _wanted_columns(sub, spec.name), report, format_version=2
        )
        rows_in += len(source)
        ctx.phase(spec.name, "subset", len(source))
        part = extract(source, sub, entity=spec.name, project_raw=ctx.project.raw, report=report)
        del source
        if index is not None:
            item = spec.append[index]
            part = rename_item_columns(part, item, raw, entities, label=item_label(spec.name, index))
        extra = sub.config.get("extra_columns") if isinstance(sub.config.get("extra_columns"), dict) else {}
        parts.append(part)
        gaps.append({c: extra[c] for c in unresolved_extra_columns(part, extra)})
    return parts, gaps, rows_in


def _fill_part_gaps(table: pd.DataFrame, parts: list, gaps: list, *, entity: str) -> pd.DataFrame:
    """Compute, for the rows of each part, the extra columns that part could not compute but another
    part brought along.

    The reference skips such a column (it exists) and leaves those rows empty, e.g. an interpolation
    naming a column an append item only gets by renaming (format-v2.md 15.3, 20 #23, [C26]).
    """
    start = 0
    for part, gap in zip(parts, gaps, strict=True):
        if is_empty_part(part):
            continue
        stop = start + len(part)
        holes = {name: value for name, value in gap.items() if name in table.columns}
        if holes:
            rows = table.iloc[start:stop].drop(columns=list(holes))
            filled = evaluate_extra_columns(rows, holes, entity=entity)
            for name in holes:
                if name in filled.columns:
                    values = table[name].to_numpy(dtype=object, copy=True)
                    values[start:stop] = filled[name].to_numpy(dtype=object)
                    table[name] = pd.Series(values, index=table.index).infer_objects()
        start = stop
    return table


def _concatenated(ctx: EntityContext, spec: EntitySpec, raw: dict, delayed: bool, report):
    """Steps 2-4 of 6.3: the sub-tables, their union, and the entity's extra columns on it."""
    name = spec.name
    unnest_names = spec.unnest.names if spec.unnest else []
    if spec.type == "merged":
        ctx.phase(name, "load")
        parts, rows_in = branch_parts(spec, ctx.project.entities, ctx.store)
        ctx.phase(name, "subset", rows_in)  # its branches' rows, read as a source's would be
        gaps = [{} for _ in parts]
        requested: list = []
    else:
        parts, gaps, rows_in = _extract_parts(ctx, spec, raw, unnest_names, delayed, report)
        requested = requested_columns(_entity_sub_table(spec, raw, unnest_names, delayed))
    table = concatenate(parts, requested, report=report)
    table = evaluate_extra_columns(table, spec.extra_columns, entity=name, report=report)
    if len(parts) > 1:
        table = _fill_part_gaps(table, parts, gaps, entity=name)
    return table, rows_in


# --- the entity --------------------------------------------------------------------------------
def _filters(ctx: EntityContext, spec: EntitySpec, table: pd.DataFrame, stage: str, report) -> pd.DataFrame:
    if not spec.filters:
        return table
    ctx.phase(spec.name, "filter", len(table))
    return apply_filters(table, spec.filters, stage, ctx.store, entity=spec.name, report=report)


def _link(ctx: EntityContext, spec: EntitySpec, table: pd.DataFrame, report, unnest_pending: bool):
    states = ctx.fk_states.setdefault(spec.name, {})
    if not spec.foreign_keys:
        return table
    ctx.phase(spec.name, "link", len(table))
    return link_foreign_keys(
        spec,
        table,
        ctx.project.entities,
        ctx.store,
        states,
        options=ctx.link_options,
        report=report,
        unnest_pending=unnest_pending,
    )


def _distinct_union(ctx: EntityContext, spec: EntitySpec, table: pd.DataFrame, report) -> pd.DataFrame:
    """`append_mode: distinct` without `drop_duplicates`: the union loses its repeated rows.

    The reference ignores append_mode since v1.15.0 (format-v2.md 15.4); its documentation and
    format 1 de-duplicate (20 #13).
    """
    setting = dedupe_setting({**spec.raw, "drop_duplicates": True}, ctx.project.raw)
    before = len(table)
    table = drop_duplicates(table, setting, entity=spec.name, report=report)
    if len(table) < before:
        report.info(
            IssueCode.APPEND_DISTINCT, f"append_mode: distinct removed {before - len(table)} repeated rows"
        )
    return table


def process_entity(ctx: EntityContext, name: str, report: EntityReport) -> tuple[pd.DataFrame, int]:
    """Process one format-2 entity; returns (processed table, rows read from its sources).

    Raises EntityError (the entity fails) or Cancelled; warnings go to `report`. Foreign keys that
    cannot be linked yet stay deferred in `ctx.fk_states[name]` (see `relink_deferred`).
    """
    spec = ctx.project.entities[name]
    raw = _entity_config(ctx, spec)
    check_unnest_settings(name, spec.unnest)
    unnest_names = spec.unnest.names if spec.unnest else []
    delayed = is_delayed(raw, unnest_names)
    setting = dedupe_setting(raw, ctx.project.raw)
    table, rows_in = _concatenated(ctx, spec, raw, delayed, report)
    table = _filters(ctx, spec, table, "extract", report)
    if raw.get("drop_duplicates") and not delayed:
        ctx.phase(name, "dedupe", len(table))
        table = drop_duplicates(table, setting, entity=name, report=report)
    elif spec.append and spec.append_mode == "distinct" and not raw.get("drop_duplicates"):
        table = _distinct_union(ctx, spec, table, report)
    table = _link(ctx, spec, table, report, unnest_pending=spec.unnest is not None)
    table = evaluate_extra_columns(table, spec.extra_columns, entity=name, report=report)
    table = _filters(ctx, spec, table, "after_link", report)
    if spec.unnest is not None:
        ctx.phase(name, "unnest", len(table))
        table = unnest(table, spec.unnest, entity=name, extra_columns=spec.extra_columns)
        table = _link(ctx, spec, table, report, unnest_pending=False)
        table = evaluate_extra_columns(table, spec.extra_columns, entity=name, report=report)
        table = _filters(ctx, spec, table, "after_unnest", report)
    if delayed:
        ctx.phase(name, "dedupe", len(table))
        table = drop_duplicates(table, setting, entity=name, report=report)
    report_duplicate_keys(table, spec.keys, report)
    if raw.get("drop_empty_rows"):
        ctx.phase(name, "drop_empty_rows", len(table))
        table = drop_empty_rows(table, raw["drop_empty_rows"], report=report, checkpoint=ctx.checkpoint)
    table = add_identity(table, spec, report=report)
    report_unresolved(table, spec.extra_columns, entity=name, report=report)
    return reorder_columns(table, spec, ctx.project.entities), rows_in


# --- deferred links (12.5) ---------------------------------------------------------------------
def has_deferred_links(ctx: EntityContext, name: str) -> bool:
    """Whether a processed entity still waits for one of its foreign keys."""
    return is_deferred(ctx.fk_states.get(name, {}))


def deferred_foreign_keys(ctx: EntityContext, name: str) -> list[ForeignKeySpec]:
    states = ctx.fk_states.get(name, {})
    spec = ctx.project.entities[name]
    return [fk for fk in spec.foreign_keys if states.get(fk.index) == FkState.DEFERRED]


def relink_deferred(ctx: EntityContext, name: str, table: pd.DataFrame, report: EntityReport) -> pd.DataFrame:
    """One more attempt at a processed entity's deferred foreign keys (step 17 of 6.3, 12.5).

    The columns a late link adds are appended after the entity's ordered columns, not sorted in,
    as the reference does ([C22]; format-v2.md 6.6, 20 #18).
    """
    spec = ctx.project.entities[name]
    states = ctx.fk_states.setdefault(name, {})
    return link_foreign_keys(
        spec, table, ctx.project.entities, ctx.store, states, options=ctx.link_options, report=report
    )
