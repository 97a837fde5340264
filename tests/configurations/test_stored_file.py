"""StoredFile.objects.store: a bundled file's bytes, stored once by content, whole or not at all."""

import hashlib
import io
import os

import pytest
from django.core.files.storage import default_storage

from configurations.models import StoredFile, blob_path

pytestmark = pytest.mark.django_db
SURVEY = b"site;sample\n" + b"".join(f"S{i};P{i}\n".encode() for i in range(2000))
SHA = hashlib.sha256(SURVEY).hexdigest()


def stored_names(folder="blobs"):
    """Every file in storage under ``folder``, temporary ones included."""
    root = default_storage.path(folder)
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


@pytest.mark.parametrize("source", ["bytes", "path", "stream"])
def test_it_stores_bytes_a_path_or_a_stream_under_their_hash(source, tmp_path):
    path = tmp_path / "survey.csv"
    path.write_bytes(SURVEY)
    given = {"bytes": SURVEY, "path": path, "stream": io.BytesIO(SURVEY)}[source]

    stored = StoredFile.objects.store(given)

    assert (stored.sha256, stored.size, stored.blob.name) == (SHA, len(SURVEY), blob_path(SHA))
    with stored.blob.open("rb") as blob:
        assert blob.read() == SURVEY
    assert stored_names() == [f"{SHA[:2]}/{SHA}"]


def test_it_leaves_no_blob_and_no_row_when_the_disk_fills_up(full_disk):
    full_disk(free=1000)

    with pytest.raises(OSError, match="No space left on device"):
        StoredFile.objects.store(SURVEY)

    assert not StoredFile.objects.exists()
    assert stored_names() == []  # neither a short blob nor the partial temporary file


def test_it_replaces_a_truncated_blob_when_the_same_bytes_are_stored_again():
    first = StoredFile.objects.store(SURVEY)
    with open(default_storage.path(first.blob.name), "r+b") as blob:  # as a full disk left it
        blob.truncate(1000)

    again = StoredFile.objects.store(SURVEY)

    assert again.pk == first.pk
    with again.blob.open("rb") as blob:
        assert blob.read() == SURVEY
    assert again.problem() is None


def test_it_replaces_a_blob_of_the_right_size_with_the_wrong_bytes():
    first = StoredFile.objects.store(SURVEY)
    with open(default_storage.path(first.blob.name), "r+b") as blob:  # zeros after a crash
        blob.write(b"\0" * 100)
    zeroed = hashlib.sha256(bytes(100) + SURVEY[100:]).hexdigest()
    assert first.problem() == f"sha256 {zeroed[:12]}…, expected {SHA[:12]}…"
    assert first.problem(full=False) is None  # the size alone cannot tell

    StoredFile.objects.store(SURVEY)

    assert first.problem() is None


def test_it_says_what_is_wrong_with_a_blob():
    stored = StoredFile.objects.store(SURVEY)
    with open(default_storage.path(stored.blob.name), "r+b") as blob:
        blob.truncate(10)
    assert stored.problem(full=False) == f"size 10, expected {len(SURVEY):,}"
    default_storage.delete(stored.blob.name)
    assert stored.problem() == f"missing, expected {len(SURVEY):,} bytes"


def test_it_stores_whole_files_in_a_storage_without_local_paths(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }

    StoredFile.objects.store(b"short")
    stored = StoredFile.objects.store(SURVEY)

    with stored.blob.open("rb") as blob:
        assert blob.read() == SURVEY
    assert stored.problem() is None


def test_a_staged_file_can_be_written_at_the_top_of_a_storage(tmp_path):
    from django.core.files.storage import FileSystemStorage

    from configurations.storage import StagedFile

    storage = FileSystemStorage(location=tmp_path)
    with StagedFile("", storage) as staged:
        staged.writer.write(b"a,b\n")
        staged.commit("t.csv")

    assert sorted(os.listdir(tmp_path)) == ["t.csv"]
    assert (tmp_path / "t.csv").read_bytes() == b"a,b\n"


def test_a_background_writer_writes_in_order_and_hands_a_failure_back():
    from configurations.storage import BackgroundWriter

    chunks = [bytes([i]) * 10_000 for i in range(50)]
    target = io.BytesIO()
    writer = BackgroundWriter(target)
    for chunk in chunks:
        writer.write(chunk)
    writer.finish()
    assert target.getvalue() == b"".join(chunks)
    assert (writer.size, writer.sha256) == (500_000, hashlib.sha256(b"".join(chunks)).hexdigest())

    class Refusing(io.BytesIO):
        def write(self, data):
            if self.tell() >= 20_000:
                raise OSError(28, "No space left on device")
            return super().write(data)

    target = Refusing()
    writer = BackgroundWriter(target)
    with pytest.raises(OSError, match="No space left"):
        for chunk in chunks:  # raised by a later write, or else by finish
            writer.write(chunk)
        writer.finish()
    writer.finish(raise_error=False)
    assert target.getvalue() == b"".join(chunks[:2])  # nothing after the failure, nothing out of order


def fsynced(monkeypatch) -> list[str]:
    """The paths os.fsync is called on from now on (each still synced for real)."""
    synced, real = [], os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd))
    return synced


@pytest.mark.parametrize("durable", [True, False])
def test_a_staged_file_is_fsynced_before_its_rename_unless_made_durable_later(durable, tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    from configurations.storage import StagedFile

    synced = fsynced(monkeypatch)
    with StagedFile("runs", FileSystemStorage(location=tmp_path), durable=durable) as staged:
        staged.writer.write(b"a,b\n")
        temp = staged.storage.path(staged.temp_name)
        staged.commit("runs/t.csv")

    assert synced == ([temp] if durable else [])
    assert (tmp_path / "runs" / "t.csv").read_bytes() == b"a,b\n"


def test_folder_sync_hands_each_file_and_the_folder_itself_to_the_disk(tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage, InMemoryStorage

    from configurations.storage import FolderSync

    folder = tmp_path / "runs" / "r1"
    folder.mkdir(parents=True)
    for name in ("a.csv", "b.csv", "c.csv"):
        (folder / name).write_text("x\n")
    synced = fsynced(monkeypatch)
    storage = FileSystemStorage(location=tmp_path)

    tables = FolderSync("runs/r1", storage)
    tables.add("runs/r1/a.csv")
    tables.add("runs/r1/b.csv")
    assert tables.finish() == 3
    paths = [str(folder / name) for name in ("a.csv", "b.csv", "c.csv")]
    assert synced == [
        *paths,
        str(folder),
    ]  # those added by the thread, as added; then the rest; then the folder
    assert FolderSync("runs/gone", storage).finish() == 0
    in_memory = FolderSync("runs/r1", InMemoryStorage())
    in_memory.add("runs/r1/a.csv")
    assert in_memory.finish() == 0  # no local files: its save was the commit


def test_folder_sync_raises_what_the_disk_refused_when_finished(tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    from configurations.storage import FolderSync

    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "a.csv").write_text("x\n")

    def fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    tables = FolderSync("r1", FileSystemStorage(location=tmp_path))
    tables.add("r1/a.csv")
    with pytest.raises(OSError, match="Input/output error"):
        tables.finish()
