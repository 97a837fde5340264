"""GET /api/v1/test-runs: runs newest first, filtered by configuration and status, a page at a time."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from testruns.models import Status
from tests import factories

pytestmark = pytest.mark.django_db


def test_it_lists_runs_newest_first(client, bearer, make_run):
    now = timezone.now()
    old, new = make_run(created_at=now - timedelta(hours=1)), make_run(created_at=now)

    data = client.get("/api/v1/test-runs", **bearer).json()

    assert data["count"] == 2
    assert [run["run_id"] for run in data["items"]] == [str(new.pk), str(old.pk)]


def test_it_leaves_the_previews_out(client, bearer, make_run):
    make_run(entities=2)

    [run] = client.get("/api/v1/test-runs", **bearer).json()["items"]

    assert [entity["preview_rows"] for entity in run["entities_processed"]] == [None, None]
    assert run["entities_processed"][0]["rows_out"] == 20


def test_it_filters_by_status(client, bearer, make_run):
    make_run(status=Status.COMPLETED)
    running = make_run(status=Status.RUNNING)

    data = client.get("/api/v1/test-runs?status=running", **bearer).json()

    assert [run["run_id"] for run in data["items"]] == [str(running.pk)]


def test_it_rejects_an_unknown_status(client, bearer, make_run):
    response = client.get("/api/v1/test-runs?status=sleeping", **bearer)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "status"]


def test_it_filters_by_configuration(client, bearer, make_run, write_config, alice):
    from configurations.importing import import_configuration

    make_run()
    path = write_config(
        "entities:\n  one:\n    type: fixed\n    surrogate_id: one_id\n    columns: [a]\n    values: [[x]]\n",
        name="other.yml",
    )
    version, _ = import_configuration(path, user=alice)
    other = factories.make_run(version)

    data = client.get("/api/v1/test-runs?config_name=other", **bearer).json()
    assert [run["run_id"] for run in data["items"]] == [str(other.pk)]
    assert client.get("/api/v1/test-runs?config_name=nope", **bearer).json() == {"items": [], "count": 0}


def test_it_pages_with_limit_and_offset(client, bearer, make_run):
    now = timezone.now()
    runs = [make_run(created_at=now - timedelta(minutes=n)) for n in range(5)]

    data = client.get("/api/v1/test-runs?limit=2&offset=2", **bearer).json()

    assert data["count"] == 5
    assert [run["run_id"] for run in data["items"]] == [str(runs[2].pk), str(runs[3].pk)]


def test_it_costs_the_same_queries_for_any_page_size(client, bearer, make_run):
    for _ in range(10):
        make_run(entities=5)

    counts = []
    for limit in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(f"/api/v1/test-runs?limit={limit}", **bearer).json()["items"]) == limit
        counts.append(len(queries))

    assert (
        counts[0] == counts[1] == 5
    )  # failed logins of the address, token, count, runs, their entity results
