"""The whole flow in a real browser: log in, open a configuration, start a test run, watch it finish live.

Chromium (Debian's) is driven by Playwright against pytest-django's live server; the run is executed by a
real django-q2 worker process sharing the test's file database (see ``start_worker`` in tests/conftest.py).
"""

import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.worker]

DEMO_YAML = Path(__file__).resolve().parents[2] / "examples" / "demo" / "demo.yml"
SCREENSHOT = Path("/tmp/run_page.png")


def test_it_runs_a_configuration_and_shows_progress_live(
    log_in, live_server, start_worker, queued, page, django_user_model, htmx_version
):
    from playwright.sync_api import expect

    from configurations.importing import import_configuration

    user = django_user_model.objects.create_user("alice", "alice@example.org", "password")
    import_configuration(DEMO_YAML, name="demo", user=user)

    # Logging in through the form, sent there by the login requirement.
    page.goto(live_server.url + "/configurations/demo/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("demo")

    page.get_by_role("link", name="Test run", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test run of demo v1")
    page.get_by_label("site (needs project, survey)").check()
    page.get_by_role("button", name="Start test run").click()

    # The run page, before any worker exists: the run waits, and the page polls for its status.
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run_url = page.url
    chip = page.locator("#run-status .run-summary .chip")
    expect(chip).to_have_text("pending")
    expect(page.locator("#run-status")).to_have_attribute("hx-trigger", re.compile(r"^every 2s\b"))
    page.evaluate("window.shiftbenchNoReload = true")  # gone if the page reloads

    start_worker()
    expect(chip).to_have_text("completed", timeout=60_000)

    assert page.evaluate("window.shiftbenchNoReload") is True
    assert page.url == run_url
    # polling stopped: the last fragment came without its trigger
    expect(page.locator("#run-status")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(page.locator(".progress-label")).to_have_text("3 of 3 entities · 100%")
    expect(page.locator(".entity-table tbody tr")).to_have_count(3)
    expect(page.locator("#run-events")).to_contain_text("Run completed.")  # sent with the last poll
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # An entity's page, then the history lists the run.
    page.get_by_role("link", name="site", exact=True).first.click()
    expect(page.locator("table.explorer-table tbody tr").first).to_be_visible()  # the stored table, explored
    page.get_by_role("navigation").get_by_role("link", name="Runs", exact=True).click()
    run_id = run_url.rstrip("/").rsplit("/", 1)[1]
    expect(page.get_by_role("link", name=run_id[:8])).to_be_visible()
    expect(page.locator("tbody tr").first.locator(".chip")).to_have_text("completed")
