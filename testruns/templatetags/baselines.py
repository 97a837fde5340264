"""A run's baseline section on its page: ``{% load baselines %}{% run_baseline run %}``.

The section's own endpoint (``testruns:baseline``) renders the same template from the same context, so
the run page's view need not know of baselines.
"""

from django import template

from testruns.views.diff import baseline_context

register = template.Library()


@register.inclusion_tag("testruns/partials/baseline.html", takes_context=True)
def run_baseline(context, run):
    """The baseline section of ``run`` (loaded with ``for_page``); its queries: ``baseline_context``."""
    return {**baseline_context(run), "csrf_token": context.get("csrf_token")}
