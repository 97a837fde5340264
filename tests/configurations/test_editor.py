"""The code editor of /configurations/<name>/edit: CodeMirror served from static/ over the textarea, ?line=N,
the live panel's marks for the editor, and saving a YAML that does not load only once confirmed."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from configurations.models import Configuration
from configurations.versioning import DraftDoesNotLoad, save_edited_version

pytestmark = pytest.mark.django_db

BROKEN = "entities:\n  a: [\n"  # the demo's own message for it: demo.yml:3: invalid YAML


def edit_url(name="demo", query=""):
    return reverse("configurations:edit", args=[name]) + query


def validate_url(name="demo"):
    return reverse("configurations:validate", args=[name])


def test_it_loads_codemirror_and_the_editor_script_from_static(alice_client, demo_version):
    content = alice_client.get(edit_url()).content.decode()

    scripts = re.findall(r'<script src="(/static/(?:vendor|js)/[^"]+)" defer></script>', content)
    scripts = [s for s in scripts if s != "/static/js/live.js"]  # every page has it (base.html)
    assert scripts == [
        "/static/vendor/codemirror/lib/codemirror.js",
        "/static/vendor/codemirror/mode/yaml/yaml.js",
        "/static/vendor/codemirror/addon/lint/lint.js",
        "/static/js/editor.js",
    ]
    assert '<link rel="stylesheet" href="/static/vendor/codemirror/lib/codemirror.css">' in content
    assert '<link rel="stylesheet" href="/static/css/editor.css">' in content
    for url in scripts + ["/static/vendor/codemirror/lib/codemirror.css", "/static/css/editor.css"]:
        assert finders.find(url.removeprefix("/static/")), url
    assert finders.find("vendor/codemirror/LICENSE")
    # The textarea stays the form field, with the live validation on it (the page works without JS).
    assert re.search(r'<textarea name="yaml_text" id="id_yaml_text" class="yaml-editor"', content)


def test_it_opens_at_the_line_asked_for(alice_client, demo_version):
    lines = demo_version.yaml_text.splitlines()
    content = alice_client.get(edit_url(query="?line=84")).content.decode()

    assert 'rows="30" data-line="84"' in content
    assert f"Line 84: <code>{lines[83].strip()}</code>" in content  # what a page without JS shows


@pytest.mark.parametrize("line", ["0", "-3", "abc", "99999", "9" * 5000, ""])
def test_it_ignores_a_line_it_does_not_have(alice_client, demo_version, line):
    response = alice_client.get(edit_url(query=f"?line={line}"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "data-line=" not in content.split('id="validation-live"')[0]
    assert "editor-line-note" not in content


def test_it_marks_a_draft_s_issues_for_the_editor_and_links_their_lines(alice_client, demo_version):
    draft = demo_version.yaml_text.replace("entity: project", "entity: nothing")
    content = alice_client.post(validate_url(), {"yaml_text": draft}).content.decode()

    # The demo's fk_unknown_entity issue is at demo.yml:83 (test_edit_page.py).
    assert (
        '<li class="issue issue-error" data-line="83" data-severity="error" '
        'data-message="site: foreign key #1 references non-existent entity &#x27;nothing&#x27;">'
    ) in content
    assert f'<a class="mono small issue-location" href="{edit_url(query="?line=83")}"' in content


def test_it_marks_the_line_where_a_draft_does_not_load(alice_client, demo_version):
    content = alice_client.post(validate_url(), {"yaml_text": BROKEN}).content.decode()

    assert '<div class="error-box" data-line="3" data-severity="error"' in content
    assert (
        f'<a class="issue-location" href="{edit_url(query="?line=3")}">file demo.yml, line 3</a>' in content
    )


def test_it_asks_before_saving_a_yaml_that_does_not_load(alice_client, demo_version):
    response = alice_client.post(edit_url(), {"yaml_text": BROKEN, "message": "broken", "base": 1})

    assert response.status_code == 200
    assert demo_version.configuration.versions.count() == 1
    content = response.content.decode()
    assert "<strong>This YAML does not load</strong>: demo.yml:3: invalid YAML" in content
    assert (
        '<button type="submit" name="save_anyway" value="1" class="button danger">Save anyway as v2'
        in content
    )
    assert "entities:\n  a: [\n</textarea>" in content  # the draft is kept
    assert 'value="broken"' in content
    # The panel and the editor's marks show the draft's error, not the current version's clean result.
    assert '<div class="error-box" data-line="3"' in content and "No issues found." not in content
    # The editor opens where it fails: YAML puts an error at the end on line 3 of this 2-line text.
    assert 'rows="30" data-line="2"' in content and "Line 2: <code>a: [</code>" in content


def test_it_saves_a_yaml_that_does_not_load_once_confirmed(alice_client, demo_version):
    data = {"yaml_text": BROKEN, "message": "broken", "base": 1, "save_anyway": "1"}
    response = alice_client.post(edit_url(), data)

    configuration = Configuration.objects.get(name="demo")
    assert response.status_code == 302 and response.url == configuration.get_absolute_url()
    v2 = configuration.current_version
    assert (v2.number, v2.yaml_text, v2.message) == (2, BROKEN, "broken")
    assert v2.validation["error"]["line"] == 3


def test_it_saves_a_yaml_that_loads_without_asking(alice_client, demo_version):
    draft = demo_version.yaml_text.replace("entity: project", "entity: nothing")  # an issue, but it loads
    response = alice_client.post(edit_url(), {"yaml_text": draft, "message": "m", "base": 1})

    assert response.status_code == 302
    assert Configuration.objects.get(name="demo").current_version.number == 2


def test_save_edited_version_refuses_a_yaml_that_does_not_load_unless_allowed(demo_version, alice):
    configuration = demo_version.configuration
    with pytest.raises(DraftDoesNotLoad) as refused:
        save_edited_version(configuration, BROKEN, alice, "broken", allow_broken=False)

    assert refused.value.validation["error"]["line"] == 3
    assert str(refused.value).startswith("The YAML does not load: demo.yml:3: invalid YAML")
    assert configuration.versions.count() == 1
