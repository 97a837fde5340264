"""Where a worker notices a cancel: between entities and between the phases of one, cheaply."""

import threading

import pytest
from django.utils import timezone

from testruns import execution
from testruns.execution import RunObserver, execute_run, start_run
from testruns.models import EntityResult, RunEvent, Status, TestRun
from testruns.options import RunOptions
from tests.factories import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(demo_version, alice):
    return make_run(
        demo_version,
        status=Status.RUNNING,
        requested_by=alice,
        started_at=timezone.now(),
    )


def test_it_asks_the_database_at_most_once_per_interval(running, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(execution, "CANCEL_CHECK_INTERVAL", 3600)
    observer = RunObserver(running)

    with django_assert_num_queries(1):
        assert observer.should_stop() is False
        assert observer.should_stop() is False
        assert observer.should_stop() is False


def test_it_stops_asking_once_a_cancel_was_seen(running, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(execution, "CANCEL_CHECK_INTERVAL", 0)
    observer = RunObserver(running)
    running.request_cancel()

    with django_assert_num_queries(1):
        assert observer.should_stop() is True
        assert observer.should_stop() is True


def test_it_stops_without_a_query_when_the_heartbeat_saw_the_cancel(running, django_assert_num_queries):
    stop = threading.Event()
    observer = RunObserver(running, stop=stop)
    running.request_cancel()

    assert running.beat() is True  # what the heartbeat thread does every HEARTBEAT_INTERVAL
    execution.stop_requested(running, stop)
    with django_assert_num_queries(0):
        assert observer.should_stop() is True


@pytest.mark.parametrize(("status", "stop"), [(Status.RUNNING, False), (Status.CANCELLING, True)])
def test_the_heartbeat_says_whether_to_stop(running, status, stop):
    TestRun.objects.filter(pk=running.pk).update(status=status, heartbeat_at=None)

    assert running.beat() is stop
    running.refresh_from_db()
    assert running.heartbeat_at is not None


def test_it_cancels_in_the_middle_of_an_entity(
    demo_version, alice, monkeypatch, django_capture_on_commit_callbacks
):
    """A cancel requested while "site" loads stops it at its next phase; earlier entities keep results."""
    monkeypatch.setattr(execution, "CANCEL_CHECK_INTERVAL", 0)
    phase = RunObserver.entity_phase

    def cancel_while_site_loads(self, name, current, rows=None):
        if (name, current) == ("site", "load"):
            self.run.request_cancel()
        phase(self, name, current, rows)

    monkeypatch.setattr(RunObserver, "entity_phase", cancel_while_site_loads)
    with django_capture_on_commit_callbacks(execute=False):
        run = start_run(demo_version, RunOptions(max_rows_per_entity=None), alice)

    assert execute_run(run.pk) == Status.CANCELLED

    run.refresh_from_db()
    results = list(run.entity_results.order_by("position"))
    site = next(r for r in results if r.entity == "site")
    before = [r for r in results if r.position < site.position]
    after = [r for r in results if r.position > site.position]
    assert before and after
    assert {r.status for r in before} == {EntityResult.Status.SUCCESS}
    assert all(r.rows_out is not None and r.output for r in before)  # their results and files stay
    assert site.status == EntityResult.Status.CANCELLED
    assert site.error == "run cancelled"
    assert {r.status for r in after} == {EntityResult.Status.CANCELLED}
    assert run.status == Status.CANCELLED
    assert run.entities_completed == run.entities_succeeded == len(before)
    assert run.finished_at is not None and run.current_entity == ""
    assert RunEvent.objects.filter(run=run, message="Run cancelled.").exists()
