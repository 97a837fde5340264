"""What the configuration pages show of test runs, rendered by testruns so configurations need not know
runs: ``{% load testruns %}`` then ``configurations|with_last_run`` or ``{% configuration_runs c %}``.
"""

from django import template

from testruns.models import TestRun
from testruns.trends import entity_trend

register = template.Library()

RECENT_RUNS = 20  # runs listed on a configuration's page; the history has the rest


@register.filter
def with_last_run(configurations):
    """``configurations`` (a queryset) with each one's latest run: ``last_run_id``, ``last_run_status``,
    ``last_run_at``. Joined into the configurations' own query, so a table of them stays one query; bind
    it once (``{% with %}``) so the template reads it once.
    """
    return TestRun.objects.annotate_last_run(configurations)


@register.inclusion_tag("testruns/partials/configuration_runs.html")
def configuration_runs(configuration):
    """A configuration's trend and its latest runs, for its page. Two queries: the runs, and the entity
    results of its last completed runs (``entity_trend``).
    """
    return {
        "configuration": configuration,
        "runs": TestRun.objects.for_list().filter(configuration=configuration)[:RECENT_RUNS],
        "trend": entity_trend(configuration),
    }


@register.inclusion_tag("testruns/partials/run_trend.html")
def run_trend(run):
    """The trend on a run's page: its configuration's runs with this run's options, up to it. Two queries
    (``entity_trend``)."""
    return {"trend": entity_trend(run.configuration_id, until=run)}
