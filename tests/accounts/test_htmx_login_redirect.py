"""A logged-out htmx request (a poll, a click of a page whose session expired) is told to go to log in."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from testruns.models import Status
from tests.factories import make_run

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


@pytest.fixture
def run(demo_version):
    return make_run(demo_version, Status.RUNNING, ["survey"], entities_total=1)


def poll(client, run, **headers):
    url = reverse("testruns:status", args=[run.pk]) + "?seen=p&event=0"
    return client.get(url, headers={"HX-Request": "true", **headers})


def test_a_poll_of_an_expired_session_sends_the_browser_to_log_in_and_back_to_its_page(client, run):
    page = run.get_absolute_url()

    response = poll(client, run, **{"HX-Current-URL": f"http://testserver{page}"})

    assert response.status_code == 200  # htmx acts on HX-Redirect in a successful answer
    assert response["HX-Redirect"] == f"{LOGIN}?next={quote(page)}"
    assert response.content == b""  # no login form swapped into the status section


def test_the_page_it_returns_to_keeps_its_query(client, run):
    response = poll(client, run, **{"HX-Current-URL": "http://testserver/runs/?status=running&page=2"})

    assert response["HX-Redirect"] == f"{LOGIN}?next=/runs/%3Fstatus%3Drunning%26page%3D2"


@pytest.mark.parametrize("current", [None, "https://elsewhere.example/runs/"])
def test_without_a_page_of_this_site_it_sends_to_the_login_page_alone(client, run, current):
    headers = {"HX-Current-URL": current} if current else {}

    response = poll(client, run, **headers)

    assert response["HX-Redirect"] == LOGIN


def test_a_plain_request_is_still_redirected_to_log_in(client, run):
    page = run.get_absolute_url()

    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={quote(page)}"
    assert "HX-Redirect" not in response


def test_a_logged_in_poll_is_answered_as_ever(alice_client, run):
    response = poll(alice_client, run)

    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert b'id="run-status"' in response.content
