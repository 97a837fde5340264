"""The Content-Security-Policy in a real browser: every page works under it and Chromium reports nothing.

Chromium logs each blocked script, style or eval to the console ("… violates the following Content Security
Policy directive …"); the test collects those messages over a walk through the pages, htmx requests
included, with htmx 2 and 4.
"""

import re

import pytest

from tests.factories import make_run

pytestmark = [pytest.mark.browser]


@pytest.fixture
def violations(page):
    found = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def test_it_reports_no_violation_on_any_page(
    log_in, live_server, page, violations, demo_version, htmx_version
):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from testruns.models import Status

    alice = get_user_model().objects.get(username="alice")  # made by demo_version, password "password"
    alice.is_staff = alice.is_superuser = True
    alice.save()
    run = make_run(
        demo_version,
        requested_by=alice,
        status=Status.PENDING,
    )
    url = live_server.url

    page.goto(url + "/")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # The collector works: an inline style is refused and reported.
    with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"color: red\">x</div>')")
    assert any("style-src" in text for text in violations), violations
    violations.clear()

    for path in (
        "/",
        "/configurations/",
        "/configurations/demo/",
        "/configurations/demo/test-run",
        "/configurations/demo/versions/1/",
        "/runs/",
        f"/runs/compare?base={run.pk}&head={run.pk}",
        "/no-such-page/",
        "/admin/",
        "/admin/testruns/testrun/",
        f"/admin/testruns/testrun/{run.pk}/change/",
    ):
        page.goto(url + path)
        expect(page.locator("body")).to_be_visible()
        assert violations == [], path

    # The API docs (Swagger UI): drawn by their own script; an operation opened, ready to try out.
    page.goto(url + "/api/v1/docs")
    operation = page.locator(".swagger-ui .opblock-get").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    expect(operation.get_by_role("button", name="Execute")).to_be_visible()
    assert violations == [], "/api/v1/docs"

    # htmx: live validation in the editor (a debounced POST) and the run page's polling.
    page.goto(url + "/configurations/demo/edit")
    with page.expect_response(re.compile(r"/configurations/demo/validate$")) as validated:
        page.locator(".CodeMirror").click()  # the editor over the textarea (static/js/editor.js)
        page.keyboard.press("Control+End")
        page.keyboard.type("\n# a comment")
    assert validated.value.status == 200
    expect(page.locator("#validation-live")).to_be_visible()

    page.goto(url + run.get_absolute_url())
    with page.expect_response(re.compile(r"/status\?seen=")) as polled:
        pass
    assert polled.value.status == 200
    expect(page.locator("#run-status")).to_have_attribute(
        "hx-trigger", re.compile(r"^every 2s\b")
    )  # swapped in, still polling

    assert violations == []
