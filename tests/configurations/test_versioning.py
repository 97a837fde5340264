"""configurations.versioning: validating a draft with the current bundle and saving it as a new version."""

import pytest

from configurations.importing import import_configuration
from configurations.models import StoredFile, VersionFile
from configurations.versioning import EditRefused, save_edited_version, validate_draft

pytestmark = pytest.mark.django_db


def edited(version, old='project_type: "excavation"', new='project_type: "survey"'):
    assert old in version.yaml_text
    return version.yaml_text.replace(old, new)


def test_it_saves_the_next_version_with_the_same_data_files(demo_version, alice):
    configuration = demo_version.configuration
    blobs = StoredFile.objects.count()

    v2 = save_edited_version(configuration, edited(demo_version), alice, "projects are surveys")

    configuration.refresh_from_db()
    assert (v2.number, configuration.current_version_id) == (2, v2.pk)
    assert (v2.message, v2.created_by, v2.main_file) == ("projects are surveys", alice, "demo.yml")
    assert 'project_type: "survey"' in v2.yaml_text
    old = {f.path: f.stored_id for f in demo_version.files.all()}
    new = {f.path: f.stored_id for f in v2.files.all()}
    assert old.keys() == new.keys() == {"demo.yml", "survey.csv"}
    assert new["survey.csv"] == old["survey.csv"]  # the same StoredFile row
    assert new["demo.yml"] != old["demo.yml"]
    assert StoredFile.objects.count() == blobs + 1  # only the new YAML was stored
    assert v2.sha256 != demo_version.sha256
    assert v2.is_valid and v2.validation["entities"] == demo_version.validation["entities"]


def test_it_refuses_an_unchanged_yaml(demo_version, alice):
    with pytest.raises(EditRefused, match="Nothing changed: the YAML is the same as v1"):
        save_edited_version(demo_version.configuration, demo_version.yaml_text, alice, "no-op")
    # a browser's CRLF line endings are not a change either
    with pytest.raises(EditRefused, match="Nothing changed"):
        crlf = demo_version.yaml_text.replace("\n", "\r\n")
        save_edited_version(demo_version.configuration, crlf, alice, "")
    assert demo_version.configuration.versions.count() == 1


def test_it_stores_crlf_text_with_lf_line_endings(demo_version, alice):
    crlf = edited(demo_version).replace("\n", "\r\n")
    v2 = save_edited_version(demo_version.configuration, crlf, alice, "m")
    assert "\r" not in v2.yaml_text


def test_it_saves_a_yaml_that_does_not_load_with_its_error(demo_version, alice):
    v2 = save_edited_version(demo_version.configuration, "entities:\n  a: [\n", alice, "broken")

    assert v2.number == 2 and not v2.is_valid
    error = v2.validation["error"]
    assert error["file"] == "demo.yml" and error["line"] == 3
    assert "invalid YAML" in error["message"]
    assert "drafts" not in error["message"]  # never the temporary folder
    assert {f.path for f in v2.files.all()} == {"demo.yml", "survey.csv"}


def test_it_refuses_an_edit_of_a_version_that_is_no_longer_current(demo_version, alice, bob):
    configuration = demo_version.configuration
    save_edited_version(configuration, edited(demo_version), bob, "bob's")
    configuration.refresh_from_db()

    with pytest.raises(EditRefused, match="v2 was saved while you edited v1"):
        save_edited_version(configuration, edited(demo_version, new="project_type: x"), alice, "", base=1)
    assert configuration.versions.count() == 2


def test_it_lets_the_new_yaml_use_a_file_the_bundle_already_has(write_config, alice):
    path = write_config(
        "entities:\n  a:\n    type: fixed\n    surrogate_id: a_id\n    columns: [x]\n    values: [[1]]\n"
        "  b:\n    type: csv\n    options: {filename: b.csv}\n    columns: [y]\n",
        name="two.yml",
        b__csv="y\n1\n2\n",
    )
    v1, _ = import_configuration(path, name="two", user=alice)
    # v2 no longer reads b.csv; v3 reads it again: it is still in the bundle
    v2 = save_edited_version(v1.configuration, v1.yaml_text.split("  b:")[0], alice, "drop b")
    assert {f.path for f in v2.files.all()} == {"two.yml", "b.csv"}
    v3 = save_edited_version(v1.configuration, v1.yaml_text, alice, "b is back")
    assert v3.is_valid and "b" in v3.validation["entities"]
    assert (
        VersionFile.objects.get(version=v3, path="b.csv").stored_id
        == VersionFile.objects.get(version=v1, path="b.csv").stored_id
    )


def test_it_validates_a_draft_with_the_bundled_files(demo_version):
    assert validate_draft(demo_version, demo_version.yaml_text)["issues"] == demo_version.validation["issues"]

    missing = validate_draft(demo_version, edited(demo_version, "filename: survey.csv", "filename: nope.csv"))
    assert [(i["code"], i["entity"], i["message"]) for i in missing["issues"]] == [
        ("file_missing", "survey", "file not found: nope.csv")
    ]

    unknown = validate_draft(demo_version, edited(demo_version, "entity: project", "entity: nothing"))
    assert [(i["severity"], i["code"], i["location"]) for i in unknown["issues"]] == [
        ("error", "fk_unknown_entity", "demo.yml:83")
    ]


def test_it_confines_a_draft_to_its_bundle(demo_version, settings):
    secret = settings.VAR_DIR.parent / "secret.csv"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("x\n1\n")
    record = validate_draft(demo_version, edited(demo_version, "filename: survey.csv", f"filename: {secret}"))
    issues = [(i["code"], i["message"]) for i in record["issues"]]
    assert issues == [("file_missing", f"file not found: {secret}")]


def test_it_refuses_a_draft_that_is_too_large(demo_version, monkeypatch):
    monkeypatch.setattr("configurations.versioning.MAX_YAML_CHARS", 100)
    with pytest.raises(EditRefused, match="too large"):
        validate_draft(demo_version, "x" * 101)
