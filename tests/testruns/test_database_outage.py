"""A worker that loses the database says what happened once it is back, instead of going silent.

The outage is made on the worker's own connection with Django's ``execute_wrapper``: from a chosen
query on, every query fails as a database that went away does, for a set number of attempts.
"""

import re
import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from testruns import execution
from testruns.execution import DatabaseOutage, Heartbeat, execute_run
from testruns.models import RunEvent, Status, TestRun
from testruns.options import RunOptions
from testruns.reaper import reap_stale_runs
from tests.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)  # the worker's connection opens and closes for real

GONE = "server closed the connection unexpectedly"
COUNTING = re.compile(r'^UPDATE .*"entities_completed" = ')  # a worker's first finished entity
REPORT = re.compile(rf"^Database unreachable from \d\d:\d\d:\d\d for \d+ s: OperationalError: {GONE}")


class Outage:
    """Fails this connection's queries from the first one ``starts`` matches, ``failures`` times in a row."""

    def __init__(self, starts=lambda sql: True, failures=3, on_recovery=None):
        self.starts, self.left, self.on_recovery = starts, failures, on_recovery
        self.active = False

    def __call__(self, execute, sql, params, many, context):
        if not self.active and self.left and self.starts(sql):
            self.active = True
        if self.active:
            if self.left:
                self.left -= 1
                raise OperationalError(GONE)
            self.active = False
            if self.on_recovery:
                self.on_recovery()  # e.g. what others did with the database while this worker could not
        return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _retry_at_once(monkeypatch):
    monkeypatch.setattr(execution, "RECONNECT_INTERVAL", 0)


@pytest.fixture
def pending(demo_version):
    """A run as start_run makes it, not yet enqueued (in this test the worker is the test itself)."""
    return make_run(demo_version, options=RunOptions(max_rows_per_entity=None).to_dict())


def reap(run):
    TestRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert reap_stale_runs() == (1, 0)


def test_it_fails_the_run_with_what_happened_once_the_database_is_back(pending):
    with connection.execute_wrapper(Outage(starts=COUNTING.match)):
        assert execute_run(pending.pk) == Status.FAILED

    run = TestRun.objects.get(pk=pending.pk)
    assert REPORT.match(run.error_message), run.error_message
    assert run.events.filter(level="error", message=run.error_message).exists()
    assert set(run.entity_results.values_list("status", flat=True)) == {"crashed"}


def test_it_explains_a_run_the_reaper_marked_crashed_while_the_database_was_away(pending):
    outage = Outage(starts=COUNTING.match, on_recovery=lambda: reap(pending))
    with connection.execute_wrapper(outage):
        assert execute_run(pending.pk) == Status.CRASHED

    run = TestRun.objects.get(pk=pending.pk)
    assert REPORT.match(run.error_message), run.error_message
    assert "The run had been marked crashed meanwhile: The worker" in run.error_message
    assert "stopped responding" in run.error_message
    assert run.events.order_by("pk").last().message == run.error_message


def test_the_heartbeat_logs_an_outage_on_the_run_when_it_gets_through_again(pending):
    run = TestRun.objects.get(pk=pending.pk)
    assert run.claim("elsewhere:1")
    heartbeat = Heartbeat(run, threading.Event())

    with connection.execute_wrapper(Outage(failures=2)):
        assert heartbeat.beat_once() is True  # the database is away: noted, the beating goes on
        assert heartbeat.beat_once() is True
        assert not RunEvent.objects.filter(run=run, level="warning").exists()
        assert heartbeat.beat_once() is True  # it is back

    run.refresh_from_db()
    assert run.status == Status.RUNNING
    assert REPORT.match(RunEvent.objects.get(run=run, level="warning").message)


def test_the_heartbeat_explains_and_stops_a_run_reaped_during_the_outage(pending):
    run = TestRun.objects.get(pk=pending.pk)
    assert run.claim("elsewhere:1")
    stop = threading.Event()
    heartbeat = Heartbeat(run, stop, DatabaseOutage())

    with connection.execute_wrapper(Outage(failures=1, on_recovery=lambda: reap(run))):
        assert heartbeat.beat_once() is True
        assert heartbeat.beat_once() is False  # the run is no longer its own: nothing more to beat for

    assert stop.is_set()
    run.refresh_from_db()
    assert run.status == Status.CRASHED
    assert REPORT.match(run.error_message), run.error_message
