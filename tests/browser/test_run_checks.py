"""Run verdicts and checks in a real browser, on the real Arbodat configuration (``../shared/data/arbodat/
original/``, whose MS Access and PostgreSQL sources are out of reach here) and SEAD's standard target model.

The original Arbodat run is shown failed with its own counts, and the history's "failed" filter lists it.
Then the SEAD model is chosen on the configuration's page and a run is started from the test-run page: its
failing target-model checks show their failing rows, on the run page and on the entity's page. Runs execute
in the live server's request (django-q2 sync mode, as in every test); screenshots at 1,366 and 390 px.
"""

import re
from pathlib import Path

import pytest

from tests.factories import SHARED_DATA, UPSTREAM, copy_case

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARBODAT = SHARED_DATA / "arbodat" / "original"
SEAD_MODEL = UPSTREAM / "target_models" / "sead_standard_model.yml"
SCREENSHOTS = Path("/tmp")
WIDTHS = {"wide": {"width": 1366, "height": 900}, "narrow": {"width": 390, "height": 844}}


def screenshots(page, name: str, section: str | None = None) -> None:
    """The whole page at each width, and the section (a CSS selector) on its own, to look at."""
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"run_checks_{name}_{label}.png"), full_page=True)
        if section:
            page.locator(section).screenshot(path=str(SCREENSHOTS / f"run_checks_{name}_{label}_section.png"))
    page.set_viewport_size(WIDTHS["wide"])


def test_arbodat_runs_fail_with_their_counts_and_failing_checks_show_their_rows(
    log_in, live_server, page, alice, tmp_path, django_capture_on_commit_callbacks
):
    from playwright.sync_api import expect

    from configurations.importing import import_configuration
    from testruns.models import RunCheck, Status, TestRun
    from tests.factories import run_for_real

    folder = copy_case(ARBODAT, tmp_path)
    version, _ = import_configuration(folder / "arbodat.yml", name="arbodat", user=alice)
    original = run_for_real(version, alice, django_capture_on_commit_callbacks)  # the first 100 rows
    assert original.status == Status.FAILED and original.checks_total == 0
    page.set_viewport_size(WIDTHS["wide"])

    page.goto(f"{live_server.url}/runs/{original.pk}/")
    log_in(page)

    # the run page: failed, with the run's own counts
    status = page.locator("#run-status")
    expect(status.locator(".run-summary .chip")).to_have_text("failed")
    expect(status.locator(".run-verdict")).to_have_text(original.summary)
    total = original.entities_total
    expect(status.locator(".progress-label")).to_have_text(f"{total} of {total} entities · 100%")
    expect(page.locator(".entity-table tbody tr")).to_have_count(total)
    expect(page.locator(".entity-table .chip-failed")).to_have_count(original.entities_failed)
    expect(page.locator(".entity-table .chip-skipped")).to_have_count(original.entities_skipped)
    expect(page.locator("#run-checks")).to_be_empty()  # no target model, no checks: section
    screenshots(page, "arbodat", "#run-status")

    # the history's "failed" filter lists it
    page.get_by_role("navigation").get_by_role("link", name="Runs", exact=True).click()
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    row = page.locator("#run-history tbody tr", has=page.get_by_role("link", name=original.short_id))
    expect(row.locator(".chip")).to_have_text("failed")
    expect(row.locator(".run-verdict")).to_have_text(f"({original.summary})")

    # SEAD's standard model, chosen on the configuration's page
    page.goto(f"{live_server.url}/configurations/arbodat/")
    page.get_by_label("Choose a model file").set_input_files(str(SEAD_MODEL))
    page.get_by_role("button", name="Use this model").click()
    expect(page.locator("#target-model .target-model-current")).to_contain_text(SEAD_MODEL.name)
    screenshots(page, "configuration", "#target-model")

    # a run from the test-run page: the request returns once the run has ended (sync mode)
    page.get_by_role("link", name="Test run", exact=True).click()
    page.get_by_role("button", name="Start test run").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    checked = TestRun.objects.exclude(pk=original.pk).get()
    assert checked.checks_failed > 0, checked.summary
    expect(status.locator(".run-summary .chip")).to_have_text("failed")
    expect(status.locator(".run-verdict")).to_have_text(checked.summary)
    assert checked.summary.endswith(f"{checked.checks_failed} checks failed")

    # its failing target-model checks, errors first, with their failing rows
    failing = [c for c in checked.checks.filter(status="failed", severity="error") if c.sample]
    assert failing, "the SEAD model finds rows it cannot take in the Arbodat sample"
    first = failing[0]
    section = page.locator("#run-checks")
    expect(section.locator("h2")).to_have_text(f"Checks {checked.checks_total}")
    item = section.locator("li.check-failed").filter(has_text=first.message).first
    expect(item.locator(".check-failing")).to_have_text(
        f"{first.failing_rows} failing {'row' if first.failing_rows == 1 else 'rows'}"
    )
    item.locator(".check-sample summary").click()
    table = item.locator(".check-sample table")
    expect(table.locator("thead th")).to_have_text(list(first.sample[0]))
    expect(table.locator("tbody tr")).to_have_count(len(first.sample))
    cells = ["∅" if value is None else str(value) for value in first.sample[0].values()]
    expect(table.locator("tbody tr").first.locator("td")).to_have_text(cells)
    screenshots(page, "run", "#run-checks")

    # the entity's page shows its own checks, the failing rows open
    item.locator(".check-entity").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.entity)
    entity_checks = page.locator("#entity-checks")
    own = RunCheck.objects.filter(run=checked, entity=first.entity)
    expect(entity_checks.locator("h2")).to_have_text(f"Checks {own.count()}")
    sample = entity_checks.locator("li.check-failed").filter(has_text=first.message).locator("table")
    expect(sample).to_be_visible()
    expect(sample.locator("tbody tr")).to_have_count(len(first.sample))
    screenshots(page, "entity", "#entity-checks")


