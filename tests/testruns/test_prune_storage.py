"""Pruning run inputs no run uses and stored files nothing references: ``retention.prune_storage``, the
``prune_storage`` command, ``prune_runs`` (the inputs its runs leave) and the daily task."""

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from configurations.models import StoredFile
from testruns import retention, tasks
from testruns.models import RunInput, Status, TestRun
from tests import factories

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def aged(stored: StoredFile, days: float = 2) -> StoredFile:
    """``stored`` as if it was stored ``days`` ago: its row and its blob's modification time."""
    when = NOW - timedelta(days=days)
    StoredFile.objects.filter(pk=stored.pk).update(created_at=when)
    os.utime(default_storage.path(stored.blob.name), (when.timestamp(), when.timestamp()))
    stored.refresh_from_db()
    return stored


def old_file(content: bytes, days: float = 2) -> StoredFile:
    return aged(StoredFile.objects.store(content), days)


def old_input(content: bytes, name: str = "survey.csv", days: float = 2) -> RunInput:
    return RunInput.objects.create(
        stored=old_file(content, days), name=name, created_at=NOW - timedelta(days=days)
    )


def blob_exists(stored: StoredFile) -> bool:
    return default_storage.exists(stored.blob.name)


@pytest.fixture
def prune(django_capture_on_commit_callbacks):
    """Run ``prune_storage --noinput`` with these arguments (blobs deleted on commit); returns its output."""

    def run(*args) -> str:
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("prune_storage", "--noinput", *args, stdout=out)
        return out.getvalue()

    return run


def test_an_unused_old_input_goes_with_its_blob_and_a_used_one_stays(
    demo_version, django_capture_on_commit_callbacks
):
    unused = old_input(b"a\n1\n", name="old.csv")
    used = old_input(b"a\n2\n", name="used.csv")
    factories.make_run(demo_version, status=Status.COMPLETED, input=used)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pruned = retention.prune_storage(now=NOW)
    assert blob_exists(unused.stored)  # the blob goes only once its row is gone for good
    for callback in callbacks:
        callback()

    assert (pruned.inputs, pruned.files) == (1, 1)
    assert list(RunInput.objects.all()) == [used]
    assert not StoredFile.objects.filter(pk=unused.stored_id).exists()
    assert not blob_exists(unused.stored)
    assert blob_exists(used.stored)


def test_a_young_unreferenced_file_and_a_young_unused_input_stay():
    young_file = StoredFile.objects.store(b"being imported\n")  # its version row is not made yet
    young_input = RunInput.objects.create(stored=old_file(b"a\n3\n"), name="new.csv", created_at=NOW)

    assert retention.prune_storage(now=NOW) == retention.Pruned(0, 0)
    assert StoredFile.objects.filter(pk=young_file.pk).exists() and blob_exists(young_file)
    assert RunInput.objects.filter(pk=young_input.pk).exists()


def test_files_used_by_a_version_or_as_a_target_model_stay(demo_version):
    bundled = [aged(file.stored) for file in demo_version.files.select_related("stored")]
    model = old_file(b"tables: {}\n")
    demo_version.configuration.target_model = model
    demo_version.configuration.save()

    assert retention.prune_storage(now=NOW) == retention.Pruned(0, 0)
    assert StoredFile.objects.count() == len(bundled) + 1
    assert all(blob_exists(stored) for stored in [*bundled, model])


def test_a_blob_stored_again_within_the_grace_stays(django_capture_on_commit_callbacks):
    """An import of the same bytes reuses the old row (and writes the blob again) before it makes its own."""
    again = old_file(b"imported again\n")
    StoredFile.objects.store(b"imported again\n")

    assert retention.prune_storage(now=NOW).files == 0
    assert StoredFile.objects.filter(pk=again.pk).exists()

    gone = old_file(b"imported after the rows went\n")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert retention.prune_storage(now=NOW).files == 1
    StoredFile.objects.store(b"imported after the rows went\n")  # between the commit and the blob's deletion
    for callback in callbacks:
        callback()

    assert StoredFile.objects.get(pk=gone.pk).problem() is None  # its blob is there, whole


def test_prune_runs_removes_the_inputs_its_runs_leave_unused(
    demo_version, django_capture_on_commit_callbacks
):
    alone = old_input(b"a\n4\n", name="alone.csv")
    shared = old_input(b"a\n5\n", name="shared.csv")
    factories.make_run(
        demo_version, status=Status.COMPLETED, input=alone, created_at=NOW - timedelta(days=40)
    )
    factories.make_run(
        demo_version, status=Status.COMPLETED, input=shared, created_at=NOW - timedelta(days=40)
    )
    kept = factories.make_run(demo_version, status=Status.COMPLETED, input=shared, created_at=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("prune_runs", "--older-than", "30d", "--noinput", stdout=StringIO())

    assert list(TestRun.objects.all()) == [kept]
    assert list(RunInput.objects.all()) == [shared]
    assert not StoredFile.objects.filter(pk=alone.stored_id).exists()
    assert not blob_exists(alone.stored)
    assert blob_exists(shared.stored)


def test_the_command_lists_what_would_go_and_a_dry_run_deletes_nothing(demo_version, prune):
    unused = old_input(b"a\n6\n", name="old.csv")
    orphan = old_file(b"of a deleted configuration\n")
    StoredFile.objects.store(b"young\n")

    out = prune("--dry-run", "-v", "2")

    assert f"  input  old.csv  ({unused.pk}, file {unused.stored_id[:12]})\n" in out
    assert f"  file   {unused.stored.blob.name}  (4 bytes)\n" in out
    assert f"  file   {orphan.blob.name}  (27 bytes)\n" in out
    assert "1 unused run input(s) and 2 unreferenced stored file(s) (31 bytes) would be deleted.\n" in out
    assert out.endswith("Dry run: nothing deleted.\n")
    assert RunInput.objects.filter(pk=unused.pk).exists()
    assert blob_exists(unused.stored) and blob_exists(orphan)

    out = prune()

    assert out.endswith("Deleted 1 run input(s) and 2 stored file(s).\n")
    assert not RunInput.objects.exists()
    assert not blob_exists(orphan)
    assert prune() == "Nothing to prune.\n"


def test_the_command_takes_a_grace_period(prune):
    orphan = old_file(b"two hours old\n", days=2 / 24)

    assert prune() == "Nothing to prune.\n"
    assert prune("--older-than", "1h").endswith("Deleted 0 run input(s) and 1 stored file(s).\n")
    assert not blob_exists(orphan)
    with pytest.raises(CommandError, match="--older-than: '1w' is not an age"):
        prune("--older-than", "1w")


def test_the_daily_task_prunes_storage_even_with_run_retention_off(settings):
    settings.RETENTION_DAYS = settings.RETENTION_KEEP_LAST = None
    orphan = old_file(b"of a deleted configuration\n")

    assert tasks.prune_runs().endswith("; 0 unused run input(s) and 1 unreferenced stored file(s) pruned")
    assert not StoredFile.objects.filter(pk=orphan.pk).exists()
