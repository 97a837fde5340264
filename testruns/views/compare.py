"""The comparison of two runs: /runs/compare?base=<run id>&head=<run id>."""

import uuid

from django.shortcuts import render

from testruns.compare import RunNotFound, compare_runs, fetch_runs
from testruns.models import FINAL_STATUSES, TestRun
from testruns.views.diff import diff_context

CHOICES = 30  # runs offered in the base/head pickers


def run_compare(request):
    """Compare ``base`` with ``head``; with neither given, just the form to pick two runs.

    The rows are compared by the diff of the whole stored tables (``diff_context``): kept once computed,
    computed here when small, else by a worker while its section polls. The entity table lists the
    entities that changed (``EntityComparison.has_changes``, tables included once diffed), and all of
    them with ``?entities=all``.

    400 with the reason when an id is missing or malformed, 404 (the same page, saying which id) when it
    names no run. Queries: the two runs, their entity results, the runs offered in the pickers and the
    kept diff (computing one costs more: see ``testruns.diffs``).
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
    choices = list(TestRun.objects.for_list().filter(configuration_id=head.configuration_id)[:CHOICES])
    for run in (head, base):  # whatever is compared can be picked, even if older than the recent ones
        if all(choice.pk != run.pk for choice in choices):
            choices.append(run)
    diff = diff_context(base, head)
    kept = diff.get("diff")  # none when refused; its rows count as changes once it is done
    done = kept is not None and kept.status == kept.Status.DONE
    differing = [entity["entity"] for entity in kept.differing] if done else None
    return _render(
        request,
        choices=choices,
        comparison=compare_runs(base, head, tables_differ=differing),
        base=base,
        head=head,
        show_all=request.GET.get("entities") == "all",
        **diff,
    )


def _recent_finished() -> list[TestRun]:
    return list(TestRun.objects.for_list().filter(status__in=FINAL_STATUSES)[:CHOICES])


def _render(request, choices, status=200, **context):
    return render(request, "testruns/run_compare.html", {"choices": choices, **context}, status=status)
