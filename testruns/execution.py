"""Starting and executing test runs: the one place where the engine meets the database.

``start_run`` is the single entry point used by the page, the API and the ``run_test`` command;
``execute_run`` is what a worker does with a run id.
"""

import logging
import os
import socket
import tempfile
import threading
import time
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.files import File
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

import shapeshift
from configurations.loading import load_project
from testruns.models import EntityResult, RunNotQueued, Status, TestRun
from testruns.options import RunOptions

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 50
# The engine asks between every phase of every entity; the database is asked at most this often (seconds).
CANCEL_CHECK_INTERVAL = 0.5
TASK = "testruns.tasks.execute_run"


def start_run(version, options: RunOptions, user=None, background: bool = True) -> TestRun:
    """Create a pending run of ``version`` and enqueue it once the transaction commits.

    Raises InvalidOptions when the options cannot run on this configuration. With ``background=False``
    nothing is enqueued: the caller runs it itself with ``execute_run`` (``run_test --sync``), so no worker
    can take it as well.
    """
    options = options.checked(version.validation.get("entities"))
    with transaction.atomic():
        run = TestRun.objects.create(
            configuration=version.configuration, version=version, options=options.to_dict(), requested_by=user
        )
        if background:
            transaction.on_commit(lambda: enqueue(run))
    # Outside any caller's transaction the hook has run by now; inside one it runs at that commit, and
    # a broker failure then still ends the run failed, only without this exception.
    if run.status == Status.FAILED:
        raise RunNotQueued(run)
    return run


def enqueue(run: TestRun) -> None:
    """Hand the run to the task broker; if the broker will not take it, end the run ``failed`` with why.

    A run no task will ever claim must not wait PENDING_TIMEOUT for the reaper: the caller learns of it
    from ``run.status`` (``start_run`` raises RunNotQueued).
    """
    from django_q.tasks import async_task

    try:
        task_id = async_task(TASK, str(run.pk), task_name=f"run-{run.pk}", group="runs")
    except Exception as exc:  # whatever the broker raised, no task exists: say so on the run
        unreachable = isinstance(exc, OSError) or type(exc).__name__ in ("ConnectionError", "TimeoutError")
        what = "is unreachable" if unreachable else "refused the task"
        message = f"Could not queue the run: the task broker ({broker_name()}) {what}: {exc}"
        logger.error("run %s: %s", run.pk, message)
        with transaction.atomic():
            if run.finish(Status.FAILED, message):
                run.log("error", message)
        return
    if task_id:
        TestRun.objects.filter(pk=run.pk).update(task_id=task_id)


def broker_name() -> str:
    """The task broker as an operator knows it, without credentials: "Redis at host:port" or the database."""
    from django_q.conf import Conf

    if Conf.REDIS:
        if isinstance(Conf.REDIS, str):
            url = urlsplit(Conf.REDIS)
            return f"Redis at {url.hostname}:{url.port or 6379}"
        return f"Redis at {Conf.REDIS.get('host', 'localhost')}:{Conf.REDIS.get('port', 6379)}"
    return "the database queue"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute_run(run_id) -> str:
    """Claim the run and process it entity by entity; returns the final status.

    A duplicate delivery, or a run cancelled while it waited, finds nothing to claim and does nothing.
    """
    run = TestRun.objects.filter(pk=run_id).first()
    if run is None or not run.claim(worker_name()):
        return run.status if run else "missing"
    logger.info("run %s claimed by %s", run.pk, run.worker)
    run.log("info", f"Started on {run.worker}.")
    stop = threading.Event()
    heartbeat = Heartbeat(run, stop)
    heartbeat.start()
    try:
        status, message = _process(run, stop)
    except Exception as exc:  # anything unexpected is ours, not the user's: log the traceback
        logger.exception("test run %s failed unexpectedly", run.pk)
        status, message = Status.FAILED, f"Internal error: {type(exc).__name__}: {exc}"
    finally:
        heartbeat.stop()
    # One transaction, so the poll that sees the run end also sees the event that says how it ended.
    with transaction.atomic():
        if run.finish(status, message):
            run.log("error" if status == Status.FAILED else "info", message or f"Run {status}.")
    logger.info("run %s %s", run.pk, run.status)
    return run.status


def _process(run: TestRun, stop: threading.Event) -> tuple[str, str]:
    options = RunOptions.from_dict(run.options)
    try:
        project = load_project(run.version.materialize())
        plan = shapeshift.plan(project, options.entities)
    except shapeshift.ConfigError as exc:
        return Status.FAILED, str(exc)
    _create_entity_results(run, plan)
    observer = RunObserver(run, stop)
    result = shapeshift.run(
        project,
        plan,
        max_rows=options.max_rows_per_entity,
        observer=observer,
        stop_on_error=options.stop_on_error,
        validate_foreign_keys=options.validate_foreign_keys,
        validate_constraints=options.validate_constraints,
        # Each table is written (file + preview) the moment it is final and then dropped: a full run
        # holds no more than the engine needs, instead of every table of the run until the end.
        keep_tables=False,
        on_table=observer.table_final,
        compact_text=True,  # text stays category: the same CSV and preview, a third of the memory
    )
    if result.cancelled:
        EntityResult.objects.filter(run=run, status=EntityResult.Status.PENDING).update(
            status=EntityResult.Status.CANCELLED
        )
        return Status.CANCELLED, ""
    return Status.COMPLETED, ""


