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
