"""The run history, /runs/: filters in the URL and keyset pages that cost the same however deep."""

from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from testruns.forms import RunFilterForm
from testruns.models import TestRun

RUNS_PER_PAGE = 50


@vary_on_headers("HX-Request")
def run_list(request):
    """The history page, or only its table and page links for an htmx page link.

    Five queries whatever the filters and however deep the page: session, user, the configuration and
    user choices, the page of runs. A bad filter value is a 400 naming the filter.
    """
    form = RunFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "testruns/run_list.html", {"form": form}, status=400)
    page = form.filter(TestRun.objects.for_list()).keyset_page(RUNS_PER_PAGE, **form.cursor())
    partial = request.htmx and not request.htmx.history_restore_request  # a restore needs the whole page
    template = "testruns/partials/run_history.html" if partial else "testruns/run_list.html"
    return render(request, template, {"form": form, "page": page, "runs": page.runs})
