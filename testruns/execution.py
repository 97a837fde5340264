"""Starting and executing test runs: the one place where the engine meets the database.

``start_run`` is the single entry point used by the page, the API and the ``run_test`` command, and
``rerun_run`` the one for re-runs (page, admin); ``execute_run`` is what a worker does with a run id.
"""

import logging
import os
import socket
import threading
import time
from dataclasses import replace
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone

import shapeshift
from configurations.loading import load_version
from configurations.storage import FolderSync, StagedFile
from testruns import explorer
from testruns.checks import RunChecks, check_phase
from testruns.inputs import GivenInput, local_copy
from testruns.models import NO_PHASE, EntityResult, NoVersionToRun, RunLost, RunNotQueued, Status, TestRun
from testruns.options import RunOptions
from testruns.templatetags.shiftbench import count, duration

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 50
# The engine asks between every phase of every entity; the database is asked at most this often (seconds).
CANCEL_CHECK_INTERVAL = 0.5
# An entity's phases are written at most this often (seconds), its first phase at once (``RunObserver``).
PHASE_WRITE_INTERVAL = 0.5
TASK = "testruns.tasks.execute_run"
# The errors of a database that is away (down, restarting, out of connections), not of a bad query.
DATABASE_DOWN = (OperationalError, InterfaceError)
# A worker whose run the database failed waits this long for it (seconds) to record what happened,
# trying again every RECONNECT_INTERVAL; after that the reaper ends the run.
DATABASE_WAIT = 600
RECONNECT_INTERVAL = 1


def start_run(
    version, options: RunOptions, user=None, background: bool = True, given_input: GivenInput | None = None
) -> TestRun:
    """Create a pending run of ``version`` and enqueue it once the transaction commits.

    ``given_input`` is the table given as the default entity (``testruns.inputs``), already checked; its
    sha256 and entity name go into the options. Raises InvalidOptions when the options cannot run on this
    configuration. With ``background=False`` nothing is enqueued: the caller runs it itself with
    ``execute_run`` (``run_test --sync``), so no worker can take it as well.
    """
    options = _with_input(options, given_input).checked(version.validation.get("entities"))
    with transaction.atomic():
        run = TestRun.objects.create(
            configuration=version.configuration,
            version=version,
            options=options.to_dict(),
            requested_by=user,
            input=given_input.run_input if given_input else None,
        )
        if background:
            transaction.on_commit(lambda: enqueue(run))
    # Outside any caller's transaction the hook has run by now; inside one it runs at that commit, and
    # a broker failure then still ends the run failed, only without this exception.
    if run.status == Status.FAILED:
        raise RunNotQueued(run)
    return run


def rerun_run(run: TestRun, user=None, current_version: bool = False) -> TestRun:
    """Start a new run with ``run``'s options, of the same version or of the configuration's current one.

    Returns the new (pending) run, started by ``start_run``, with ``run``'s input table if it had one
    (reads ``run.input`` unless loaded with the run). Raises InvalidOptions when the options no
    longer fit the version (an entity they name was removed), NoVersionToRun when the configuration has no
    current version, and RunNotQueued as ``start_run`` does. Reads ``run.configuration`` (a query unless
    loaded with the run, e.g. ``TestRun.objects.for_page()``) when ``current_version`` is set.
    """
    version = run.configuration.current_version if current_version else run.version
    if version is None:
        raise NoVersionToRun(f"Configuration {run.configuration.name} has no current version to run.")
    options = RunOptions.from_dict(run.options)
    given_input = GivenInput(run.input, options.default_entity) if run.input_id else None
    return start_run(version, options, user, given_input=given_input)


def _with_input(options: RunOptions, given_input: GivenInput | None) -> RunOptions:
    if given_input is None:
        return replace(options, input=None, default_entity=None)
    return replace(options, input=given_input.run_input.sha256, default_entity=given_input.default_entity)


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


COPIES_TASK = "testruns.tasks.store_table_copies"


