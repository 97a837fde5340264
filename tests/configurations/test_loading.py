"""Stored configurations read nothing outside their bundle and only the environment the operator allows."""

import pytest

from configurations.importing import import_configuration
from testruns.execution import start_run
from testruns.models import Status
from testruns.options import RunOptions

pytestmark = pytest.mark.django_db

SECRET_ECHO = """
entities:
  echo:
    type: fixed
    columns: [value]
    keys: [value]
    values:
      - ["${SHIFTBENCH_SECRET_KEY}"]
      - ["${SEAD_HOST}"]
"""


def run(version, user, capture):
    with capture(execute=True):
        run = start_run(version, RunOptions(max_rows_per_entity=None), user)
    run.refresh_from_db()
    return run


def test_it_never_bundles_a_file_outside_the_configurations_folder(tmp_path, alice):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "entities:\n  leak:\n    type: csv\n    options: {filename: ../secret.csv}\n    columns: [password]\n"
    )

    version, _ = import_configuration(path, user=alice)

    assert list(version.files.values_list("path", flat=True)) == ["config.yml"]


def test_a_run_cannot_read_outside_its_bundle(tmp_path, alice, django_capture_on_commit_callbacks):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "entities:\n  leak:\n    type: csv\n    options: {filename: ../secret.csv}\n    columns: [password]\n"
    )
    version, _ = import_configuration(path, user=alice)
    # The bundle lives elsewhere, but a same-named file beside it must not be reached either.
    bundle = version.materialize()
    (bundle.parent.parent / "secret.csv").write_text("password\nhunter2\n")

    result = run(version, alice, django_capture_on_commit_callbacks).entity_results.get(entity="leak")

    assert result.status == "failed"
    assert "hunter2" not in str(result.preview)


def test_environment_variables_are_hidden_unless_allowed(
    write_config, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("SHIFTBENCH_SECRET_KEY", "do-not-show")
    monkeypatch.setenv("SEAD_HOST", "db.example.org")
    settings.CONFIG_ENV = ["SEAD_*"]
    version, _ = import_configuration(write_config(SECRET_ECHO), user=alice)

    run_ = run(version, alice, django_capture_on_commit_callbacks)

    assert run_.status == Status.COMPLETED
    values = str(run_.entity_results.get(entity="echo").preview)
    assert "do-not-show" not in values
    assert "db.example.org" in values
