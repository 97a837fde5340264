"""Pages of test runs: the dashboard, a run and its polled status, an entity's result, and the actions
on a run (cancel, re-run, delete, pin): each a POST that redirects back with a message.
"""

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from configurations.models import Configuration
from testruns.checks import CheckSummary
from testruns.execution import rerun_run
from testruns.models import (
    EntityResult,
    NoVersionToRun,
    RunAlreadyFinished,
    RunNotQueued,
    RunStillActive,
    Status,
    TestRun,
)
from testruns.options import InvalidOptions, RunOptions
from testruns.progress import Reference, progress_of
from testruns.views.explorer import explorer_context

# One letter per entity status: the page's state of its entity table, sent back by each poll (``seen``).
STATUS_LETTERS = {
    EntityResult.Status.PENDING: "p",
    EntityResult.Status.RUNNING: "r",
    EntityResult.Status.SUCCESS: "s",
    EntityResult.Status.FAILED: "f",
    EntityResult.Status.SKIPPED: "k",
    EntityResult.Status.CANCELLED: "c",
    EntityResult.Status.CRASHED: "x",
}
# What the entity table leaves out: the heavy fields stay in the database.
ROW_DEFERRED = ("preview", "traceback", "dtypes", "columns")  # issues: each row shows their severities


def _get_run(run_id) -> TestRun:
    """The run and what its pages show beside it (``for_page``), in one query; 404 if there is none."""
    return get_object_or_404(TestRun.objects.for_page(), pk=run_id)


def dashboard(request):
    return render(
        request,
        "testruns/dashboard.html",
        {
            "active_runs": list(TestRun.objects.for_list().active()),
            "recent_runs": TestRun.objects.for_list()[:10],
            # Their last runs are joined in by the table's template (``with_last_run``): still one query.
            "configurations": Configuration.objects.for_list().order_by("-updated_at"),
        },
    )


def _status_context(run, results, events, last_event_id, reference: Reference | None) -> dict:
    """What the status section shows, with the URL of its next poll: the page's state as its cursor, and
    the reference run the page found once (``ref``), so a poll does not look for it again."""
    seen = "".join(STATUS_LETTERS.get(result.status, "?") for result in results)
    if events:
        last_event_id = events[-1].pk
    cursor = {"seen": seen, "event": last_event_id}
    if reference is not None:
        cursor["ref"] = reference.run_id
    return {
        "run": run,
        "results": results,
        "progress": progress_of(run, results, reference),
        "rows_so_far": sum(result.rows_out or 0 for result in results),
        "poll_url": f"{reverse('testruns:status', args=[run.pk])}?{urlencode(cursor)}",
    }


def run_detail(request, run_id):
    run = _get_run(run_id)
    results = list(run.entity_results.defer(*ROW_DEFERRED))
    events = list(run.events.all())
    previous = run.previous_run()
    comparable = previous is not None and previous.comparison_key == run.comparison_key
    reference = Reference.load(run, previous.pk) if comparable else None
    context = _status_context(run, results, events, 0, reference)
    context.update(events=events, options=RunOptions.from_dict(run.options), previous=previous)
    # no query for a run without checks
    context["checks"] = CheckSummary.of(run.loaded_checks(), (result.entity for result in results))
    return render(request, "testruns/run_detail.html", context)


def run_status(request, run_id):
    """The part of the run page that changes while the run works; polled by the page until the run ends.

    The poll's URL carries the page's state: ``seen``, one letter per entity row it shows, and ``event``,
    the id of the last event it shows. The answer is the status section plus, out of band, only the entity
    rows whose status differs from ``seen`` and the events after ``event``. The whole entity table goes
    instead when the page has no table that matches (the plan was not made when it loaded) and with the
    last poll (finalisation may still change a finished entity's rows), and with it the run's checks (one
    query more, for a run that has checks). ``ref``, the run's reference (``testruns.progress``), costs one
    query more while the run is active. Three queries (the run, its entity results, the new events) besides
    whatever the number of entities; the section stops polling once the run ends.
    """
    run = _get_run(run_id)
    try:
        last_event_id = max(int(request.GET.get("event", 0)), 0)
    except ValueError:
        raise BadRequest("event: expected the id of the last event shown, a whole number.") from None
    try:
        reference_id = UUID(request.GET["ref"]) if request.GET.get("ref") else None
    except ValueError:
        raise BadRequest("ref: expected the id of the run to compare progress with, a UUID.") from None
    results = list(run.entity_results.defer(*ROW_DEFERRED))
    events = list(run.events.filter(pk__gt=last_event_id))
    reference = Reference.load(run, reference_id)
    context = _status_context(run, results, events, last_event_id, reference)
    seen = request.GET.get("seen")
    if seen is None or len(seen) != len(results) or not run.is_active:
        context["table_oob"] = True
    else:
        context["changed"] = [
            result
            for result, letter in zip(results, seen, strict=True)
            if STATUS_LETTERS.get(result.status) != letter
        ]
    context["new_events"] = events
    if not run.is_active and run.checks_total:  # the last poll brings the checks made after the entities
        context["last_checks"] = CheckSummary.of(run.loaded_checks(), (result.entity for result in results))
    return render(request, "testruns/partials/run_status.html", context)