def enqueue_table_copies(run: TestRun) -> None:
    """Have a worker write the explorer's copies of the run's tables once the run has ended.

    Off the run's own time: a copy costs about as much as writing the CSV. Optional too: a table without
    one gets it on its first visit (explorer.open_table), so a broker that refuses the task loses nothing.
    """
    from django_q.tasks import async_task

    try:
        async_task(COPIES_TASK, str(run.pk), task_name=f"copies-{run.pk}", group="copies")
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning("run %s: explorer copies not queued (%s); made on first visit instead", run.pk, exc)


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

    A duplicate delivery, or a run cancelled while it waited, finds nothing to claim and does nothing. A
    worker that finds its run ended by someone else (RunLost) stops at once and writes nothing more; one
    that loses the database ends the run ``failed`` with what happened, once the database is back.
    """
    run = TestRun.objects.filter(pk=run_id).first()
    if run is None or not run.claim(worker_name()):
        return run.status if run else "missing"
    logger.info("run %s claimed by %s", run.pk, run.worker)
    outage = DatabaseOutage()
    stop = threading.Event()
    heartbeat = Heartbeat(run, stop, outage)
    heartbeat.start()
    tables = FolderSync(run.folder)  # the run's tables go to the disk as they are stored, all before its end
    try:
        status, message = _attempt(run, stop, outage, tables)
        status, message = _tables_to_disk(run, tables, status, message)
    except RunLost:
        heartbeat.stop()
        return _stop_lost(run, outage)
    except KeyboardInterrupt:  # Ctrl-C in `run_test --sync`, which ends the run: its tables first
        _tables_to_disk(run, tables, Status.CANCELLED, "")
        raise
    finally:
        heartbeat.stop()
    status = _end_run(run, status, message, outage)
    enqueue_table_copies(run)
    logger.info("run %s %s", run.pk, status)
    return status


def _attempt(
    run: TestRun, stop: threading.Event, outage: "DatabaseOutage", tables: FolderSync
) -> tuple[str, str | None]:
    """Process the run; its status and message, the message None when the database failed the worker."""
    try:
        with run.claimed_write():
            run.log("info", f"Started on {run.worker}.")
        return _process(run, stop, outage, tables)
    except RunLost:
        raise
    except DATABASE_DOWN as exc:
        outage.failed(exc)
        logger.error("run %s: the database failed the worker: %s", run.pk, outage.error)
        return Status.FAILED, None  # the message says what happened, once the database is back
    except Exception as exc:  # anything unexpected is ours, not the user's: log the traceback
        logger.exception("test run %s failed unexpectedly", run.pk)
        return Status.FAILED, f"Internal error: {type(exc).__name__}: {exc}"


def _tables_to_disk(
    run: TestRun, tables: FolderSync, status: str, message: str | None
) -> tuple[str, str | None]:
    """Wait until the run's tables are on the disk, before its end is written: a run that says it ended has
    them, also after a power cut (they are stored ``durable=False`` and synced by a thread meanwhile). A
    disk that refuses fails the run, saying so.
    """
    try:
        tables.finish()
    except OSError as exc:
        why = f"The run's tables could not be written to the disk: {exc.strerror or exc}."
        logger.error("run %s: %s", run.pk, why)
        if message is None:  # the database failed too: its message comes when it is back
            return Status.FAILED, None
        return Status.FAILED, f"{message} {why}" if message else why
    return status, message


def _stop_lost(run: TestRun, outage: "DatabaseOutage") -> str:
    """The run is no longer this worker's: leave it as it is, adding only why, if the worker knows."""
    report = outage.recovered()
    if report:
        run.explain_crash(report)
    current = TestRun.objects.filter(pk=run.pk).values_list("status", flat=True).first() or "deleted"
    logger.warning(
        "run %s is no longer this worker's (it is %s): stopped, nothing more written", run.pk, current
    )
    return current


