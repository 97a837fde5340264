"""Migration 0006: entities stuck pending/running under runs that had already ended are ended with them."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from testruns.models import Status
from tests import factories

pytestmark = pytest.mark.django_db

migration = importlib.import_module("testruns.migrations.0006_end_unfinished_entities_of_ended_runs")


@pytest.fixture
def make_run(demo_version):
    def make(status, entities):
        results = [{"entity": name, "status": entity_status} for name, entity_status in entities.items()]
        return factories.make_run(demo_version, status, results, started_at=timezone.now())

    return make


def statuses(run):
    return dict(run.entity_results.values_list("entity", "status"))


def test_it_ends_the_entities_of_ended_runs_and_leaves_active_runs_alone(make_run):
    crashed = make_run(Status.CRASHED, {"survey": "success", "site": "running", "sample": "pending"})
    cancelled = make_run(Status.CANCELLED, {"survey": "success", "site": "pending"})
    running = make_run(Status.RUNNING, {"survey": "success", "site": "running", "sample": "pending"})

    migration.end_unfinished_entities(apps, None)

    assert statuses(crashed) == {"survey": "success", "site": "crashed", "sample": "crashed"}
    assert crashed.entity_results.get(entity="site").error == "Not finished: the run ended crashed."
    assert statuses(cancelled) == {"survey": "success", "site": "cancelled"}
    assert statuses(running) == {"survey": "success", "site": "running", "sample": "pending"}
