"""A test run as the outside world sees it: the JSON API and ``show_run --json`` share these shapes.

Field names follow the reference tool's result objects (``TestRunResult``, ``EntityTestResult``,
``TestProgress``, spec §5.4) so its clients keep working; ``created_at``, ``version``, ``requested_by``,
``pinned`` and ``url`` are ours.

Every function here reads only what the run already holds: load runs with
``TestRun.objects.with_results()`` so that serialising one run, or a page of them, costs a fixed number
of queries.
"""

import json
from datetime import datetime

from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from testruns.models import EntityResult
from testruns.progress import Reference, progress_of


class ValidationIssue(Schema):
    entity_name: str | None
    severity: str
    code: str | None = None
    message: str
    suggestion: str = ""
    location: str = ""


class EntityTestResult(Schema):
    entity_name: str
    role: str
    status: str
    rows_in: int | None
    rows_out: int | None
    execution_time_ms: int | None
    error_message: str | None
    warnings: list[str]
    validation_issues: list[ValidationIssue]
    columns: list[str]
    preview_rows: list[dict] | None = None


class RunCheckResult(Schema):
    """One check of the run's data (``RunCheck``): against the target model or of the configuration's own."""

    origin: str  # target_model | configuration
    source: str
    entity_name: str | None
    kind: str
    columns: list[str]
    severity: str
    status: str  # passed | failed | skipped
    message: str
    reason: str
    failing_rows: int
    sample_rows: list[dict]  # up to 20 failing rows, column -> value, system_id first
    details: dict


class RunInputResult(Schema):
    """The table a run was given as its default entity; ``id`` gives it to another run (``input_id``)."""

    id: str
    name: str
    size: int
    sha256: str
    default_entity: str


class TestRunResult(Schema):
    run_id: str
    config_name: str
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    total_time_ms: int | None
    entities_processed: list[EntityTestResult]
    entities_total: int
    entities_succeeded: int
    entities_failed: int
    entities_skipped: int
    validation_issues: list[ValidationIssue]
    error_message: str | None
    options: dict
    current_entity: str | None
    entities_completed: int
    # ours, beyond the reference
    summary: str | None  # why the run did not succeed, from its counters ("1 entity failed, 2 skipped")
    created_at: datetime
    version: int
    requested_by: str | None
    pinned: bool
    url: str
    checks_total: int
    checks_failed: int  # failed at error level: these fail the run
    checks: list[RunCheckResult] | None = None  # None in lists of runs: GET the run for them
    input: RunInputResult | None = None  # the input table given as the default entity, if any


class TestProgress(Schema):
    run_id: str
    status: str
    current_entity: str | None
    entities_completed: int
    entities_total: int
    progress_percentage: float
    elapsed_time_ms: int | None
    estimated_time_remaining_ms: int | None
    # Beyond the reference's object: the rows the finished entities read, and of how many, while the run
    # works and its last comparable run (``reference_run_id``) says so for every entity still to do.
    rows_read: int
    rows_expected: int | None
    reference_run_id: str | None
    # What the entity at work is doing, when the worker said so: the engine's name of its phase (load,
    # subset, filter, link, unnest, dedupe, drop_empty_rows), the rows of the table that phase started from,
    # and the rows the entity has read from its sources so far (not in rows_read until it finishes).
    # Null when not known, and once the entity or the run has ended.
    current_phase: str | None
    current_rows: int | None
    current_rows_in: int | None


def issue_result(issue: dict, entity: str) -> ValidationIssue:
    return ValidationIssue(
        entity_name=issue.get("entity") or entity,
        severity=issue.get("severity", "error"),
        code=issue.get("code"),
        message=issue.get("message", ""),
        suggestion=issue.get("suggestion") or "",
        location=issue.get("location") or "",
    )


def entity_result(result: EntityResult, previews: bool = True) -> EntityTestResult:
    """One entity's result; ``preview_rows`` maps column → value in each stored preview row, or is None."""
    preview_rows = None
    if previews:
        preview_rows = [dict(zip(result.columns, row, strict=False)) for row in result.preview]
    return EntityTestResult(
        entity_name=result.entity,
        role=result.role,
        status=result.status,
        rows_in=result.rows_in,
        rows_out=result.rows_out,
        execution_time_ms=result.duration_ms,
        error_message=result.error or None,
        warnings=[str(warning) for warning in result.warnings],
        validation_issues=[issue_result(issue, result.entity) for issue in result.issues],
        columns=result.columns,
        preview_rows=preview_rows,
    )


