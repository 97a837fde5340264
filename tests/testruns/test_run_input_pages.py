"""The test-run form's input table (an upload or a file of the version), and the run page's line on it."""

import hashlib

import pytest

from testruns.models import RunInput, Status, TestRun
from tests.testruns.run_input_support import SURVEY, distinct, survey_upload

pytestmark = pytest.mark.django_db


def post(client, configuration, capture, **fields):
    data = {"max_rows": 100, "validate_foreign_keys": "on", "validate_constraints": "on", **fields}
    with capture(execute=True):
        return client.post(f"/configurations/{configuration}/test-run", data)


def test_it_offers_an_input_table_and_the_versions_files(alice_client, demo_version):
    page = alice_client.get("/configurations/demo/test-run").content.decode()

    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="input_file"' in page
    assert '<option value="survey.csv">survey.csv</option>' in page
    assert 'name="default_entity"' in page


def test_it_says_when_the_version_names_no_default_entity(alice_client, sourceless):
    page = alice_client.get("/configurations/sourceless/test-run").content.decode()

    assert "Needed with an input table: this version names none." in page
    assert 'name="bundled_input"' not in page  # it bundles no table


def test_it_starts_a_run_on_the_uploaded_input(alice_client, sourceless, django_capture_on_commit_callbacks):
    response = post(
        alice_client,
        "sourceless",
        django_capture_on_commit_callbacks,
        input_file=survey_upload(),
        default_entity="survey",
    )

    run = TestRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.status == Status.COMPLETED, run.error_message
    assert run.entity_results.get(entity="site").rows_out == distinct("Fustel", 100)
    assert run.options["input"] == hashlib.sha256(SURVEY.read_bytes()).hexdigest()


def test_the_run_page_shows_the_inputs_name_size_and_hash(
    alice_client, sourceless, django_capture_on_commit_callbacks
):
    post(
        alice_client,
        "sourceless",
        django_capture_on_commit_callbacks,
        input_file=survey_upload(),
        default_entity="survey",
    )
    run = TestRun.objects.get()

    page = alice_client.get(run.get_absolute_url()).content.decode()

    sha256 = hashlib.sha256(SURVEY.read_bytes()).hexdigest()
    size = SURVEY.stat().st_size
    assert '<span class="mono">survey.csv</span> as default entity <span class="mono">survey</span>' in page
    assert f"({size:,} bytes)" in page
    assert f'title="{sha256}"' in page and f"{sha256[:12]}…" in page
    assert f"input {sha256[:12]}… as survey" in page  # in the options line too


def test_a_run_without_an_input_has_no_input_line(
    alice_client, demo_version, django_capture_on_commit_callbacks
):
    post(alice_client, "demo", django_capture_on_commit_callbacks)

    page = alice_client.get(TestRun.objects.get().get_absolute_url()).content.decode()

    assert "<dt>Input</dt>" not in page


def test_it_takes_one_of_the_versions_files(alice_client, demo_version, django_capture_on_commit_callbacks):
    post(
        alice_client,
        "demo",
        django_capture_on_commit_callbacks,
        bundled_input="survey.csv",
        default_entity="survey",
    )

    run = TestRun.objects.get()
    assert run.input.stored == demo_version.files.get(path="survey.csv").stored
    assert run.status == Status.COMPLETED, run.error_message


def test_it_names_a_file_that_is_not_a_table_and_starts_nothing(
    alice_client, sourceless, django_capture_on_commit_callbacks
):
    response = post(
        alice_client,
        "sourceless",
        django_capture_on_commit_callbacks,
        input_file=survey_upload("photo.csv", b"\x89PNG\r\n\x1a\n\x00\xff\xfe"),
        default_entity="survey",
    )

    assert response.status_code == 200
    assert "photo.csv cannot be read as CSV" in response.context["form"].errors["input_file"][0]
    assert not TestRun.objects.exists() and not RunInput.objects.exists()


def test_it_requires_the_default_entity_with_an_input(
    alice_client, sourceless, django_capture_on_commit_callbacks
):
    response = post(
        alice_client, "sourceless", django_capture_on_commit_callbacks, input_file=survey_upload()
    )

    assert response.status_code == 200
    assert (
        "name the entity the input table stands for" in response.context["form"].errors["default_entity"][0]
    )
    assert not TestRun.objects.exists()


def test_it_refuses_an_upload_and_a_bundled_file_together(
    alice_client, demo_version, django_capture_on_commit_callbacks
):
    response = post(
        alice_client,
        "demo",
        django_capture_on_commit_callbacks,
        input_file=survey_upload(),
        bundled_input="survey.csv",
        default_entity="survey",
    )

    assert response.context["form"].errors["bundled_input"] == [
        "Upload a file or pick one of the version's files, not both."
    ]
    assert not TestRun.objects.exists()


def test_it_names_an_input_over_the_file_size_limit(
    alice_client, sourceless, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_FILE_MAX_BYTES = 1000

    response = post(
        alice_client,
        "sourceless",
        django_capture_on_commit_callbacks,
        input_file=survey_upload(),
        default_entity="survey",
    )

    assert response.status_code == 200
    assert "survey.csv is too large" in response.context["form"].errors["input_file"][0]
    assert not TestRun.objects.exists()


def test_it_answers_a_request_over_the_upload_limit_with_the_form(alice_client, sourceless, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = alice_client.post(
        "/configurations/sourceless/test-run", {"input_file": survey_upload(), "max_rows": 100}
    )

    assert response.status_code == 413
    assert "The upload is too large" in response.content.decode()
    assert "Test run of sourceless v1" in response.content.decode()
    assert not TestRun.objects.exists()
