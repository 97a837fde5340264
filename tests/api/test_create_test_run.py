"""POST /api/v1/test-runs: start a run of a configuration's current version, answered at once."""

import pytest

from configurations.importing import import_configuration
from testruns.models import Status, TestRun

pytestmark = pytest.mark.django_db

URL = "/api/v1/test-runs"
REFERENCE_BODY = {  # the reference tool's own example, with our demo's names
    "config_name": "demo",
    "options": {"entities": ["site"], "max_rows_per_entity": 100, "stop_on_error": False},
}


def post(client, body, headers, capture, execute=False):
    with capture(execute=execute) as callbacks:
        response = client.post(URL, body, content_type="application/json", **headers)
    return response, callbacks


def test_it_starts_a_pending_run(client, bearer, demo_version, django_capture_on_commit_callbacks):
    response, callbacks = post(client, REFERENCE_BODY, bearer, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    data = response.json()
    assert data["status"] == "pending"
    assert data["config_name"] == "demo"
    assert data["version"] == 1
    assert data["requested_by"] == "alice"
    assert data["options"] == {
        "entities": ["site"],
        "max_rows_per_entity": 100,
        "stop_on_error": False,
        "validate_foreign_keys": True,
        "validate_constraints": True,
    }
    assert data["entities_processed"] == [] and data["entities_total"] == 0
    assert data["started_at"] is None and data["completed_at"] is None and data["total_time_ms"] is None
    run = TestRun.objects.get()
    assert data["run_id"] == str(run.pk)
    assert data["url"] == f"http://testserver/runs/{run.pk}/"
    assert len(callbacks) == 1  # enqueued once the transaction commits, not run inside the request


def test_it_returns_every_field_of_the_reference_result(
    client, bearer, demo_version, django_capture_on_commit_callbacks
):
    response, _ = post(client, REFERENCE_BODY, bearer, django_capture_on_commit_callbacks)

    reference_fields = {
        "run_id",
        "config_name",
        "status",
        "started_at",
        "completed_at",
        "total_time_ms",
        "entities_processed",
        "entities_total",
        "entities_succeeded",
        "entities_failed",
        "entities_skipped",
        "validation_issues",
        "error_message",
        "options",
        "current_entity",
        "entities_completed",
    }
    assert reference_fields <= set(response.json())


def test_it_runs_the_queued_run(client, bearer, demo_version, django_capture_on_commit_callbacks):
    response, _ = post(client, REFERENCE_BODY, bearer, django_capture_on_commit_callbacks, execute=True)

    run = TestRun.objects.get(pk=response.json()["run_id"])
    assert run.status == Status.COMPLETED, run.error_message
    assert run.entity_results.get(entity="site").status == "success"


def test_it_runs_the_current_version(
    client, bearer, demo_version, write_config, django_capture_on_commit_callbacks
):
    path = write_config(
        "entities:\n  one:\n    type: fixed\n    surrogate_id: one_id\n    columns: [a]\n    values: [[x]]\n"
    )
    import_configuration(path, name="demo")

    response, _ = post(client, {"config_name": "demo"}, bearer, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert response.json()["version"] == 2


def test_it_applies_defaults_and_nulls(client, bearer, demo_version, django_capture_on_commit_callbacks):
    body = {
        "config_name": "demo",
        "options": {"entities": None, "max_rows_per_entity": None, "output_format": "csv"},
    }
    response, _ = post(client, body, bearer, django_capture_on_commit_callbacks)

    assert response.status_code == 202
    options = response.json()["options"]
    assert options["entities"] is None
    assert options["max_rows_per_entity"] is None  # all rows
    assert "output_format" not in options  # accepted for the reference's clients, and ignored


def test_it_uses_the_default_options_when_none_are_given(
    client, bearer, demo_version, django_capture_on_commit_callbacks
):
    for body in ({"config_name": "demo"}, {"config_name": "demo", "options": None}):
        response, _ = post(client, body, bearer, django_capture_on_commit_callbacks)
        assert response.status_code == 202
        assert response.json()["options"]["max_rows_per_entity"] == 100


def test_it_returns_404_for_an_unknown_configuration(
    client, bearer, demo_version, django_capture_on_commit_callbacks
):
    response, callbacks = post(client, {"config_name": "nope"}, bearer, django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert response.json() == {"detail": "Configuration 'nope' not found."}
    assert not callbacks and not TestRun.objects.exists()


def error_fields(response) -> list[str]:
    """The fields a 422 names, as dotted paths inside the body."""
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert all(loc[:2] == ["body", "payload"] for loc in locations)
    return [".".join(str(part) for part in loc[2:]) for loc in locations]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_rows_per_entity": 5}, "options.max_rows_per_entity"),
        ({"max_rows_per_entity": 10_001}, "options.max_rows_per_entity"),
        ({"max_rows_per_entity": "lots"}, "options.max_rows_per_entity"),
        ({"entities": "site"}, "options.entities"),
        ({"entities": ["site", 2]}, "options.entities.1"),
        ({"stop_on_error": "maybe"}, "options.stop_on_error"),
        ({"output_format": "xml"}, "options.output_format"),
    ],
)
def test_it_rejects_bad_options_naming_the_field(
    client, bearer, demo_version, options, field, django_capture_on_commit_callbacks
):
    response, _ = post(
        client, {"config_name": "demo", "options": options}, bearer, django_capture_on_commit_callbacks
    )

    assert error_fields(response) == [field]
    assert not TestRun.objects.exists()


def test_it_rejects_unknown_entities_like_any_other_bad_field(
    client, bearer, demo_version, django_capture_on_commit_callbacks
):
    body = {"config_name": "demo", "options": {"entities": ["site", "nope"]}}
    response, callbacks = post(client, body, bearer, django_capture_on_commit_callbacks)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", "options", "entities"]
    assert error["type"] == "value_error"
    assert "nope" in error["msg"]
    assert not callbacks and not TestRun.objects.exists()


def test_it_rejects_an_empty_entity_list(client, bearer, demo_version, django_capture_on_commit_callbacks):
    body = {"config_name": "demo", "options": {"entities": []}}
    response, _ = post(client, body, bearer, django_capture_on_commit_callbacks)

    assert error_fields(response) == ["options.entities"]


def test_it_requires_a_configuration_name(client, bearer, demo_version, django_capture_on_commit_callbacks):
    for body in ({}, {"config_name": 7}, {"options": {}}):
        response, _ = post(client, body, bearer, django_capture_on_commit_callbacks)
        assert error_fields(response) == ["config_name"], body


def test_it_rejects_a_body_that_is_not_json(client, bearer, demo_version, django_capture_on_commit_callbacks):
    response, _ = post(client, "{not json", bearer, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db(transaction=True)  # the run is enqueued when start_run's own transaction commits
def test_it_answers_503_and_fails_the_run_when_the_broker_is_unreachable(
    client, bearer, demo_version, broker_down
):
    response = client.post(URL, REFERENCE_BODY, content_type="application/json", **bearer)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    run = TestRun.objects.get()
    assert run.status == Status.FAILED
    assert "Could not queue the run" in run.error_message
    assert run.error_message in detail
    assert str(run.pk) in detail
