"""Writing files into Django's storage so that each is there whole or not at all, with its size and sha256.

A file written in place is left short by a full disk or a killed process, and a later reader cannot tell.
So every file ShiftBench stores (bundle blobs, entity tables) is written under a temporary name, hashed on
the way, and put in place in one step once it is complete.
"""

import hashlib
import io
import os
import queue
import stat
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

CHUNK_SIZE = 1024 * 1024
# A temporary file (StagedFile's ``.<uuid>.part``) untouched for this long was left by a killed writer.
PART_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Written:
    """A file put in place: its name in storage, its size and its sha256."""

    name: str
    size: int
    sha256: str


class HashingWriter(io.BufferedIOBase):
    """A binary writer that passes every byte on to ``target`` and counts and hashes it on the way."""

    def __init__(self, target):
        super().__init__()
        self.target = target
        self.size = 0
        self._sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.target.write(data)  # first: bytes the disk refused are not counted
        self._sha.update(data)
        self.size += len(data)
        return len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


class BackgroundWriter(io.BufferedIOBase):
    """A HashingWriter whose writes a thread does, in order, while the caller makes the next bytes.

    File writes and sha256 release the GIL, so on a second core they cost the caller nothing: a 50x
    Arbodat run hashes and writes 147 MB of tables. At most ``depth`` chunks wait. A failed write (a full
    disk) is raised by the next ``write`` or by ``finish``, which must be called before ``size`` and
    ``sha256`` are read.
    """

    def __init__(self, target, depth: int = 2):
        super().__init__()
        self._inner = HashingWriter(target)
        self._chunks: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="staged-file-writer", daemon=True)
        self._thread.start()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._raise()
        self._chunks.put(data if isinstance(data, bytes) else bytes(data))
        return len(data)

    def finish(self, raise_error: bool = True) -> None:
        """Wait for every chunk to be written; raise what failed, if asked."""
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()
        if raise_error:
            self._raise()

    @property
    def size(self) -> int:
        return self._inner.size

    @property
    def sha256(self) -> str:
        return self._inner.sha256

    def _drain(self) -> None:
        while (data := self._chunks.get()) is not None:
            if self._error is None:  # after a failure the rest is dropped, never written out of order
                try:
                    self._inner.write(data)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def is_local(storage) -> bool:
    """Whether ``storage`` keeps its files in a local folder, where they can be renamed.

    Not "has ``path()``": InMemoryStorage has one too, naming files that are not on any disk.
    """
    return isinstance(storage, FileSystemStorage)


class StagedFile:
    """A file being written into ``storage``; ``commit(name)`` puts it in place whole, in one step.

    Use it as a context manager and write to ``writer`` (which counts and hashes). Leaving the block without
    a commit (an exception, a full disk) removes what was written. On a file system storage the temporary
    file lives in ``folder`` inside the storage (the same file system as the target), and ``commit`` renames
    it over the target with os.replace: atomic, and a reader of the old file keeps reading the old file.
    Other storages have no rename: the bytes go to a local temporary file and are saved under the target
    name in one call, which an object store (S3 and the like) makes visible whole or not at all.

    A local file is fsynced before it is renamed into place, unless ``durable=False``: then the caller makes
    the files it committed durable later, together (``FolderSync``), and until then a power cut may leave
    one empty or short under its name (``verify_storage`` finds it by its size and sha256).
    """

    def __init__(self, folder: str, storage=None, background: bool = False, durable: bool = True):
        self.storage = storage or default_storage
        self.local = is_local(self.storage)
        self.temp_name = os.path.join(folder, part_name()) if self.local else None
        if self.local:
            os.makedirs(os.path.dirname(self.storage.path(self.temp_name)), exist_ok=True)
            self._file = self.storage.open(self.temp_name, "wb")
        else:
            self._file = tempfile.TemporaryFile()
        # background: writing and hashing overlap with making the bytes (BackgroundWriter)
        self.writer = BackgroundWriter(self._file) if background else HashingWriter(self._file)
        self.durable = durable
        self.committed: Written | None = None

    def __enter__(self) -> "StagedFile":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.committed is None:
            self.discard()

    def commit(self, name: str) -> Written:
        """Put the file in place as ``name`` (replacing any file of that name); returns what was written."""
        if isinstance(self.writer, BackgroundWriter):
            self.writer.finish()
        if self.local:
            self._file.close()  # flushes: a full disk may only say so here
            temp = self.storage.path(self.temp_name)
            if self.durable:  # before it gets its name: after a power cut a renamed file must not be empty
                _fsync(temp)
            target = self.storage.path(name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(temp, target)
        else:
            self._file.flush()
            self._file.seek(0)
            if self.storage.exists(name):
                self.storage.delete(name)
            saved = self.storage.save(name, File(self._file))
            self._file.close()
            if saved != name:
                raise OSError(f"{name}: the storage saved it as {saved}")
        self.committed = Written(name, self.writer.size, self.writer.sha256)
        return self.committed

    def discard(self) -> None:
        """Remove what was written (idempotent)."""
        if isinstance(self.writer, BackgroundWriter):
            self.writer.finish(raise_error=False)
        try:
            self._file.close()
        except OSError:
            pass  # closing flushes; on a full disk that fails too, and the file is closed all the same
        if self.local:
            try:
                os.unlink(self.storage.path(self.temp_name))
            except FileNotFoundError:
                pass


class FolderSync:
    """Hands the files committed to one folder of a storage to the disk, from a thread while the caller
    writes the next ones; ``finish`` waits for it and syncs the rest and the folder's own entries.

    For files committed with ``StagedFile(durable=False)``: fsync each before its rename made the writer
    wait for the disk 55 times in a 50x Arbodat run. Nothing to do on a storage without local files, whose
    save is its commit. A failed fsync is raised by ``finish``.
    """

    def __init__(self, folder: str, storage=None):
        self.storage = storage or default_storage
        self.folder = folder
        self._queue: queue.Queue = queue.Queue()
        self._synced: set[str] = set()
        self._error: OSError | None = None
        self._thread: threading.Thread | None = None

    def add(self, name: str) -> None:
        """Sync the committed file ``name`` (a name in the storage, inside the folder) soon."""
        if not is_local(self.storage):
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="folder-sync", daemon=True)
            self._thread.start()
        self._queue.put(self.storage.path(name))

    def finish(self) -> int:
        """Wait until every file of the folder, and the folder, is on the disk; returns how many files."""
        if not is_local(self.storage):
            return 0
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        path = self.storage.path(self.folder)
        try:
            names = [entry.path for entry in os.scandir(path) if entry.is_file()]
        except FileNotFoundError:
            return 0
        for name in names:
            if name not in self._synced:  # not added, or added after it was read
                _fsync(name)
        _fsync(path)  # the renames into it
        return len(names)

    def _drain(self) -> None:
        while (path := self._queue.get()) is not None:
            if self._error is None:
                try:
                    _fsync(path)
                except FileNotFoundError:
                    pass  # deleted meanwhile (a run lost to the reaper): nothing left to sync
                except OSError as exc:
                    self._error = exc
                else:
                    self._synced.add(path)


