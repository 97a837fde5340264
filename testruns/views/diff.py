"""The diff of two runs' stored tables, and a run's baseline.

The diff is a section of the comparison page (/runs/compare), polled at /runs/compare/diff while a worker
computes it. The baseline is a section of the run page, polled at /runs/<id>/baseline while the run works
or its diff with the baseline is computed; making a run the baseline or clearing it are plain POSTs.
"""

import uuid
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from configurations.versioning import diff_versions
from testruns.diffs import DiffRefused, request_diff
from testruns.models import BaselineRefused, RunStillActive, TestRun
from testruns.views.runs import _back_to, _get_run

OPEN_ENTITIES = 5  # with more differing entities than this, each starts folded


# --- the diff section of the comparison page --------------------------------------------------------------


@dataclass
class SampleTable:
    """Sample rows of one kind (up to 20 of ``total``): cells, or (before, after, differs) if changed."""

    kind: str  # only_in_base | only_in_head | changed
    title: str
    total: int
    columns: list[str]
    rows: list[list]


@dataclass
class EntityView:
    """One differing entity of a diff (``RunDiff.entities``), shaped for the page."""

    data: dict
    mismatched: list[tuple[str, float]] = field(default_factory=list)  # columns under 100 %, worst first
    tables: list[SampleTable] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.data["entity"]


def entity_view(data: dict) -> EntityView:
    view = EntityView(data)
    view.mismatched = sorted(
        ((column, share) for column, share in data["column_match"].items() if share < 100),
        key=lambda item: (item[1], item[0]),
    )
    samples = data["samples"]
    for kind, title, total in (
        ("only_in_base", "Only in base", data["only_in_base"]),
        ("only_in_head", "Only in head", data["only_in_head"]),
    ):
        rows = samples.get(kind) or []
        if rows:
            columns = list(rows[0])
            view.tables.append(
                SampleTable(kind, title, total, columns, [[row.get(c) for c in columns] for row in rows])
            )
    changed = samples.get("changed") or []
    if changed:
        columns = list(changed[0]["head"])
        rows = [
            [(pair["base"].get(c), pair["head"].get(c), c in pair["columns"]) for c in columns]
            for pair in changed
        ]
        view.tables.append(SampleTable("changed", "Changed", data["changed"], columns, rows))
    return view


def diff_context(base: TestRun, head: TestRun) -> dict:
    """What the diff section shows: the kept diff of the two runs (computed now if it is small, else
    asked of a worker: the section then polls), or why there is none yet."""
    context = {"diff_url": f"{reverse('testruns:compare_diff')}?base={base.pk}&head={head.pk}"}
    try:
        diff = request_diff(base, head)
    except DiffRefused as exc:
        return {**context, "diff_refused": str(exc)}
    context.update(diff=diff, open_entities=OPEN_ENTITIES)
    if diff.status == diff.Status.DONE:
        context["entity_views"] = [entity_view(entity) for entity in diff.differing]
    return context


def compare_diff(request):
    """The diff section alone: what the comparison page polls while a worker computes the diff.

    400 for a missing or malformed id, 404 for an unknown run. Three queries once the diff is kept.
    """
    ids = {}
    for role in ("base", "head"):
        try:
            ids[role] = uuid.UUID(request.GET.get(role, "").strip())
        except ValueError:
            raise BadRequest(f"{role}: expected a run id (a UUID).") from None
    runs = {run.pk: run for run in TestRun.objects.filter(pk__in=ids.values())}
    for role, run_id in ids.items():
        if run_id not in runs:
            raise Http404(f"No run {run_id} ({role}).")
    base, head = runs[ids["base"]], runs[ids["head"]]
    return render(request, "testruns/partials/diff.html", diff_context(base, head))


# --- a run's baseline ---------------------------------------------------------------------------------------


def baseline_context(run: TestRun) -> dict:
    """What the run page's baseline section shows: the configuration's baseline, and for any other run
    that has ended its diff with it (``request_diff``) and the YAML diff of their two versions.

    ``run`` is loaded with ``for_page``. Queries: the baseline; then the kept diff; and the two versions'
    files when they differ. The section polls while the run works or a worker computes the diff.
    """
    baseline = run.baseline()
    context = {"run": run, "baseline": baseline, "poll_url": None}
    poll_url = reverse("testruns:baseline", args=[run.pk])
    if run.is_active:
        context["poll_url"] = poll_url
        return context
    if baseline is None or baseline.run_id == run.pk:
        return context
    base = baseline.run
    diff = request_diff(base, run)
    context.update(
        diff=diff,
        options_differ=base.comparison_key != run.comparison_key,
        compare_url=f"{reverse('testruns:compare')}?base={base.pk}&head={run.pk}#run-diff",
    )
    if diff.is_working:
        context["poll_url"] = poll_url
    if base.version_id != run.version_id:
        context["version_diff"] = diff_versions(base.version, run.version)
    return context


def run_baseline(request, run_id):
    """The baseline section of the run page alone: what the page polls (see ``baseline_context``)."""
    return render(request, "testruns/partials/baseline.html", baseline_context(_get_run(run_id)))


@require_POST
def make_baseline(request, run_id):
    """Make the run its configuration's baseline, in place of any other."""
    run = _get_run(run_id)
    try:
        run.make_baseline(request.user)
    except (RunStillActive, BaselineRefused) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Run {run.short_id} is now the baseline of {run.configuration.name}.")
    return _back_to(request, run)


@require_POST
def clear_baseline(request, run_id):
    """Stop the run being its configuration's baseline (the configuration then has none)."""
    run = _get_run(run_id)
    if run.clear_baseline():
        messages.success(request, f"{run.configuration.name} has no baseline now.")
    else:
        messages.info(request, f"Run {run.short_id} is not the baseline of {run.configuration.name}.")
    return _back_to(request, run)
