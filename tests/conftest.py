"""Test-only overrides in one place, and the fixed cast: alice owns, bob is a colleague, charlie outside."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path, monkeypatch):
    """Each test gets its own media and var folders, a fast hasher and django-q2 in sync mode.

    In sync mode ``async_task`` runs the task in the calling process, so a test of a run sees it end
    without any worker or waiting. Tests that need a real worker start one themselves.
    """
    from django_q.conf import Conf

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HEARTBEAT_INTERVAL = 0  # no heartbeat thread inside a test transaction
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "password")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.org", "password")


@pytest.fixture
def charlie(django_user_model):
    return django_user_model.objects.create_user("charlie", "charlie@example.org", "password")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def demo_version(db, alice):
    """The demo configuration imported as alice's, version 1."""
    from configurations.importing import import_configuration
    from tests.factories import DEMO_YAML

    version, _ = import_configuration(DEMO_YAML, name="demo", user=alice)
    return version


@pytest.fixture
def run_demo(alice, django_capture_on_commit_callbacks):
    """``run_demo(version, **options)``: run a version as alice in this process (django-q2 sync mode).

    Returns the finished run, and fails the test at once if it did not complete.
    """
    from testruns.models import Status
    from testruns.options import RunOptions
    from tests.factories import run_for_real

    def run(version, **options):
        finished = run_for_real(version, alice, django_capture_on_commit_callbacks, RunOptions(**options))
        assert finished.status == Status.COMPLETED, finished.error_message
        return finished

    return run


@pytest.fixture
def write_config(tmp_path):
    """Write a YAML configuration (and optional side files) into a fresh folder; returns the YAML's path."""

    def write(yaml_text: str, name: str = "config.yml", **files: str) -> Path:
        folder = tmp_path / "configs" / name.removesuffix(".yml")
        folder.mkdir(parents=True, exist_ok=True)
        for filename, content in files.items():
            (folder / filename.replace("__", ".")).write_text(content, encoding="utf-8")
        path = folder / name
        path.write_text(yaml_text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def sourceless(write_config, alice):
    """Alice's configuration "sourceless", version 1: entities that read the input table given as the
    default entity (``tests/testruns/run_input_support.py``)."""
    from tests.testruns.run_input_support import SOURCELESS, import_text

    return import_text(write_config, SOURCELESS, "sourceless", alice)


@pytest.fixture
def needs_dot():
    """Skip the test without Graphviz's ``dot`` (fail it in CI, where ``make setup`` installed it)."""
    import os
    import shutil

    from configurations import graph

    if shutil.which(graph.DOT_COMMAND) is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz is not installed; `make setup` installs Debian's graphviz")
        pytest.skip("Graphviz is not installed (`make setup` installs it)")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """Run the SQLite suite on a file, not in memory, so a worker process started by a test can share it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    # A request thread of the live server must not keep its connection open past the test (PostgreSQL
    # refuses to drop a test database someone is still connected to).
    database["CONN_MAX_AGE"] = 0
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    else:  # a test waiting on a row lock held by a worker it froze or killed fails instead of hanging
        database.setdefault("OPTIONS", {})["options"] = "-c lock_timeout=30s"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases; on PostgreSQL, sessions other tests left open are ended first.

    The live server's thread holds a connection until the session ends, and PostgreSQL will not drop a
    database anyone is connected to.
    """
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


class WorkerProcess:
    """A real ``manage.py qcluster`` in its own process group, sharing the test's database and folders.

    Tests wait for it by reading its log (a blocking read on a pipe with a deadline), never by sleeping.
    """

    def __init__(self, env: dict):
        self.env = env
        self.proc = None
        self.log: list[str] = []

    def start(self) -> "WorkerProcess":
        import subprocess
        import sys

        from tests.factories import REPO

        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "qcluster"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        return self

    def wait_for(self, needle: str, timeout: float = 60) -> str:
        """Read the worker's log until a line contains ``needle``; fail after ``timeout`` seconds."""
        import selectors
        import time

        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if not selector.select(left):
                    break
                line = self.proc.stdout.readline()
                if line == "":
                    raise AssertionError("worker exited:\n" + "".join(self.log[-40:]))
                self.log.append(line)
                if needle in line:
                    return line
        raise AssertionError(f"no {needle!r} from the worker in {timeout} s:\n" + "".join(self.log[-40:]))

    def stop(self) -> None:
        import os
        import signal
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return
        # Only the cluster's main process is told: it stops its own children in order.
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # anything of the group still left
            except ProcessLookupError:
                pass


def database_url() -> str:
    """The test database as a SHIFTBENCH_DATABASE_URL another process can open."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(transactional_db, settings):
    """Start real django-q2 workers on the test database; each is stopped by its PID at teardown."""
    import os

    workers = []

    def start(redis_url: str = "", **env) -> WorkerProcess:
        environment = {
            **os.environ,
            "SHIFTBENCH_DATABASE_URL": database_url(),
            "SHIFTBENCH_SECRET_KEY": settings.SECRET_KEY,  # django-q2 signs tasks with it
            "SHIFTBENCH_VAR_DIR": str(settings.VAR_DIR),
            "SHIFTBENCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SHIFTBENCH_REDIS_URL": redis_url,
            "SHIFTBENCH_WORKERS": "1",
            "SHIFTBENCH_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **{f"SHIFTBENCH_{key}": str(value) for key, value in env.items()},
        }
        worker = WorkerProcess(environment).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def queued(monkeypatch):
    """Send tasks to a broker for real (the suite runs django-q2 in sync mode otherwise).

    The ORM broker by default; the returned function switches to Redis at the given URL.
    """
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)

    def use_redis(url: str):
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", url)

    return use_redis


@pytest.fixture
def broker_down(queued):
    """Queue to a Redis broker on a closed port: every enqueue meets a real "connection refused"."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    queued(url)
    return url


class FifoFeeder:
    """Writes text once into a FIFO, from a thread: the open blocks until the worker opens it to read.

    ``opened`` is set once the worker holds the FIFO open; ``send`` gives the text to write. Configurations
    fed this way give ``usecols``, so the loader opens each file once (no header read first).
    """

    def __init__(self, fifo):
        import threading

        self.fifo, self.text = fifo, ""
        self.opened, self.sent = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)

    def _feed(self):
        try:
            with open(self.fifo, "w") as feed:
                self.opened.set()
                self.sent.wait()
                feed.write(self.text)
        except BrokenPipeError:  # released by stop(): the reader (a killed worker) is gone
            pass

    def send(self, text: str) -> None:
        self.text = text
        self.sent.set()

    def stop(self):
        import os

        if self.thread.is_alive() and not self.opened.is_set():  # nobody came to read: release the writer
            os.close(os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK))
        self.sent.set()
        self.thread.join(timeout=10)