def _fsync(path: str) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def part_name() -> str:
    """A new temporary file name, ``.<uuid>.part``: hidden, and known to ``verify_parts`` as temporary."""
    return f".{uuid.uuid4().hex}.part"


def is_part(name: str) -> bool:
    return name.startswith(".") and name.endswith(".part")


def verify_parts(storage, folders, repair: bool = False, now: datetime | None = None) -> "Verified":
    """Check ``folders`` of ``storage`` for temporary files a killed writer left: ``.part`` files last
    written more than PART_MAX_AGE ago (a live writer writes its file within seconds; a fresh one is
    left alone). With ``repair`` they are deleted. Lists the folders, reads no file.
    """
    from django.utils import timezone

    cutoff = (now or timezone.now()) - PART_MAX_AGE
    verified = Verified()
    for folder in folders:
        try:
            _, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        for name in sorted(filter(is_part, files)):
            path = f"{folder}/{name}"
            verified.checked += 1
            try:
                modified = storage.get_modified_time(path)
            except FileNotFoundError:
                continue  # its writer finished (renamed it) or gave up meanwhile
            if modified >= cutoff:
                continue
            written = f"{timezone.localtime(modified):%Y-%m-%d %H:%M}"
            finding = Finding(f"temporary file {path}", f"left by a killed writer (last written {written})")
            if repair:
                storage.delete(path)
                finding.action, finding.fixed = "deleted", True
            verified.findings.append(finding)
    return verified


def stored_problem(storage, name: str, size: int, sha256: str | None = None) -> str | None:
    """What is wrong with the file ``name`` in ``storage`` given its expected size (and sha256), or None.

    With ``sha256`` the whole file is read.
    """
    try:
        actual = storage.size(name)
    except FileNotFoundError:
        return f"missing, expected {size:,} bytes"
    if actual != size:
        return f"size {actual:,}, expected {size:,}"
    if sha256:
        with storage.open(name, "rb") as handle:
            digest = file_sha256(handle)
        if digest != sha256:
            return f"sha256 {digest[:12]}…, expected {sha256[:12]}…"
    return None


def local_problem(path: Path, size: int, sha256: str | None = None) -> str | None:
    """``stored_problem`` for a local file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"missing, expected {size:,} bytes"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size != size:
        return f"size {info.st_size:,}, expected {size:,}"
    if sha256:
        with open(path, "rb") as handle:
            digest = file_sha256(handle)
        if digest != sha256:
            return f"sha256 {digest[:12]}…, expected {sha256[:12]}…"
    return None


def file_sha256(handle) -> str:
    """The sha256 of what is left to read in the binary stream ``handle``, read in chunks."""
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK_SIZE):
        digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def opened(source):
    """``source`` as a binary stream: bytes, a local path, or a stream already open (left open)."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            yield handle
    else:
        yield source


@dataclass
class Finding:
    """A problem ``verify_storage`` found: what, what is wrong, and what was done about it (if anything)."""

    what: str
    problem: str
    action: str = ""
    fixed: bool = False

    def __str__(self) -> str:
        return f"{self.what}: {self.problem}" + (f" -> {self.action}" if self.action else "")


@dataclass
class Verified:
    """What one part of ``verify_storage`` checked, and the problems it found."""

    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    # The folders found sound, for a later part to look into (``TestRun.objects.verify_folders``).
    folders: list[str] = field(default_factory=list)
