"""POST /api/v1/test-runs with an input table: a multipart upload, an earlier input's id or a bundled file."""

import hashlib
import json

import pytest

from testruns.models import RunInput, Status, TestRun
from tests.testruns.run_input_support import SURVEY, distinct, survey_upload

pytestmark = pytest.mark.django_db

URL = "/api/v1/test-runs"
SHA256 = hashlib.sha256(SURVEY.read_bytes()).hexdigest()


def post_form(client, bearer, capture, **fields):
    with capture(execute=True):
        return client.post(URL, {"config_name": "sourceless", **fields}, **bearer)


def post_json(client, bearer, capture, body):
    with capture(execute=True):
        return client.post(URL, body, content_type="application/json", **bearer)


def test_it_starts_a_run_on_an_uploaded_input(client, bearer, sourceless, django_capture_on_commit_callbacks):
    response = post_form(
        client,
        bearer,
        django_capture_on_commit_callbacks,
        input=survey_upload(),
        default_entity="survey",
        options=json.dumps({"max_rows_per_entity": None}),
    )

    assert response.status_code == 202, response.json()
    data = response.json()
    run_input = RunInput.objects.get()
    assert data["input"] == {
        "id": str(run_input.pk),
        "name": "survey.csv",
        "size": SURVEY.stat().st_size,
        "sha256": SHA256,
        "default_entity": "survey",
    }
    assert data["options"]["input"] == SHA256 and data["options"]["max_rows_per_entity"] is None
    run = TestRun.objects.get()
    assert run.status == Status.COMPLETED, run.error_message
    assert run.entity_results.get(entity="site").rows_out == distinct("Fustel")


def test_it_reuses_an_earlier_input_by_its_id(client, bearer, sourceless, django_capture_on_commit_callbacks):
    first = post_form(
        client, bearer, django_capture_on_commit_callbacks, input=survey_upload(), default_entity="survey"
    ).json()

    again = post_json(
        client,
        bearer,
        django_capture_on_commit_callbacks,
        {"config_name": "sourceless", "input_id": first["input"]["id"], "default_entity": "survey"},
    )

    assert again.status_code == 202, again.json()
    assert again.json()["input"] == first["input"]
    assert RunInput.objects.count() == 1
    assert TestRun.objects.filter(input__pk=first["input"]["id"], status=Status.COMPLETED).count() == 2


def test_it_takes_a_bundled_file(client, bearer, demo_version, django_capture_on_commit_callbacks):
    response = post_json(
        client,
        bearer,
        django_capture_on_commit_callbacks,
        {"config_name": "demo", "input_file": "survey.csv", "default_entity": "survey"},
    )

    assert response.status_code == 202, response.json()
    assert response.json()["input"]["sha256"] == demo_version.files.get(path="survey.csv").stored.sha256


def test_get_shows_the_runs_input(client, bearer, sourceless, django_capture_on_commit_callbacks):
    started = post_form(
        client, bearer, django_capture_on_commit_callbacks, input=survey_upload(), default_entity="survey"
    ).json()

    assert client.get(f"{URL}/{started['run_id']}", **bearer).json()["input"] == started["input"]
    assert client.get(URL, **bearer).json()["items"][0]["input"] == started["input"]


def test_a_run_without_an_input_says_so(client, bearer, demo_version, django_capture_on_commit_callbacks):
    response = post_json(client, bearer, django_capture_on_commit_callbacks, {"config_name": "demo"})

    assert response.status_code == 202
    assert response.json()["input"] is None
    assert "input" not in response.json()["options"]


def test_it_answers_400_naming_a_file_that_is_not_a_table(
    client, bearer, sourceless, django_capture_on_commit_callbacks
):
    response = post_form(
        client,
        bearer,
        django_capture_on_commit_callbacks,
        input=survey_upload("scan.csv", b"\x89PNG\r\n\x1a\n\x00\xff\xfe"),
        default_entity="survey",
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("scan.csv cannot be read as CSV")
    assert not TestRun.objects.exists() and not RunInput.objects.exists()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"input_id": "00000000-0000-0000-0000-000000000000"}, "no input table has the id"),
        ({"input_file": "survey.csv"}, "survey.csv is not a CSV or Excel file of sourceless v1"),
        ({"input_file": "survey.csv", "input_id": "00000000-0000-0000-0000-000000000000"}, "give one input"),
        ({"input_id": "00000000-0000-0000-0000-000000000000", "default_entity": ""}, "name the entity"),
    ],
)
def test_it_answers_400_for_an_input_it_cannot_use(
    client, bearer, sourceless, django_capture_on_commit_callbacks, fields, says
):
    body = {"config_name": "sourceless", "default_entity": "survey", **fields}

    response = post_json(client, bearer, django_capture_on_commit_callbacks, body)

    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert not TestRun.objects.exists()


def test_it_answers_400_for_an_upload_and_an_id_together(
    client, bearer, sourceless, django_capture_on_commit_callbacks
):
    response = post_form(
        client,
        bearer,
        django_capture_on_commit_callbacks,
        input=survey_upload(),
        input_id="00000000-0000-0000-0000-000000000000",
        default_entity="survey",
    )

    assert response.status_code == 400
    assert "give one input table" in response.json()["detail"]


def test_it_names_bad_form_fields_as_ninja_does(
    client, bearer, sourceless, django_capture_on_commit_callbacks
):
    bad_options = post_form(client, bearer, django_capture_on_commit_callbacks, options="{not json")
    bad_rows = post_form(
        client, bearer, django_capture_on_commit_callbacks, options=json.dumps({"max_rows_per_entity": 5})
    )

    assert bad_options.status_code == 422
    assert bad_options.json()["detail"][0]["loc"] == ["form", "options"]
    assert bad_rows.status_code == 422
    assert bad_rows.json()["detail"][0]["loc"] == ["form", "options", "max_rows_per_entity"]
    assert not TestRun.objects.exists()


def test_it_answers_413_for_an_input_over_the_file_size_limit(
    client, bearer, sourceless, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_FILE_MAX_BYTES = 1000

    response = post_form(
        client, bearer, django_capture_on_commit_callbacks, input=survey_upload(), default_entity="survey"
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("survey.csv is too large")
    assert not TestRun.objects.exists()
