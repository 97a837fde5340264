"""A long run watched in a browser: rows change in place as entities finish, the ETA appears, Cancel works.

The run is made long, and every step deterministic, with two FIFOs in the configuration's bundle: the
worker blocks reading each one inside an entity's "load" phase until the test feeds it. So the test knows
exactly which entity is running when it looks, with no sleeping and no timing assumptions.
"""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.worker]

CONFIG = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";", dtype: str, keep_default_na: false}
    columns: [site, sample]
  site:
    source: survey
    keys: [site]
    columns: [site]
    surrogate_id: site_id
    drop_duplicates: [site]
  finds:
    type: csv
    options: {filename: finds.csv, sep: ";", dtype: str, keep_default_na: false, usecols: [sample, taxon]}
    columns: [sample, taxon]
  taxon:
    source: finds
    keys: [taxon]
    columns: [taxon]
    surrogate_id: taxon_id
    drop_duplicates: [taxon]
  measures:
    type: csv
    options: {filename: measures.csv, sep: ";", dtype: str, keep_default_na: false, usecols: [sample, value]}
    columns: [sample, value]
  measure:
    source: measures
    keys: [sample]
    columns: [sample, value]
    surrogate_id: measure_id
"""
SURVEY = "site;sample\nA;1\nA;2\nB;3\n"
FINDS_ROWS = 200_000
FINDS = "sample;taxon\n" + "".join(f"{n};taxon {n % 97}\n" for n in range(FINDS_ROWS))
MEASURES = "sample;value\n1;0.5\n2;0.7\n"


def test_it_shows_a_long_run_live_and_cancels_it(
    log_in, live_server, start_worker, queued, page, write_config, django_user_model, fifos, htmx_version
):
    from playwright.sync_api import expect

    from configurations.importing import import_configuration
    from testruns.models import Status, TestRun

    user = django_user_model.objects.create_user("alice", "alice@example.org", "password")
    path = write_config(CONFIG, survey__csv=SURVEY, finds__csv="sample;taxon\n", measures__csv=MEASURES)
    version = import_configuration(path, name="long", user=user)[0]
    finds, measures = fifos.make(version, "finds.csv"), fifos.make(version, "measures.csv")

    # Start the run through the page: every entity, all rows.
    page.goto(live_server.url + "/configurations/long/test-run")
    log_in(page)
    page.get_by_label("All rows (a full run)").check()
    page.get_by_role("button", name="Start test run").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run = TestRun.objects.get()
    chip = page.locator("#run-status .run-summary .chip")
    eta = page.locator("#run-status .eta")
    expect(chip).to_have_text("pending")
    expect(eta).to_have_text("—")  # nothing to estimate from yet
    page.evaluate("window.shiftbenchNoReload = true")  # gone if the page reloads

    # survey and site finish; finds blocks in its load phase
    worker = start_worker(HEARTBEAT_INTERVAL=1, HEARTBEAT_TIMEOUT=600)
    worker.wait_for(f"run {run.pk}: entity finds started")
    row = {
        name: page.locator(f"#entity-{i} .chip[data-status]")  # its status, not its issue counts
        for i, name in enumerate(["survey", "site", "finds", "taxon", "measures", "measure"])
    }
    expect(row["finds"]).to_have_text("running")  # the table arrived with a poll
    expect(row["site"]).to_have_text("success")
    expect(row["taxon"]).to_have_text("pending")
    expect(page.locator(".current-entity")).to_have_text("finds")
    expect(page.locator(".progress-label")).to_have_text("2 of 6 entities · 33%")
    expect(eta).to_have_text(re.compile(r"^\d"))  # mean time of the finished entities × 4 left
    expect(page.locator(".rows-so-far")).to_have_text("5")  # 3 survey rows + 2 sites

    # feed finds: its row, and taxon's, change in place; measures blocks next
    fifos.feed(finds, FINDS)
    worker.wait_for(f"run {run.pk}: entity measures started")
    expect(row["finds"]).to_have_text("success", timeout=30_000)
    expect(row["taxon"]).to_have_text("success")
    expect(row["measures"]).to_have_text("running")
    expect(page.locator(".rows-so-far")).to_have_text(f"{3 + 2 + FINDS_ROWS + 97:,}")
    expect(page.locator("#entity-2 td.num").nth(2)).to_have_text(f"{FINDS_ROWS:,}")  # rows out, in place
    assert page.evaluate("window.shiftbenchNoReload") is True

    # Cancel (a plain form: the page reloads with a message), while measures is blocked mid-entity
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator(".messages")).to_contain_text(f"Cancelling run {run.short_id}")
    expect(chip).to_have_text("cancelling")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    worker.wait_for(f"run {run.pk}: cancel requested")
    fifos.feed(measures, MEASURES)  # measures reaches its next phase
    worker.wait_for(f"run {run.pk} cancelled")

    expect(chip).to_have_text("cancelled", timeout=30_000)
    expect(page.locator("#run-status")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    for name in ("survey", "site", "finds", "taxon"):
        expect(row[name]).to_have_text("success")  # finished entities keep their results
    expect(row["measures"]).to_have_text("cancelled")
    expect(row["measure"]).to_have_text("cancelled")
    expect(page.locator("#run-events")).to_contain_text("Run cancelled.")
    expect(page.get_by_role("link", name="Delete…")).to_be_visible()  # sent with the last poll

    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert run.entities_succeeded == 4
