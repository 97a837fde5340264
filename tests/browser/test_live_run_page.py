"""The run page as it lives in a browser tab: its title follows the run, it stops polling while the tab is
hidden and polls at once when shown again, says so when the connection is lost, and notifies when asked.

The page's timers run on Playwright's clock, paused: a poll happens only when the test advances the clock
(``run_for``) or the page itself asks (the tab shown again). The run is made directly in the database and
moved on by the test between polls, so each step is known, with no worker, no sleep and no timing window.
"""

import re
from datetime import datetime, timedelta

import pytest

pytestmark = [pytest.mark.browser]

# A little more than the polling interval: htmx 2 starts the next poll once the swap settles (20 ms).
ONE_POLL = 2_500
# What the run page polls: its status, and the sections that poll beside it (baseline, graph).
POLL = re.compile(r"/runs/[0-9a-f-]{36}/.+")
# Sets the tab's visibility as a browser does when the user switches tabs, and tells the page.
SET_VISIBILITY = """hidden => {
  const state = hidden ? "hidden" : "visible";
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
# Records the notifications the page makes (the browser's own Notification does the rest).
NOTIFICATIONS_SEEN = """(() => {
  const Real = window.Notification;
  window.notified = [];
  function Seen(title, options) { window.notified.push(title); return new Real(title, options); }
  Object.defineProperty(Seen, "permission", {get: () => Real.permission});
  Seen.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Seen;
})()"""


@pytest.fixture
def running(demo_version, alice):
    """A run of the demo working on entity_1 of three, entity_0 done."""
    from django.utils import timezone

    from testruns.models import Status
    from tests.factories import make_run

    return make_run(
        demo_version,
        Status.RUNNING,
        [
            {"entity": "entity_0", "status": "success", "rows_in": 10, "rows_out": 8, "duration_ms": 120},
            {"entity": "entity_1", "status": "running"},
            "entity_2",
        ],
        requested_by=alice,
        started_at=timezone.now(),
        entities_total=3,
        entities_completed=1,
        entities_succeeded=1,
        current_entity="entity_1",
    )


def finish_entity(run, position, completed):
    from testruns.models import EntityResult, TestRun

    EntityResult.objects.filter(run=run, position=position).update(status="success", rows_in=5, rows_out=5)
    TestRun.objects.filter(pk=run.pk).update(entities_completed=completed, entities_succeeded=completed)


def poll_once(page):
    """Let one poll of the status section happen, and wait until its answer has replaced the section: the
    next poll's timer then starts from the clock as it stands."""
    page.evaluate("document.getElementById('run-status').dataset.answered = 'not yet'")
    page.clock.run_for(ONE_POLL)
    page.locator("#run-status:not([data-answered])").wait_for(state="attached")


def open_paused(log_in, page, live_server, run, width):
    """Log in, stop the page's clock and open the run's page: from here on no poll happens by itself."""
    page.set_viewport_size({"width": width, "height": 900})
    page.clock.install()
    page.goto(live_server.url + "/accounts/login/")
    log_in(page)
    page.wait_for_url(re.compile(r"/$"))
    page.clock.pause_at(datetime.now() + timedelta(minutes=1))
    page.goto(live_server.url + run.get_absolute_url())


@pytest.mark.parametrize("width", [1366, 390])
def test_it_pauses_in_a_hidden_tab_resumes_when_shown_and_titles_the_tab(
    log_in, live_server, page, running, htmx_version, width, screenshot_dir
):
    from playwright.sync_api import expect

    polls = []
    page.on("request", lambda request: polls.append(request.url) if POLL.search(request.url) else None)
    open_paused(log_in, page, live_server, running, width)
    label = page.locator("#run-status .progress-label")
    expect(page).to_have_title(f"▶ 1/3 · Run {running.short_id} of demo · ShiftBench")
    expect(label).to_have_text("1 of 3 entities · 33%")
    page.screenshot(path=str(screenshot_dir / f"{width}-htmx{htmx_version}-run-live.png"), full_page=True)

    # The tab goes to the background; the run moves on; two polls are due and skipped.
    page.evaluate(SET_VISIBILITY, True)
    finish_entity(running, 1, completed=2)
    page.clock.run_for(4_100)
    page.evaluate("() => null")  # a round trip: anything the timers started has reached the browser by now
    assert polls == []
    expect(label).to_have_text("1 of 3 entities · 33%")

    # Shown again: it polls at once, the clock still stopped.
    page.evaluate(SET_VISIBILITY, False)
    expect(label).to_have_text("2 of 3 entities · 67%")
    expect(page).to_have_title(f"▶ 2/3 · Run {running.short_id} of demo · ShiftBench")
    assert len(polls) == 1  # the status section's; the others wait for their next tick

    # The run ends: the title says how.
    from testruns.models import Status, TestRun

    finish_entity(running, 2, completed=3)
    TestRun.objects.filter(pk=running.pk).update(status=Status.COMPLETED, finished_at=running.started_at)
    poll_once(page)
    expect(page).to_have_title(f"✓ completed · Run {running.short_id} of demo · ShiftBench")
    expect(page.locator("#run-status")).not_to_have_attribute("hx-trigger", re.compile(".*"))


