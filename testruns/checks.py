"""The checks of a test run's data, made once its entities are done: against the configuration's target
model (format-v2.md 19.4) and the configuration's own ``checks:`` section (``shapeshift.targets``).

    checks = RunChecks.prepare(run, project, root)   # before the entities; None: nothing to check
    checks.keep(name, table)                         # each final table, as the run stores it
    check_phase(run, checks, should_stop)            # after the entities: evaluate and store (RunCheck rows)

Only the columns a check can read are kept of each table (its ``system_id``, the columns the model names for
the entity, foreign-key columns, the columns of the author's checks), and only of the entities checked or
linked to: a full run of 118,000 survey rows keeps a few narrow tables, never the survey.

Nothing here may leave a run hanging: a model that cannot be read, a check item that cannot be used and an
error inside the checks each become a failed check (error level) that says why, and the run goes on to its
verdict. A cancel is honoured between the target model's checks and each entity's own checks.
"""

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby

from shapeshift import ConfigError
from shapeshift.targets import CheckKind, CheckResult, check_data, parse_checks, run_checks
from shapeshift.targets.checks import SYSTEM_ID
from testruns.diffs import compute
from testruns.models import RunCheck, RunLost, TestRun, entity_differs

logger = logging.getLogger(__name__)

ERROR, WARNING = "error", "warning"
AUTHORED_SOURCE = "the configuration's checks: section"
# Kinds of the rows that report a check that could not be made at all (beside the engine's CheckKind).
MODEL_UNREADABLE = "target_model"
INVALID_CHECK = "invalid_check"
CHECKS_BROKE = "checks_error"


def target_model_for(configuration, project):
    """``(model, source)``: the target model this configuration's runs use, and where it comes from.

    The one chosen for the configuration (import, page) wins over a format-2 project's own
    ``metadata.target_model``; ``(None, "")`` when there is neither. Raises shapeshift.ConfigError (a
    TargetModelError) or OSError when the model cannot be read. Reads the chosen model's stored file.
    """
    from shapeshift.targets import target_model_of

    chosen = configuration.chosen_target_model()
    if chosen is not None:
        file = configuration.target_model_file or "a file"
        return chosen, f"{chosen.name} {chosen.version} ({file}, chosen for the configuration)"
    model = target_model_of(project)
    if model is None:
        return None, ""
    return model, f"{model.name} {model.version} (the project's metadata.target_model)"


def _failed(origin: str, kind: str, message: str, source: str = "", entity: str = "", **details) -> RunCheck:
    return RunCheck(
        origin=origin,
        source=source,
        entity=entity or "",
        kind=kind,
        severity=ERROR,
        status=RunCheck.Status.FAILED,
        message=message,
        details=details,
    )


