"""The test-run endpoints of the JSON API (/api/v1/test-runs): start runs and read them, in the reference
tool's field names (spec §5). ``shiftbench/api.py`` mounts this router and sets authentication for it.
"""

import json
from datetime import datetime
from typing import Literal
from uuid import UUID

import pydantic
from django.shortcuts import get_object_or_404
from ninja import Field, NinjaAPI, Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status as Reply

from configurations.models import Configuration
from shiftbench.uploads import refused_uploads
from testruns.diffs import DiffRefused, diff_json, request_diff
from testruns.execution import start_run
from testruns.inputs import GivenInput, InvalidInput, bundled_input, earlier_input, upload_input
from testruns.models import (
    BaselineRefused,
    RunAlreadyFinished,
    RunDiff,
    RunNotQueued,
    RunStillActive,
    Status,
    TestRun,
)
from testruns.options import DEFAULT_ROWS, MAX_ROWS, MIN_ROWS, InvalidOptions, RunOptions
from testruns.serializers import TestProgress, TestRunResult, run_progress, run_result

router = Router(tags=["test runs"])


class Error(Schema):
    detail: str


class OptionsIn(Schema):
    entities: list[str] | None = Field(None, description="entities to run, and what they need; null = all")
    max_rows_per_entity: int | None = Field(
        DEFAULT_ROWS, ge=MIN_ROWS, le=MAX_ROWS, description="rows read from each input file; null = all rows"
    )
    stop_on_error: bool = False
    validate_foreign_keys: bool = True
    validate_constraints: bool = True
    output_format: Literal["preview", "csv", "json"] = Field(
        "preview", description="accepted for compatibility with the reference tool; ignored"
    )


class TestRunRequest(Schema):
    config_name: str
    options: OptionsIn | None = None
    input_id: UUID | None = Field(
        None, description="an input table given before (a run's input.id), read as the default entity"
    )
    input_file: str | None = Field(
        None,
        description="one of the version's bundled CSV or Excel files (its path), read as the default entity",
    )
    default_entity: str | None = Field(
        None,
        max_length=100,
        description="the entity the input table stands for; default: the version's metadata.default_entity",
    )


def _inlined(schema: dict) -> dict:
    """``schema`` with its ``$defs`` put in place: an operation's own request body has no components."""
    defs = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                return inline(defs[node["$ref"].rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


_JSON_REQUEST = _inlined(TestRunRequest.model_json_schema())
_MULTIPART_REQUEST = {
    "type": "object",
    "required": ["config_name"],
    "properties": {
        **{name: {"type": "string"} for name in ("config_name", "input_id", "input_file", "default_entity")},
        "options": {"type": "string", "description": "the options object as JSON text"},
        "input": {
            "type": "string",
            "format": "binary",
            "description": "a CSV or Excel file: the input table",
        },
    },
}
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _JSON_REQUEST},
            "multipart/form-data": {"schema": _MULTIPART_REQUEST},
        },
    }
}


class RunFilters(Schema):
    config_name: str | None = None
    status: Status | None = None


class RunPagination(LimitOffsetPagination):
    """Limit/offset pages of run objects, without the entities' preview rows and the runs' checks (GET one
    run for those)."""

    def paginate_queryset(self, queryset, pagination, request, **params):
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["items"] = [
            run_result(run, previews=False, request=request, checks=False) for run in page["items"]
        ]
        return page


def add_exception_handlers(api: NinjaAPI) -> None:
    """Answer what starting a run raises; ninja keeps exception handlers on the API, not on a router."""

    def invalid_options(request, exc: InvalidOptions):
        """Options the configuration cannot run get the same 422 shape as ninja's own validation errors."""
        location = ["body", "payload", "options", exc.field]
        detail = [{"type": "value_error", "loc": location, "msg": exc.message}]
        return api.create_response(request, {"detail": detail}, status=422)

    def run_not_queued(request, exc: RunNotQueued):
        """The broker is down: the run exists, already failed with the reason; the caller may retry later."""
        return api.create_response(request, {"detail": str(exc)}, status=503)

    def invalid_input(request, exc: InvalidInput):
        """An input table that cannot run (unreadable, unknown id, no default entity): nothing started."""
        return api.create_response(request, {"detail": exc.message}, status=400)

    api.add_exception_handler(InvalidOptions, invalid_options)
    api.add_exception_handler(InvalidInput, invalid_input)
    api.add_exception_handler(RunNotQueued, run_not_queued)


