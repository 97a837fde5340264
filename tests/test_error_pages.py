"""The error pages (400, 403, 404, 500) and every value a page echoes back from the request: escaped."""

import uuid

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from testruns.models import Status
from tests.factories import make_run

PAYLOAD = "<script>alert(document.cookie)</script>"
ESCAPED = "&lt;script&gt;alert(document.cookie)&lt;/script&gt;"


@pytest.fixture
def two_runs(demo_version, alice):
    def make():
        return make_run(
            demo_version,
            requested_by=alice,
            options={"entities": None, "max_rows_per_entity": 10},
            status=Status.COMPLETED,
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )

    return make(), make()


def _echo_requests(base, head):
    """(path, query) of every page that puts a request value into its answer, with the payload in it."""
    compare = reverse("testruns:compare")
    return [
        (reverse("testruns:compare_diff"), {"base": PAYLOAD, "head": head.pk}),  # 400: not a run id
        (compare, {"base": base.pk, "head": head.pk, "expand": PAYLOAD}),
        (compare, {"base": PAYLOAD, "head": head.pk}),  # 400: not a run id
        (reverse("testruns:list"), {"configuration": PAYLOAD, "status": PAYLOAD, "user": PAYLOAD}),
        (reverse("testruns:status", args=[base.pk]), {"event": PAYLOAD, "seen": PAYLOAD}),
        (reverse("configurations:detail", args=["demo"]), {"version": PAYLOAD}),
        (reverse("configurations:diff_pick", args=["demo"]), {"a": PAYLOAD, "b": PAYLOAD}),
        (reverse("login"), {"next": PAYLOAD}),
        ("/no-such-page/" + PAYLOAD, {}),
    ]


def test_it_escapes_every_echoed_value(alice_client, two_runs):
    for path, query in _echo_requests(*two_runs):
        response = alice_client.get(path, query)

        content = response.content.decode()
        assert PAYLOAD not in content, (path, query, response.status_code)
        assert "<script>alert" not in content, (path, query)


def test_it_shows_a_styled_404_with_the_views_message(alice_client, two_runs):
    base, _ = two_runs
    unknown = uuid.UUID(int=7)
    response = alice_client.get(reverse("testruns:compare_diff"), {"base": base.pk, "head": unknown})

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    content = response.content.decode()
    assert "<title>Not found · ShiftBench</title>" in content
    assert f"No run {unknown} (head)." in content
    assert 'class="topbar"' in content and "/static/css/shiftbench.css" in content


def test_it_names_the_missing_page_in_a_404_without_a_message(alice_client, db):
    response = alice_client.get("/no-such-page/")

    assert response.status_code == 404
    assert "There is no page at /no-such-page/." in response.content.decode()


def test_it_shows_the_reason_of_a_400(alice_client, demo_version):
    response = alice_client.get(reverse("configurations:diff_pick", args=["demo"]), {"a": "x", "b": 1})

    assert response.status_code == 400
    content = response.content.decode()
    assert "<title>Bad request · ShiftBench</title>" in content
    assert "Pick two version numbers (a: Enter a whole number.)." in content


def test_it_hides_the_details_of_a_suspicious_request(client, settings, db):
    # DisallowedHost's message names the host; like Django's own 400 page, ours does not repeat it.
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    content = response.content.decode()
    assert "<title>Bad request · ShiftBench</title>" in content
    assert "evil.example" not in content


def test_it_shows_a_403_page(client, alice, settings):
    # The CSRF failure page is Django's own; a PermissionDenied raised by a view gets ours.
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/")
    request.user = alice
    response = permission_denied(request, PermissionDenied("Only the owner may do this."))

    assert response.status_code == 403
    content = response.content.decode()
    assert "<title>Forbidden · ShiftBench</title>" in content
    assert "Only the owner may do this." in content


def test_it_renders_the_500_page_without_database_or_request_context():
    # No db fixture: a query here would fail the test. Django renders 500.html with an empty context.
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/" + uuid.uuid4().hex))

    assert response.status_code == 500
    content = response.content.decode()
    assert "<title>Server error · ShiftBench</title>" in content
    assert "/static/css/shiftbench.css" in content


def test_it_shows_a_styled_page_when_the_csrf_check_fails(alice):
    # Django's own page has an inline <style> (refused by our policy); ours uses the stylesheet.
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post(reverse("logout"))

    assert response.status_code == 403
    content = response.content.decode()
    assert "<title>Forbidden · ShiftBench</title>" in content
    assert "<style" not in content