@pytest.mark.parametrize("width", [1366, 390])
def test_it_says_when_the_connection_is_lost_until_a_poll_gets_through(
    log_in, live_server, page, running, htmx_version, width, screenshot_dir
):
    from playwright.sync_api import expect

    from testruns.models import Status, TestRun

    open_paused(log_in, page, live_server, running, width)
    notice = page.locator("#connection-notice")
    expect(page.locator("#run-status .chip")).to_have_text("running")
    expect(notice).to_be_hidden()

    page.route(POLL, lambda route: route.abort("internetdisconnected"))
    page.clock.run_for(ONE_POLL)
    expect(notice).to_be_visible()
    expect(notice).to_have_text("Connection lost, retrying…")
    page.screenshot(
        path=str(screenshot_dir / f"{width}-htmx{htmx_version}-run-connection-lost.png"), full_page=True
    )

    page.unroute(POLL)
    page.clock.run_for(ONE_POLL)
    expect(notice).to_be_hidden()
    page.wait_for_load_state("networkidle")  # every poll of that tick answered (a late one would clear it)

    # A server error is a lost connection too; the page keeps what it showed and keeps trying.
    page.route(POLL, lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.clock.run_for(ONE_POLL)
    expect(notice).to_be_visible()
    expect(page.locator("#run-status .chip")).to_have_text("running")

    page.unroute(POLL)
    TestRun.objects.filter(pk=running.pk).update(status=Status.FAILED, finished_at=running.started_at)
    page.clock.run_for(ONE_POLL)
    expect(notice).to_be_hidden()
    expect(page).to_have_title(f"✗ failed · Run {running.short_id} of demo · ShiftBench")


@pytest.mark.parametrize("width", [1366, 390])
def test_it_notifies_when_the_run_ends_once_asked_to(log_in, live_server, page, running, htmx_version, width):
    from playwright.sync_api import expect

    from testruns.models import Status, TestRun

    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.add_init_script(NOTIFICATIONS_SEEN)
    open_paused(log_in, page, live_server, running, width)
    button = page.get_by_role("button", name="Notify me when it ends")
    expect(button).to_be_visible()

    button.click()
    expect(page.locator("#run-notify")).to_contain_text("You will be notified when it ends.")
    expect(button).to_be_disabled()

    poll_once(page)  # a poll while it runs: nothing yet
    TestRun.objects.filter(pk=running.pk).update(status=Status.COMPLETED, finished_at=running.started_at)
    poll_once(page)
    expect(page).to_have_title(re.compile("^✓ completed"))
    page.wait_for_function("window.notified.length > 0")
    assert page.evaluate("window.notified") == [f"✓ completed · Run {running.short_id} of demo · ShiftBench"]
    expect(page.locator("#run-notify")).to_be_hidden()


def test_it_never_asks_for_permission_on_load(log_in, live_server, page, running):
    from playwright.sync_api import expect

    page.add_init_script(
        "window.asked = 0; const ask = Notification.requestPermission;"
        "Notification.requestPermission = (...a) => { window.asked += 1; return ask(...a); };"
    )
    open_paused(log_in, page, live_server, running, 1366)
    expect(page.get_by_role("button", name="Notify me when it ends")).to_be_visible()

    assert page.evaluate("window.asked") == 0


@pytest.mark.parametrize("width", [1366, 390])
def test_an_expired_session_goes_to_log_in_and_back_to_the_run(
    log_in, live_server, page, running, htmx_version, width
):
    from playwright.sync_api import expect

    open_paused(log_in, page, live_server, running, width)
    expect(page.locator("#run-status .chip")).to_have_text("running")

    page.context.clear_cookies()  # the session is gone, as after it expired
    page.clock.run_for(ONE_POLL)

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/runs/[0-9a-f-]{36}/$"))
    log_in(page)
    expect(page).to_have_url(live_server.url + running.get_absolute_url())
    expect(page.locator("#run-status .chip")).to_have_text("running")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_poll_says_the_phase_and_rows_of_the_entity_at_work(
    log_in, live_server, page, running, htmx_version, width, screenshot_dir
):
    from playwright.sync_api import expect

    from testruns.models import TestRun

    TestRun.objects.filter(pk=running.pk).update(current_phase="load")
    open_paused(log_in, page, live_server, running, width)
    phase = page.locator("#run-status .current-phase")
    rows = page.locator("#run-status .rows-progress")
    expect(phase).to_have_text("loading")
    expect(rows).to_have_text("10 rows read")

    # The worker has read entity_1's source and links it.
    TestRun.objects.filter(pk=running.pk).update(
        current_phase="link", current_rows=945_600, current_rows_in=945_615
    )
    poll_once(page)
    expect(phase).to_have_text("linking 945,600 rows")
    expect(rows).to_have_text("10 + 945,615 rows read")
    expect(phase).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"{width}-htmx{htmx_version}-run-phase.png"), full_page=True)