def _end_run(run: TestRun, status: str, message: str | None, outage: "DatabaseOutage") -> str:
    """Write the run's final state and the event that says how it ended; returns the run's status.

    ``message`` None means the database failed the run: the database is waited for (up to DATABASE_WAIT
    seconds, then the run is left to the reaper) and the message says what happened. A run the reaper
    marked crashed meanwhile keeps its state, with the worker's reason added.
    """
    deadline = time.monotonic() + DATABASE_WAIT
    report = ""
    while True:
        try:
            if outage.active:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            report = report or outage.recovered()
            # One transaction, so the poll that sees the run end also sees the event that says how it ended.
            with transaction.atomic():
                if run.finish(status, message or report):
                    # run.status, not status: a run asked to end completed ends with its verdict.
                    failed = run.status == Status.FAILED and run.summary
                    ended = f"Run failed: {run.summary}." if failed else f"Run {run.status}."
                    run.log("error" if run.status == Status.FAILED else "info", message or report or ended)
                    if message and report:
                        run.log("warning", report)
                    return run.status
            if report:
                run.explain_crash(report)
            return run.status
        except DATABASE_DOWN as exc:
            outage.failed(exc)
            if time.monotonic() >= deadline:
                logger.error(
                    "run %s: no database for %d s; left to the reaper: %s", run.pk, DATABASE_WAIT, exc
                )
                return run.status
            time.sleep(RECONNECT_INTERVAL)
            close_old_connections()


def _process(
    run: TestRun,
    stop: threading.Event,
    outage: "DatabaseOutage | None" = None,
    tables: FolderSync | None = None,
) -> tuple[str, str]:
    options = RunOptions.from_dict(run.options)
    try:
        bundle = run.version.bundle()
    except OSError as exc:  # a full disk under VAR_DIR, say: the user cannot fix it, but must see it
        return Status.FAILED, f"The configuration's files could not be prepared for the run: {exc}"
    try:
        project = load_version(run.version, bundle)
        plan = shapeshift.plan(project, options.entities, default_entity=options.default_entity)
    except shapeshift.ConfigError as exc:
        return Status.FAILED, str(exc)
    try:
        inputs = run_inputs(run, options)
    except OSError as exc:
        return Status.FAILED, f"The input table could not be prepared for the run: {exc}"
    _create_entity_results(run, plan)
    checks = RunChecks.prepare(run, project, str(bundle.main.parent))  # None: nothing to check
    observer = RunObserver(run, stop, outage, checks, tables)
    result = shapeshift.run(
        project,
        plan,
        inputs=inputs,
        max_rows=options.max_rows_per_entity,
        observer=observer,
        stop_on_error=options.stop_on_error,
        validate_foreign_keys=options.validate_foreign_keys,
        validate_constraints=options.validate_constraints,
        # Each table is written (file + preview) the moment it is final and then dropped: a full run
        # holds no more than the engine needs, instead of every table of the run until the end.
        keep_tables=False,
        on_table=planned_tables(plan, observer.table_final),
        compact_text=True,  # text stays category: the same CSV and preview, a third of the memory
    )
    if result.cancelled:
        return Status.CANCELLED, ""  # finish() ends the entities that never started cancelled
    if checks is not None and not check_phase(run, checks, observer.should_stop):
        return Status.CANCELLED, ""
    return Status.COMPLETED, ""  # the engine ran to its end; finish() turns this into the run's verdict


def run_inputs(run: TestRun, options: RunOptions) -> dict:
    """``{default entity: local path}`` of the run's input table for ``shapeshift.run``; {} without one.

    Reads ``run.input`` and its stored file. Raises OSError when the stored input is missing or corrupt.
    """
    if run.input_id is None:
        return {}
    return {options.default_entity: local_copy(run.input)}


def planned_tables(plan, store):
    """``store`` for the tables of the plan's entities only: an input table standing for an entity the
    configuration does not declare has no entity result to go with, and is stored already as the input."""
    planned = set(plan.order)

    def on_table(name: str, table) -> None:
        if name in planned:
            store(name, table)

    return on_table


