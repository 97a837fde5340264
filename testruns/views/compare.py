"""The comparison of two runs: /runs/compare?base=<run id>&head=<run id>."""

import uuid

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from testruns.compare import RunNotFound, compare_runs, entity_keys, fetch_runs
from testruns.models import FINAL_STATUSES, TestRun

CHOICES = 30  # runs offered in the base/head pickers
INLINE_ROWS = 20  # a row diff with more changed rows starts folded, its table fetched when opened


def run_compare(request):
    """Compare ``base`` with ``head``; with neither given, just the form to pick two runs.

    ``entity=<name>`` answers that entity's row diff table alone (a folded diff fetches it when opened);
    ``expand=<name>`` shows the whole page with that diff unfolded (the same without JavaScript).

    400 with the reason when an id is missing or malformed, 404 (the same page, saying which id) when it
    names no run. Queries: the two runs, their entity results, the runs offered in the pickers (not for a
    row diff alone); plus one to build a version's bundle if this machine has none when the process first
    reads that version's keys.
    """
    raw = {role: request.GET.get(role, "").strip() for role in ("base", "head")}
    if not any(raw.values()):
        return _render(request, choices=_recent_finished())
    ids, errors = {}, []
    for role, value in raw.items():
        if not value:
            errors.append(f"Choose a {role} run: ?{role}=<run id> is missing.")
            continue
        try:
            ids[role] = uuid.UUID(value)
        except ValueError:
            errors.append(f"{role}: {value[:80]!r} is not a run id (a UUID such as {uuid.UUID(int=0)}).")
    if errors:
        return _render(request, choices=_recent_finished(), errors=errors, status=400)
    try:
        base, head = fetch_runs(ids["base"], ids["head"])
    except RunNotFound as exc:  # the page, not Django's bare 404, so the message says which id is unknown
        return _render(request, choices=_recent_finished(), errors=[str(exc)], status=404)
    comparison = compare_runs(base, head, entity_keys(base.version, head.version))
    compare_url = f"{reverse('testruns:compare')}?base={base.pk}&head={head.pk}"
    if entity := request.GET.get("entity"):
        return _row_table(request, comparison, entity, compare_url)
    choices = list(TestRun.objects.for_list().filter(configuration_id=head.configuration_id)[:CHOICES])
    for run in (head, base):  # whatever is compared can be picked, even if older than the recent ones
        if all(choice.pk != run.pk for choice in choices):
            choices.append(run)
    return _render(
        request,
        choices=choices,
        comparison=comparison,
        base=base,
        head=head,
        compare_url=compare_url,
        inline_rows=INLINE_ROWS,
        expand=request.GET.get("expand", ""),
    )


def _row_table(request, comparison, entity: str, compare_url: str):
    """One entity's row diff alone: what a folded row diff fetches when it is first opened."""
    found = next((e for e in comparison.row_diffs if e.name == entity), None)
    if found is None:
        raise Http404(f"No row differences for entity {entity[:200]!r} in this comparison.")
    context = {"e": found, "diff": found.rows, "compare_url": compare_url}
    return render(request, "testruns/partials/compare_row_table.html", context)


def _recent_finished() -> list[TestRun]:
    return list(TestRun.objects.for_list().filter(status__in=FINAL_STATUSES)[:CHOICES])


def _render(request, choices, status=200, **context):
    return render(request, "testruns/run_compare.html", {"choices": choices, **context}, status=status)
