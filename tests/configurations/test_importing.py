"""import_configuration: a YAML and the files it references stored as one version, whole or not at all."""

import os
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from configurations.importing import ImportFailed, import_configuration
from configurations.models import Configuration, StoredFile

pytestmark = pytest.mark.django_db
DEMO_YAML = Path(__file__).resolve().parents[2] / "examples" / "demo" / "demo.yml"


def files_under(folder: str) -> list[str]:
    root = default_storage.path(folder)
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_it_makes_no_version_and_leaves_no_partial_file_when_the_disk_fills_up(full_disk, alice):
    full_disk(free=DEMO_YAML.stat().st_size + 1000)  # the YAML fits, the survey does not

    with pytest.raises(ImportFailed, match=r"^survey\.csv: could not be stored: No space left on device$"):
        import_configuration(DEMO_YAML, name="demo", user=alice)

    assert not Configuration.objects.exists()
    survey_size = (DEMO_YAML.parent / "survey.csv").stat().st_size
    assert not StoredFile.objects.filter(size=survey_size).exists()
    assert [os.path.getsize(name) for name in files_under("blobs")] == [DEMO_YAML.stat().st_size]


def test_a_retry_of_an_unchanged_import_repairs_a_short_blob(demo_version, alice):
    survey = demo_version.files.select_related("stored").get(path="survey.csv").stored
    with open(default_storage.path(survey.blob.name), "r+b") as blob:  # as a full disk left it
        blob.truncate(1000)

    version, created = import_configuration(DEMO_YAML, name="demo", user=alice)

    assert (version, created) == (demo_version, False)
    assert default_storage.size(survey.blob.name) == survey.size


# --- files the YAML names that are not there -----------------------------------------------------------

TWO_CSVS = """\
entities:
  # reads a.csv
  a:
    type: csv
    options:
      filename: a.csv
    columns: ["x"]
  b:
    type: csv
    options:
      filename: data/b.csv
    columns: ["y"]
"""


def test_it_lists_every_missing_file_with_the_line_naming_it(write_config, alice):
    version, created = import_configuration(write_config(TWO_CSVS, "two.yml"), user=alice)

    assert created
    assert version.validation["files_missing"] == [
        {"path": "a.csv", "kind": "data", "location": "two.yml:6"},
        {"path": "data/b.csv", "kind": "data", "location": "two.yml:11"},
    ]
    assert list(version.files.values_list("path", flat=True)) == ["two.yml"]


def test_it_lists_missing_included_files_past_the_first(write_config, alice):
    yaml_text = 'entities: "@include: entities.yml"\noptions: "@include: options.yml"\n'

    version, _ = import_configuration(write_config(yaml_text, "inc.yml"), user=alice)

    assert version.validation["files_missing"] == [
        {"path": "entities.yml", "kind": "include", "location": "inc.yml:1"},
        {"path": "options.yml", "kind": "include", "location": "inc.yml:2"},
    ]
    assert "entities.yml" in version.validation["error"]["message"]  # it does not load without them


def test_a_yaml_reimported_alone_keeps_the_files_of_the_current_version(write_config, alice):
    first = write_config(TWO_CSVS, "two.yml", a__csv="x\n1\n")
    (first.parent / "data").mkdir()
    (first.parent / "data" / "b.csv").write_text("y\n2\n")
    v1, _ = import_configuration(first, user=alice)
    alone = write_config(TWO_CSVS.replace("# reads a.csv", "# reads a.csv, again"), "alone.yml")

    v2, created = import_configuration(alone, name="two", user=alice)

    assert created and v2.number == 2
    stored = {f.path: f.stored_id for f in v2.files.all()}
    assert stored == {
        "alone.yml": stored["alone.yml"],
        **{f.path: f.stored_id for f in v1.files.exclude(kind="main")},
    }
    assert v2.validation["files_reused"] == {"version": 1, "paths": ["a.csv", "data/b.csv"]}
    assert "files_missing" not in v2.validation
    assert v2.is_valid, v2.validation


def test_an_uploaded_file_wins_over_the_current_versions_and_the_others_are_reused(write_config, alice):
    first = write_config(TWO_CSVS, "two.yml", a__csv="x\n1\n")
    import_configuration(first, user=alice)
    second = write_config(TWO_CSVS + "  c:\n    type: csv\n    options:\n      filename: c.csv\n", "two.yml")
    (second.parent / "a.csv").write_text("x\n33\n")  # the same folder: a.csv changed, c.csv never was there

    v2, _ = import_configuration(second, user=alice)

    assert (v2.files.get(path="a.csv").stored.size, v2.validation.get("files_reused")) == (5, None)
    assert [m["path"] for m in v2.validation["files_missing"]] == ["data/b.csv", "c.csv"]


def test_reuse_fills_a_missing_include_and_the_files_it_names(write_config, alice):
    folder = write_config('entities: "@include: entities.yml"\n', "inc.yml").parent
    (folder / "entities.yml").write_text("a:\n  type: csv\n  options:\n    filename: a.csv\n  columns: [x]\n")
    (folder / "a.csv").write_text("x\n1\n")
    import_configuration(folder / "inc.yml", user=alice)
    (folder / "entities.yml").unlink()
    (folder / "a.csv").unlink()
    (folder / "inc.yml").write_text('# v2\nentities: "@include: entities.yml"\n')

    v2, _ = import_configuration(folder / "inc.yml", user=alice)

    assert v2.validation["files_reused"] == {"version": 1, "paths": ["a.csv", "entities.yml"]}
    assert v2.validation["error"] is None


def test_without_reuse_the_new_version_has_only_what_was_given(write_config, alice):
    import_configuration(write_config(TWO_CSVS, "two.yml", a__csv="x\n1\n"), user=alice)

    v2, _ = import_configuration(
        write_config(TWO_CSVS, "alone.yml"), name="two", user=alice, reuse_files=False
    )

    assert list(v2.files.values_list("path", flat=True)) == ["alone.yml"]
    assert [m["path"] for m in v2.validation["files_missing"]] == ["a.csv", "data/b.csv"]