def check_result(check) -> RunCheckResult:
    return RunCheckResult(
        origin=check.origin,
        source=check.source,
        entity_name=check.entity or None,
        kind=check.kind,
        columns=check.columns,
        severity=check.severity,
        status=check.status,
        message=check.message,
        reason=check.reason,
        failing_rows=check.failing_rows,
        sample_rows=check.sample,
        details=check.details,
    )


def run_result(run, previews: bool = True, request=None, checks: bool = True) -> TestRunResult:
    """The run in the reference's ``TestRunResult`` shape.

    ``run`` should come from ``TestRun.objects.with_results()`` (else this queries for the configuration,
    version, user and entities). ``url`` is absolute when a ``request`` is given, else the page's path.
    With ``checks`` its checks are read too: one query more for a run that has checks (``loaded_checks``).
    """
    entities = [entity_result(result, previews) for result in run.entity_results.all()]
    url = run.get_absolute_url()
    return TestRunResult(
        run_id=str(run.pk),
        config_name=run.configuration.name,
        status=run.status,
        started_at=run.started_at,
        completed_at=run.finished_at,
        total_time_ms=run.total_time_ms,
        entities_processed=entities,
        entities_total=run.entities_total,
        entities_succeeded=run.entities_succeeded,
        entities_failed=run.entities_failed,
        entities_skipped=run.entities_skipped,
        validation_issues=[issue for entity in entities for issue in entity.validation_issues],
        error_message=run.error_message or None,
        options=run.options,
        current_entity=run.current_entity or None,
        entities_completed=run.entities_completed,
        summary=run.summary or None,
        created_at=run.created_at,
        version=run.version.number,
        requested_by=run.requested_by.username if run.requested_by else None,
        pinned=run.pinned,
        url=request.build_absolute_uri(url) if request is not None else url,
        checks_total=run.checks_total,
        checks_failed=run.checks_failed,
        checks=[check_result(check) for check in run.loaded_checks()] if checks else None,
        input=input_result(run),
    )


def input_result(run) -> RunInputResult | None:
    """Reads ``run.input`` and its stored file (loaded with the run by ``with_results``)."""
    if run.input_id is None:
        return None
    given = run.input
    return RunInputResult(
        id=str(given.pk),
        name=given.name,
        size=given.size,
        sha256=given.sha256,
        default_entity=run.options.get("default_entity") or "",
    )


def run_progress(run) -> TestProgress:
    """The run's progress: the same counts and estimate of the time left as the run page
    (``testruns.progress``).

    Queries the run's entity results (one light query), and while the run is active its reference (two).
    """
    # "run" too: the related manager sets each row's run from run_id, which would be a query a row if deferred
    results = run.entity_results.only("run", "entity", "status", "rows_in", "duration_ms")
    progress = progress_of(run, results, Reference.of(run))
    remaining = None if progress.eta is None else round(progress.eta.total_seconds() * 1000)
    done, total = progress.entities_completed, progress.entities_total
    if total:
        percentage = round(100 * done / total, 1)
    else:
        percentage = 0.0 if run.is_active else 100.0
    return TestProgress(
        run_id=str(run.pk),
        status=run.status,
        current_entity=run.current_entity or None,
        entities_completed=done,
        entities_total=total,
        progress_percentage=percentage,
        elapsed_time_ms=run.total_time_ms,
        estimated_time_remaining_ms=remaining,
        rows_read=progress.rows_read,
        rows_expected=progress.rows_expected,
        reference_run_id=str(progress.reference.run_id) if progress.reference else None,
        current_phase=progress.phase.name if progress.phase else None,
        current_rows=progress.phase.rows if progress.phase else None,
        current_rows_in=progress.rows_current,
    )


def to_json(schema: Schema, indent: int | None = 2) -> str:
    """The JSON text the API would send for ``schema`` (same encoder, so the same dates and numbers)."""
    return json.dumps(schema.model_dump(), cls=NinjaJSONEncoder, indent=indent, ensure_ascii=False)
