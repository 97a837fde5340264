"""`run`: process the entities of a plan (spec 2.2-2.18), then finalise the tables (2.19).

One entity failing does not stop the others (unless stop_on_error); entities that need a failed
one are skipped with the reason. Tables nobody reads anymore are finalised and released at once.
"""

from __future__ import annotations

import csv
import os
import time
import traceback as tb
from collections.abc import Callable, Mapping

import pandas as pd

from ..config.model import EntitySpec, Project
from ..errors import ConfigError, EntityError
from ..issues import Issue, IssueCode, Severity
from ..paths import parent_of
from ..sources import SourceContext, load_table
from ..sources.files import compact_text_dtype
from ..sources.loaders import file_options
from .extract import apply_filters, drop_duplicates, subset, wanted_source_columns
from .finalise import finalise_table, translation_map
from .link import LinkOptions, link_entity
from .outcomes import EntityOutcome, Observer, RunResult
from .planning import Plan, entity_dependencies
from .planning import plan as make_plan
from .report import EntityReport
from .reshape import add_surrogate_id, dedupe_with_fd_check, drop_empty_rows, is_delayed, unnest

APPEND_NOT_INHERITED = ("foreign_keys", "unnest", "append", "append_mode", "depends_on")


class _Cancelled(Exception):
    pass


def dtype_names(table: pd.DataFrame) -> dict[str, str]:
    """Column dtypes as the reference tool would have them (categorical text is reported as object)."""
    return {
        str(c): str(t.categories.dtype) if isinstance(t, pd.CategoricalDtype) else str(t)
        for c, t in table.dtypes.items()
    }


def _ms(start: float) -> int:
    return int(round((time.perf_counter() - start) * 1000))


def read_input(name: str, value, project: Project, max_rows: int | None) -> pd.DataFrame:
    """The default-entity input table from a DataFrame or a file path.

    A file is read with the read options of the declared entity of that name when it is a CSV
    entity (so `--input survey.csv` reads like the configuration's own survey entity); otherwise
    as text with a sniffed delimiter, every column a string and empty cells kept as "".
    """
    if isinstance(value, pd.DataFrame):
        return value.head(max_rows).copy() if max_rows is not None else value
    path = os.fspath(value)
    spec = project.entities.get(name)
    options = None
    if spec is not None and spec.type in ("csv", "tsv"):
        options = file_options(spec.raw)
    if options:
        options = dict(options)
        options.pop("filename", None)
        options.setdefault("sep", "\t" if spec.type == "tsv" else ",")
    else:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            sample = handle.read(65536)
        try:
            sep = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
        options = {"sep": sep, "dtype": str, "keep_default_na": False}
    options = compact_text_dtype(options)
    if max_rows is not None:
        options["nrows"] = max_rows
    if path.lower().endswith((".xlsx", ".xls")):
        return pd.read_excel(path, nrows=max_rows, dtype=str, keep_default_na=False)
    return pd.read_csv(path, **options)


