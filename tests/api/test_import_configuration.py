"""POST /api/v1/configurations: import a configuration (multipart: the YAML, its files, a forced format)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from configurations.models import ConfigurationVersion
from tests.factories import CONFORMANCE_V2, DEMO, DEMO_YAML

pytestmark = pytest.mark.django_db

URL = "/api/v1/configurations"
OLD_FORMAT = CONFORMANCE_V2 / "02_old_format_under_v2"


def old_format_upload(**data):
    return {
        "yaml_file": SimpleUploadedFile("old.yml", (OLD_FORMAT / "shapeshifter.yml").read_bytes()),
        "extra_files": [SimpleUploadedFile("finds.csv", (OLD_FORMAT / "finds.csv").read_bytes())],
        **data,
    }


def test_it_imports_a_configuration_with_its_files(client, bearer, alice):
    upload = {
        "yaml_file": SimpleUploadedFile("demo.yml", DEMO_YAML.read_bytes()),
        "extra_files": [SimpleUploadedFile("survey.csv", (DEMO / "survey.csv").read_bytes())],
        "name": "survey-demo",
        "message": "from a script",
    }

    response = client.post(URL, upload, **bearer)

    assert response.status_code == 201, response.content
    version = ConfigurationVersion.objects.get()
    data = response.json()
    assert data["config_name"] == "survey-demo" and data["number"] == 1 and data["created"] is True
    assert data["message"] == "from a script" and data["created_by"] == "alice"
    assert data["sha256"] == version.sha256
    assert data["loads"] is True and data["errors"] == version.error_count
    assert data["url"] == "http://testserver/configurations/survey-demo/?version=1"
    assert sorted(version.files.values_list("path", flat=True)) == ["demo.yml", "survey.csv"]
    assert version.created_by == alice


def test_it_detects_the_format(client, bearer):
    response = client.post(URL, old_format_upload(), **bearer)

    data = response.json()
    assert (data["format_version"], data["format_forced"], data["path_variables"]) == (1, False, {})


def test_it_forces_the_format(client, bearer):
    response = client.post(URL, old_format_upload(format_version="2"), **bearer)

    assert response.status_code == 201
    assert (response.json()["format_version"], response.json()["format_forced"]) == (2, True)
    version = ConfigurationVersion.objects.get()
    assert version.project.format_version == 2


def test_it_answers_200_when_nothing_changed(client, bearer):
    client.post(URL, old_format_upload(format_version="2"), **bearer)

    response = client.post(URL, old_format_upload(format_version="2"), **bearer)

    assert response.status_code == 200
    assert response.json()["created"] is False and response.json()["number"] == 1
    assert ConfigurationVersion.objects.count() == 1


def test_it_rejects_an_unknown_format(client, bearer):
    response = client.post(URL, old_format_upload(format_version="3"), **bearer)

    assert response.status_code == 422
    assert not ConfigurationVersion.objects.exists()


def test_it_requires_a_yaml_file_and_says_so_like_the_form(client, bearer):
    response = client.post(URL, {"name": "x"}, **bearer)

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "value_error", "loc": ["form", "yaml_file"], "msg": "This field is required."}]
    }


def test_it_names_a_file_that_is_not_utf8_by_its_own_name(client, bearer):
    upload = {
        "yaml_file": SimpleUploadedFile("latin.yml", "entities: {a: {columns: [Größe]}}\n".encode("latin-1"))
    }

    response = client.post(URL, upload, **bearer)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["form"] and error["msg"].startswith("latin.yml: not UTF-8 text")
    assert "shiftbench-import-" not in error["msg"]  # never the server's temporary folder


def demo_alone(**data):
    yaml_text = DEMO_YAML.read_text(encoding="utf-8") + "# edited\n"
    return {"yaml_file": SimpleUploadedFile("demo.yml", yaml_text.encode()), "name": "demo", **data}


def demo_with_survey():
    return {
        "yaml_file": SimpleUploadedFile("demo.yml", DEMO_YAML.read_bytes()),
        "extra_files": [SimpleUploadedFile("survey.csv", (DEMO / "survey.csv").read_bytes())],
        "name": "demo",
    }


def test_it_lists_every_missing_file_with_its_line(client, bearer):
    yaml_text = DEMO_YAML.read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(yaml_text.splitlines(), 1) if "filename: survey.csv" in text)

    response = client.post(URL, demo_alone(), **bearer)

    assert response.status_code == 201
    assert response.json()["files_missing"] == [
        {"path": "survey.csv", "kind": "data", "location": f"demo.yml:{line}"}
    ]
    assert response.json()["files_reused"] is None


def test_a_yaml_posted_alone_reuses_the_current_versions_files_by_default(client, bearer):
    client.post(URL, demo_with_survey(), **bearer)

    response = client.post(URL, demo_alone(), **bearer)

    data = response.json()
    assert (response.status_code, data["number"]) == (201, 2)
    assert (data["files_missing"], data["files_reused"]) == ([], {"version": 1, "paths": ["survey.csv"]})
    v1, v2 = ConfigurationVersion.objects.order_by("number")
    assert v2.files.get(path="survey.csv").stored_id == v1.files.get(path="survey.csv").stored_id


def test_reuse_files_false_stores_the_yaml_alone(client, bearer):
    client.post(URL, demo_with_survey(), **bearer)

    response = client.post(URL, demo_alone(reuse_files="false"), **bearer)

    data = response.json()
    assert [m["path"] for m in data["files_missing"]] == ["survey.csv"] and data["files_reused"] is None
    assert list(ConfigurationVersion.objects.get(number=2).files.values_list("path", flat=True)) == [
        "demo.yml"
    ]