@pytest.mark.worker
def test_a_live_run_page_gets_the_checks_with_its_last_poll(
    log_in, live_server, start_worker, queued, page, alice, tmp_path, htmx_version
):
    """Conformance case 35 (its own metadata.target_model) run by a real worker while the page polls: the
    checks arrive out of band with the last poll, in htmx 2 and 4, with the failing rows the corpus names."""
    import csv

    from playwright.sync_api import expect

    from configurations.importing import import_configuration
    from tests.factories import CONFORMANCE_V2

    case = copy_case(CONFORMANCE_V2 / "35_target_model_conformance", tmp_path)
    import_configuration(case / "shapeshifter.yml", name="c35", user=alice)
    with open(case / "expected" / "site.csv", newline="", encoding="utf-8") as handle:
        nameless = [row["system_id"] for row in csv.DictReader(handle) if row["site_name"] == ""]

    page.set_viewport_size(WIDTHS["wide"])
    page.goto(f"{live_server.url}/configurations/c35/test-run")
    log_in(page)
    page.get_by_role("button", name="Start test run").click()
    expect(page.locator("#run-status .run-summary .chip")).to_have_text("pending")
    expect(page.locator("#run-checks")).to_be_empty()
    page.evaluate("window.shiftbenchNoReload = true")  # gone if the page reloads

    start_worker()
    expect(page.locator("#run-status .run-summary .chip")).to_have_text("failed", timeout=60_000)

    checks = page.locator("#run-checks")
    expect(checks.locator("h2")).to_contain_text("Checks")
    not_null = checks.locator("li.check-failed").filter(has_text="'site_name' is not nullable")
    not_null.locator(".check-sample summary").click()
    expect(not_null.locator("tbody tr td:first-child")).to_have_text(nameless)
    expect(page.locator("#run-status .run-verdict")).to_contain_text("checks failed")
    assert page.evaluate("window.shiftbenchNoReload") is True
    screenshots(page, f"live_htmx{htmx_version}", "#run-checks")
