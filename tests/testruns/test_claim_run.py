"""A worker's claim on a run: every write it makes afterwards holds only while the run is still its own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from testruns.models import RunLost, Status, TestRun
from testruns.reaper import reap_stale_runs
from tests.factories import make_result, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(demo_version):
    """A run claimed by a worker, with one entity result."""
    run = make_run(demo_version)
    make_result(run, "site", 0)
    assert run.claim("elsewhere:1")
    return run


def reaped(run, settings):
    """What the reaper does to a run whose worker stayed silent past HEARTBEAT_TIMEOUT (here: froze)."""
    past = timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT + 1)
    TestRun.objects.filter(pk=run.pk).update(heartbeat_at=past)
    assert reap_stale_runs() == (1, 0)
    return TestRun.objects.get(pk=run.pk)


def test_it_writes_a_new_token_with_each_claim(claimed, demo_version):
    other = make_run(demo_version)
    assert other.claim("elsewhere:2")

    assert claimed.claim_token is not None
    assert TestRun.objects.get(pk=claimed.pk).claim_token == claimed.claim_token
    assert other.claim_token != claimed.claim_token


def test_a_beat_raises_run_lost_once_the_reaper_ended_the_run(claimed, settings):
    reaped(claimed, settings)

    with pytest.raises(RunLost):
        claimed.beat()


def test_a_claimed_write_writes_nothing_once_the_reaper_ended_the_run(claimed, settings):
    crashed = reaped(claimed, settings)

    with pytest.raises(RunLost):
        with claimed.claimed_write(entities_completed=1):
            claimed.log("info", "written after the crash")

    run = TestRun.objects.get(pk=claimed.pk)
    assert run.entities_completed == 0
    assert run.heartbeat_at == crashed.heartbeat_at
    assert not run.events.filter(message="written after the crash").exists()


def test_a_claimed_write_refuses_a_run_claimed_under_another_token(claimed):
    TestRun.objects.filter(pk=claimed.pk).update(claim_token=None)

    with pytest.raises(RunLost):
        with claimed.claimed_write(current_entity="site"):
            pass

    assert TestRun.objects.get(pk=claimed.pk).current_entity == ""


def test_the_worker_that_lost_the_run_cannot_finish_it(claimed, settings):
    crashed = reaped(claimed, settings)

    assert claimed.finish(Status.COMPLETED) is False

    run = TestRun.objects.get(pk=claimed.pk)
    assert run.status == Status.CRASHED
    assert run.error_message == crashed.error_message
