"""The table explorer in a real browser, on ``result_base`` of a sampled run of the real Arbodat configuration
(``../shared/data/arbodat/reduced-arbodat.yml``): sort by a column, filter, page, with htmx 2 and htmx 4,
each step's query in the address bar. What each page should show is read from the stored CSV with pandas.
"""

import re

import pandas as pd
import pytest

from tests.factories import SHARED_DATA, copy_case

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARBODAT = SHARED_DATA / "arbodat"


def test_the_explorer_sorts_filters_and_pages_result_base(
    log_in, live_server, page, alice, tmp_path, django_capture_on_commit_callbacks, htmx_version
):
    from playwright.sync_api import expect

    from configurations.importing import import_configuration
    from testruns.models import EntityResult
    from testruns.options import RunOptions
    from tests.factories import run_for_real

    folder = copy_case(ARBODAT, tmp_path)
    version, _ = import_configuration(folder / "reduced-arbodat.yml", name="arbodat", user=alice)
    options = RunOptions(entities=["result_base"], max_rows_per_entity=200)
    run = run_for_real(version, alice, django_capture_on_commit_callbacks, options)
    result = EntityResult.objects.get(run=run, entity="result_base")
    with result.output.open("rb") as handle:
        stored = pd.read_csv(handle, dtype=str, keep_default_na=False)
    assert len(stored) > 100, "enough rows for pages of a filtered view"

    page.goto(f"{live_server.url}{result.get_absolute_url()}")
    log_in(page)
    explorer = page.locator("#explorer")
    first_cells = explorer.locator(".explorer-table tbody tr td:first-child")
    expect(explorer.locator(".explorer-count")).to_have_text(f"{len(stored):,} rows")
    expect(first_cells).to_have_text(list(stored["system_id"][:50]))

    # sort by PCODE (a header click), then the other way round
    explorer.get_by_role("link", name="PCODE", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?sort=PCODE$"))
    by_code = stored.sort_values("PCODE", kind="stable")
    expect(first_cells).to_have_text(list(by_code["system_id"][:50]))
    explorer.get_by_role("link", name="PCODE ▲").click()
    expect(page).to_have_url(re.compile(r"\?sort=PCODE&desc=1$"))
    descending = stored.sort_values("PCODE", ascending=False, kind="stable")  # ties in stored order
    expect(first_cells).to_have_text(list(descending["system_id"][:50]))

    # filter: RTyp equals the most frequent type (the sort stays)
    common = stored["RTyp"].value_counts().index[0]
    explorer.get_by_label("Column").select_option("RTyp")
    explorer.get_by_label("Condition").select_option("eq")
    explorer.get_by_label("Value").fill(common)
    explorer.get_by_role("button", name="Add filter").click()
    expect(page).to_have_url(re.compile(r"(?=.*[?&]col=RTyp&op=eq&q=)(?=.*[?&]sort=PCODE&desc=1)"))
    kept = descending[descending["RTyp"] == common]
    expect(explorer.locator(".explorer-count")).to_have_text(f"{len(kept):,} of {len(stored):,} rows match")
    expect(first_cells).to_have_text(list(kept["system_id"][:50]))

    # the next page of the filtered, sorted view, then back (the address bar's history)
    if len(kept) > 50:
        explorer.get_by_role("link", name="Next ›").click()
        expect(page).to_have_url(re.compile(r"&page=2$"))
        expect(first_cells).to_have_text(list(kept["system_id"][50:100]))
        page.go_back()
        expect(first_cells).to_have_text(list(kept["system_id"][:50]))

    # the column profile of the filtered view
    explorer.get_by_role("link", name="Profile of PCODE").click()
    expect(explorer.locator(".profile-distinct")).to_have_text(
        f"{kept['PCODE'].replace('', None).nunique():,}"
    )
    page.screenshot(path=f"/tmp/explorer_result_base_htmx{htmx_version}.png", full_page=False)
