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


def test_a_durable_background_writer_hands_its_bytes_to_the_disk_as_it_goes(tmp_path, monkeypatch):
    from configurations.storage import BackgroundWriter

    synced = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: synced.append(os.fstat(fd).st_size) or real(fd))
    monkeypatch.setattr(BackgroundWriter, "SYNC_EVERY", 100_000)
    with open(tmp_path / "t.csv", "wb") as target:
        writer = BackgroundWriter(target, durable=True)
        for _ in range(25):
            writer.write(b"x" * 10_000)
        writer.finish()

    assert synced == [100_000, 200_000, 250_000]  # every SYNC_EVERY bytes, and the rest at the end