@router.post(
    "",
    response={202: TestRunResult, 400: Error, 404: Error, 413: Error, 503: Error},
    openapi_extra=REQUEST_BODY,
)
def create_test_run(request):
    """Start a test run of the configuration's current version: queued, and answered at once (pending).

    JSON, or multipart form data with the input table as the file ``input`` (``options`` then as JSON
    text). An input table (the file, ``input_id`` or ``input_file``) is read as the default entity; one
    that does not read as CSV or Excel gets 400 naming it, and no run starts.
    """
    payload, upload = _run_request(request)
    name = payload.config_name
    configuration = Configuration.objects.select_related("current_version").filter(name=name).first()
    if configuration is None:
        return Reply(404, {"detail": f"Configuration {name!r} not found."})
    version = configuration.current_version
    if version is None:
        return Reply(404, {"detail": f"Configuration {name!r} has no version to run."})
    options = RunOptions.from_dict((payload.options or OptionsIn()).model_dump())
    options.checked(version.validation.get("entities"))  # before an input is stored for nothing
    given_input = _given_input(version, payload, upload, request.auth)
    run = start_run(version, options, request.auth, given_input=given_input)
    run = TestRun.objects.with_results().get(pk=run.pk)
    return Reply(202, run_result(run, request=request))


def _run_request(request) -> tuple[TestRunRequest, object | None]:
    """The request's fields (JSON or multipart form data) and its uploaded input table, if any.

    Read here rather than by a ninja body parameter, which would read a multipart body into memory whole.
    Errors have ninja's shapes: 400 for a body that is not JSON, 422 naming each bad field (under
    ``body.payload`` for JSON, ``form`` for form data), 413 for an input table over the upload limit.
    """
    if request.content_type == "multipart/form-data":
        refused = refused_uploads(request)
        if refused:
            raise HttpError(413, refused[0].message)
        data, location = request.POST.dict(), ("form",)
        if "options" in data:
            try:
                data["options"] = json.loads(data["options"])
            except ValueError:
                raise ValidationError(
                    [{"type": "json_invalid", "loc": ["form", "options"], "msg": "options is not JSON"}]
                ) from None
        upload = request.FILES.get("input")
    else:
        try:
            data = json.loads(request.body) if request.body else {}
        except ValueError:
            raise HttpError(400, "Cannot parse request body") from None
        location, upload = ("body", "payload"), None
    try:
        return TestRunRequest.model_validate(data), upload
    except pydantic.ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            error.pop("input", None)
            error["loc"] = [*location, *error["loc"]]
            if isinstance(error.get("ctx", {}).get("error"), Exception):
                error["ctx"]["error"] = str(error["ctx"]["error"])
            errors.append(error)
        raise ValidationError(errors) from None


def _given_input(version, payload: TestRunRequest, upload, user) -> GivenInput | None:
    """The input table the request names, checked and stored; None without one. Raises InvalidInput."""
    given = [what for what in (upload, payload.input_id, payload.input_file) if what]
    if len(given) > 1:
        raise InvalidInput("input", "give one input table: the file input, input_id or input_file")
    if upload:
        return upload_input(version, upload, upload.name, payload.default_entity, user)
    if payload.input_id:
        return earlier_input(version, payload.input_id, payload.default_entity)
    if payload.input_file:
        return bundled_input(version, payload.input_file, payload.default_entity, user)
    return None


@router.get("", response=list[TestRunResult])
@paginate(RunPagination, max_limit=500)  # a larger limit is cut to 500
def list_test_runs(request, filters: Query[RunFilters]):
    """Runs, newest first, optionally of one configuration or in one status."""
    runs = TestRun.objects.order_by("-created_at", "-pk")
    if filters.config_name:
        runs = runs.filter(configuration__name=filters.config_name)
    if filters.status:
        runs = runs.filter(status=filters.status)
    return runs.with_results(previews=False)


@router.get("/{uuid:run_id}", response={200: TestRunResult, 404: Error})
def get_test_run(request, run_id: UUID):
    """One run with every entity's result and preview rows, and the checks of its data."""
    return run_result(get_object_or_404(TestRun.objects.with_results(), pk=run_id), request=request)


@router.get("/{uuid:run_id}/progress", response={200: TestProgress, 404: Error})
def get_test_run_progress(request, run_id: UUID):
    """How far the run is: entities and rows done, elapsed time and an estimate of the time left."""
    return run_progress(get_object_or_404(TestRun, pk=run_id))


@router.post("/{uuid:run_id}/cancel", response={200: TestRunResult, 404: Error, 409: Error})
def cancel_test_run(request, run_id: UUID):
    """Cancel a run: a pending one at once, a running one at its next checkpoint (status ``cancelling``).

    A finished run cannot be cancelled: 409.
    """
    run = get_object_or_404(TestRun, pk=run_id)
    try:
        run.request_cancel()
    except RunAlreadyFinished as exc:
        return Reply(409, {"detail": str(exc)})
    return run_result(TestRun.objects.with_results().get(pk=run.pk), request=request)


