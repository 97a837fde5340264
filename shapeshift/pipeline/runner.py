"""`run`: process the entities of a plan (spec 2.2-2.18), then finalise the tables (2.19).

One entity failing does not stop the others (unless stop_on_error); entities that need a failed
one are skipped with the reason. Tables nobody reads anymore are finalised and released at once.

Format 2 (format-v2.md 6.1, 12.5) runs each entity through `shapeshift.v2.entity.process_entity`.
An entity whose foreign keys wait for a remote not processed yet ("deferred") is *pending*: its
table is stored (others may read it), every pending entity is relinked after each entity and up to
five times after the last, and its outcome is told once its links are made, failed or given up.
A table is released only when no pending entity can still change it or still needs it as a remote.
"""

from __future__ import annotations

import time
import traceback as tb
from collections.abc import Callable, Mapping

import pandas as pd

from ..config.format import FORMAT_V2
from ..config.model import Project
from ..errors import ConfigError, EntityError
from ..issues import Issue, IssueCode, Severity
from .entity import Cancelled, EntityContext, process_entity
from .finalise import finalise_table, translation_map
from .frames import Checkpoint
from .inputs import dtype_names, read_input
from .link import LinkOptions
from .outcomes import EntityOutcome, EntityStatus, Observer, RunResult
from .planning import Plan, entity_dependencies
from .planning import plan as make_plan
from .report import EntityReport