def _create_entity_results(run: TestRun, plan) -> None:
    with run.claimed_write(entities_total=len(plan.order)):
        EntityResult.objects.bulk_create(
            EntityResult(run=run, position=position, entity=name, role=plan.role(name))
            for position, name in enumerate(plan.order)
        )


def table_fields(run: TestRun, name: str, table) -> dict:
    """The EntityResult fields that describe a table: shape, dtypes, preview and the stored CSV.

    The CSV is written in chunks beside its final name and renamed into place when whole, its size and
    sha256 taken on the way by a thread (StagedFile, background): a full disk leaves no short table, only
    an OSError, and the partial file is removed.
    """
    # Quoted, so an entity called "a/b" is one file in the run's folder and never collides with "a_b".
    path = f"{run.folder}/{quote(name, safe=' -_.')}.csv"
    # Not durable one by one: the run hands its folder to the disk once, before it ends (_tables_to_disk).
    with StagedFile(run.folder, background=True, durable=False) as staged:
        shapeshift.write_csv(table, staged.writer)  # the bytes of to_csv(index=False), several times faster
        written = staged.commit(path)
    # Text the engine keeps as category is plain text (object) in the reference tool's tables.
    dtypes = {str(c): "object" if str(t) == "category" else str(t) for c, t in table.dtypes.items()}
    preview = table.head(PREVIEW_ROWS)
    return {
        "rows_out": len(table),
        "columns": [str(c) for c in table.columns],
        "dtypes": dtypes,
        "preview": _json_rows(preview),
        "output": written.name,
        "output_size": written.size,
        "output_sha256": written.sha256,
    }


def _json_rows(frame) -> list[list]:
    """Rows as JSON-safe lists, long texts cut and the whole bounded (see ``testruns.previews``)."""
    from testruns.previews import preview_rows

    return preview_rows(frame)


# How much of an entity's first warning its event quotes; the entity's page has them all.
WARNING_QUOTED = 200


def entity_event(outcome) -> tuple[str, str] | None:
    """The level and message of the event that says what an entity did (the run page's log), or None for
    an entity the cancel stopped (the run's own end says so).

    "12,000 rows in → 8,000 out in 1.2 s; 2 warnings, the first: …", "failed after 0.4 s: <why>",
    "skipped: <why>".
    """
    status = shapeshift.EntityStatus
    if outcome.status == status.CANCELLED:
        return None
    if outcome.status == status.SKIPPED:
        return "warning", f"skipped: {outcome.error or 'not processed'}"
    took = duration(outcome.duration_ms)
    if outcome.status == status.FAILED:
        read = f" ({count(outcome.rows_in)} rows in)" if outcome.rows_in is not None else ""
        return "error", f"failed after {took}{read}: {outcome.error or 'no reason given'}"
    rows_in = "?" if outcome.rows_in is None else count(outcome.rows_in)
    rows_out = "?" if outcome.rows_out is None else count(outcome.rows_out)
    message = f"{rows_in} rows in → {rows_out} out in {took}"
    if not outcome.warnings:
        return "info", message
    first = str(outcome.warnings[0])
    if len(first) > WARNING_QUOTED:
        first = first[: WARNING_QUOTED - 1] + "…"
    noun = "warning" if len(outcome.warnings) == 1 else "warnings"
    return "warning", f"{message}; {count(len(outcome.warnings))} {noun}, the first: {first}"


