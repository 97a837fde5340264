"""Executing runs when storage fails them: a corrupt bundled file, a disk that fills up with tables, a
disk that cannot sync them; and when a run's tables reach the disk."""

import errno
import hashlib
import os

import pytest
from django.core.files.storage import default_storage

from testruns.execution import start_run
from testruns.models import EntityResult, Status
from testruns.options import RunOptions

pytestmark = pytest.mark.django_db


def start(version, user, capture):
    with capture(execute=True):
        run = start_run(version, RunOptions(max_rows_per_entity=None), user)
    run.refresh_from_db()
    return run


def run_files(run):
    folder = f"runs/{run.pk}"
    return sorted(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else []


def test_it_fails_the_entity_that_reads_a_short_blob_and_runs_the_others(
    demo_version, alice, django_capture_on_commit_callbacks
):
    survey = demo_version.files.select_related("stored").get(path="survey.csv").stored
    with open(default_storage.path(survey.blob.name), "r+b") as blob:  # as a full disk left it
        blob.truncate(1000)

    run = start(demo_version, alice, django_capture_on_commit_callbacks)

    results = {r.entity: r for r in run.entity_results.all()}
    assert results["survey"].status == "failed"
    assert (
        f"bundled file survey.csv is corrupt or missing (size 1,000, expected {survey.size:,})"
        in results["survey"].error
    )
    assert results["record_type"].status == "success"  # a fixed table still runs
    assert results["site"].status == "skipped"  # it reads the survey
    assert run.status == Status.FAILED
    assert run.entities_failed == 1


def test_it_records_each_stored_table_size_and_sha256(
    demo_version, alice, django_capture_on_commit_callbacks
):
    run = start(demo_version, alice, django_capture_on_commit_callbacks)

    for result in run.entity_results.all():
        with default_storage.open(result.output.name, "rb") as stored:
            content = stored.read()
        assert (result.output_size, result.output_sha256) == (
            len(content),
            hashlib.sha256(content).hexdigest(),
        )
        assert result.table_problem() is None


def test_a_table_that_does_not_fit_on_the_disk_fails_its_entity_and_leaves_no_partial_file(
    demo_version, alice, django_capture_on_commit_callbacks, full_disk, monkeypatch
):
    from testruns import explorer

    # Only the CSVs take the disk here: an explorer copy that does not fit is no failure (test_explorer_page).
    monkeypatch.setattr(explorer, "store_copy", lambda *args, **kwargs: None)
    first = start(demo_version, alice, django_capture_on_commit_callbacks)
    sizes = [default_storage.size(r.output.name) for r in first.entity_results.all()]
    full_disk(free=sum(sizes) - 1)  # every table fits but one byte of the last one written

    run = start(demo_version, alice, django_capture_on_commit_callbacks)

    failed = run.entity_results.get(status="failed")
    assert failed.error == "Its table could not be stored: No space left on device."
    assert failed.output == ""
    assert (run.status, run.entities_completed, run.entities_succeeded, run.entities_failed) == (
        Status.FAILED,  # the entity failed after it had succeeded: the verdict reads the stored counters
        11,
        10,
        1,
    )
    stored = run.entity_results.filter(status=EntityResult.Status.SUCCESS).values_list("output", flat=True)
    assert run_files(run) == sorted(name.rsplit("/", 1)[1] for name in stored)  # no partial CSV
    assert run.events.filter(level="error", entity=failed.entity).exists()


@pytest.fixture
def disk_and_end(monkeypatch):
    """What happens, in order: the path of each fsync, and "finish" when a run's end is written."""
    from testruns.models import TestRun

    happened = []
    real_fsync, real_finish = os.fsync, TestRun.finish
    monkeypatch.setattr(
        os, "fsync", lambda fd: happened.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd)
    )
    monkeypatch.setattr(
        TestRun, "finish", lambda run, *a, **k: happened.append("finish") or real_finish(run, *a, **k)
    )
    return happened


def assert_on_the_disk_before_the_end(run, happened):
    """Each stored table of the run and its folder fsynced once each, the folder last, before its end."""
    tables = [default_storage.path(r.output.name) for r in run.entity_results.exclude(output="")]
    before_end = happened[: happened.index("finish")]
    assert sorted(before_end) == sorted([*tables, default_storage.path(run.folder)])  # each once
    assert before_end[-1] == default_storage.path(run.folder)  # the renames into it, last
    return tables


def test_a_runs_tables_are_on_the_disk_before_its_end_is_recorded(
    demo_version, alice, django_capture_on_commit_callbacks, disk_and_end
):
    run = start(demo_version, alice, django_capture_on_commit_callbacks)

    assert run.status == Status.COMPLETED
    assert len(assert_on_the_disk_before_the_end(run, disk_and_end)) == run.entities_total


def test_a_run_whose_tables_the_disk_cannot_sync_ends_failed_saying_so(
    demo_version, alice, django_capture_on_commit_callbacks, monkeypatch
):
    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    run = start(demo_version, alice, django_capture_on_commit_callbacks)

    assert run.status == Status.FAILED
    assert run.error_message == "The run's tables could not be written to the disk: Input/output error."
    assert run.events.filter(level="error", message=run.error_message).exists()


def test_a_sync_run_stopped_by_ctrl_c_has_the_tables_it_stored_on_the_disk_before_it_ends(
    demo_version, monkeypatch, disk_and_end
):
    from django.core.management import CommandError, call_command

    from testruns.execution import RunObserver
    from testruns.models import TestRun

    real_started = RunObserver.entity_started

    def ctrl_c_at_the_fourth_entity(observer, name):
        if observer.run.entity_results.exclude(output="").count() >= 3:
            raise KeyboardInterrupt  # what Ctrl-C raises in the engine's thread
        real_started(observer, name)

    monkeypatch.setattr(RunObserver, "entity_started", ctrl_c_at_the_fourth_entity)

    with pytest.raises(CommandError, match="cancelled"):
        call_command("run_test", "demo", "--sync", "--max-rows", "all")

    run = TestRun.objects.get()
    assert run.status == Status.CANCELLED
    assert len(assert_on_the_disk_before_the_end(run, disk_and_end)) >= 3
