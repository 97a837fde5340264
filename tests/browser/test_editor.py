"""The YAML editor in a real browser: CodeMirror over the textarea, the live validation's issues marked on
their lines, and links to a line (from the configuration page, and inside the editor) opening it there.

Run at a desktop width and a phone width, with htmx 2 and 4; the screenshots are kept in /tmp for a look.
"""

import re

import pytest

from configurations.versioning import save_edited_version

pytestmark = pytest.mark.browser

# The demo's site → project foreign key; pointed at an entity that does not exist, it is an error issue on
# the line of site's `foreign_keys:` (the `entity:` is on the next line).
GOOD, BAD = "entity: project", "entity: nothing"


def cursor_line(page) -> int:
    """The editor's cursor line, 1-based (CodeMirror keeps its instance on its wrapper element)."""
    return page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getCursor().line") + 1


def line_in_window(page, line: int) -> bool:
    box = page.evaluate(
        f"document.querySelector('.CodeMirror').CodeMirror.charCoords({{line: {line - 1}, ch: 0}}, 'window')"
    )
    return 0 <= box["top"] and box["bottom"] <= page.viewport_size["height"]


@pytest.fixture
def broken_v2(transactional_db, demo_version, alice):
    """v2 of the demo with one error issue, on the line of its unknown entity; returns that line."""
    assert demo_version.yaml_text.count(GOOD) == 1
    version = save_edited_version(
        demo_version.configuration, demo_version.yaml_text.replace(GOOD, BAD), alice, "unknown entity"
    )
    [issue] = [i for i in version.validation["issues"] if i["severity"] == "error"]
    line = version.yaml_text.splitlines().index(f"      - {BAD}")  # the line before it, 1-based
    assert issue["location"] == f"demo.yml:{line}"
    return line


@pytest.mark.parametrize("width", [1366, 390])
def test_a_validation_issue_s_link_opens_the_editor_at_its_line(
    log_in, live_server, page, broken_v2, htmx_version, width
):
    from playwright.sync_api import expect

    line = broken_v2
    violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/configurations/demo/")
    log_in(page)

    # The configuration page: the issue's location is a link to the editor at its line.
    link = page.locator("a.issue-location", has_text=f"demo.yml:{line}")
    expect(link).to_have_attribute("href", f"/configurations/demo/edit?line={line}")
    link.click()

    expect(page).to_have_url(re.compile(rf"/configurations/demo/edit\?line={line}$"))
    editor = page.locator(".CodeMirror")
    expect(editor).to_be_visible()
    expect(page.locator("textarea.yaml-editor")).to_be_hidden()  # still in the form, under CodeMirror
    assert cursor_line(page) == line
    assert line_in_window(page, line)
    # The issue is marked on its line: a gutter marker and the line's background.
    expect(editor.locator(".CodeMirror-lint-marker-error")).to_have_count(1)
    marked = editor.locator(".CodeMirror-lint-line-error")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("foreign_keys:")
    expect(editor.locator(".CodeMirror-linenumber", has_text=re.compile(rf"^{line}$"))).to_be_visible()
    expect(editor.locator(".cm-atom", has_text="entity").first).to_be_visible()  # YAML highlighting
    page.screenshot(path=f"/tmp/editor_line_{width}_htmx{htmx_version}.png", full_page=False)

    # Inside the editor, the live panel's link moves the cursor; the page is not reloaded (the draft stays).
    page.evaluate("window.notReloaded = true")
    page.evaluate("document.querySelector('.CodeMirror').CodeMirror.setCursor({line: 0, ch: 0})")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator("#validation-live a.issue-location", has_text=f"demo.yml:{line}").click()
    assert cursor_line(page) == line
    assert line_in_window(page, line)
    assert page.evaluate("window.notReloaded") is True

    # Fixing the line: the live validation answers, and the mark goes with the issue.
    with page.expect_response(re.compile(r"/configurations/demo/validate$")) as validated:
        page.keyboard.press("ArrowDown")
        page.keyboard.press("End")
        for _ in "nothing":
            page.keyboard.press("Backspace")
        page.keyboard.type("project")
    assert validated.value.status == 200
    expect(page.locator("#validation-live")).to_contain_text("No issues found.")
    expect(editor.locator(".CodeMirror-lint-marker")).to_have_count(0)
    assert page.locator("textarea.yaml-editor").input_value().count(GOOD) == 1  # the form field follows

    # Breaking it again: the issue comes back on its line.
    with page.expect_response(re.compile(r"/configurations/demo/validate$")):
        for _ in "project":
            page.keyboard.press("Backspace")
        page.keyboard.type("nowhere")
    expect(editor.locator(".CodeMirror-lint-marker-error")).to_have_count(1)
    expect(editor.locator(".CodeMirror-lint-line-error")).to_contain_text("foreign_keys:")
    expect(page.locator("#validation-live")).to_contain_text("nowhere")
    page.screenshot(path=f"/tmp/editor_marked_{width}_htmx{htmx_version}.png", full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert violations == []


@pytest.mark.parametrize("width", [1366, 390])
def test_an_older_version_is_restored_and_a_broken_one_saved_after_asking(
    log_in, live_server, page, broken_v2, width
):
    from playwright.sync_api import expect

    violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/configurations/demo/versions/1/")
    log_in(page)
    expect(page.get_by_role("link", name="Download bundle (ZIP)")).to_be_visible()
    page.goto(live_server.url + f"/configurations/demo/versions/2/#L{broken_v2}")  # its issue's line
    expect(page.locator(f"#L{broken_v2}.line-error")).to_be_in_viewport()
    page.screenshot(path=f"/tmp/editor_version_{width}.png", full_page=False)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=f"/tmp/editor_version_top_{width}.png", full_page=False)

    page.goto(live_server.url + "/configurations/demo/versions/1/")
    page.get_by_role("link", name="Restore…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Restore v1 of demo?")
    page.screenshot(path=f"/tmp/editor_restore_{width}.png", full_page=True)
    page.get_by_role("button", name="Restore v1 as v3").click()
    expect(page).to_have_url(re.compile(r"/configurations/demo/$"))
    expect(page.locator(".messages")).to_contain_text("Saved demo v3, restored from v1.")

    # Saving a YAML that does not load asks first, and keeps the draft meanwhile.
    page.goto(live_server.url + "/configurations/demo/edit")
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nbroken: [")
    page.get_by_label("Message").fill("half done")
    page.get_by_role("button", name="Save as v4").click()
    expect(page.locator(".confirm-unloadable")).to_contain_text("This YAML does not load")
    assert page.locator("textarea.yaml-editor").input_value().endswith("\nbroken: [")
    expect(page.locator(".CodeMirror-lint-line-error")).to_contain_text("broken: [")  # opened at its line
    page.screenshot(path=f"/tmp/editor_confirm_{width}.png", full_page=True)
    page.get_by_role("button", name="Save anyway as v4").click()
    expect(page.locator(".messages")).to_contain_text("Saved demo v4, but it does not load")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert violations == []
