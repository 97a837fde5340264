"""`run`: process the entities of a plan (spec 2.2-2.18), then finalise the tables (2.19).

One entity failing does not stop the others (unless stop_on_error); entities that need a failed
one are skipped with the reason. Tables nobody reads anymore are finalised and released at once.
"""

from __future__ import annotations

import time
import traceback as tb
from collections.abc import Callable, Mapping

import pandas as pd

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
        self.context.released.add(name)
        if self.keep_tables:
            self.final[name] = final

    # --- phases -------------------------------------------------------------------------------
    def _phase(self, name: str, phase: str) -> None:
        self.observer.entity_phase(name, phase)
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
        stop_reason: str | None = None
        for name in self.plan.order:
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
            elif outcome.status == EntityStatus.FAILED and self.stop_on_error:
                stop_reason = f"not started: entity '{name}' failed and stop_on_error is set"
            self._consumed(name)
            if name in self.store and name not in self.inputs and self.consumers.get(name, 0) <= 0:
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
        outcome = EntityOutcome(
            name, EntityStatus.SUCCESS, role, warnings=report.warnings, issues=report.issues
        )
        try:
            table, rows_in = process_entity(self.context, name, report)
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
        where = self.project.entity_location(name)
        for issue in report.issues:
            issue.location = issue.location or where
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