@router.delete("/{uuid:run_id}", response={204: None, 404: Error, 409: Error})
def delete_test_run(request, run_id: UUID):
    """Delete a finished run with its entity results, event log and stored tables: 204.

    An active run (pending, running, cancelling) is refused with 409: cancel it first
    (``POST …/cancel``), then delete it once it has ended, so no worker writes for a run that is gone.
    """
    run = get_object_or_404(TestRun, pk=run_id)
    try:
        run.delete_with_outputs()
    except RunStillActive as exc:
        return Reply(409, {"detail": str(exc)})
    return Reply(204, None)


# --- baselines and diffs ---------------------------------------------------------------------------------


class BaselineOut(Schema):
    config_name: str
    run_id: UUID
    set_by: str | None
    set_at: datetime


class EntityDiffOut(Schema):
    """One entity of a diff: rows matched by identity (``matched_on``), counted by kind, with the share of
    matched rows equal in each column (``column_match``, %) and up to 20 sample rows of each kind."""

    entity: str
    matched_on: str
    rows_base: int
    rows_head: int
    only_in_base: int
    only_in_head: int
    changed: int
    unchanged: int
    columns_added: list[str]
    columns_removed: list[str]
    column_match: dict[str, float]
    samples: dict[str, list]


class RunDiffOut(Schema):
    base: UUID
    head: UUID
    entities_compared: int
    entities_differing: int
    notes: list[str]
    entities: list[EntityDiffOut]


class DiffWorking(Schema):
    base: UUID
    head: UUID
    status: str
    detail: str


@router.post("/{uuid:run_id}/baseline", response={200: BaselineOut, 400: Error, 404: Error, 409: Error})
def make_test_run_baseline(request, run_id: UUID):
    """Make the run its configuration's baseline, in place of any other.

    409 while the run is still working; 400 for a run that did not go through every entity (cancelled,
    crashed, could not start).
    """
    run = get_object_or_404(TestRun.objects.select_related("configuration"), pk=run_id)
    try:
        baseline = run.make_baseline(request.auth)
    except RunStillActive as exc:
        return Reply(409, {"detail": str(exc)})
    except BaselineRefused as exc:
        return Reply(400, {"detail": str(exc)})
    return _baseline_out(baseline, run)


@router.delete("/{uuid:run_id}/baseline", response={204: None, 404: Error, 409: Error})
def clear_test_run_baseline(request, run_id: UUID):
    """Stop the run being its configuration's baseline: 204; 409 if it is not the baseline."""
    run = get_object_or_404(TestRun, pk=run_id)
    if not run.clear_baseline():
        return Reply(409, {"detail": f"Run {run.short_id} is not the baseline of its configuration."})
    return Reply(204, None)


def _baseline_out(baseline, run) -> dict:
    return {
        "config_name": run.configuration.name,
        "run_id": run.pk,
        "set_by": baseline.set_by.get_username() if baseline.set_by else None,
        "set_at": baseline.set_at,
    }


@router.get(
    "/{uuid:run_id}/diff",
    response={200: RunDiffOut, 202: DiffWorking, 400: Error, 404: Error, 409: Error},
)
def get_test_run_diff(request, run_id: UUID, base: UUID | None = None):
    """The diff of the run's whole stored tables with run ``base`` (by default its configuration's baseline).

    Rows are matched by identity (the entity's keys, else its public ids, else the target model's identity
    columns, else the whole row), foreign keys by the parent row they point to. A diff is computed once and
    kept; a big one is computed by a worker: 202 until it is done (ask again). 409 while a run is still
    working, or when the diff failed (the next request tries again); 400 when no base is given and the
    configuration has no baseline.
    """
    head = get_object_or_404(TestRun, pk=run_id)
    if base is None:
        baseline = head.baseline()
        if baseline is None:
            return Reply(400, {"detail": "Give ?base=<run id>: the run's configuration has no baseline."})
        base_run = baseline.run
    else:
        base_run = get_object_or_404(TestRun, pk=base)
    try:
        diff = request_diff(base_run, head)
    except DiffRefused as exc:
        return Reply(409, {"detail": str(exc)})
    if diff.status == RunDiff.Status.FAILED:
        return Reply(409, {"detail": f"The diff could not be computed: {diff.error}"})
    if diff.is_working:
        detail = "A worker is computing the diff: ask again in a few seconds."
        working = {"base": base_run.pk, "head": head.pk, "status": diff.status, "detail": detail}
        return Reply(202, working)
    return diff_json(diff)