def _json_safe(value):
    """``value`` with infinite and NaN floats as text: JSON has no such numbers (PostgreSQL refuses them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _row(origin: str, source: str, result: CheckResult) -> RunCheck:
    return RunCheck(
        origin=origin,
        source=source,
        entity=result.entity,
        kind=result.kind.value,
        columns=list(result.columns),
        severity=result.severity.value,
        status=result.status.value,
        message=result.message,
        reason=result.reason,
        failing_rows=result.failing_rows,
        sample=_json_safe(result.sample),
        details=_json_safe(result.details),
    )


@dataclass
class RunChecks:
    """What one run checks, and the slim tables it has kept for that so far.

    ``wanted`` maps each entity whose table a check reads to the columns it may read; ``problems`` are the
    failed checks found before any table (a model that cannot be read, a ``checks:`` item that cannot be
    used, an error while keeping a table).
    """

    project: object
    model: object = None
    model_source: str = ""
    authored: list = field(default_factory=list)
    problems: list[RunCheck] = field(default_factory=list)
    wanted: dict[str, set[str]] = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    root: str = ""  # the bundle folder, cut from the locations the checks report

    @classmethod
    def prepare(cls, run: TestRun, project, root: str = "") -> "RunChecks | None":
        """The checks of ``run`` (target model, ``checks:``), or None when it has none to make.

        Reads ``run.configuration`` (a query unless loaded) and the chosen model's stored file. Never
        raises for what the configuration holds: each problem is kept as a failed check.
        """
        checks = cls(project, root=f"{root.rstrip('/')}/" if root else "")
        try:
            checks.model, checks.model_source = target_model_for(run.configuration, project)
        except Exception as exc:  # a model that cannot be read must not keep the entities from running
            why = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, ConfigError | OSError):
                logger.exception("reading the target model of run %s failed", run.pk)
            checks.problems.append(
                _failed(
                    RunCheck.Origin.TARGET_MODEL,
                    MODEL_UNREADABLE,
                    f"The target model could not be read, so the data was not checked against it: "
                    f"{checks.local(why)}",
                )
            )
        checks.authored, issues = parse_checks(project)
        for issue in issues:
            checks.problems.append(
                _failed(
                    RunCheck.Origin.CONFIGURATION,
                    INVALID_CHECK,
                    f"This check cannot be made: {issue.message}",
                    AUTHORED_SOURCE,
                    issue.entity,
                    location=checks.local(issue.location),
                    suggestion=issue.suggestion,
                )
            )
        if checks.model is None and not checks.authored and not checks.problems:
            return None
        checks.wanted = wanted_columns(project, checks.model, checks.authored)
        return checks

    @property
    def compares_with_baseline(self) -> bool:
        return any(check.kind == CheckKind.EQUALS_BASELINE for check in self.authored)

    def local(self, text: str) -> str:
        """``text`` with the bundle folder cut from its paths: users know their files by their own names."""
        return text.replace(self.root, "") if self.root else text

    def describe(self) -> str:
        """What the run's event log says as the checks start."""
        parts = []
        if self.model is not None:
            parts.append(f"against the target model {self.model_source}")
        if self.authored:
            count = len(self.authored)
            parts.append(f"with {count} {'check' if count == 1 else 'checks'} of the configuration's own")
        if not parts:
            return "Nothing can be checked (the failed checks say why)."
        return f"Checking the data {' and '.join(parts)}."

    def keep(self, name: str, table) -> None:
        """Keep what the checks read of an entity's final table; nothing for an entity no check reads.

        An error here never fails the entity: it becomes a failed check, and the table is left out.
        """
        wanted = self.wanted.get(name)
        if wanted is None:
            return
        try:
            # A copy: a view would keep the whole table's memory alive.
            self.tables[name] = table.loc[:, table.columns.isin(list(wanted))].copy()
        except Exception as exc:  # whatever pandas raised, the run goes on
            logger.exception("keeping the table of %r for the checks failed", name)
            self.problems.append(
                _failed(
                    RunCheck.Origin.TARGET_MODEL if self.model is not None else RunCheck.Origin.CONFIGURATION,
                    CHECKS_BROKE,
                    f"The table of '{name}' could not be kept for the checks: {type(exc).__name__}: {exc}",
                    entity=name,
                )
            )

    def evaluate(
        self, should_stop: Callable[[], bool], baseline: Callable[[], dict | None] = lambda: None
    ) -> list[RunCheck] | None:
        """Every check, as unsaved RunCheck rows in order (problems, then the model's, then ``checks:``);
        None when ``should_stop`` says the run was cancelled. An error inside a check ends the checks with
        a failed check saying so (the traceback goes to the worker's log); RunLost passes through.
        """
        found = list(self.problems)
        try:
            if self.model is not None:
                if should_stop():
                    return None
                results = check_data(self.tables, self.project, self.model)
                found += [_row(RunCheck.Origin.TARGET_MODEL, self.model_source, r) for r in results]
            equal_to_baseline = baseline() if self.compares_with_baseline else None
            for _entity, checks in groupby(self.authored, key=lambda check: check.entity):
                if should_stop():
                    return None
                results = run_checks(list(checks), self.tables, baseline=equal_to_baseline)
                found += [_row(RunCheck.Origin.CONFIGURATION, AUTHORED_SOURCE, r) for r in results]
        except RunLost:
            raise
        except Exception as exc:  # ours, not the user's: say so on the run, log the traceback
            logger.exception("the checks failed")
            found.append(
                _failed(
                    RunCheck.Origin.TARGET_MODEL if self.model is not None else RunCheck.Origin.CONFIGURATION,
                    CHECKS_BROKE,
                    f"The checks could not be completed (internal error): {type(exc).__name__}: {exc}",
                )
            )
        for position, check in enumerate(found):
            check.position = position
            if "location" in check.details:
                check.details["location"] = self.local(str(check.details["location"]))
        return found


