"""Comparing a run with the previous one in a real browser: from the run page to the deltas and the diff.

Both runs are executed in this process before the page opens (django-q2 sync mode), with different sample
sizes so that row counts differ; Chromium then logs in through the form and follows the links.
"""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DEMO_YAML = Path(__file__).resolve().parents[2] / "examples" / "demo" / "demo.yml"
SCREENSHOT = Path("/tmp/compare_page.png")


def test_it_compares_a_run_with_the_previous_one(
    log_in, live_server, transactional_db, page, django_user_model, django_capture_on_commit_callbacks
):
    from playwright.sync_api import expect

    from configurations.importing import import_configuration
    from testruns.execution import start_run
    from testruns.models import Status
    from testruns.options import RunOptions

    user = django_user_model.objects.create_user("alice", "alice@example.org", "password")
    version, _ = import_configuration(DEMO_YAML, name="demo", user=user)
    runs = []
    for max_rows in (10, 50):
        with django_capture_on_commit_callbacks(execute=True):
            runs.append(start_run(version, RunOptions(max_rows_per_entity=max_rows), user))
    base, head = runs
    for run in runs:
        run.refresh_from_db()
        assert run.status == Status.COMPLETED, run.error_message

    # Logging in through the form, sent there from the second run's page.
    page.goto(live_server.url + head.get_absolute_url())
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Run {head.short_id} of demo")

    page.get_by_role("link", name="Compare with previous run").click()
    expect(page).to_have_url(re.compile(rf"/runs/compare\?base={base.pk}&head={head.pk}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Compare run {base.short_id} with {head.short_id}"
    )
    expect(page.locator("#compare-summary")).to_contain_text("first 10 rows · all entities")
    expect(page.locator("#compare-summary")).to_contain_text("first 50 rows · all entities")
    expect(page.locator("#compare-summary")).to_contain_text("Both runs are of demo v1.")

    # The deltas: the survey sample grew by 40 rows, and so did abundance (one row per observation).
    abundance = page.locator('#compare-entities tr[data-entity="abundance"]')
    expect(abundance.locator(".rows-in-delta")).to_have_text("+40")
    expect(abundance.locator(".rows-out-delta")).to_have_text("+40")
    taxa_delta = (
        head.entity_results.get(entity="taxa").rows_out - base.entity_results.get(entity="taxa").rows_out
    )
    assert taxa_delta > 0
    expect(page.locator('#compare-entities tr[data-entity="taxa"] .rows-out-delta')).to_have_text(
        f"+{taxa_delta}"
    )
    # record_type (fixed values) is the same in both: the changed-only table leaves it out.
    expect(page.locator('#compare-entities tr[data-entity="record_type"]')).to_have_count(0)

    # 10 and 50 rows: the page says the options differ. The rows of the whole stored tables: taxa, matched
    # on its declared key, only gained rows.
    expect(page.locator("#compare-summary .options-differ")).to_be_visible()
    taxa = page.locator('#run-diff tr[data-entity="taxa"]')
    expect(taxa.locator(".matched-on")).to_have_text("keys")
    expect(taxa.locator(".only-in-head")).to_have_text(str(taxa_delta))
    expect(taxa.locator(".only-in-base")).to_have_text("0")
    expect(taxa.locator(".changed")).to_have_text("0")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # The pickers: swapping base and head turns the deltas round.
    page.locator('select[name="base"]').select_option(str(head.pk))
    page.locator('select[name="head"]').select_option(str(base.pk))
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Compare run {head.short_id} with {base.short_id}"
    )
    expect(abundance.locator(".rows-out-delta")).to_have_text("-40")


def section_name(locator) -> str:
    return locator.get_attribute("id")


def _two_runs(django_user_model, capture):
    """alice, and two finished runs of the demo (10 and 50 rows); the head's taxa warn of 5 taxa, the base's
    of 3: the same warning with another count."""
    from configurations.importing import import_configuration
    from testruns.execution import start_run
    from testruns.models import Status
    from testruns.options import RunOptions

    user = django_user_model.objects.create_user("alice", "alice@example.org", "password")
    version, _ = import_configuration(DEMO_YAML, name="demo", user=user)
    runs = []
    for max_rows, count in ((10, 3), (50, 5)):
        with capture(execute=True):
            run = start_run(version, RunOptions(max_rows_per_entity=max_rows), user)
        run.refresh_from_db()
        assert run.status == Status.COMPLETED, run.error_message
        run.entity_results.filter(entity="taxa").update(warnings=[f"{count} taxa without a family"])
        runs.append(run)
    return runs


@pytest.mark.parametrize("width", [1366, 390])
def test_it_shows_what_changed_first_and_the_rest_on_demand(
    log_in,
    live_server,
    transactional_db,
    page,
    django_user_model,
    django_capture_on_commit_callbacks,
    screenshot_dir,
    width,
):
    from playwright.sync_api import expect

    base, head = _two_runs(django_user_model, django_capture_on_commit_callbacks)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/runs/compare?base={base.pk}&head={head.pk}")
    log_in(page)

    entities = page.locator("#compare-entities")
    expect(entities.get_by_role("heading", level=2)).to_have_text("Entities changed only")
    expect(entities.locator('tr[data-entity="abundance"]')).to_be_visible()
    expect(entities.locator('tr[data-entity="record_type"]')).to_have_count(0)
    expect(entities.locator(".unchanged-count")).to_have_text("3 entities unchanged")
    # The warning's count changed: one row, 3 → 5, neither new nor resolved.
    issues = page.locator("#compare-issues")
    expect(issues.locator(".changed-issues li")).to_have_count(1)
    expect(issues.locator(".changed-issues li")).to_contain_text("5 taxa without a family")
    expect(issues.locator(".changed-issues .count-change")).to_have_text("3 → 5")
    expect(issues.locator(".new-issues, .resolved-issues")).to_have_count(0)
    expect(entities.locator('tr[data-entity="taxa"] .findings-cell')).to_contain_text("1 changed")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / f"{width}-compare-changed-only.png"), full_page=True)
    for section in (entities, issues):  # close-ups of what this test is about
        section.screenshot(path=str(screenshot_dir / f"{width}-compare-{section_name(section)}.png"))

    entities.get_by_role("link", name="show them").click()
    expect(page).to_have_url(re.compile(r"&entities=all#compare-entities$"))
    expect(entities.get_by_role("heading", level=2)).to_have_text("Entities all 11")
    record_type = entities.locator('tr[data-entity="record_type"]')
    expect(record_type).to_be_visible()
    expect(record_type.locator(".rows-out-delta")).to_have_text("0")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / f"{width}-compare-all-entities.png"), full_page=True)

    entities.get_by_role("link", name="Show the changed ones only").click()
    expect(entities.locator('tr[data-entity="record_type"]')).to_have_count(0)