class _Runner:
    def __init__(
        self,
        project: Project,
        plan: Plan,
        *,
        inputs,
        max_rows,
        observer,
        stop_on_error,
        link_options: LinkOptions,
        translate: bool,
        drop_foreign_keys: bool,
        keep_tables: bool,
        on_table: Callable[[str, pd.DataFrame], None] | None,
        compact_text: bool = False,
    ) -> None:
        self.project = project
        self.plan = plan
        self.inputs = dict(inputs or {})
        self.max_rows = max_rows
        self.observer = observer or Observer()
        self.stop_on_error = stop_on_error
        self.link_options = link_options
        self.translation = translation_map(project) if translate else None
        self.drop_foreign_keys = drop_foreign_keys
        self.keep_tables = keep_tables
        self.on_table = on_table
        self.compact_text = compact_text
        self.default_entity = next(iter(self.inputs), None) or plan.default_entity or project.default_entity
        self.store: dict[str, pd.DataFrame] = {}
        self.final: dict[str, pd.DataFrame] = {}
        self.fk_states: dict[str, dict[int, str]] = {}
        self.status: dict[str, str] = {}
        self.consumers = self._count_consumers()

    # --- memory: count remaining readers of each table (kedro's _release_datasets) ---------------
    def _readers(self, name: str) -> set[str]:
        spec = self.project.entities[name]
        readers = set(
            entity_dependencies(
                self.project,
                name,
                self.default_entity if self.default_entity in self.project.entities else None,
            )
        )
        if not spec.has_loader and not spec.source and self.default_entity:
            readers.add(self.default_entity)
        for item in spec.filters:
            if isinstance(item, dict) and isinstance(item.get("other_entity"), str):
                readers.add(item["other_entity"])
        for item in spec.append:
            if (
                not item.get("source")
                and not item.get("type")
                and not spec.has_loader
                and self.default_entity
            ):
                readers.add(self.default_entity)
        readers.discard(name)
        return readers

    def _count_consumers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in self.plan.order:
            for dependency in self._readers(name):
                counts[dependency] = counts.get(dependency, 0) + 1
        return counts

    def _consumed(self, name: str) -> None:
        for dependency in self._readers(name):
            self.consumers[dependency] = self.consumers.get(dependency, 1) - 1
            if self.consumers[dependency] <= 0 and dependency in self.store:
                self._release(dependency)

    def _release(self, name: str) -> None:
        table = self.store.pop(name)
        final = finalise_table(
            name,
            table,
            self.project,
            drop_foreign_keys=self.drop_foreign_keys,
            translation=self.translation,
            compact_text=self.compact_text,
        )
        del table
        if self.on_table is not None:
            self.on_table(name, final)
        if self.keep_tables:
            self.final[name] = final

    # --- phases -------------------------------------------------------------------------------
    def _phase(self, name: str, phase: str) -> None:
        self.observer.entity_phase(name, phase)
        if self.observer.should_stop():
            raise _Cancelled()

    def _source_table(
        self, name: str, spec: EntitySpec, config: dict, fk_keys: list, unnest_names: list
    ) -> pd.DataFrame:
        wanted = wanted_source_columns(config, fk_keys, unnest_names)
        context = SourceContext(
            resolver=self.project.resolver,
            base_dir=parent_of(self.project.main),
            max_rows=self.max_rows,
            wanted_columns=wanted.__contains__ if wanted else None,
            env=self.project.env,
        )
        loaded = load_table(name, config, self.project.data_sources, context)
        if loaded is not None:
            return loaded
        source = (
            config.get("source")
            if isinstance(config.get("source"), str) and config.get("source")
            else self.default_entity
        )
        if source and source in self.store:
            return self.store[source]
        if source and source in self.final:
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

    def _process(self, name: str, report: EntityReport) -> tuple[pd.DataFrame, int]:
        spec = self.project.entities[name]
        raw = spec.raw
        if not raw:
            declared = (self.project.raw.get("entities") or {}).get(name)
            shape = "empty" if declared in (None, {}) else f"not a mapping but {type(declared).__name__}"
            raise EntityError(f"No configuration found for entity '{name}' ({shape})")
        columns = raw.get("columns")
        if isinstance(columns, list) and not all(isinstance(c, str) for c in columns):
            raise EntityError(
                f"Invalid columns configuration for entity '{name}': "
                f"every item must be a string, got {columns!r}"
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
            self._phase(name, "load")
            source = self._source_table(name, spec, config, fk_keys, names)
            rows_in += len(source)
            self._phase(name, "subset")
            frames.append(
                subset(
                    source, config, fk_local_keys=fk_keys, unnest_names=names, delayed=delayed, report=report
                )
            )
            del source
        table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        del frames
        if spec.filters:
            self._phase(name, "filter")
            table = apply_filters(table, spec.filters, self.store, report)
        if spec.append and spec.append_mode == "distinct" and not delayed:
            dd = raw.get("drop_duplicates")
            table = drop_duplicates(table, dd if isinstance(dd, list) else True, report)
        states = self.fk_states.setdefault(name, {})
        if spec.foreign_keys:
            self._phase(name, "link")
            table = link_entity(
                spec,
                table,
                self.project.entities,
                self.store,
                states,
                self.link_options,
                report,
                defer_all=bool(spec.unnest),
            )
        if spec.unnest:
            self._phase(name, "unnest")
            table, melted = unnest(table, spec.unnest, report)
            if melted and spec.foreign_keys:
                self._phase(name, "link")
                table = link_entity(
                    spec, table, self.project.entities, self.store, states, self.link_options, report
                )
            deferred = [i for i, s in states.items() if s == "deferred"]
            if deferred:
                report.warn(
                    IssueCode.FK_DEFERRED, f"foreign keys {deferred} never linked (unnest did not run)"
                )
        if delayed:
            self._phase(name, "dedupe")
            table = dedupe_with_fd_check(table, raw["drop_duplicates"], report)
        if raw.get("drop_empty_rows"):
            self._phase(name, "drop_empty_rows")
            table = drop_empty_rows(table, raw.get("drop_empty_rows"), report)
        table = add_surrogate_id(table, spec.surrogate_id)
        return table, rows_in

    # --- the loop -----------------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.perf_counter()
        outcomes: list[EntityOutcome] = []
        for name, value in self.inputs.items():
            self.store[name] = read_input(name, value, self.project, self.max_rows)
        cancelled = False
        stop_reason: str | None = None
        for name in self.plan.order:
            role = self.plan.role(name)
            if not cancelled and not stop_reason and self.observer.should_stop():
                cancelled = True
            if cancelled or stop_reason:
                # never started: reported once through entity_finished like every other outcome
                status = "cancelled" if cancelled else "skipped"
                reason = "run cancelled before this entity started" if cancelled else stop_reason
                outcome = EntityOutcome(name, status, role, error=reason)
                self.observer.entity_finished(outcome)
                outcomes.append(outcome)
                continue
            if name in self.inputs:
                table = self.store[name]
                outcome = EntityOutcome(
                    name,
                    "success",
                    role,
                    rows_in=len(table),
                    rows_out=len(table),
                    columns=[str(c) for c in table.columns],
                    dtypes=dtype_names(table),
                    table=table if self.keep_tables else None,
                )
                self.status[name] = "success"
                self.observer.entity_started(name)
                self.observer.entity_finished(outcome)
                outcomes.append(outcome)
                continue
            if name in self.plan.unresolved:
                missing = ", ".join(repr(d) for d in self.plan.unresolved[name])
                outcome = EntityOutcome(
                    name,
                    "failed",
                    role,
                    error=f"depends on undeclared entity {missing} (source, depends_on, "
                    "foreign key or append source)",
                )
                outcome.issues.append(
                    Issue(
                        Severity.ERROR,
                        IssueCode.DEPENDS_ON_UNKNOWN,
                        name,
                        outcome.error,
                        location=self.project.entity_location(name),
                    )
                )
                self.status[name] = "failed"
                self.observer.entity_started(name)
                self.observer.entity_finished(outcome)
                outcomes.append(outcome)
                self._consumed(name)
                if self.stop_on_error:
                    stop_reason = f"not started: entity '{name}' failed and stop_on_error is set"
                continue
            deps = entity_dependencies(
                self.project,
                name,
                self.default_entity if self.default_entity in self.project.entities else None,
            )
            blocked = [d for d in deps if self.status.get(d) not in (None, "success")]
            if blocked:
                reason = (
                    f"skipped: depends on {', '.join(repr(b) + ' (' + self.status[b] + ')' for b in blocked)}"
                )
                outcome = EntityOutcome(name, "skipped", role, error=reason)
                outcome.issues.append(Issue(Severity.WARNING, IssueCode.ENTITY_SKIPPED, name, reason))
                self.status[name] = "skipped"
                self.observer.entity_finished(outcome)
                outcomes.append(outcome)
                self._consumed(name)
                continue
            outcome = self._run_entity(name, role)
            outcomes.append(outcome)
            self.status[name] = outcome.status
            if outcome.status == "cancelled":
                cancelled = True
            elif outcome.status == "failed" and self.stop_on_error:
                stop_reason = f"not started: entity '{name}' failed and stop_on_error is set"
            self._consumed(name)
            if name in self.store and self.consumers.get(name, 0) <= 0:
                self._release(name)
        for name in list(self.store):
            self._release(name)
        order = list(self.inputs) + [n for n in self.plan.order if n not in self.inputs]
        tables = {n: self.final[n] for n in order if n in self.final}
        tables.update((n, t) for n, t in self.final.items() if n not in tables)
        return RunResult(outcomes=outcomes, tables=tables, cancelled=cancelled, duration_ms=_ms(started))

    def _run_entity(self, name: str, role: str) -> EntityOutcome:
        report = EntityReport(name)
        started = time.perf_counter()
        self.observer.entity_started(name)
        outcome = EntityOutcome(name, "success", role, warnings=report.warnings, issues=report.issues)
        try:
            table, rows_in = self._process(name, report)
            self.store[name] = table
            outcome.rows_in, outcome.rows_out = rows_in, len(table)
            outcome.columns = [str(c) for c in table.columns]
            outcome.dtypes = dtype_names(table)
            outcome.table = table if self.keep_tables else None
        except _Cancelled:
            outcome.status, outcome.error = "cancelled", "run cancelled"
        except EntityError as exc:
            outcome.status, outcome.error = "failed", str(exc)
            report.issues.append(
                Issue(
                    Severity.ERROR,
                    IssueCode.ENTITY_FAILED,
                    name,
                    str(exc),
                    location=self.project.entity_location(name),
                )
            )
        except Exception as exc:  # noqa: BLE001 - one entity's crash must not end the run
            outcome.status = "failed"
            outcome.error = f"{type(exc).__name__}: {exc}"
            outcome.traceback = tb.format_exc()
            report.issues.append(
                Issue(
                    Severity.ERROR,
                    IssueCode.ENTITY_FAILED,
                    name,
                    outcome.error,
                    location=self.project.entity_location(name),
                )
            )
        outcome.duration_ms = _ms(started)
        self.observer.entity_finished(outcome)
        return outcome


def run(
    project: Project,
    plan: Plan | None = None,
    *,
    inputs: Mapping | None = None,
    max_rows: int | None = None,
    observer: Observer | None = None,
    stop_on_error: bool = False,
    validate_foreign_keys: bool = True,
    validate_constraints: bool = True,
    translate: bool = False,
    drop_foreign_keys: bool = False,
    keep_tables: bool = True,
    on_table: Callable[[str, pd.DataFrame], None] | None = None,
    compact_text: bool = False,
) -> RunResult:
    """Process the plan's entities and return outcomes plus final tables.

    inputs: {default_entity_name: path | DataFrame}, pre-filled and read by entities without
    source/loader. max_rows cuts every file input to its first N rows. validate_constraints=False
    reports FK constraint violations as warnings instead of failing the entity;
    validate_foreign_keys adds info issues for FK rows without a match. keep_tables=False keeps no
    table in memory (use on_table(name, final_table), called as soon as a table is final).
    compact_text=True leaves text read from CSV as `category` in the final tables (same values;
    for callers that only write tables out).
    """
    if max_rows is not None and max_rows < 0:
        raise ConfigError("max_rows must be >= 0")
    inputs = dict(inputs or {})
    if plan is None:
        plan = make_plan(project, default_entity=next(iter(inputs), None))
    runner = _Runner(
        project,
        plan,
        inputs=inputs,
        max_rows=max_rows,
        observer=observer,
        stop_on_error=stop_on_error,
        link_options=LinkOptions(
            validate_constraints=validate_constraints, validate_foreign_keys=validate_foreign_keys
        ),
        translate=translate,
        drop_foreign_keys=drop_foreign_keys,
        keep_tables=keep_tables,
        on_table=on_table,
        compact_text=compact_text,
    )
    return runner.run()
