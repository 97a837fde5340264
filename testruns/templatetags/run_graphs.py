"""A run's entity graph and timeline on its page: ``{% load run_graphs %}{% run_graph run results %}``.

The section's own endpoint (``testruns:graph``) renders the same template from the same context, so the run
page's view need not know of graphs.
"""

from django import template

from testruns.views.graph import graph_context

register = template.Library()


@register.inclusion_tag("testruns/partials/run_graph.html")
def run_graph(run, results):
    """The graph section of ``run`` (loaded with ``for_page``) over its loaded ``results``; queries only when
    the version's drawing is not cached yet (``graph_context``).
    """
    return graph_context(run, results)