def _back_to(request, run):
    """The answer to a run action: back to the run's page (an htmx request is told to go there itself)."""
    url = run.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
def run_cancel(request, run_id):
    """Cancel the run: a pending one at once, a running one at its worker's next checkpoint."""
    run = get_object_or_404(TestRun, pk=run_id)
    try:
        status = run.request_cancel()
    except RunAlreadyFinished as exc:
        messages.error(request, f"{exc} Nothing to cancel.")
    else:
        if status == Status.CANCELLED:
            messages.success(request, f"Run {run.short_id} cancelled.")
        else:
            messages.info(request, f"Cancelling run {run.short_id}: the worker stops at its next checkpoint.")
    return _back_to(request, run)


@require_POST
def run_rerun(request, run_id, current_version=False):
    """Start the run again with its options, on the same version or on the configuration's current one."""
    run = _get_run(run_id)
    try:
        new_run = rerun_run(run, request.user, current_version=current_version)
    except (InvalidOptions, NoVersionToRun) as exc:
        messages.error(request, f"Could not re-run: {exc}")
        return _back_to(request, run)
    except RunNotQueued as exc:
        messages.error(request, str(exc))
        return _back_to(request, exc.run)
    messages.success(
        request,
        f"Re-running run {run.short_id} on {run.configuration.name} "
        f"v{new_run.version.number}: this is run {new_run.short_id}.",
    )
    return _back_to(request, new_run)


@require_http_methods(["GET", "POST"])
def run_delete(request, run_id):
    """GET: what would be deleted, and a form to confirm. POST: delete the run, its results and its files.

    An active run is refused (cancel it first), so no worker is left writing for a run that is gone.
    """
    run = _get_run(run_id)
    if request.method == "POST":
        try:
            run.delete_with_outputs()
        except RunStillActive as exc:
            messages.error(request, str(exc))
            return _back_to(request, run)
        messages.success(request, f"Run {run.short_id} of {run.configuration.name} deleted.")
        url = reverse("testruns:list")
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    outputs = list(run.entity_results.values_list("output", flat=True))
    return render(
        request,
        "testruns/run_delete.html",
        {
            "run": run,
            "entity_count": len(outputs),
            "file_count": sum(1 for output in outputs if output),
            "event_count": run.events.count(),
        },
    )


@require_POST
def run_pin(request, run_id):
    """Pin the run (marked in lists, never pruned), or unpin it."""
    run = get_object_or_404(TestRun, pk=run_id)
    if run.toggle_pin():
        messages.success(request, f"Run {run.short_id} pinned: pruning keeps it.")
    else:
        messages.info(request, f"Run {run.short_id} unpinned.")
    return _back_to(request, run)


@vary_on_headers("HX-Request")
def entity_detail(request, run_id, name):
    """The entity's result and its table explorer; an htmx request (a page, sort or filter of the
    explorer) gets only the explorer, from one query (its result) and the stored table."""
    if request.htmx and not request.htmx.history_restore_request:  # a restore needs the whole page
        result = get_object_or_404(EntityResult, run_id=run_id, entity=name)
        context = explorer_context(request, result)
        return render(request, "testruns/partials/explorer.html", context, status=context["explorer_status"])
    run = _get_run(run_id)
    result = get_object_or_404(EntityResult, run=run, entity=name)
    columns = [(column, result.dtypes.get(column, "")) for column in result.columns]
    checks = CheckSummary.of(run.checks.filter(entity=name)) if run.checks_total else None
    context = {"run": run, "columns": columns, "checks": checks, **explorer_context(request, result)}
    return render(request, "testruns/entity_detail.html", context, status=context["explorer_status"])


def entity_csv(request, run_id, name):
    result = get_object_or_404(
        EntityResult.objects.select_related("run__configuration"), run_id=run_id, entity=name
    )
    if not result.output:
        raise Http404(
            f"Table lost: {result.output_lost}" if result.output_lost else "This entity has no stored table."
        )
    try:
        handle = result.output.open("rb")
    except FileNotFoundError:
        raise Http404("The stored table is gone.") from None
    filename = get_valid_filename(f"{result.run.configuration.name}-{result.run.short_id}-{name}.csv")
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="text/csv")
