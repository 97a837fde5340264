"""GET /api/v1/test-runs/<id>/progress: the reference's TestProgress object."""

from datetime import timedelta

import pytest
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun

pytestmark = pytest.mark.django_db


def ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def test_it_reports_a_finished_run(client, bearer, make_run):
    run = make_run(entities=4)

    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()

    assert data == {
        "run_id": str(run.pk),
        "status": "completed",
        "current_entity": None,
        "entities_completed": 4,
        "entities_total": 4,
        "progress_percentage": 100.0,
        "elapsed_time_ms": 0,
        "estimated_time_remaining_ms": 0,
        "rows_read": 80,  # 4 entities of 20 rows in
        "rows_expected": None,  # nothing is to come
        "reference_run_id": None,
        "current_phase": None,
        "current_rows": None,
        "current_rows_in": None,
    }


def test_it_estimates_the_time_left_of_a_running_run(client, bearer, make_run):
    run = make_run(entities=4, status=Status.RUNNING, current_entity="entity_1")
    run.started_at = timezone.now() - timedelta(seconds=10)
    run.entities_completed = 1
    run.save()
    run.entity_results.filter(position=0).update(duration_ms=2_000)
    run.entity_results.exclude(position=0).update(status=EntityResult.Status.PENDING, duration_ms=None)

    before = timezone.now()
    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()
    after = timezone.now()

    assert data["status"] == "running"
    assert data["current_entity"] == "entity_1"
    assert data["progress_percentage"] == 25.0
    # measured from started_at to the moment of the request, not to the last heartbeat or entity
    assert ms(before - run.started_at) <= data["elapsed_time_ms"] <= ms(after - run.started_at)
    # the run page's estimate: mean time of the finished entities × the entities left
    assert data["estimated_time_remaining_ms"] == 3 * 2_000


def test_it_does_not_guess_for_a_pending_run(client, bearer, make_run):
    run = make_run(entities=0, status=Status.PENDING, started_at=None)

    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()

    assert data["progress_percentage"] == 0.0
    assert data["elapsed_time_ms"] is None
    assert data["estimated_time_remaining_ms"] is None


def test_it_counts_rows_and_estimates_from_the_last_comparable_run(client, bearer, make_run, monkeypatch):
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # started just now: nothing spent on entity_1 yet
    reference = make_run(entities=3, created_at=now - timedelta(hours=1))  # 20 rows and 7 ms an entity
    run = make_run(entities=3, status=Status.RUNNING, current_entity="entity_1", entities_completed=1)
    run.entity_results.filter(position=0).update(duration_ms=14)  # twice as slow as the reference
    run.entity_results.exclude(position=0).update(status=EntityResult.Status.PENDING, rows_in=None)

    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()

    assert data["reference_run_id"] == str(reference.pk)
    assert data["rows_read"] == 20
    assert data["rows_expected"] == 60
    assert data["estimated_time_remaining_ms"] == 2 * 7 * 2  # the reference's times, at this run's pace


def test_it_counts_rows_without_a_total_when_there_is_no_comparable_run(client, bearer, make_run):
    run = make_run(entities=2, status=Status.RUNNING, entities_completed=1)
    run.entity_results.filter(position=1).update(status=EntityResult.Status.PENDING, rows_in=None)
    earlier = make_run(entities=2, created_at=run.created_at - timedelta(hours=1))
    TestRun.objects.filter(pk=earlier.pk).update(options={"max_rows_per_entity": None})  # not comparable

    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()

    assert (data["rows_read"], data["rows_expected"], data["reference_run_id"]) == (20, None, None)


def test_it_says_the_phase_and_rows_of_the_entity_at_work(client, bearer, make_run):
    run = make_run(entities=3, status=Status.RUNNING, current_entity="entity_1", entities_completed=1)
    run.entity_results.filter(position=1).update(status=EntityResult.Status.RUNNING, rows_in=None)
    run.entity_results.filter(position=2).update(status=EntityResult.Status.PENDING, rows_in=None)
    TestRun.objects.filter(pk=run.pk).update(
        current_phase="link", current_rows=945_600, current_rows_in=945_615
    )

    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()

    assert (data["current_phase"], data["current_rows"], data["current_rows_in"]) == (
        "link",
        945_600,
        945_615,
    )
    assert data["rows_read"] == 20  # the finished entity's: entity_1's rows are counted once it finishes


def test_it_says_no_phase_while_the_worker_has_not_said_one(client, bearer, make_run):
    run = make_run(entities=2, status=Status.RUNNING, current_entity="entity_1", entities_completed=1)
    run.entity_results.filter(position=1).update(status=EntityResult.Status.RUNNING, rows_in=None)

    data = client.get(f"/api/v1/test-runs/{run.pk}/progress", **bearer).json()

    assert (data["current_phase"], data["current_rows"], data["current_rows_in"]) == (None, None, None)
