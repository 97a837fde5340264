"""/configurations/<name>/edit (the YAML editor) and /configurations/<name>/validate (its live validation)."""

import pytest
from django.urls import reverse

from configurations.models import Configuration, StoredFile

pytestmark = pytest.mark.django_db


def edit_url(name="demo"):
    return reverse("configurations:edit", args=[name])


def validate_url(name="demo"):
    return reverse("configurations:validate", args=[name])


def edited(version):
    return version.yaml_text.replace('project_type: "excavation"', 'project_type: "survey"')


def test_it_shows_the_current_yaml_in_an_editor(alice_client, demo_version):
    response = alice_client.get(edit_url())

    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="yaml-editor"' in content
    assert "project_type: &quot;excavation&quot;" in content
    assert f'hx-post="{validate_url()}"' in content
    assert 'hx-trigger="input changed delay:500ms"' in content
    assert 'id="validation-live"' in content and "No issues found." in content
    assert 'name="base" value="1"' in content
    assert "Save as v2" in content and "survey.csv" in content


def test_it_returns_404_for_a_configuration_without_a_version(alice_client, alice):
    Configuration.objects.create(name="empty", owner=alice)
    assert alice_client.get(edit_url("empty")).status_code == 404


def test_it_saves_a_new_version(alice_client, alice, demo_version):
    blobs = StoredFile.objects.count()
    response = alice_client.post(
        edit_url(), {"yaml_text": edited(demo_version).replace("\n", "\r\n"), "message": "surveys", "base": 1}
    )

    configuration = Configuration.objects.get(name="demo")
    assert response.status_code == 302 and response.url == configuration.get_absolute_url()
    v2 = configuration.current_version
    assert (v2.number, v2.message, v2.created_by) == (2, "surveys", alice)
    assert {f.path: f.stored_id for f in v2.files.all()}["survey.csv"] == {
        f.path: f.stored_id for f in demo_version.files.all()
    }["survey.csv"]
    assert StoredFile.objects.count() == blobs + 1
    page = alice_client.get(response.url).content.decode()
    assert "Saved demo v2." in page


def test_it_refuses_an_unchanged_yaml(alice_client, demo_version):
    response = alice_client.post(edit_url(), {"yaml_text": demo_version.yaml_text, "message": "m", "base": 1})

    assert response.status_code == 200
    assert "Nothing changed: the YAML is the same as v1." in response.content.decode()
    assert demo_version.configuration.versions.count() == 1


def test_it_requires_a_message(alice_client, demo_version):
    response = alice_client.post(edit_url(), {"yaml_text": edited(demo_version), "base": 1})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert demo_version.configuration.versions.count() == 1


def test_it_refuses_to_overwrite_a_version_saved_meanwhile(alice_client, demo_version):
    alice_client.post(edit_url(), {"yaml_text": edited(demo_version), "message": "first", "base": 1})
    response = alice_client.post(edit_url(), {"yaml_text": "entities: {}\n", "message": "second", "base": 1})

    assert "v2 was saved while you edited v1" in response.content.decode()
    assert demo_version.configuration.versions.count() == 2


def test_it_saves_a_yaml_that_does_not_load_when_asked_and_says_so(alice_client, demo_version):
    broken = {"yaml_text": "entities:\n  a: [\n", "message": "broken", "base": 1, "save_anyway": "1"}
    response = alice_client.post(edit_url(), broken, follow=True)

    content = response.content.decode()
    assert "Saved demo v2, but it does not load: demo.yml:3: invalid YAML" in content
    assert "The configuration does not load." in content  # the detail page's error box
    assert "file demo.yml, line 3" in content


def test_it_validates_a_good_draft(alice_client, demo_version, django_assert_max_num_queries):
    demo_version.materialize()
    draft, headers = {"yaml_text": edited(demo_version)}, {"HX-Request": "true"}
    # session, user, configuration with its current version, the bundle's files (sizes checked on use)
    with django_assert_max_num_queries(4):
        response = alice_client.post(validate_url(), draft, headers=headers)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.startswith('<div id="validation-live"')
    assert "No issues found." in content
    assert "<html" not in content


