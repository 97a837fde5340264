"""Pages of test runs: the dashboard, a run and its polled status, an entity's result."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.text import get_valid_filename

from configurations.models import Configuration
from configurations.views import with_last_run
from testruns.models import EntityResult, TestRun
from testruns.options import RunOptions

def _get_run(run_id) -> TestRun:
    """The run with what its pages show beside it (configuration, version, requester): one query, or 404."""
    return get_object_or_404(
        TestRun.objects.select_related("configuration", "version", "requested_by"), pk=run_id
    )


def dashboard(request):
    return render(
        request,
        "testruns/dashboard.html",
        {
            "active_runs": list(TestRun.objects.for_list().active()),
            "recent_runs": TestRun.objects.for_list()[:10],
            "configurations": with_last_run(Configuration.objects.order_by("-updated_at")),
        },
    )


def run_detail(request, run_id):
    run = _get_run(run_id)
    return render(
        request,
        "testruns/run_detail.html",
        {
            "run": run,
            "results": list(run.entity_results.all()),
            "events": list(run.events.all()),
            "options": RunOptions.from_dict(run.options),
        },
    )


def run_status(request, run_id):
    """The part of the run page that changes while the run works; polled by the page until the run ends.

    Two queries (the run, its entity results) whatever the number of entities. The poll that finds the run
    ended also sends the event log, out of band, so the page shows how it ended: one more query, once.
    """
    run = _get_run(run_id)
    context = {"run": run, "results": list(run.entity_results.all())}
    if request.htmx and not run.is_active:
        context.update(events=list(run.events.all()), events_oob=True)
    return render(request, "testruns/partials/run_status.html", context)


def entity_detail(request, run_id, name):
    run = _get_run(run_id)
    result = get_object_or_404(EntityResult, run=run, entity=name)
    columns = [(column, result.dtypes.get(column, "")) for column in result.columns]
    return render(request, "testruns/entity_detail.html", {"run": run, "result": result, "columns": columns})


def entity_csv(request, run_id, name):
    result = get_object_or_404(
        EntityResult.objects.select_related("run__configuration"), run_id=run_id, entity=name
    )
    if not result.output:
        raise Http404("This entity has no stored table.")
    try:
        handle = result.output.open("rb")
    except FileNotFoundError:
        raise Http404("The stored table is gone.") from None
    filename = get_valid_filename(f"{result.run.configuration.name}-{result.run.short_id}-{name}.csv")
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="text/csv")
