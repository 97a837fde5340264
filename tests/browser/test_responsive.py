"""Every page a user reaches, with real data, on a laptop (1,366 px), a small window (768 px) and a phone
(390 px).

No page may scroll sideways at any of these widths: the menu wraps, wide tables scroll inside their own box
and forms fit. Each page is saved as a full-page screenshot at each width, for a person to look at: whether
it fits is asserted here, whether it reads well is not. The folder is named at the end of the test run
(``screenshot_dir`` in conftest.py).
"""

from datetime import timedelta

import pytest

pytestmark = [pytest.mark.browser]

WIDTHS = (1366, 768, 390)  # the last is a phone's
PHONE = WIDTHS[-1]

# The outermost elements that stick out past the window's right edge, outside any box that scrolls them:
# named in a failure, so that it says what to fix.
OVERFLOWING = """() => {
  const width = window.innerWidth;
  const sticksOut = el => el.getBoundingClientRect().right > width + 0.5;
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map(c => "." + c).join("");
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!sticksOut(el) || (el.parentElement !== document.body && sticksOut(el.parentElement))) continue;
    let scrolled = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") { scrolled = true; break; }
    }
    if (!scrolled) found.push(`${name(el)} (to ${Math.round(el.getBoundingClientRect().right)} px)`);
  }
  return found;
}"""


@pytest.fixture
def runs(demo_version, run_demo, alice, write_config, django_capture_on_commit_callbacks):
    """The runs whose pages are visited, by name.

    Real runs: two of the demo (10 and 50 rows per entity, so that the compare page has deltas and a row
    diff; the first is the baseline, so the second's page shows its diff with it) and one of a configuration
    with an entity that fails. Made directly: a run of the demo still running (what the run page shows
    mid-run) and one whose data checks failed, with their failing rows.
    """
    from django.utils import timezone

    from testruns.models import Status
    from tests.factories import make_checked_run, make_run, run_with_a_failing_entity

    small = run_demo(demo_version, max_rows_per_entity=10)
    small.make_baseline(alice)
    finished = run_demo(demo_version, max_rows_per_entity=50)
    failed = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)
    assert failed.status == Status.FAILED, failed.error_message
    names = list(finished.entity_results.order_by("position").values_list("entity", flat=True))
    done, current, waiting = names[:4], names[4], names[5:]
    now = timezone.now()
    running = make_run(
        demo_version,
        Status.RUNNING,
        entities=[
            *(
                {"entity": name, "status": "success", "rows_in": 50, "rows_out": 40, "duration_ms": 120}
                for name in done
            ),
            {"entity": current, "status": "running"},
            *waiting,  # pending
        ],
        requested_by=alice,
        options={"max_rows_per_entity": 50},
        started_at=now - timedelta(seconds=40),
        heartbeat_at=now,
        current_entity=current,
        entities_total=len(names),
        entities_completed=len(done),
        entities_succeeded=len(done),
    )
    checked = make_checked_run(demo_version, alice)
    return {"small": small, "finished": finished, "failed": failed, "running": running, "checked": checked}


def test_it_fits_every_page_into_the_window(
    log_in, live_server, page, demo_version, runs, alice, screenshot_dir
):
    from playwright.sync_api import expect

    from configurations.versioning import save_edited_version

    alice.is_staff = alice.is_superuser = True
    alice.save()
    small, finished = runs["small"], runs["finished"]
    edited = demo_version.yaml_text.replace("entities:", "# one more comment\nentities:", 1)
    save_edited_version(demo_version.configuration, edited, alice, "A comment, for the diff")
    entity = "sample"  # the widest table of the demo
    assert finished.entity_results.get(entity=entity).rows_out > 0

    pages = {
        "dashboard": "/",
        "configurations": "/configurations/",
        "configuration": "/configurations/demo/",
        "import": "/configurations/import/",
        "editor": "/configurations/demo/edit",
        "version": "/configurations/demo/versions/1/",
        "version-diff": "/configurations/demo/versions/1..2",
        "version-restore": "/configurations/demo/versions/1/restore",
        "test-run-form": "/configurations/demo/test-run",
        "run-running": runs["running"].get_absolute_url(),
        "run-finished": finished.get_absolute_url(),
        "run-failed": runs["failed"].get_absolute_url(),
        "run-checked": runs["checked"].get_absolute_url(),
        "entity": f"{finished.get_absolute_url()}entities/{entity}/",
        "entity-failed": f"{runs['failed'].get_absolute_url()}entities/site/",
        "entity-checked": f"{runs['checked'].get_absolute_url()}entities/site/",
        "runs": "/runs/",
        "compare": f"/runs/compare?base={small.pk}&head={finished.pk}",
        "not-found": "/no-such-page/",
        "admin": "/admin/",
    }
    too_wide = []

    def visit(name, path, width):
        response = page.goto(live_server.url + path)
        assert response.status == (404 if name == "not-found" else 200), path
        found = _save(page, screenshot_dir / f"{width}-{name}.png")
        if found:
            too_wide.append(f"{path} at {width} px: {found}")

    # The login page, as anyone first sees it; then logging in through it.
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        visit("login", "/accounts/login/", width)
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            visit(name, path, width)

    assert not too_wide, "\n".join(
        ["Pages wider than the window:", *too_wide, f"Screenshots: {screenshot_dir}"]
    )

    # A wide table that no template boxed (a new partial, say) still scrolls by itself on a phone.
    page.goto(live_server.url + "/")
    cells = "".join(f"<td>column number {i}</td>" for i in range(30))
    page.evaluate(
        "html => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
        f'<table class="table unboxed"><tr>{cells}</tr></table>',
    )
    assert page.evaluate("document.querySelector('table.unboxed').scrollWidth") > PHONE
    assert _save(page, screenshot_dir / f"{PHONE}-unboxed-table.png") is None


def _save(page, path):
    """Save a full-page screenshot; return what makes the page scroll sideways (None if nothing does)."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)
    scroll_width, width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll_width <= width:
        return None
    return {"scrollWidth": scroll_width, "elements": page.evaluate(OVERFLOWING)}
