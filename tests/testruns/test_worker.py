"""Runs executed by a real django-q2 worker process, started by the test and stopped by its PID."""

import os
import signal

import pytest

from configurations.importing import import_configuration
from testruns.execution import start_run
from testruns.models import EntityResult, Status, TestRun
from testruns.options import RunOptions

CONFIG = """
entities:
  survey:
    type: csv
    options:
      filename: survey.csv
      sep: ";"
      dtype: str
      keep_default_na: false
    columns: [site, sample]
  site:
    source: survey
    keys: [site]
    columns: [site]
    surrogate_id: site_id
    drop_duplicates: [site]
"""
SURVEY = "site;sample\nA;1\nA;2\nB;3\n"


@pytest.fixture
def version(write_config, alice):
    path = write_config(CONFIG, survey__csv=SURVEY)
    return import_configuration(path, name="tiny", user=alice)[0]


def run_to_completion(start_worker, version, alice, redis_url=""):
    worker = start_worker(redis_url=redis_url)
    run = start_run(version, RunOptions(max_rows_per_entity=None), alice)
    worker.wait_for(f"run {run.pk} claimed")
    worker.wait_for(f"(run-{run.pk})")  # django-q2 logs each finished task by its name
    run.refresh_from_db()
    return run


@pytest.mark.worker
def test_it_runs_a_test_run_in_a_real_worker(start_worker, queued, version, alice):
    run = run_to_completion(start_worker, version, alice)

    assert run.status == Status.COMPLETED
    assert run.entities_succeeded == run.entities_total == 2
    site = run.entity_results.get(entity="site")
    assert site.rows_out == 2
    assert site.status == EntityResult.Status.SUCCESS


@pytest.mark.worker
@pytest.mark.redis
def test_it_runs_a_test_run_through_the_redis_broker(start_worker, queued, version, alice):
    url = os.environ.get("SHIFTBENCH_TEST_REDIS_URL")
    if not url:
        pytest.skip("set SHIFTBENCH_TEST_REDIS_URL (make test-redis) to test the Redis broker")
    import redis

    redis.from_url(url).flushdb()
    queued(url)
    run = run_to_completion(start_worker, version, alice, redis_url=url)

    assert run.status == Status.COMPLETED
    assert run.entities_succeeded == 2


@pytest.mark.worker
def test_it_marks_the_run_of_a_killed_worker_crashed(start_worker, queued, version, alice, fifos):
    # The bundle's survey becomes a FIFO that nobody writes: the worker blocks reading it, mid-run,
    # for as long as the test needs, with no timing involved.
    fifos.make(version, "survey.csv")
    worker = start_worker(HEARTBEAT_INTERVAL=1, HEARTBEAT_TIMEOUT=600)
    run = start_run(version, RunOptions(max_rows_per_entity=None), alice)
    worker.wait_for(f"run {run.pk} claimed")
    run.refresh_from_db()
    assert run.status == Status.RUNNING

    os.kill(int(run.worker.rsplit(":", 1)[1]), signal.SIGKILL)
    # django-q2 replaces the dead worker process; the new one reaps at start.
    worker.wait_for("reaper: 1 run(s) crashed")

    run = TestRun.objects.get(pk=run.pk)
    assert run.status == Status.CRASHED
    assert "stopped responding" in run.error_message
    assert run.finished_at is not None


@pytest.mark.worker
def test_a_frozen_worker_whose_run_was_reaped_writes_nothing_when_it_resumes(
    start_worker, queued, write_config, alice, fifos, settings
):
    from datetime import timedelta
    from pathlib import Path

    from django.utils import timezone

    from testruns.reaper import reap_stale_runs

    # With usecols the loader opens the survey once, so the FIFO is read in one go when fed.
    fed_once = CONFIG.replace("dtype: str", "dtype: str\n      usecols: [site, sample]")
    version = import_configuration(write_config(fed_once, survey__csv=SURVEY), name="frozen", user=alice)[0]
    fifo = fifos.make(version, "survey.csv")  # the worker blocks reading it: mid-run, for as long as needed
    # No beat during the test: a process frozen inside a write would hold SQLite's lock (and PostgreSQL's
    # row lock) until it resumes. The resumed worker learns of the reaper at its next checkpoint.
    worker = start_worker(HEARTBEAT_INTERVAL=3600, HEARTBEAT_TIMEOUT=600)
    run = start_run(version, RunOptions(max_rows_per_entity=None), alice)
    worker.wait_for(f"run {run.pk}: entity survey started")
    # Frozen only once it reads the FIFO: frozen inside a write (its "load" phase comes after the line
    # above), it would hold the run's row lock, and the test's UPDATE would wait for it forever.
    survey = fifos.hold(fifo)
    run.refresh_from_db()
    pid = int(run.worker.rsplit(":", 1)[1])

    os.kill(pid, signal.SIGSTOP)  # frozen: no heartbeat, no progress
    try:
        # Its heartbeat is older than HEARTBEAT_TIMEOUT, as it would be after a long freeze.
        TestRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        assert reap_stale_runs() == (1, 0)
        survey.send(SURVEY)  # what it was waiting for is there when it wakes up
    finally:
        os.kill(pid, signal.SIGCONT)
    worker.wait_for(f"(run-{run.pk})")  # django-q2 logs each finished task by its name

    run = TestRun.objects.get(pk=run.pk)
    assert run.status == Status.CRASHED
    assert "stopped responding" in run.error_message
    statuses = dict(run.entity_results.values_list("entity", "status"))
    assert statuses == {"survey": "crashed", "site": "crashed"}
    assert run.entities_completed == 0
    folder = Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)
    assert not folder.exists() or not any(folder.iterdir())
    assert run.events.order_by("pk").last().message == run.error_message  # the reaper's word is the last
    assert any(f"run {run.pk} is no longer this worker's" in line for line in worker.log)
