"""The history in a real browser: filter, page older and newer with htmx, and the address bar follows."""

import re
from datetime import timedelta

import pytest

pytestmark = [pytest.mark.browser]


def test_it_filters_and_pages_without_reloading(log_in, live_server, page, django_user_model, demo_version):
    from django.utils import timezone
    from playwright.sync_api import expect

    from testruns.models import Status
    from tests.factories import make_runs

    alice = django_user_model.objects.get(username="alice")  # made by demo_version, password "password"
    now = timezone.now()
    runs = make_runs(
        demo_version,
        (
            {"created_at": now - timedelta(minutes=i), "status": Status.FAILED if i % 2 else Status.COMPLETED}
            for i in range(130)
        ),
        requested_by=alice,
    )
    failed = [run for run in runs if run.status == Status.FAILED]  # 65, newest first

    page.goto(live_server.url + "/runs/")
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs")

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    rows = page.locator("#run-history tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(failed[0].short_id)
    page.evaluate("window.shiftbenchNoReload = true")  # gone if the page reloads

    page.get_by_role("link", name="Older ›").click()
    expect(rows).to_have_count(15)
    expect(rows.first).to_contain_text(failed[50].short_id)
    expect(page).to_have_url(re.compile(r"status=failed.*before=\d+_[0-9a-f]{32}"))
    expect(page.get_by_label("Status")).to_have_value("failed")  # the form is still there, as filtered

    page.get_by_role("link", name="‹ Newer").click()
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(failed[0].short_id)
    assert page.evaluate("window.shiftbenchNoReload") is True

    page.go_back()  # htmx restores the older page from its history cache
    expect(rows).to_have_count(15)
    page.screenshot(path="/tmp/history_page.png", full_page=True)