def wanted_columns(project, model, authored: Iterable) -> dict[str, set[str]]:
    """Entity -> the columns the checks may read of its table, ``system_id`` always among them.

    Model entities the project has: every column the model names for them (columns, identity columns,
    unique sets) and the column each foreign key fills (the parent's public_id, format 1's surrogate_id);
    each parent linked to needs its ``system_id``. Checks of the author's: their columns, and the parent
    column of a relationship.
    """
    wanted: dict[str, set[str]] = {}

    def columns(name: str) -> set[str]:
        return wanted.setdefault(name, {SYSTEM_ID})

    if model is not None:
        for name, entity in model.entities.items():
            if name not in project.entities:
                continue
            kept = columns(name)
            kept |= set(entity.columns) | set(entity.identity_columns)
            kept |= {column for names in entity.unique_sets for column in names}
            for fk in entity.foreign_keys:
                if fk.via:
                    continue
                parent = project.entities.get(fk.entity)
                if parent is not None:
                    columns(fk.entity)
                    fk_column = parent.identity
                else:
                    modelled = model.entities.get(fk.entity)
                    fk_column = modelled.public_id if modelled else None
                if fk_column:
                    kept.add(fk_column)
    for check in authored:
        columns(check.entity).update(check.columns)
        if check.kind is CheckKind.RELATIONSHIP:
            columns(check.params["parent"]).add(check.params["parent_column"])
    return wanted


def check_phase(run: TestRun, checks: RunChecks, should_stop: Callable[[], bool]) -> bool:
    """Make the run's checks and store them with its counters; False if the run was cancelled meanwhile
    (then nothing is stored). Every write is the worker's claimed write (RunLost once it is not).
    """
    with run.claimed_write(current_entity=""):
        run.log("info", checks.describe())
    found = checks.evaluate(should_stop, baseline=lambda: equal_to_baseline(run))
    if found is None:
        with run.claimed_write():
            run.log("info", "Cancelled during the checks: no check results are kept.")
        return False
    failed = sum(1 for check in found if check.is_error)
    with run.claimed_write(checks_total=len(found), checks_failed=failed):
        for check in found:
            check.run = run
        RunCheck.objects.bulk_create(found, batch_size=500)
        summary = CheckSummary.of(found)
        run.log("error" if failed else "warning" if summary.warnings else "info", f"Checks: {summary}.")
    return True


def equal_to_baseline(run: TestRun) -> dict[str, bool] | None:
    """Entity -> whether its table equals the configuration's baseline run's (``equals_baseline``);
    None when the configuration has no baseline, or the run is it. Diffs the stored tables now."""
    kept = run.baseline()
    if kept is None or kept.run_id == run.pk:
        return None
    entities, _notes = compute(kept.run, run)
    return {entity["entity"]: not entity_differs(entity) for entity in entities}


@dataclass
class CheckSummary:
    """A run's (or an entity's) checks as pages show them: failed ones first (errors before warnings),
    then skipped ones, then passed ones, with the counts and where they come from."""

    failed: list[RunCheck]
    skipped: list[RunCheck]
    passed: list[RunCheck]
    sources: list[str]

    @classmethod
    def of(cls, checks: Iterable[RunCheck], entities: Iterable[str] = ()) -> "CheckSummary":
        """``entities``: those of the run (with a page of their own); each check gets ``has_page``."""
        checks, entities = list(checks), set(entities)
        for check in checks:
            check.has_page = check.entity in entities
        failed = [check for check in checks if check.status == RunCheck.Status.FAILED]
        failed.sort(key=lambda check: check.severity != ERROR)  # stable: errors first, each in order
        return cls(
            failed=failed,
            skipped=[check for check in checks if check.status == RunCheck.Status.SKIPPED],
            passed=[check for check in checks if check.status == RunCheck.Status.PASSED],
            sources=list(dict.fromkeys(check.source for check in checks if check.source)),
        )

    @property
    def total(self) -> int:
        return len(self.failed) + len(self.skipped) + len(self.passed)

    @property
    def errors(self) -> int:
        return sum(1 for check in self.failed if check.severity == ERROR)

    @property
    def warnings(self) -> int:
        return len(self.failed) - self.errors

    def __str__(self) -> str:
        """ "253 checks: 6 failed (6 errors), 208 skipped, 39 passed" """
        noun = "check" if self.total == 1 else "checks"
        parts = []
        if self.failed:
            kinds = [f"{self.errors} {'error' if self.errors == 1 else 'errors'}"] if self.errors else []
            if self.warnings:
                kinds.append(f"{self.warnings} {'warning' if self.warnings == 1 else 'warnings'}")
            parts.append(f"{len(self.failed)} failed ({', '.join(kinds)})")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        parts.append(f"{len(self.passed)} passed")
        return f"{self.total} {noun}: {', '.join(parts)}"
