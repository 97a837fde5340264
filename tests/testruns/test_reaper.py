from datetime import timedelta

import pytest
from django.utils import timezone

from testruns.models import RunEvent, Status
from testruns.reaper import reap_stale_runs
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_run(demo_version):
    def make(**fields):
        return factories.make_run(demo_version, **fields)

    return make


def test_it_marks_a_silent_running_run_crashed(make_run, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat = timezone.now() - timedelta(seconds=61)
    run = make_run(status=Status.RUNNING, started_at=beat, heartbeat_at=beat, worker="elsewhere:1")

    assert reap_stale_runs() == (1, 0)

    run.refresh_from_db()
    assert run.status == Status.CRASHED
    assert run.finished_at is not None
    assert beat.isoformat(timespec="seconds") in run.error_message
    assert RunEvent.objects.filter(run=run, level="error").exists()


def test_it_leaves_a_run_with_a_recent_heartbeat_alone(make_run, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat = timezone.now() - timedelta(seconds=30)
    run = make_run(status=Status.RUNNING, started_at=beat, heartbeat_at=beat, worker="elsewhere:1")

    assert reap_stale_runs() == (0, 0)

    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_it_marks_a_run_of_a_dead_local_worker_crashed_at_once(make_run):
    import socket
    import subprocess

    gone = subprocess.Popen(["true"])  # a PID that existed and is gone now
    gone.wait()
    now = timezone.now()
    run = make_run(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=f"{socket.gethostname()}:{gone.pid}"
    )

    assert reap_stale_runs() == (1, 0)

    run.refresh_from_db()
    assert run.status == Status.CRASHED


def test_it_fails_a_pending_run_no_worker_took(make_run, settings):
    settings.PENDING_TIMEOUT = 600
    old = make_run(created_at=timezone.now() - timedelta(seconds=601))
    young = make_run(created_at=timezone.now() - timedelta(seconds=10))

    assert reap_stale_runs() == (0, 1)

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == Status.FAILED
    assert "No worker took this run" in old.error_message
    assert young.status == Status.PENDING


def test_it_is_idempotent(make_run, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat = timezone.now() - timedelta(seconds=120)
    make_run(status=Status.RUNNING, started_at=beat, heartbeat_at=beat, worker="elsewhere:1")

    assert reap_stale_runs() == (1, 0)
    assert reap_stale_runs() == (0, 0)


def test_it_never_touches_finished_runs(make_run, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat = timezone.now() - timedelta(days=1)
    run = make_run(status=Status.COMPLETED, started_at=beat, heartbeat_at=beat, finished_at=beat)

    assert reap_stale_runs() == (0, 0)

    run.refresh_from_db()
    assert run.status == Status.COMPLETED


def test_it_ends_the_entities_a_crashed_run_never_finished(make_run, settings):
    settings.HEARTBEAT_TIMEOUT = 60
    beat = timezone.now() - timedelta(seconds=61)
    entities = [("survey", "success"), ("site", "running"), ("taxa", "pending")]
    run = make_run(
        status=Status.RUNNING,
        entities=[{"entity": name, "status": status} for name, status in entities],
        started_at=beat,
        heartbeat_at=beat,
        worker="elsewhere:1",
    )

    assert reap_stale_runs() == (1, 0)

    assert dict(run.entity_results.values_list("entity", "status")) == {
        "survey": "success",
        "site": "crashed",
        "taxa": "crashed",
    }
