"""The entity graphs in a real browser: Arbodat's 55 entities on a version's graph page and on a run's
page, at a desktop width and a phone width. Nodes are links that work, the run's timeline shows, and
Chromium reports no Content-Security-Policy violation. Screenshots are kept in /tmp for a look.
"""

import re
import shutil
from pathlib import Path

import pytest

from configurations import graph

pytestmark = pytest.mark.browser

ARBODAT = Path(__file__).resolve().parents[3] / "shared" / "data" / "arbodat" / "reduced-arbodat.yml"


@pytest.fixture
def arbodat(transactional_db, django_user_model, tmp_path):
    """Arbodat imported as alice's (a copy: an import never writes beside the shared original)."""
    if not ARBODAT.exists():
        pytest.skip(f"no Arbodat data at {ARBODAT}")
    if shutil.which(graph.DOT_COMMAND) is None:
        pytest.skip("Graphviz is not installed (`make setup` installs it)")
    from configurations.importing import import_configuration

    alice = django_user_model.objects.create_user("alice", "alice@example.org", "password")
    folder = shutil.copytree(ARBODAT.parent, tmp_path / "arbodat")
    version, _ = import_configuration(folder / ARBODAT.name, name="arbodat", user=alice)
    return version


@pytest.fixture
def violations(page):
    found = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def node(drawing, name):
    """The node of entity ``name``: its <title> says the name exactly."""
    return drawing.locator(f"a.graph-node:has(> title:text-is('{name}'))")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_versions_graph_is_drawn_and_its_nodes_link(log_in, live_server, page, arbodat, violations, width):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/configurations/arbodat/versions/1/graph")
    log_in(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Entity graph of arbodat v1")
    drawing = page.locator("svg.entity-graph")
    expect(drawing).to_be_visible()
    expect(drawing.locator(".graph-node")).to_have_count(55)
    # drawn at its own size (text at 12 px), in a box that scrolls rather than squeezing it
    box = page.locator(".graph-scroll").bounding_box()
    assert box["width"] <= width
    assert drawing.bounding_box()["width"] > box["width"]
    font_size = drawing.locator("text").first.evaluate("t => getComputedStyle(t).fontSize")
    assert font_size == "12px"
    # painted by class: CSS wins over dot's attributes, so loaders are not white
    fill = node(drawing, "survey").locator("path").first.evaluate("p => getComputedStyle(p).fill")
    assert fill not in ("rgb(255, 255, 255)", "none")
    page.screenshot(path=f"/tmp/graph-version-{width}.png", full_page=True)

    node(drawing, "site").click()

    expect(page).to_have_url(re.compile(r"/configurations/arbodat/\?version=1#entity-site$"))
    expect(page.locator("#entity-site")).to_be_in_viewport()
    assert violations == []


@pytest.mark.parametrize("width", [1366, 390])
def test_a_runs_graph_shows_statuses_and_a_timeline(log_in, live_server, page, arbodat, violations, width):
    from playwright.sync_api import expect

    import shapeshift
    from testruns.models import Status
    from tests.factories import make_run

    order = shapeshift.plan(arbodat.project).order
    statuses = {"site": "failed", "sample": "skipped", "taxa": "running"}
    results = [
        {
            "entity": name,
            "status": statuses.get(name, "success" if i < 30 else "pending"),
            "duration_ms": 40 + 10 * i if i < 30 and name not in statuses else None,
        }
        for i, name in enumerate(order)
    ]
    run = make_run(arbodat, Status.RUNNING, results, entities_total=len(order), entities_completed=30)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + run.get_absolute_url())
    log_in(page)

    section = page.locator("#run-graph")
    expect(section.locator(".graph-node")).to_have_count(55)
    expect(section.locator(".graph-node.status-failed")).to_have_count(1)
    succeeded = sum(1 for result in results if result["status"] == "success")
    expect(section.locator(".graph-node.status-success")).to_have_count(succeeded)
    expect(section.locator(".timeline-bar")).to_have_count(succeeded)
    section.locator(".graph-scroll").scroll_into_view_if_needed()
    page.screenshot(path=f"/tmp/graph-run-{width}.png")
    section.locator(".timeline-row").nth(20).scroll_into_view_if_needed()
    page.screenshot(path=f"/tmp/graph-run-timeline-{width}.png")
    # the section polls itself while the run is active, and the answer is the same section
    with page.expect_response(re.compile(r"/graph$")) as polled:
        pass
    assert polled.value.status == 200
    expect(section.locator(".graph-node")).to_have_count(55)

    node(section, "site").click()

    expect(page).to_have_url(re.compile(rf"/runs/{run.pk}/entities/site/$"))
    assert violations == []
