"""GET /api/v1/test-runs/<id>: one run in the reference's result shape, at a fixed query cost."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from ninja.responses import NinjaJSONEncoder

from testruns.models import TestRun
from tests.factories import make_hostile_run, run_with_a_failing_entity

pytestmark = pytest.mark.django_db


def iso(moment) -> str:
    """A datetime as the API writes it."""
    return NinjaJSONEncoder().default(moment)


def test_it_returns_the_run_with_its_entities(alice_client, make_run):
    run = make_run(entities=2)

    response = alice_client.get(f"/api/v1/test-runs/{run.pk}")

    assert response.status_code == 200
    data = response.json()
    assert data["run_id"] == str(run.pk)
    assert data["status"] == "completed"
    assert data["entities_total"] == data["entities_succeeded"] == data["entities_completed"] == 2
    assert [entity["entity_name"] for entity in data["entities_processed"]] == ["entity_0", "entity_1"]
    entity = data["entities_processed"][0]
    assert entity["status"] == "success"
    assert entity["rows_in"] == entity["rows_out"] == 20
    assert entity["execution_time_ms"] == 7
    assert entity["error_message"] is None
    assert entity["preview_rows"][:2] == [{"id": 0, "name": "row 0"}, {"id": 1, "name": "row 1"}]
    assert len(entity["preview_rows"]) == 20


def test_it_concatenates_the_entities_issues(alice_client, make_run):
    run = make_run(entities=2)

    issues = alice_client.get(f"/api/v1/test-runs/{run.pk}").json()["validation_issues"]

    assert [issue["entity_name"] for issue in issues] == ["entity_0", "entity_1"]
    assert issues[0] == {
        "entity_name": "entity_0",
        "severity": "warning",
        "code": "fk_unmatched",
        "message": "2 rows without a match",
        "suggestion": "check the keys",
        "location": "",
    }


def test_it_returns_a_real_run_of_the_demo(client, bearer, demo_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_id = client.post(
            "/api/v1/test-runs",
            {"config_name": "demo", "options": {"entities": ["site"]}},
            content_type="application/json",
            **bearer,
        ).json()["run_id"]

    data = client.get(f"/api/v1/test-runs/{run_id}", **bearer).json()

    run = TestRun.objects.get(pk=run_id)
    assert data["status"] == "completed"
    assert (data["started_at"], data["completed_at"]) == (iso(run.started_at), iso(run.finished_at))
    assert data["total_time_ms"] == int((run.finished_at - run.started_at).total_seconds() * 1000)
    site = next(entity for entity in data["entities_processed"] if entity["entity_name"] == "site")
    assert site["role"] == "requested"
    assert site["rows_out"] == len(site["preview_rows"])
    assert set(site["preview_rows"][0]) == set(site["columns"])


def test_it_returns_404_for_an_unknown_run(alice_client, demo_version):
    response = alice_client.get(f"/api/v1/test-runs/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert alice_client.get("/api/v1/test-runs/not-a-uuid").status_code == 404


def count_queries(client, url, headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


def test_it_costs_the_same_queries_for_2_or_20_entities(client, bearer, make_run):
    small, large = make_run(entities=2), make_run(entities=20)

    for path in ("", "/progress"):
        urls = [f"/api/v1/test-runs/{run.pk}{path}" for run in (small, large)]
        counts = [count_queries(client, url, bearer) for url in urls]
        assert counts[0] == counts[1], path


def test_it_needs_four_queries_with_a_token(client, bearer, make_run):
    run = make_run(entities=20)

    # the address's failed logins (throttling), the token and its user, the run with its configuration,
    # version and requester, its entity results
    assert count_queries(client, f"/api/v1/test-runs/{run.pk}", bearer) == 4


def test_it_returns_a_huge_cell_cut_in_the_preview(
    client, bearer, write_config, alice, django_capture_on_commit_callbacks
):
    run = make_hostile_run(write_config, alice, django_capture_on_commit_callbacks)

    response = client.get(f"/api/v1/test-runs/{run.pk}", **bearer)

    preview = response.json()["entities_processed"][0]["preview_rows"]
    assert preview[0]["text"].endswith("… [truncated: 1,200,000 characters]")
    assert preview[1]["text"] == "#N/A"
    assert len(response.content) < 100_000


def test_it_says_why_a_run_failed(alice_client, alice, write_config, django_capture_on_commit_callbacks):
    failed = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    data = alice_client.get(f"/api/v1/test-runs/{failed.pk}").json()

    assert data["status"] == "failed"
    assert data["summary"] == "1 entity failed, 1 skipped"
    assert data["error_message"] is None  # it started: what went wrong is in the entities
    assert (data["entities_failed"], data["entities_skipped"]) == (1, 1)


def test_it_has_no_summary_for_a_completed_run(alice_client, make_run):
    run = make_run(entities=2)

    assert alice_client.get(f"/api/v1/test-runs/{run.pk}").json()["summary"] is None