def _ms(start: float) -> int:
    return int(round((time.perf_counter() - start) * 1000))


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
        self.v2 = _Format2() if project.format_version == FORMAT_V2 else None
        if self.v2 is not None and translate:
            self.translation = self.v2.translation_map(project)
        self.finalise = self.v2.finalise_table if self.v2 is not None else finalise_table
        self.process = self.v2.process_entity if self.v2 is not None else process_entity
        self.pending: dict[str, tuple[EntityOutcome, EntityReport]] = {}  # format 2: deferred links
        self.stop_reason: str | None = None
        self.default_entity = next(iter(self.inputs), None) or plan.default_entity or project.default_entity
        self.store: dict[str, pd.DataFrame] = {}
        self.final: dict[str, pd.DataFrame] = {}
        self.context = EntityContext(
            project=project,
            store=self.store,
            default_entity=self.default_entity,
            max_rows=max_rows,
            link_options=link_options,
            phase=self._phase,
            checkpoint=Checkpoint(self.observer.should_stop, Cancelled),
        )
        self.status: dict[str, EntityStatus] = {}
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
        if self.v2 is not None:
            # deferred links read their remote when they are made (format-v2.md 12.5)
            readers.update(fk.entity for fk in spec.foreign_keys if fk.entity in self.project.entities)
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
            if (
                self.consumers[dependency] <= 0
                and dependency in self.store
                and dependency not in self.pending
            ):
                self._release(dependency)

    def _release(self, name: str) -> None:
        table = self.store.pop(name)
        final = self.finalise(
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
        self.context.released.add(name)
        if self.keep_tables:
            self.final[name] = final

    # --- phases -------------------------------------------------------------------------------
    def _phase(self, name: str, phase: str, rows: int | None = None) -> None:
        self.observer.entity_phase(name, phase, rows)
        if self.observer.should_stop():
            raise Cancelled()

    # --- the loop -----------------------------------------------------------------------------
    def _read_inputs(self) -> dict[str, str]:
        """Pre-fill the store with the input tables; returns {name: error} for inputs that cannot be read."""
        errors = {}
        for name, value in self.inputs.items():
            try:
                self.store[name] = read_input(name, value, self.project, self.max_rows)
            except Exception as exc:  # noqa: BLE001 - an unreadable input fails only what needs it
                errors[name] = f"input table for '{name}' cannot be read: {type(exc).__name__}: {exc}"
                self.status[name] = EntityStatus.FAILED
        return errors

    def _report(self, outcome: EntityOutcome, outcomes: list, started: bool = True) -> EntityOutcome:
        """Record an outcome that needed no processing and tell the observer."""
        if outcome.error and outcome.status in (EntityStatus.FAILED, EntityStatus.SKIPPED):
            skipped = outcome.status == EntityStatus.SKIPPED
            code = IssueCode.ENTITY_SKIPPED if skipped else IssueCode.ENTITY_FAILED
            severity = Severity.WARNING if skipped else Severity.ERROR
            outcome.issues.append(
                Issue(
                    severity,
                    code,
                    outcome.name,
                    outcome.error,
                    location=self.project.entity_location(outcome.name),
                )
            )
        if started:
            self.observer.entity_started(outcome.name)
        self.observer.entity_finished(outcome)
        outcomes.append(outcome)
        return outcome

    def _prefilled(self, name: str, role: str) -> EntityOutcome:
        table = self.store[name]
        return EntityOutcome(
            name,
            EntityStatus.SUCCESS,
            role,
            rows_in=len(table),
            rows_out=len(table),
            columns=[str(c) for c in table.columns],
            dtypes=dtype_names(table),
            table=table if self.keep_tables else None,
        )

    def _blocked_by(self, name: str) -> list[str]:
        default = self.default_entity if self.default_entity in self.project.entities else None
        deps = set(entity_dependencies(self.project, name, default))
        if default is None and self.default_entity in self.status:
            deps.add(self.default_entity)  # an undeclared input table that could not be read
        return sorted(d for d in deps if self.status.get(d) not in (None, EntityStatus.SUCCESS))

    def run(self) -> RunResult:
        started = time.perf_counter()
        outcomes: list[EntityOutcome] = []
        input_errors = self._read_inputs()
        cancelled = False
        for name in self.plan.order:
            stop_reason = self.stop_reason
            role = self.plan.role(name)
            if not cancelled and not stop_reason and self.observer.should_stop():
                cancelled = True
            if cancelled or stop_reason:
                # never started: reported through entity_finished like every other outcome
                status = EntityStatus.CANCELLED if cancelled else EntityStatus.SKIPPED
                reason = "run cancelled before this entity started" if cancelled else stop_reason
                self._report(EntityOutcome(name, status, role, error=reason), outcomes, started=False)
                continue
            if name in input_errors:
                outcome = self._report(
                    EntityOutcome(name, EntityStatus.FAILED, role, error=input_errors[name]), outcomes
                )
            elif name in self.inputs:
                outcome = self._report(self._prefilled(name, role), outcomes)
            elif name in self.plan.unresolved:
                missing = ", ".join(repr(d) for d in self.plan.unresolved[name])
                error = f"depends on undeclared entity {missing} (source, depends_on, foreign key or append)"
                outcome = self._report(EntityOutcome(name, EntityStatus.FAILED, role, error=error), outcomes)
            elif blocked := self._blocked_by(name):
                reason = "skipped: depends on " + ", ".join(f"'{b}' ({self.status[b]})" for b in blocked)
                outcome = self._report(
                    EntityOutcome(name, EntityStatus.SKIPPED, role, error=reason), outcomes, started=False
                )
            else:
                outcome = self._run_entity(name, role)
                outcomes.append(outcome)
            self.status[name] = outcome.status
            if outcome.status == EntityStatus.CANCELLED:
                cancelled = True
            elif outcome.status == EntityStatus.FAILED:
                self._failed(name)
            if name not in self.pending:
                self._consumed(name)
                if name in self.store and name not in self.inputs and self.consumers.get(name, 0) <= 0:
                    self._release(name)
            if self.pending:
                self._relink_pending()
        self._final_link_passes()
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
        outcome = EntityOutcome(
            name, EntityStatus.SUCCESS, role, warnings=report.warnings, issues=report.issues
        )
        try:
            table, rows_in = self.process(self.context, name, report)
            self.store[name] = table
            outcome.rows_in, outcome.rows_out = rows_in, len(table)
            outcome.columns = [str(c) for c in table.columns]
            outcome.dtypes = dtype_names(table)
            outcome.table = table if self.keep_tables else None
        except Cancelled:
            outcome.status, outcome.error = EntityStatus.CANCELLED, "run cancelled"
        except EntityError as exc:
            outcome.status, outcome.error = EntityStatus.FAILED, str(exc)
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
            outcome.status = EntityStatus.FAILED
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
        if self.v2 is not None and outcome.status == EntityStatus.SUCCESS:
            if self.v2.has_deferred_links(self.context, name):
                self.pending[name] = (outcome, report)
                return outcome
            self._note_mapping(outcome, report)
        self._finish(outcome, report)
        return outcome

    def _finish(self, outcome: EntityOutcome, report: EntityReport) -> None:
        where = self.project.entity_location(outcome.name)
        for issue in report.issues:
            issue.location = issue.location or where
        self.observer.entity_finished(outcome)

    def _failed(self, name: str) -> None:
        if self.stop_on_error and not self.stop_reason:
            self.stop_reason = f"not started: entity '{name}' failed and stop_on_error is set"

    # --- format 2: deferred links (format-v2.md 12.5) ------------------------------------------
    def _note_mapping(self, outcome: EntityOutcome, report: EntityReport) -> None:
        """Tell the outcome now if its `options.mappings` entry will not apply at finalisation."""
        problem = self.v2.mapping_warning(
            outcome.name,
            outcome.columns,
            self.project,
            drop_foreign_keys=self.drop_foreign_keys,
            translation=self.translation,
        )
        if problem:
            report.warn(IssueCode.MAPPING_INVALID, problem)

    def _relink_pending(self) -> bool:
        """Step 17 of format-v2.md 6.3: relink every pending entity; True when any link state changed."""
        before = {name: dict(self.context.fk_states.get(name, {})) for name in self.pending}
        for name in list(self.pending):
            outcome, report = self.pending[name]
            started = time.perf_counter()
            error = None
            try:
                self.store[name] = self.v2.relink_deferred(self.context, name, self.store[name], report)
            except EntityError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - one entity's crash must not end the run
                error = f"{type(exc).__name__}: {exc}"
                outcome.traceback = tb.format_exc()
            outcome.duration_ms += _ms(started)
            if error is not None:
                self._settle(name, error)
            elif not self.v2.has_deferred_links(self.context, name):
                self._settle(name)
        return any(before[name] != self.context.fk_states.get(name, {}) for name in before)

    def _final_link_passes(self) -> None:
        """Up to five more passes after the last entity; then the entities still waiting are told."""
        for _ in range(5):
            if not self.pending or not self._relink_pending():
                break
        for name in list(self.pending):
            _, report = self.pending[name]
            for fk in self.v2.deferred_foreign_keys(self.context, name):
                report.warn(
                    IssueCode.FK_DEFERRED_UNRESOLVED,
                    f"foreign key {fk.index} (-> {fk.entity}) was never linked: "
                    + self._why_unlinked(fk.entity),
                )
            self._settle(name)

    def _why_unlinked(self, remote: str | None) -> str:
        if remote not in self.project.entities:
            return f"'{remote}' is not a declared entity"
        if self.status.get(remote) is None:
            return f"'{remote}' is not part of this run (defer_dependency does not add it)"
        if self.status[remote] != EntityStatus.SUCCESS:
            return f"'{remote}' {self.status[remote]}"
        return "its local key columns never appeared in the table"

    def _settle(self, name: str, error: str | None = None) -> None:
        """A pending entity's outcome is final: tell it, and release what only it still needed."""
        outcome, report = self.pending.pop(name)
        if error is not None:
            self.store.pop(name, None)
            outcome.status, outcome.error, outcome.table = EntityStatus.FAILED, error, None
            outcome.rows_out, outcome.columns, outcome.dtypes = None, [], {}
            report.issues.append(Issue(Severity.ERROR, IssueCode.ENTITY_FAILED, name, error))
            self.status[name] = EntityStatus.FAILED
            self._failed(name)
        else:
            table = self.store[name]
            outcome.rows_out = len(table)
            outcome.columns = [str(c) for c in table.columns]
            outcome.dtypes = dtype_names(table)
            outcome.table = table if self.keep_tables else None
            self._note_mapping(outcome, report)
        self._finish(outcome, report)
        self._consumed(name)
        if name in self.store and name not in self.inputs and self.consumers.get(name, 0) <= 0:
            self._release(name)


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


class _Format2:
    """The format-2 functions the runner calls, imported on first use (format-1 runs never load them)."""

    def __init__(self) -> None:
        from ..v2 import entity, finalise

        self.process_entity = entity.process_entity
        self.has_deferred_links = entity.has_deferred_links
        self.deferred_foreign_keys = entity.deferred_foreign_keys
        self.relink_deferred = entity.relink_deferred
        self.finalise_table = finalise.finalise_table
        self.translation_map = finalise.translation_map
        self.mapping_warning = finalise.mapping_warning