class RunObserver(shapeshift.Observer):
    """Writes the engine's progress to the database as it happens, and tells the engine when to stop.

    ``stop`` is shared with the run's heartbeat thread, which sets it when a beat finds the run
    ``cancelling``: that is how a cancel reaches a worker busy in one long phase. Every write is a
    ``claimed_write``: once the run is no longer this worker's, RunLost ends the engine's run.
    """

    def __init__(
        self,
        run: TestRun,
        stop: threading.Event | None = None,
        outage: "DatabaseOutage | None" = None,
        checks: RunChecks | None = None,
        tables: FolderSync | None = None,
    ):
        self.run = run
        self.stop = stop or threading.Event()
        self.outage = outage or DatabaseOutage()
        self.checks = checks  # what the checks after the entities read of each final table
        self.tables = tables or FolderSync(run.folder)  # syncs each stored table while the run goes on
        self._checked_at = float("-inf")
        self._phase_entity = ""  # the entity of the last phase heard, and the rows it has read so far
        self._rows_in = None
        self._unwritten: dict | None = None  # a phase heard but not written yet (too soon after the last)
        self._phase_written_at = float("-inf")

    def entity_started(self, name: str) -> None:
        with self.run.claimed_write(current_entity=name, **NO_PHASE):
            EntityResult.objects.filter(run=self.run, entity=name).update(status=EntityResult.Status.RUNNING)
        logger.info("run %s: entity %s started", self.run.pk, name)  # after the commit: tests wait for it

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
        if outcome.name == self._phase_entity:
            self._unwritten = None  # its last phase is over: not worth a write any more
        counted = outcome.status != shapeshift.EntityStatus.CANCELLED
        event = entity_event(outcome)
        # Its phase ends with it: what reads the run alone (run_test --wait) must not say it goes on.
        with self.run.claimed_write(
            **NO_PHASE, **(TestRun.entity_counters(outcome.status) if counted else {})
        ):
            EntityResult.objects.filter(run=self.run, entity=outcome.name).update(**fields)
            if event is not None:
                self.run.log(*event, entity=outcome.name)

    def entity_phase(self, name: str, phase: str, rows: int | None = None) -> None:
        """Note the phase the current entity begins, with its rows, for the run page and the API.

        At most one write per phase and none sooner than PHASE_WRITE_INTERVAL after the last, but for an
        entity's first phase, so a run of many small entities costs one write each. A phase not written
        waits for the next phase or checkpoint (``should_stop``) past the interval; a newer one replaces it.
        The rows read so far add up the sources' rows, which the engine gives as each part's subset begins.
        """
        if name != self._phase_entity:
            self._phase_entity, self._rows_in = name, None
            self._phase_written_at = float("-inf")
        if phase == "subset" and rows is not None:
            self._rows_in = (self._rows_in or 0) + rows
        self._unwritten = {"current_phase": phase, "current_rows": rows, "current_rows_in": self._rows_in}
        self._write_phase()

    def _write_phase(self) -> None:
        now = time.monotonic()
        if self._unwritten is None or now - self._phase_written_at < PHASE_WRITE_INTERVAL:
            return
        self._phase_written_at = now
        try:
            with self.run.claimed_write(**self._unwritten):
                pass
        except DATABASE_DOWN as exc:  # a progress note is not worth failing the entity: tried again later
            self.outage.failed(exc)
            return
        self._unwritten = None

    def table_final(self, name: str, table) -> None:
        """Store an entity's final table (relinked and finalised): its file, preview, columns and dtypes.

        The engine calls this once the last entity reading the table is done, so for a table others
        depend on it comes after ``entity_finished``. A table that cannot be stored (a full disk) fails its
        entity with the reason, and the run goes on: the next tables may be smaller. A file written for a run
        that turns out to be lost is deleted again: nothing of this worker stays under a run that is no
        longer its own. A stored table is handed to the run's checks, which keep what they read of it.
        """
        from django.core.files.storage import default_storage

        try:
            fields = table_fields(self.run, name, table)
        except OSError as exc:
            with self.run.claimed_write():
                self.run.fail_entity(name, f"Its table could not be stored: {exc.strerror or exc}.")
            return
        try:
            with self.run.claimed_write():
                EntityResult.objects.filter(run=self.run, entity=name).update(**fields)
        except RunLost:
            default_storage.delete(fields["output"])
            default_storage.delete(explorer.copy_name(fields["output"]))
            raise
        self.tables.add(fields["output"])
        if self.checks is not None:
            self.checks.keep(name, table)

    def should_stop(self) -> bool:
        """Whether a cancel was requested: at most one query per CANCEL_CHECK_INTERVAL, none once it was.

        Raises RunLost when that query finds the run no longer this worker's. A database error here only
        notes the outage: the next write tells whether the run can go on.
        """
        if self.stop.is_set():
            return True
        self._write_phase()
        now = time.monotonic()
        if now - self._checked_at < CANCEL_CHECK_INTERVAL:
            return False
        self._checked_at = now
        try:
            row = TestRun.objects.filter(pk=self.run.pk).values_list(
                "status", "claim_token", "cancel_requested_at"
            )
            state = row.first()
        except DATABASE_DOWN as exc:
            self.outage.failed(exc)
            return False
        if (
            state is None
            or state[0] not in (Status.RUNNING, Status.CANCELLING)
            or state[1] != self.run.claim_token
        ):
            raise RunLost(self.run)
        if state[2] is not None:
            stop_requested(self.run, self.stop)
        return self.stop.is_set()


