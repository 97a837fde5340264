"""POST /api/v1/test-runs/<id>/cancel: stop a pending run at once, a running one at its next checkpoint."""

import pytest

from testruns.models import Status

pytestmark = pytest.mark.django_db


def cancel(client, run_id, headers):
    return client.post(f"/api/v1/test-runs/{run_id}/cancel", **headers)


def test_it_cancels_a_pending_run(client, bearer, make_run):
    run = make_run(entities=0, status=Status.PENDING, started_at=None)

    response = cancel(client, run.pk, bearer)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_it_asks_a_running_run_to_stop(client, bearer, make_run):
    run = make_run(status=Status.RUNNING)

    assert cancel(client, run.pk, bearer).json()["status"] == "cancelling"
    run.refresh_from_db()
    assert run.cancel_requested_at is not None


def test_it_refuses_to_cancel_a_finished_run(client, bearer, make_run):
    run = make_run(status=Status.COMPLETED)

    response = cancel(client, run.pk, bearer)

    assert response.status_code == 409
    assert "already finished" in response.json()["detail"]


def test_it_requires_authentication(client, make_run):
    run = make_run(status=Status.RUNNING)

    assert cancel(client, run.pk, {}).status_code == 401
    run.refresh_from_db()
    assert run.status == Status.RUNNING
