"""A version's downloads: /configurations/<name>/versions/<n>/yaml (its main YAML) and …/bundle.zip (every
file it bundles, from the content-addressed stored files)."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from configurations.versioning import save_edited_version
from tests.factories import DEMO

pytestmark = pytest.mark.django_db


def yaml_url(number, name="demo"):
    return reverse("configurations:download_yaml", args=[name, number])


def zip_url(number, name="demo"):
    return reverse("configurations:download_bundle", args=[name, number])


@pytest.fixture
def v2(demo_version, bob):
    text = demo_version.yaml_text.replace('project_type: "excavation"', 'project_type: "survey"')
    return save_edited_version(demo_version.configuration, text, bob, "projects are surveys")


def test_it_downloads_a_version_s_yaml(alice_client, demo_version, v2):
    response = alice_client.get(yaml_url(1))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="demo-v1.yml"'
    assert response.content == (DEMO / "demo.yml").read_bytes()
    assert alice_client.get(yaml_url(2)).content.decode() == v2.yaml_text


def test_it_downloads_a_version_s_bundle_as_a_zip(alice_client, demo_version, v2, django_assert_num_queries):
    # session, user, configuration, version, its files with their stored files
    with django_assert_num_queries(5):
        response = alice_client.get(zip_url(1))
        body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="demo-v1.zip"'
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["demo-v1/demo.yml", "demo-v1/survey.csv"]
        assert archive.read("demo-v1/demo.yml") == (DEMO / "demo.yml").read_bytes()
        assert archive.read("demo-v1/survey.csv") == (DEMO / "survey.csv").read_bytes()


def test_the_bundle_of_an_edit_has_its_yaml_and_the_same_data(alice_client, v2):
    body = b"".join(alice_client.get(zip_url(2)).streaming_content)

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.read("demo-v2/demo.yml").decode() == v2.yaml_text
        assert archive.read("demo-v2/survey.csv") == (DEMO / "survey.csv").read_bytes()


def test_it_sends_a_bundle_with_a_lost_file_back_to_the_version(alice_client, demo_version):
    survey = demo_version.files.get(path="survey.csv").stored
    default_storage.delete(survey.blob.name)

    response = alice_client.get(zip_url(1), follow=True)

    assert response.redirect_chain == [(reverse("configurations:version", args=["demo", 1]), 302)]
    content = response.content.decode()
    assert "The files of demo v1 could not be read: survey.csv (missing, expected" in content


def test_the_version_page_links_both_downloads(alice_client, demo_version):
    content = alice_client.get(reverse("configurations:version", args=["demo", 1])).content.decode()

    assert f'href="{yaml_url(1)}" download>Download YAML</a>' in content
    assert f'href="{zip_url(1)}" download>Download bundle (ZIP)</a>' in content


def test_it_downloads_only_on_get(alice_client, demo_version):
    assert alice_client.post(yaml_url(1)).status_code == 405
    assert alice_client.post(zip_url(1)).status_code == 405
