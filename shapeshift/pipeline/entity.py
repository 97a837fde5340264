"""Processing of one entity (spec 2.4 steps 1-12): load, subset, append, filter, link, unnest,
de-duplicate, drop empty rows, surrogate id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..config.model import Project
from ..errors import EntityError
from ..issues import IssueCode
from ..paths import parent_of
from ..sources import SourceContext, load_table
from .extract import apply_filters, drop_duplicates, subset, wanted_source_columns
from .frames import unchecked
from .link import LinkOptions, LinkState, link_entity
from .report import EntityReport
from .reshape import add_surrogate_id, dedupe_with_fd_check, drop_empty_rows, is_delayed, unnest

SQL_SAMPLE_BOUND = 1_000_000  # SQL lookups are read whole in sampled runs, up to this many rows
APPEND_NOT_INHERITED = ("foreign_keys", "unnest", "append", "append_mode", "depends_on")


class Cancelled(Exception):
    """Raised between phases, or at a checkpoint inside one, when the observer asks the run to stop."""


@dataclass
class EntityContext:
    """What processing one entity needs from the run: the table store and run settings.

    `phase(name, phase, rows)` is called as each phase begins, with the rows of the table it starts from
    when they are known (`Observer.entity_phase`); `checkpoint(items)` wraps the long loops inside a
    phase (one item per column) and raises Cancelled there too.
    """

    project: Project
    store: dict[str, pd.DataFrame]
    default_entity: str | None
    max_rows: int | None
    link_options: LinkOptions
    phase: Callable[[str, str, int | None], None]
    checkpoint: Callable[[Iterable], Iterable] = unchecked
    fk_states: dict[str, dict[int, LinkState]] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)


def source_table(
    ctx: EntityContext,
    name: str,
    config: dict,
    fk_keys: list,
    unnest_names: list,
    report: EntityReport | None = None,
) -> pd.DataFrame:
    wanted = wanted_source_columns(config, fk_keys, unnest_names)
    return load_source(ctx, name, config, wanted.__contains__ if wanted else None, report)


def load_source(
    ctx: EntityContext,
    name: str,
    config: dict,
    wanted_columns: Callable[[str], bool] | None,
    report: EntityReport | None = None,
    format_version: int = 1,
) -> pd.DataFrame:
    """The loader's table for `config`, else the processed table of its source or the default entity."""
    context = SourceContext(
        resolver=ctx.project.resolver,
        base_dir=parent_of(ctx.project.main),
        max_rows=ctx.max_rows,
        sql_row_limit=None if ctx.max_rows is None else SQL_SAMPLE_BOUND,
        wanted_columns=wanted_columns,
        env=ctx.project.env,
        sql_policy=ctx.project.sql_policy,
        checkpoint=ctx.checkpoint,
        format_version=format_version,
    )
    loaded = load_table(name, config, ctx.project.data_sources, context)
    if loaded is not None:
        if loaded.attrs.get("truncated_at") and report is not None:
            report.warn(
                IssueCode.ROWS_TRUNCATED,
                f"SQL result cut to its first {loaded.attrs['truncated_at']:,} rows (sampled-run bound)",
            )
        return loaded
    source = (
        config.get("source")
        if isinstance(config.get("source"), str) and config.get("source")
        else ctx.default_entity
    )
    if source and source in ctx.store:
        return ctx.store[source]
    if source and source in ctx.released:
        raise EntityError(f"source '{source}' of entity '{name}' was already released")
    hint = (
        ""
        if source
        else (
            " (no type/data_source, no source and no default entity: give it a "
            "`source:` or run with an input table as default entity)"
        )
    )
    raise EntityError(f"Unable to resolve source for entity '{name}'{hint}")


def process_entity(ctx: EntityContext, name: str, report: EntityReport) -> tuple[pd.DataFrame, int]:
    """Process one entity completely; returns (processed table, rows read from its sources).

    Raises EntityError (the entity fails) or Cancelled; warnings go to `report`.
    """
    spec = ctx.project.entities[name]
    raw = spec.raw
    if not raw:
        declared = (ctx.project.raw.get("entities") or {}).get(name)
        shape = "empty" if declared in (None, {}) else f"not a mapping but {type(declared).__name__}"
        raise EntityError(f"No configuration found for entity '{name}' ({shape})")
    columns = raw.get("columns")
    if isinstance(columns, list) and not all(isinstance(c, str) for c in columns):
        raise EntityError(
            f"Invalid columns configuration for entity '{name}': every item must be a string, got {columns!r}"
        )
    unnest_names = spec.unnest.names if spec.unnest else []
    if spec.unnest and (not spec.unnest.var_name or not spec.unnest.value_name):
        raise EntityError(
            f"Invalid unnest configuration for entity '{name}': var_name and value_name are required"
        )
    delayed = is_delayed(raw.get("drop_duplicates"), spec.unnest)
    if spec.surrogate_id and not raw.get("surrogate_id"):
        raw = {**raw, "surrogate_id": spec.surrogate_id}  # public_id: loaders read surrogate_id
    parts = [(raw, spec.fk_local_keys, unnest_names)]
    for item in spec.append:
        merged = {k: v for k, v in raw.items() if k not in APPEND_NOT_INHERITED}
        merged.update(item)
        parts.append((merged, [], []))
    frames, rows_in = [], 0
    for config, fk_keys, names in parts:
        ctx.phase(name, "load")
        source = source_table(ctx, name, config, fk_keys, names, report)
        rows_in += len(source)
        ctx.phase(name, "subset", len(source))
        frames.append(
            subset(
                source,
                config,
                fk_local_keys=fk_keys,
                unnest_names=names,
                delayed=delayed,
                report=report,
                checkpoint=ctx.checkpoint,
            )
        )
        del source
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    del frames
    if spec.filters:
        ctx.phase(name, "filter", len(table))
        table = apply_filters(table, spec.filters, ctx.store, report)
    if spec.append and spec.append_mode == "distinct" and not delayed:
        dd = raw.get("drop_duplicates")
        table = drop_duplicates(table, dd if isinstance(dd, list) else True, report)
    states = ctx.fk_states.setdefault(name, {})
    if spec.foreign_keys:
        ctx.phase(name, "link", len(table))
        table = link_entity(
            spec,
            table,
            ctx.project.entities,
            ctx.store,
            states,
            ctx.link_options,
            report,
            defer_all=bool(spec.unnest),
        )
    if spec.unnest:
        ctx.phase(name, "unnest", len(table))
        table, melted = unnest(table, spec.unnest, report)
        if melted and spec.foreign_keys:
            ctx.phase(name, "link", len(table))
            table = link_entity(
                spec, table, ctx.project.entities, ctx.store, states, ctx.link_options, report
            )
        deferred = [i for i, s in states.items() if s == LinkState.DEFERRED]
        if deferred:
            report.warn(IssueCode.FK_DEFERRED, f"foreign keys {deferred} never linked (unnest did not run)")
    if delayed:
        ctx.phase(name, "dedupe", len(table))
        table = dedupe_with_fd_check(table, raw["drop_duplicates"], report)
    if raw.get("drop_empty_rows"):
        ctx.phase(name, "drop_empty_rows", len(table))
        table = drop_empty_rows(table, raw.get("drop_empty_rows"), report, ctx.checkpoint)
    table = add_surrogate_id(table, spec.surrogate_id)
    return table, rows_in
