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
