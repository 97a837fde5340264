"""A run's entity graph, painted by each entity's status, and its timeline: a section of the run page.

The section is rendered into the run page by ``{% run_graph run results %}`` (templatetags/run_graphs.py)
and polled at /runs/<id>/graph while the run works; both render the same template from ``graph_context``.
"""

from django.shortcuts import render
from django.urls import reverse

from configurations.graph import version_drawing
from testruns.timeline import timeline
from testruns.views.runs import _get_run

# What the graph and the timeline read of an entity result.
RESULT_FIELDS = ("run_id", "position", "entity", "status", "duration_ms")


def graph_context(run, results) -> dict:
    """The section's context. ``run`` loaded with its version (``for_page``), ``results`` its entity results
    in position order. No query once the version's drawing is cached (``version_drawing``).
    """
    drawing = version_drawing(run.version)
    hrefs = {result.entity: reverse("testruns:entity", args=[run.pk, result.entity]) for result in results}
    statuses = {result.entity: result.status for result in results}
    return {"run": run, "graph": drawing.shown(hrefs, statuses), "timeline": timeline(results)}


def run_graph(request, run_id):
    """The graph section alone, for its poll: two queries (the run, its entity results) with a cached drawing.

    Polls itself while the run is active, and is sent back without its trigger once the run has ended.
    """
    run = _get_run(run_id)
    results = list(run.entity_results.only(*RESULT_FIELDS))
    return render(request, "testruns/partials/run_graph.html", graph_context(run, results))
