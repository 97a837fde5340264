"""TestRun.finish: a run ends once, and the entities it never finished end with it."""

import pytest
from django.utils import timezone

from testruns.models import Status, TestRun
from tests.factories import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(demo_version):
    """A running run: one entity done, one in progress, one not started."""
    entities = [("survey", "success"), ("site", "running"), ("sample", "pending")]
    return make_run(
        demo_version,
        Status.RUNNING,
        [{"entity": name, "status": status} for name, status in entities],
        started_at=timezone.now(),
        entities_total=3,
    )


def statuses(run):
    return dict(run.entity_results.values_list("entity", "status"))


@pytest.mark.parametrize("status", [Status.CRASHED, Status.FAILED])
def test_it_ends_the_unfinished_entities_crashed(running, status):
    assert running.finish(status, "The worker stopped responding.") is True

    assert statuses(running) == {"survey": "success", "site": "crashed", "sample": "crashed"}
    site = running.entity_results.get(entity="site")
    assert site.error == f"Not finished: the run ended {status}."


def test_it_ends_the_unfinished_entities_of_a_cancelled_run_cancelled(running):
    assert running.finish(Status.CANCELLED) is True

    assert statuses(running) == {"survey": "success", "site": "cancelled", "sample": "cancelled"}


def test_it_changes_nothing_once_the_run_has_ended(running):
    TestRun.objects.filter(pk=running.pk).update(status=Status.COMPLETED)

    assert running.finish(Status.CRASHED, "late") is False

    running.refresh_from_db()
    assert running.status == Status.COMPLETED
    assert running.error_message == ""
    assert statuses(running) == {"survey": "success", "site": "running", "sample": "pending"}


def counted(run, **counters):
    TestRun.objects.filter(pk=run.pk).update(**counters)


def test_it_ends_a_run_completed_when_every_entity_succeeded(running):
    counted(running, entities_completed=3, entities_succeeded=3)
    running.entity_results.update(status="success")

    assert running.finish(Status.COMPLETED) is True

    assert running.status == Status.COMPLETED
    assert running.summary == ""


def test_it_ends_a_run_asked_to_complete_failed_when_an_entity_fell_short(running):
    # The counters as the worker wrote them, not as this object read them when it claimed the run.
    counted(running, entities_completed=3, entities_succeeded=1, entities_failed=1, entities_skipped=1)

    assert running.finish(Status.COMPLETED) is True

    running.refresh_from_db()
    assert running.status == Status.FAILED
    assert running.error_message == ""
    assert running.summary == "1 entity failed, 1 skipped"