class Fifos:
    """Makes files of a version's bundle into FIFOs, so a worker blocks reading them mid-run for as long
    as a test needs (deterministic, no timing), and feeds them when the test says so."""

    def __init__(self):
        self.feeders: list[FifoFeeder] = []

    def make(self, version, name: str) -> Path:
        import os

        fifo = version.materialize().parent / name
        fifo.unlink()
        os.mkfifo(fifo)
        return fifo

    def hold(self, fifo: Path, timeout: float = 60) -> FifoFeeder:
        """Return once the worker has opened ``fifo``: it is then blocked reading it, inside no transaction
        (the entity's phase before the read is committed). The test gives the text with ``send``."""
        feeder = FifoFeeder(fifo)
        feeder.thread.start()
        self.feeders.append(feeder)
        if not feeder.opened.wait(timeout):
            raise AssertionError(f"the worker did not open {fifo.name} in {timeout} s")
        return feeder

    def feed(self, fifo: Path, text: str) -> FifoFeeder:
        feeder = FifoFeeder(fifo)
        feeder.send(text)
        feeder.thread.start()
        self.feeders.append(feeder)
        return feeder

    def stop(self):
        for feeder in self.feeders:
            feeder.stop()


@pytest.fixture
def fifos():
    made = Fifos()
    yield made
    made.stop()


class FullDiskStorage:
    """Makes the media storage a disk with ``free`` bytes left (a fault-injecting FileSystemStorage).

    A write past them puts the bytes that fit on disk and raises ENOSPC, as a real full disk does, whether
    the file is written through ``storage.open(name, "wb")`` or ``storage.save``. Deleting frees nothing.
    """

    @staticmethod
    def make(free: int, location):
        import errno
        import os

        from django.core.files import File
        from django.core.files.storage import FileSystemStorage

        class Storage(FileSystemStorage):
            def _spend(self, data, write):
                if len(data) > self.free:
                    write(bytes(data)[: self.free])
                    self.free = 0
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                write(data)
                self.free -= len(data)
                return len(data)

            def _open(self, name, mode="rb"):
                opened = super()._open(name, mode)
                if "w" not in mode and "a" not in mode:
                    return opened
                storage, raw = self, opened.file

                class Writer:
                    def write(self, data):
                        return storage._spend(data, raw.write)

                    def __getattr__(self, attr):
                        return getattr(raw, attr)

                return File(Writer(), name)

            def _save(self, name, content):
                storage = self

                class Limited(File):
                    def chunks(self, chunk_size=None):
                        for chunk in content.chunks(chunk_size):
                            room = storage.free
                            if len(chunk) > room:
                                storage.free = 0
                                if room:
                                    yield chunk[:room]
                                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                            storage.free -= len(chunk)
                            yield chunk

                return super()._save(name, Limited(content.file, name))

        storage = Storage(location=location)
        storage.free = free
        return storage


@pytest.fixture
def full_disk(settings, monkeypatch):
    """``full_disk(free)`` makes the media storage run out of space after ``free`` more bytes; returns it."""
    from django.core.files.storage import default_storage

    def fill(free: int):
        storage = FullDiskStorage.make(free, settings.MEDIA_ROOT)
        monkeypatch.setattr(default_storage, "_wrapped", storage)
        return storage

    return fill
