"""shiftbench.uploads: requests too large are refused by their Content-Length before anything reads them."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def unread(monkeypatch, settings):
    """A small upload limit, and a body parser that fails the test if anything reads the body."""

    def parse(self):
        raise AssertionError("the body was read")

    monkeypatch.setattr(MultiPartParser, "parse", parse)
    settings.UPLOAD_MAX_BYTES = 1_000


def big_upload():
    return {"yaml_file": SimpleUploadedFile("big.yml", b"#" * 5_000)}


def test_it_answers_the_api_with_json(client, unread):
    response = client.post("/api/v1/test-runs", big_upload())

    assert response.status_code == 413
    assert json.loads(response.content)["detail"].startswith(
        "The upload is too large: 5.0\xa0KB (5,138 bytes) in one"
    )


def test_it_shows_no_page_to_anonymous_users(client, unread):
    response = client.post(reverse("configurations:import"), big_upload())

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert b"<form" not in response.content


def test_it_lets_requests_within_the_limit_through(alice_client, settings):
    settings.UPLOAD_MAX_BYTES = 100_000

    response = alice_client.post(reverse("configurations:import"), {"name": "x"})

    assert response.status_code == 200  # the form, asking for the YAML file