def stop_requested(run: TestRun, stop: threading.Event) -> None:
    """Raise the run's stop flag (once), and say so in the worker's log."""
    if not stop.is_set():
        stop.set()
        logger.info("run %s: cancel requested, stopping at the next checkpoint", run.pk)


class DatabaseOutage:
    """A worker's record of the database failing it: since when, and the first error, until it answers again.

    Shared by the run's thread and its heartbeat thread; ``recovered`` turns it into the sentence the run's
    event log and error show.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.since = None
        self._started = 0.0
        self.error = ""

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: Exception) -> None:
        with self._lock:
            if self.since is None:
                self.since, self._started = timezone.now(), time.monotonic()
                self.error = f"{type(exc).__name__}: {exc}".strip()

    def recovered(self) -> str:
        """What happened, once a query succeeded again ("" if nothing did); the record starts over."""
        with self._lock:
            if self.since is None:
                return ""
            seconds = round(time.monotonic() - self._started)
            since = timezone.localtime(self.since).strftime("%H:%M:%S")
            self.since = None
            return f"Database unreachable from {since} for {seconds} s: {self.error}"


class Heartbeat:
    """Writes the run's heartbeat every HEARTBEAT_INTERVAL seconds from a thread while the run works.

    A thread, not the engine's callbacks, so that one long pandas operation cannot look like a dead
    worker. It dies with the process: a killed worker stops beating and the reaper notices. A beat that
    finds the run ``cancelling`` raises the ``stop`` flag the engine's observer reads at no cost; one that
    finds the run no longer this worker's raises it too, and the engine's next write meets RunLost. A
    database error does not stop the beating: the outage is noted, and logged on the run when a beat
    gets through again.
    """

    def __init__(
        self, run: TestRun, stop: threading.Event | None = None, outage: DatabaseOutage | None = None
    ):
        self.run = run
        self.stop_event = stop or threading.Event()
        self.outage = outage or DatabaseOutage()
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
                if not self.beat_once():
                    break
        except Exception:
            logger.exception("heartbeat of run %s failed", self.run.pk)
        finally:
            connection.close()

    def beat_once(self) -> bool:
        """One beat; False once the run is no longer this worker's (there is nothing more to beat for)."""
        try:
            cancelling = self.run.beat()
        except RunLost:
            report = self.outage.recovered()
            if report:
                self.run.explain_crash(report)
            if not self.stop_event.is_set():
                self.stop_event.set()
                logger.warning(
                    "run %s: no longer this worker's, stopping at the next checkpoint", self.run.pk
                )
            return False
        except DATABASE_DOWN as exc:
            if not self.outage.active:
                logger.error("run %s: heartbeat: database unreachable: %s", self.run.pk, exc)
            self.outage.failed(exc)
            return True
        report = self.outage.recovered()
        if report:
            logger.warning("run %s: %s", self.run.pk, report)
            try:
                with self.run.claimed_write():
                    self.run.log("warning", report)
            except RunLost:
                return self.beat_once()
        if cancelling:
            stop_requested(self.run, self.stop_event)
        return True
