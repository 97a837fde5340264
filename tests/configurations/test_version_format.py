"""The format a version is read in: detected at import from the main file's root (format-v2.md 1.1), or
forced by the importer, stored on the version and used by every later load (validate, run, compare, edit)."""

import importlib

import pytest
from django.apps import apps

from configurations.importing import ImportFailed, import_configuration
from configurations.loading import load_version
from configurations.models import ConfigurationVersion
from configurations.versioning import save_edited_version, validate_draft
from testruns.diffs import run_identities
from tests.factories import CONFORMANCE_V2, copy_case, make_version

pytestmark = pytest.mark.django_db

# An old-format file (no metadata, surrogate_id): format 2 ignores surrogate_id (format-v2.md 1.3, 5.2).
OLD_FORMAT = CONFORMANCE_V2 / "02_old_format_under_v2"
V2_PROJECT = CONFORMANCE_V2 / "01_identity_basic"


@pytest.fixture
def old_format(tmp_path):
    return copy_case(OLD_FORMAT, tmp_path) / "shapeshifter.yml"


def test_it_records_the_detected_format(old_format, tmp_path, alice):
    v1, _ = import_configuration(old_format, name="old", user=alice)
    v2, _ = import_configuration(copy_case(V2_PROJECT, tmp_path) / "shapeshifter.yml", name="new", user=alice)

    assert (v1.format_version, v1.format_forced, v1.forced_format) == (1, False, None)
    assert (v2.format_version, v2.format_forced, v2.forced_format) == (2, False, None)
    assert v1.project.format_version == 1 and v2.project.format_version == 2


def test_a_forced_format_is_stored_and_used_by_every_load(old_format, alice):
    version, _ = import_configuration(old_format, name="old", user=alice, format_version=2)

    stored = ConfigurationVersion.objects.get(pk=version.pk)  # nothing cached from the import
    assert (stored.format_version, stored.format_forced, stored.forced_format) == (2, True, 2)
    assert stored.validation["format_version"] == 2  # validated in the forced format too
    project = load_version(stored)
    assert project.format_version == 2
    assert project.entities["trench"].identity is None  # surrogate_id means nothing in format 2
    assert run_identities(stored)[0]["trench"].public_id is None  # the run diff reads it the same way


def test_the_detected_format_reads_the_old_file_as_written(old_format, alice):
    version, _ = import_configuration(old_format, name="old", user=alice)

    assert load_version(version).entities["trench"].identity == "trench_id"
    assert run_identities(version)[0]["trench"].public_id == "trench_id"


def test_forcing_another_format_on_the_same_files_makes_a_new_version(old_format, alice):
    detected, _ = import_configuration(old_format, name="old", user=alice)
    forced, created = import_configuration(old_format, name="old", user=alice, format_version=2)
    again, created_again = import_configuration(old_format, name="old", user=alice, format_version=2)

    assert created and forced.number == 2 and forced.sha256 == detected.sha256
    assert (again, created_again) == (forced, False)
    back, created_back = import_configuration(old_format, name="old", user=alice)
    assert created_back and (back.number, back.format_forced, back.format_version) == (3, False, 1)


def test_forcing_the_detected_format_still_counts_as_forced(old_format, alice):
    import_configuration(old_format, name="old", user=alice)
    forced, created = import_configuration(old_format, name="old", user=alice, format_version=1)

    assert created and (forced.format_version, forced.format_forced) == (1, True)


def test_it_rejects_an_unknown_format(old_format, alice):
    with pytest.raises(ImportFailed, match="unknown format version 3"):
        import_configuration(old_format, name="old", user=alice, format_version=3)
    assert not ConfigurationVersion.objects.exists()


def test_a_yaml_that_does_not_parse_has_no_format(write_config, alice):
    version, _ = import_configuration(write_config("entities:\n  a: [unclosed\n"), user=alice)

    assert version.validation["error"] and version.format_version is None
    assert version.format_display == "format unknown"


def test_a_project_that_does_not_load_keeps_the_format_of_its_root(write_config, alice):
    path = write_config("metadata:\n  type: shapeshifter-project\n  target_model: '@include: gone.yml'\n")

    version, _ = import_configuration(path, user=alice)

    assert "gone.yml" in version.validation["error"]["message"]
    assert version.format_version == 2  # a root metadata mapping (format-v2.md 1.1)


def test_an_edit_keeps_a_forced_format(old_format, alice):
    forced, _ = import_configuration(old_format, name="old", user=alice, format_version=2)
    text = forced.yaml_text + "\n# an edit\n"

    assert validate_draft(forced, text)["format_version"] == 2
    edited = save_edited_version(forced.configuration, text, alice, "an edit")

    assert (edited.format_version, edited.format_forced) == (2, True)
    assert load_version(edited).format_version == 2


def test_an_edit_of_a_detected_version_detects_again(old_format, alice):
    detected, _ = import_configuration(old_format, name="old", user=alice)
    text = "metadata: {type: shapeshifter-project}\n" + detected.yaml_text

    edited = save_edited_version(detected.configuration, text, alice, "now a project")

    assert (edited.format_version, edited.format_forced) == (2, False)


migration = importlib.import_module("configurations.migrations.0002_version_format_and_path_variables")


def test_the_migration_keeps_older_versions_in_the_format_they_were_run_in():
    """Before formats existed every version was read as format 1: one now detected as 2 stays 1, forced."""
    make_version("old", yaml_text="entities:\n  a: {columns: [x]}\n")
    make_version("project", yaml_text="metadata: {type: shapeshifter-project}\nentities: {}\n")
    make_version("included", yaml_text="metadata: '@include: meta.yml'\nentities: {}\n")
    make_version("broken", yaml_text="entities: [unclosed\n")

    migration.detect_formats(apps, None)

    found = {
        name: (version, forced)
        for name, version, forced in ConfigurationVersion.objects.values_list(
            "configuration__name", "format_version", "format_forced"
        )
    }
    assert found == {"old": (1, False), "project": (1, True), "included": (1, True), "broken": (None, False)}