def _create_entity_results(run: TestRun, plan) -> None:
    EntityResult.objects.bulk_create(
        EntityResult(run=run, position=position, entity=name, role=plan.role(name))
        for position, name in enumerate(plan.order)
    )
    TestRun.objects.filter(pk=run.pk).update(entities_total=len(plan.order))


def table_fields(run: TestRun, name: str, table) -> dict:
    """The EntityResult fields that describe a table: shape, dtypes, preview and the stored CSV."""
    from django.core.files.storage import default_storage

    # Quoted, so an entity called "a/b" is one file in the run's folder and never collides with "a_b".
    path = f"runs/{run.pk}/{quote(name, safe=' -_.')}.csv"
    if default_storage.exists(path):
        default_storage.delete(path)
    # Through a temporary file: a table of a million rows never becomes one string in memory.
    with tempfile.TemporaryFile() as csv_file:
        table.to_csv(csv_file, index=False, encoding="utf-8")
        csv_file.seek(0)
        stored = default_storage.save(path, File(csv_file))
    preview = table.head(PREVIEW_ROWS)
    return {
        "rows_out": len(table),
        "columns": [str(c) for c in table.columns],
        # Text the engine keeps as category is plain text (object) in the reference tool's tables.
        "dtypes": {str(c): "object" if str(t) == "category" else str(t) for c, t in table.dtypes.items()},
        "preview": _json_rows(preview),
        "output": stored,
    }


def _json_rows(frame) -> list[list]:
    """Rows as JSON-safe lists: missing values become None; the others keep their JSON type or become text."""
    import json

    return json.loads(frame.to_json(orient="values", date_format="iso", default_handler=str))


class RunObserver(shapeshift.Observer):
    """Writes the engine's progress to the database as it happens, and tells the engine when to stop.

    ``stop`` is shared with the run's heartbeat thread, which sets it when a beat finds the run
    ``cancelling``: that is how a cancel reaches a worker busy in one long phase.
    """

    def __init__(self, run: TestRun, stop: threading.Event | None = None):
        self.run = run
        self.stop = stop or threading.Event()
        self._checked_at = float("-inf")

    def entity_started(self, name: str) -> None:
        logger.info("run %s: entity %s started", self.run.pk, name)
        EntityResult.objects.filter(run=self.run, entity=name).update(status=EntityResult.Status.RUNNING)
        TestRun.objects.filter(pk=self.run.pk).update(current_entity=name, heartbeat_at=timezone.now())

    def entity_finished(self, outcome) -> None:
        fields = {
            "status": outcome.status,
            "rows_in": outcome.rows_in,
            "duration_ms": outcome.duration_ms,
            "warnings": list(outcome.warnings),
            "issues": [issue.to_dict() for issue in outcome.issues],
            "error": outcome.error or "",
            "traceback": outcome.traceback or "",
            "rows_out": outcome.rows_out,
            "columns": list(outcome.columns),
            "dtypes": dict(outcome.dtypes),
        }
        EntityResult.objects.filter(run=self.run, entity=outcome.name).update(**fields)
        if outcome.status != EntityResult.Status.CANCELLED:
            self.run.count_entity(outcome.status)
        if outcome.status == "failed":
            self.run.log("error", outcome.error or "failed", entity=outcome.name)
        elif outcome.status == "skipped":
            self.run.log("warning", outcome.error or "skipped", entity=outcome.name)

    def table_final(self, name: str, table) -> None:
        """Store an entity's final table (relinked and finalised): its file, preview, columns and dtypes.

        The engine calls this once the last entity reading the table is done, so for a table others
        depend on it comes after ``entity_finished``.
        """
        EntityResult.objects.filter(run=self.run, entity=name).update(**table_fields(self.run, name, table))

    def should_stop(self) -> bool:
        """Whether a cancel was requested: at most one query per CANCEL_CHECK_INTERVAL, none once it was."""
        if self.stop.is_set():
            return True
        now = time.monotonic()
        if now - self._checked_at < CANCEL_CHECK_INTERVAL:
            return False
        self._checked_at = now
        if TestRun.objects.filter(pk=self.run.pk, cancel_requested_at__isnull=False).exists():
            stop_requested(self.run, self.stop)
        return self.stop.is_set()


def stop_requested(run: TestRun, stop: threading.Event) -> None:
    """Raise the run's stop flag (once), and say so in the worker's log."""
    if not stop.is_set():
        stop.set()
        logger.info("run %s: cancel requested, stopping at the next checkpoint", run.pk)


class Heartbeat:
    """Writes the run's heartbeat every HEARTBEAT_INTERVAL seconds from a thread while the run works.

    A thread, not the engine's callbacks, so that one long pandas operation cannot look like a dead
    worker. It dies with the process: a killed worker stops beating and the reaper notices. A beat that
    finds the run ``cancelling`` raises the ``stop`` flag the engine's observer reads at no cost.
    """

    def __init__(self, run: TestRun, stop: threading.Event | None = None):
        self.run = run
        self.stop_event = stop or threading.Event()
        self.interval = settings.HEARTBEAT_INTERVAL
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run.short_id}", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                close_old_connections()
                if self.run.beat():
                    stop_requested(self.run, self.stop_event)
        except Exception:
            logger.exception("heartbeat of run %s failed", self.run.pk)
        finally:
            connection.close()
