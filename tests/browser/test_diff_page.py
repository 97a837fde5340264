"""A baseline and the diff of whole stored tables in a real browser, at a desktop and a phone width.

Two runs of the demo with the same options (its first 50 survey rows): v1, made the baseline from its
page, and v2, whose taxa lost their Familie column and whose survey lost its first data row. The run page
of v2 says how it differs from the baseline, with the YAML diff of the two versions beside it; one click
opens the compare page at the diff. Then a diff handed to a "worker" (the test computes it while the page
polls) appears without a reload. Screenshots: /tmp/diff_*_<width>.png.
"""

import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_run_is_diffed_with_the_baseline(
    log_in,
    live_server,
    transactional_db,
    page,
    django_user_model,
    django_capture_on_commit_callbacks,
    htmx_version,
    tmp_path,
    width,
    monkeypatch,
):
    from django_q.conf import Conf
    from playwright.sync_api import expect

    from configurations.importing import import_configuration
    from testruns import diffs
    from testruns.execution import start_run
    from testruns.models import RunDiff, Status
    from testruns.options import RunOptions

    user = django_user_model.objects.create_user("alice", "alice@example.org", "password")
    v1, _ = import_configuration(DEMO / "demo.yml", name="demo", user=user)
    folder = tmp_path / "v2"
    shutil.copytree(DEMO, folder)
    yaml = (folder / "demo.yml").read_text(encoding="utf-8")
    (folder / "demo.yml").write_text(yaml.replace('["BNam", "Familie"]', '["BNam"]'), encoding="utf-8")
    header, _, body = (folder / "survey.csv").read_bytes().partition(b"\n")
    (folder / "survey.csv").write_bytes(header + b"\n" + body.partition(b"\n")[2])
    v2, _ = import_configuration(folder / "demo.yml", name="demo", user=user, message="no Familie")
    runs = []
    for version in (v1, v2):
        with django_capture_on_commit_callbacks(execute=True):
            runs.append(start_run(version, RunOptions(max_rows_per_entity=50), user))
    base, head = runs
    for run in runs:
        run.refresh_from_db()
        assert run.status == Status.COMPLETED, run.error_message
    page.set_viewport_size({"width": width, "height": 900})

    # The baseline, made from its run's page.
    page.goto(live_server.url + base.get_absolute_url())
    log_in(page)
    expect(page.locator("#run-baseline")).to_contain_text("demo has no baseline")
    page.get_by_role("button", name="Make this run the baseline").click()
    expect(page.locator(".messages")).to_contain_text(f"Run {base.short_id} is now the baseline of demo.")
    expect(page.locator("#run-baseline")).to_contain_text("This run is the baseline of demo")

    # The other run's page: how it differs, and the YAML diff of the two versions beside it.
    page.goto(live_server.url + head.get_absolute_url())
    section = page.locator("#run-baseline")
    expect(section.locator(".baseline-verdict")).to_contain_text("Differs from baseline in")
    expect(section.locator(".baseline-verdict")).to_contain_text("taxa")
    version_diff = section.locator(".baseline-version-diff")
    expect(version_diff.locator("summary")).to_contain_text("Configuration v1 → v2: +1 −1 lines")
    expect(version_diff.locator("tr.diff-removed")).to_contain_text('columns: ["BNam", "Familie"]')
    expect(version_diff.locator("tr.diff-added")).to_contain_text('columns: ["BNam"]')
    page.screenshot(path=f"/tmp/diff_run_page_{width}.png", full_page=True)
    # The section fits the window (its YAML diff scrolls in its own box). The run's entity table above it
    # is wider than a phone: not this section's business.
    assert section.evaluate("e => e.getBoundingClientRect().right") <= width
    assert section.evaluate("e => e.scrollWidth <= e.clientWidth")

    # One click to the diff of the whole tables.
    section.get_by_role("link", name="See the diff").click()
    expect(page).to_have_url(re.compile(rf"/runs/compare\?base={base.pk}&head={head.pk}#run-diff$"))
    diff = page.locator("#run-diff")
    taxa = diff.locator('tr[data-entity="taxa"]')
    expect(taxa.locator(".columns-cell")).to_have_text("−Familie")
    expect(taxa.locator(".only-in-base")).to_have_text("0")
    expect(taxa.locator(".only-in-head")).to_have_text("0")
    # the 50 rows read now start one row later: the old first row is only in base, row 51 only in head
    survey = diff.locator('tr[data-entity="survey"]')
    expect(survey.locator(".only-in-base")).to_have_text("1")
    expect(survey.locator(".only-in-head")).to_have_text("1")
    samples = diff.locator('details[data-entity="survey"]')
    expect(samples.locator("table.diff-only_in_base tbody tr")).to_have_count(1)
    expect(samples.locator("table.diff-only_in_head tbody tr")).to_have_count(1)
    expect(page.locator("#compare-summary")).not_to_contain_text("different options")
    page.screenshot(path=f"/tmp/diff_compare_page_{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # A big diff goes to a worker: the section polls, and shows the diff once it is done.
    monkeypatch.setattr(diffs, "INLINE_BYTES", 0)
    monkeypatch.setattr(Conf, "SYNC", False)  # queued for a worker; this test plays the worker
    page.goto(f"{live_server.url}/runs/compare?base={head.pk}&head={base.pk}")
    expect(diff.locator(".diff-working")).to_contain_text("waiting for a worker")
    diffs.compute_diff(RunDiff.objects.get(base=head, head=base).pk)
    expect(diff.locator('tr[data-entity="taxa"] .columns-cell')).to_have_text("+Familie")
    expect(diff).not_to_have_attribute("hx-trigger", re.compile(".*"))  # it stopped polling