def test_it_shows_where_a_draft_does_not_load(alice_client, demo_version):
    broken = "entities:\n  a:\n    type: fixed\n   bad: [\n"
    response = alice_client.post(validate_url(), {"yaml_text": broken})

    content = response.content.decode()
    assert "The configuration does not load." in content
    assert "file demo.yml, line 4" in content
    assert "drafts" not in content


def test_it_lists_a_draft_s_issues(alice_client, demo_version):
    draft = demo_version.yaml_text.replace("entity: project", "entity: nothing")
    response = alice_client.post(validate_url(), {"yaml_text": draft})

    content = response.content.decode()
    assert "1 error" in content
    assert "<strong>site</strong>:" in content
    assert "foreign key #1 references non-existent entity &#x27;nothing&#x27;" in content
    assert "fk_unknown_entity" in content and "demo.yml:83" in content


def test_it_shows_a_missing_file_s_suggestion(alice_client, demo_version):
    draft = demo_version.yaml_text.replace("filename: survey.csv", "filename: other.csv")
    content = alice_client.post(validate_url(), {"yaml_text": draft}).content.decode()

    assert "file not found: other.csv" in content and "→ provide the file" in content


def test_it_refuses_a_draft_that_is_too_large(alice_client, demo_version, monkeypatch):
    monkeypatch.setattr("configurations.versioning.MAX_YAML_CHARS", 10)
    content = alice_client.post(validate_url(), {"yaml_text": "x" * 11}).content.decode()
    assert "The YAML is too large (11 characters; at most 10)." in content


def test_it_validates_only_on_post(alice_client, demo_version):
    assert alice_client.get(validate_url()).status_code == 405


def test_it_says_when_the_bundle_cannot_be_read(alice_client, demo_version):
    from django.core.files.storage import default_storage

    for stored in StoredFile.objects.all():
        default_storage.delete(stored.blob.name)
    draft = {"yaml_text": edited(demo_version), "message": "m", "base": 1}

    content = alice_client.post(validate_url(), draft).content.decode()
    assert "The files of demo v1 could not be read" in content
    content = alice_client.post(edit_url(), draft).content.decode()
    assert "The files of demo v1 could not be read" in content
    assert demo_version.configuration.versions.count() == 1


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)
FIVE_HUNDRED_LEVELS = "entities:\n  x:\n    columns: " + "[" * 500 + "]" * 500 + "\n"


@pytest.mark.parametrize(
    "draft, message, line",
    [
        (BILLION_LAUGHS, "YAML alias expansion exceeds 250,000 nodes", 6),
        (FIVE_HUNDRED_LEVELS, "nesting deeper than 64 levels", 3),
    ],
    ids=["billion-laughs", "500-levels"],
)
def test_it_shows_why_a_hostile_draft_does_not_load(alice_client, demo_version, draft, message, line):
    response = alice_client.post(validate_url(), {"yaml_text": draft})

    assert response.status_code == 200
    content = response.content.decode()
    assert "The configuration does not load." in content
    assert message in content and f"file demo.yml, line {line}" in content


def test_saving_a_yaml_that_names_a_file_the_bundle_lacks_warns_and_names_it(alice_client, demo_version):
    yaml_text = demo_version.yaml_text.replace("filename: survey.csv", "filename: survey-2025.csv")

    response = alice_client.post(
        edit_url(), {"yaml_text": yaml_text, "message": "new survey", "base": 1}, follow=True
    )

    v2 = Configuration.objects.get(name="demo").current_version
    line = next(n for n, text in enumerate(yaml_text.splitlines(), 1) if "survey-2025.csv" in text)
    assert v2.files_missing == [{"path": "survey-2025.csv", "kind": "data", "location": f"demo.yml:{line}"}]
    [message] = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert message == (
        "warning",
        f"Saved demo v2, but 1 file it names is missing: survey-2025.csv (demo.yml:{line}). "
        "Runs of the entities that read them will fail until a version has them.",
    )
