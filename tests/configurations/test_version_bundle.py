"""ConfigurationVersion.bundle: the version's files in a local folder, checked against their stored files."""

import pytest
from django.core.files.storage import default_storage


def survey_of(version):
    return version.files.select_related("stored").get(path="survey.csv").stored


def truncate(path, size=1000):
    with open(path, "r+b") as handle:
        handle.truncate(size)


def test_it_builds_the_folder_once_and_reports_nothing_unavailable(demo_version):
    bundle = demo_version.bundle()

    assert bundle.main == demo_version.bundle_folder / "demo.yml"
    assert bundle.unavailable == {}
    assert (bundle.main.parent / "survey.csv").stat().st_size == survey_of(demo_version).size


def test_it_keeps_a_file_whose_blob_is_short_out_of_the_folder_and_says_why(demo_version):
    survey = survey_of(demo_version)
    truncate(default_storage.path(survey.blob.name))

    bundle = demo_version.bundle()

    expected = f"bundled file survey.csv is corrupt or missing (size 1,000, expected {survey.size:,})"
    assert bundle.unavailable == {"survey.csv": expected}
    assert not (bundle.main.parent / "survey.csv").exists()
    assert bundle.main.exists()


def test_it_does_not_trust_a_folder_built_from_a_short_blob(demo_version):
    survey = survey_of(demo_version)
    folder = demo_version.materialize().parent
    truncate(default_storage.path(survey.blob.name))  # as the full disk left both
    truncate(folder / "survey.csv")

    bundle = demo_version.bundle()

    assert "survey.csv" in bundle.unavailable
    assert not (folder / "survey.csv").exists()


def test_it_copies_a_wrong_file_again_from_a_good_blob(demo_version):
    folder = demo_version.materialize().parent
    truncate(folder / "survey.csv")

    bundle = demo_version.bundle()

    assert bundle.unavailable == {}
    assert (folder / "survey.csv").read_bytes() == survey_of(demo_version).blob.open("rb").read()


def test_it_names_a_lost_blob(demo_version):
    survey = survey_of(demo_version)
    default_storage.delete(survey.blob.name)

    bundle = demo_version.bundle()

    why = f"bundled file survey.csv is corrupt or missing (missing, expected {survey.size:,} bytes)"
    assert bundle.unavailable == {"survey.csv": why}


def test_it_rewrites_a_lost_main_yaml_from_the_version_text(demo_version):
    main = demo_version.files.select_related("stored").get(kind="main").stored
    default_storage.delete(main.blob.name)

    bundle = demo_version.bundle()

    assert bundle.unavailable == {}
    assert bundle.main.read_text(encoding="utf-8") == demo_version.yaml_text


def test_it_leaves_no_folder_behind_when_it_cannot_be_built(demo_version, settings, monkeypatch):
    import shutil

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", full)

    with pytest.raises(OSError, match="No space left"):
        demo_version.bundle()

    assert list((settings.VAR_DIR / "bundles").iterdir()) == []
