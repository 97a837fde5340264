"""Browser fixtures: Debian's Chromium driven by Playwright's sync API."""

import os
from datetime import datetime
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# Full-page screenshots for a person to review: one folder per test run, never committed (var/ is ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREENSHOT_DIR = pytest.StashKey[Path]()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is not installed; `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (`make test` installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


@pytest.fixture(params=[2, 4], ids=["htmx2", "htmx4"])
def htmx_version(request, settings):
    """Serve htmx 2 or htmx 4 (django-htmx ships both): the live pages must work with either."""
    settings.HTMX_VERSION = request.param
    return request.param


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig):
    """This test run's screenshot folder, ``var/screenshots/<timestamp>/``; named in the run's summary."""
    folder = SCREENSHOTS / datetime.now().strftime("%Y-%m-%d_%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[SCREENSHOT_DIR] = folder
    return folder


def pytest_terminal_summary(terminalreporter, config):
    # After the results, so it shows in `make test` output without -s.
    folder = config.stash.get(SCREENSHOT_DIR, None)
    if folder is not None:
        terminalreporter.write_sep("-", "screenshots")
        terminalreporter.write_line(f"page screenshots: {folder}")


@pytest.fixture
def log_in():
    """``log_in(page)``: fill in and send the login form the page shows, as alice (tests/conftest.py)."""

    def submit(page):
        page.get_by_label("User name").fill("alice")
        page.get_by_label("Password").fill("password")
        page.get_by_role("button", name="Log in").click()

    return submit
