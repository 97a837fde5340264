"""manage.py verify_storage [--repair]: the explorer's Arrow copies, folders of deleted runs and temporary
files left by killed writers."""

import hashlib
import os
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from testruns import explorer
from testruns.models import RunDiff, Status
from tests.factories import make_result, make_run
from tests.testruns.test_verify_storage import TABLE, verify, verify_failing

pytestmark = pytest.mark.django_db


def store_table(run, entity="site", content=TABLE, rows=2):
    name = default_storage.save(f"runs/{run.pk}/{entity}.csv", ContentFile(content))
    return make_result(
        run,
        entity,
        status="success",
        output=name,
        output_size=len(content),
        output_sha256=hashlib.sha256(content).hexdigest(),
        rows_out=rows,
        columns=["site_id", "name"],
    )


@pytest.fixture
def table(demo_version):
    """A finished run's stored table with its explorer copy, as a finished run leaves them."""
    result = store_table(make_run(demo_version, status=Status.COMPLETED))
    assert explorer.store_copy(result.output.name, {"site_id": "int64", "name": "object"})
    return result


def copy_path(result) -> str:
    return default_storage.path(explorer.copy_name(result.output.name))


def age(path: str, hours: float) -> None:
    """Set the file's modification time ``hours`` back, as if its writer had stopped then."""
    when = (timezone.now() - timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))


def test_a_sound_copy_is_checked_and_not_reported(table):
    out = verify()

    assert "1 entity tables, 1 explorer copies, 1 run folders, 0 temporary files: 0 problem(s)." in out


def test_a_truncated_copy_is_reported_and_repair_deletes_it_and_the_diffs_read_from_it(demo_version, table):
    with open(copy_path(table), "r+b") as handle:
        handle.truncate(100)
    other = make_run(demo_version, status=Status.COMPLETED)
    diff = RunDiff.objects.create(base=other, head=table.run)

    out, error = verify_failing()

    name = explorer.copy_name(table.output.name)
    assert f"explorer copy of 'site' in run {table.run_id} ({name}): does not open as an Arrow file: " in out
    assert error == "1 problem(s) remain; --repair may fix them."
    assert os.path.exists(copy_path(table))  # nothing changed without --repair

    out = verify("--repair")

    assert out.splitlines()[0].endswith("-> deleted (made again from the CSV on the next visit or diff)")
    assert out.endswith("1 problem(s), 1 repaired.\n")
    assert not os.path.exists(copy_path(table))
    assert not RunDiff.objects.filter(pk=diff.pk).exists()
    # the explorer makes it again from the CSV
    assert explorer.open_table(table).num_rows == 2
    assert verify().endswith(": 0 problem(s).\n")


def test_a_copy_of_another_table_is_reported_by_its_columns_and_rows(demo_version, table):
    other = store_table(table.run, "sample", b"sample_id\n1\n2\n3\n", rows=3)
    other.columns = ["sample_id"]
    other.save()
    explorer.store_copy(other.output.name, {})
    os.replace(copy_path(other), copy_path(table))  # site's copy now holds sample's table

    out, _ = verify_failing()

    assert f"explorer copy of 'site' in run {table.run_id}" in out
    assert "columns [sample_id], expected [site_id, name]" in out

    with open(copy_path(table), "wb") as handle:  # the right columns, one row short
        explorer.ipc.new_file(handle, explorer.pa.schema([("site_id", "int64"), ("name", "string")])).close()
    out, _ = verify_failing()
    assert "0 rows, expected 2" in out


def test_an_orphan_run_folder_is_reported_and_removed(table):
    orphan = f"runs/{uuid.uuid4()}"
    default_storage.save(f"{orphan}/site.csv", ContentFile(TABLE))
    default_storage.save(f"{orphan}/site.arrow", ContentFile(b"arrow"))

    out, error = verify_failing()

    assert f"run folder {orphan}: its run no longer exists\n" in out
    assert error == "1 problem(s) remain; --repair may fix them."

    out = verify("--repair")

    assert f"run folder {orphan}: its run no longer exists -> deleted with its files\n" in out
    assert not os.path.exists(default_storage.path(orphan))
    assert default_storage.exists(table.output.name)  # the folder of a run that exists is kept
    assert verify().endswith(": 0 problem(s).\n")


def test_an_old_part_file_is_removed_and_a_fresh_one_kept(table):
    folder = f"runs/{table.run_id}"
    old = default_storage.save(f"{folder}/.{uuid.uuid4().hex}.part", ContentFile(b"half a ta"))
    old_blob = default_storage.save(f"blobs/incoming/.{uuid.uuid4().hex}.part", ContentFile(b"half"))
    fresh = default_storage.save(f"{folder}/.{uuid.uuid4().hex}.part", ContentFile(b"being written"))
    age(default_storage.path(old), hours=2)
    age(default_storage.path(old_blob), hours=2)
    age(default_storage.path(fresh), hours=0.5)

    out, _ = verify_failing()

    assert f"temporary file {old}: left by a killed writer (last written " in out
    assert f"temporary file {old_blob}: left by a killed writer" in out
    assert fresh not in out
    assert "3 temporary files: 2 problem(s)." in out

    out = verify("--repair")

    assert out.count(" -> deleted\n") == 2
    assert not default_storage.exists(old)
    assert not default_storage.exists(old_blob)
    assert default_storage.exists(fresh)
    assert default_storage.exists(table.output.name)
