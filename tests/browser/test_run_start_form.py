"""The test-run form of a configuration with 58 entities, in a real browser at a laptop's and a phone's width:
the search box, select all / none on the entities in view, "runnable only", and the Start button that stays
in view. Screenshots go to ``screenshot_dir`` (tests/browser/conftest.py).
"""

import pytest

pytestmark = pytest.mark.browser

WIDTHS = (1366, 390)


def many_entities_yaml(count: int = 56) -> str:
    """``count`` fixed entities (site_01, taxon_02, …), a survey whose file is missing, one needing it."""
    lines = ["entities:"]
    for n in range(1, count + 1):
        name = f"{'site' if n % 2 else 'taxon'}_{n:02d}"
        lines += [
            f"  {name}:",
            "    type: fixed",
            f"    surrogate_id: {name}_id",
            "    columns: [code]",
            "    values: [[a], [b]]",
        ]
    lines += ["  survey:", "    type: csv", "    options: {filename: gone.csv}", "    columns: [code]"]
    lines += ["  sample:", "    source: survey", "    columns: [code]"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def many(write_config, alice):
    from configurations.importing import import_configuration

    version, _ = import_configuration(write_config(many_entities_yaml(), "many.yml"), user=alice)
    assert len(version.validation["entities"]) == 58
    return version


@pytest.mark.parametrize("width", WIDTHS)
def test_the_entity_tools_and_the_start_button_in_view(
    log_in, live_server, page, many, screenshot_dir, width
):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/accounts/login/")
    log_in(page)
    page.goto(live_server.url + "/configurations/many/test-run")
    start = page.get_by_role("button", name="Start test run")
    expect(start).to_be_in_viewport()  # at the top of a form 58 entities long, sticky at the window's foot
    page.screenshot(path=str(screenshot_dir / f"{width}-test-run-form-many.png"), full_page=False)

    boxes = page.locator(".entity-choice")
    expect(page.locator(".entity-count")).to_have_text("58 entities")
    page.get_by_placeholder("Filter entities by name").fill("site_0")
    expect(boxes.filter(visible=True)).to_have_count(5)  # site_01 … site_09
    expect(page.locator(".entity-count")).to_have_text("5 of 58 shown")
    page.get_by_role("button", name="Select all").click()
    expect(page.locator(".entity-selected")).to_have_text("5 of 58 entities ticked")
    enter = (
        "el => { const e = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true});"
        " el.dispatchEvent(e); return e.defaultPrevented; }"
    )
    assert page.locator(".entity-search").evaluate(enter)  # Enter in the box filters; it does not start a run

    page.get_by_placeholder("Filter entities by name").fill("")
    expect(boxes.filter(visible=True)).to_have_count(58)
    page.get_by_label("Runnable only").check()
    expect(boxes.filter(visible=True)).to_have_count(56)  # survey (file missing) and sample (needs it) hidden
    page.get_by_role("button", name="Select none").click()
    expect(page.locator(".entity-selected")).to_have_text("No entity ticked: every entity runs")

    page.get_by_placeholder("Filter entities by name").fill("taxon_5")
    page.get_by_role("button", name="Select all").click()
    expect(page.locator(".entity-selected")).to_have_text("4 of 58 entities ticked")
    page.mouse.wheel(0, 3000)
    expect(start).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / f"{width}-test-run-form-filtered.png"), full_page=False)
    start.click()
    page.wait_for_url("**/runs/**")
    from testruns.models import TestRun

    assert TestRun.objects.get().options["entities"] == ["taxon_50", "taxon_52", "taxon_54", "taxon_56"]
