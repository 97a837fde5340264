"""Test runs of a configuration version, their per-entity results and their event log."""

import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from shapeshift import EntityStatus
from testruns.fields import OrderedJSONField
from testruns.findings import findings_of, severity_counts
from testruns.pagination import Cursor, RunPage


class Status(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CRASHED = "crashed"


ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING, Status.CANCELLING)
FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.CRASHED)
# What a run's verdict is read from (``TestRun.verdict``).
# How many earlier runs ``TestRun.previous_run`` looks through for one with the same options.
PREVIOUS_SCAN = 50
COUNTERS = [
    "entities_total",
    "entities_completed",
    "entities_succeeded",
    "entities_failed",
    "entities_skipped",
    "checks_total",
    "checks_failed",
]
# The current entity's phase, cleared when an entity starts and when the run ends (``TestRun.current_phase``).
NO_PHASE = {"current_phase": "", "current_rows": None, "current_rows_in": None}


class TestRunQuerySet(models.QuerySet):
    """Sets of runs, and runs loaded with what a page, the API, an export or a comparison reads.

    Each loading method says what it costs; the functions that use its runs then touch the database no more.
    """

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def for_list(self):
        """What the history and dashboard tables show, in a single query.

        Not the version's YAML and validation: a real version carries ~30 kB of each, and a page of 50
        runs would read and decode them 50 times to show "v3".
        """
        return (
            self.select_related("configuration", "version", "requested_by")
            .defer("version__yaml_text", "version__validation")
            .order_by("-created_at", "-pk")
        )

    def for_page(self):
        """Runs with what their pages show beside them, in the runs' own query.

        Beside a run: its configuration with the current version (for "re-run on current"), its version
        and its requester.
        """
        return self.select_related(
            "configuration__current_version", "version", "requested_by", "input__stored"
        )

    def with_results(self, previews: bool = True):
        """Runs with what the result object reads (``testruns.serializers``) and what a comparison reads
        (``testruns.compare``): configuration, version, requester and entity results in position order.

        Two queries however many runs and entities. Without ``previews`` the entity rows are loaded without
        their preview, traceback and dtypes, which are most of their weight.
        """
        results = EntityResult.objects.order_by("position")
        if not previews:
            results = results.defer("preview", "traceback", "dtypes")
        return self._with(results)

    def for_export(self):
        """Runs with what the exports read (``testruns.exports``): configuration, version, requester and
        entity results (with their tracebacks and dtypes, without their previews). Two queries.
        """
        return self._with(EntityResult.objects.order_by("position").defer("preview"))

    def _with(self, results):
        return self.select_related(
            "configuration", "version", "requested_by", "input__stored"
        ).prefetch_related(models.Prefetch("entity_results", queryset=results))

    def prunable(self):
        """Runs retention may ever delete: finished, not pinned and no configuration's baseline."""
        # NOT IN a subquery rather than a join: retention locks these rows (SELECT … FOR UPDATE), which
        # PostgreSQL refuses on the nullable side of an outer join.
        return self.filter(status__in=FINAL_STATUSES, pinned=False).exclude(
            pk__in=Baseline.objects.values("run_id")
        )

    def to_prune(self, older_than: timedelta | None = None, keep_last: int | None = None, now=None):
        """The prunable runs that the rules say may go, oldest first (see ``testruns.retention``).

        ``older_than``: created longer ago than this. ``keep_last``: beyond the newest N prunable runs of
        their configuration (pinned, active and baseline runs are kept anyway and do not count towards N).
        With both rules a run must break both; with neither, nothing is returned. One query when read (the
        ranking is a subquery). ValueError for a negative rule.
        """
        if older_than is None and keep_last is None:
            return self.none()
        if keep_last is not None and keep_last < 0:
            raise ValueError(f"keep_last must be 0 or more, not {keep_last}")
        if older_than is not None and older_than < timedelta(0):
            raise ValueError(f"older_than must not be negative, not {older_than}")  # every run would be "old"
        runs = self.prunable()
        if keep_last is not None:
            # Ranked in a subquery of its own: filtering the age in the same query would rank only the old
            # runs.
            ranked = self.prunable().annotate(
                newest=Window(
                    RowNumber(),
                    partition_by=F("configuration_id"),
                    order_by=[F("created_at").desc(), F("pk").desc()],
                )
            )
            runs = runs.filter(pk__in=ranked.filter(newest__gt=keep_last).values("pk"))
        if older_than is not None:
            runs = runs.filter(created_at__lt=(now or timezone.now()) - older_than)
        return runs.order_by("created_at", "pk")

    def annotate_last_run(self, configurations):
        """``configurations`` (a queryset of them) with the latest of these runs of each: ``last_run_id``,
        ``last_run_status`` and ``last_run_at``, None for a configuration never run.

        No query of its own: three subqueries in the configurations' query, each a one-row range scan of
        the (configuration, -created_at, -id) index, so a list of configurations stays one query.
        """
        latest = self.filter(configuration=OuterRef("pk")).order_by("-created_at", "-pk")
        return configurations.annotate(
            last_run_id=Subquery(latest.values("pk")[:1]),
            last_run_status=Subquery(latest.values("status")[:1]),
            last_run_at=Subquery(latest.values("created_at")[:1]),
        )

    def older_than(self, cursor: Cursor):
        """Runs after ``cursor`` in the history's order (-created_at, -pk).

        ``created_at <= c`` on its own gives every index on (…, created_at, id) a range to scan; the OR
        only drops the ties. (A row comparison would say it in one term, but the ORM has none.)
        """
        return self.filter(
            Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, pk__lt=cursor.pk),
            created_at__lte=cursor.created_at,
        )

    def newer_than(self, cursor: Cursor):
        """Runs before ``cursor`` in the history's order (see ``older_than``)."""
        return self.filter(
            Q(created_at__gt=cursor.created_at) | Q(created_at=cursor.created_at, pk__gt=cursor.pk),
            created_at__gte=cursor.created_at,
        )

    def keyset_page(self, size: int, before: Cursor | None = None, after: Cursor | None = None) -> RunPage:
        """One page of ``size`` runs, newest first: the first page, or the page older than ``before`` or
        newer than ``after``.

        One query (``size + 1`` rows, the extra one only tells whether there is more), no COUNT and no
        OFFSET: the 2,000th page costs what the first does. The links of the page are cursors of its
        first and last run.
        """
        if after is not None:
            rows = list(self.newer_than(after).order_by("created_at", "pk")[: size + 1])
            more_newer = len(rows) > size
            rows = rows[:size][::-1]
            return RunPage(
                rows,
                newer=Cursor.of(rows[0]) if more_newer else None,
                older=Cursor.of(rows[-1]) if rows else None,
                is_first=False,
            )
        runs = self if before is None else self.older_than(before)
        rows = list(runs.order_by("-created_at", "-pk")[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        return RunPage(
            rows,
            newer=Cursor.of(rows[0]) if before is not None and rows else None,
            older=Cursor.of(rows[-1]) if more_older else None,
            is_first=before is None,
        )

    def stale_running(self, now=None):
        """Running or cancelling runs whose worker has not sent a heartbeat within HEARTBEAT_TIMEOUT."""
        now = now or timezone.now()
        cutoff = now - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
        return self.filter(status__in=(Status.RUNNING, Status.CANCELLING)).filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        )

    def ran_to_the_end(self):
        """Runs whose engine went through every entity: ``completed``, or ``failed`` by the verdict alone.

        A run failed by the verdict (an entity failed or was skipped) has no ``error_message``; one that
        could not start or carry on has, and so do cancelled and crashed runs (not included).
        """
        return self.filter(status__in=(Status.COMPLETED, Status.FAILED), error_message="")

    def verify_folders(self, repair: bool = False):
        """Check the run folders of the media storage (``runs/<id>/``): a folder whose run no longer exists
        was left by a crash between deleting the run and its files. With ``repair`` it is deleted.

        Returns a Verified whose ``folders`` are the folders of runs that exist. Lists ``runs/``, reads no
        file. The folders are listed before the runs are read: a run's folder is made only once its run
        is committed, so a run started meanwhile is found.
        """
        from django.core.files.storage import default_storage

        from configurations.storage import Finding, Verified

        verified = Verified()
        try:
            names, _ = default_storage.listdir("runs")
        except FileNotFoundError:
            names = []
        existing = {str(pk) for pk in self.filter(pk__in=_uuids(names)).values_list("pk", flat=True)}
        for name in sorted(names):
            verified.checked += 1
            folder = f"runs/{name}"
            if name in existing:
                verified.folders.append(folder)
                continue
            finding = Finding(f"run folder {folder}", "its run no longer exists")
            if repair:
                _delete_run_files(default_storage, folder, [])
                finding.action, finding.fixed = "deleted with its files", True
            verified.findings.append(finding)
        return verified

    def stale_pending(self, now=None):
        """Pending runs that no worker has taken within PENDING_TIMEOUT."""
        now = now or timezone.now()
        return self.filter(
            status=Status.PENDING, created_at__lt=now - timedelta(seconds=settings.PENDING_TIMEOUT)
        )


class TestRun(models.Model):
    """One test run of one configuration version with one set of options.

    ``status`` answers "where is the run in its life, and did it do what was asked" (see DESIGN.md §5): a
    run that ran to its end is ``completed`` only when its verdict says so (``verdict``), else ``failed``.
    Why it failed is derived from the counters (``summary``), never stored beside them, so the two cannot
    drift; ``error_message`` is kept for a run that could not start or go on (the counters cannot say that).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    configuration = models.ForeignKey(
        "configurations.Configuration", on_delete=models.CASCADE, related_name="runs"
    )
    version = models.ForeignKey(
        "configurations.ConfigurationVersion", on_delete=models.PROTECT, related_name="runs"
    )
    options = models.JSONField(default=dict)
    # The table given as the default entity, if any; ``options`` holds its sha256 ("input") and the entity's
    # name ("default_entity") for what compares runs like with like.
    input = models.ForeignKey(
        "RunInput", null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that claimed it")
    # Written by the claim; every later write of that worker is guarded by it (see ``claimed_write``).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    current_entity = models.CharField(max_length=200, blank=True)
    # The current entity's phase as the engine names it (load, subset, filter, link, …), the rows of the
    # table that phase started from, and the rows the entity has read from its sources so far; null when
    # the engine does not know them. Written by the worker at most every half second (``RunObserver``).
    current_phase = models.CharField(max_length=20, blank=True)
    current_rows = models.PositiveBigIntegerField(null=True, blank=True)
    current_rows_in = models.PositiveBigIntegerField(null=True, blank=True)
    entities_total = models.PositiveIntegerField(default=0)
    entities_completed = models.PositiveIntegerField(default=0)
    entities_succeeded = models.PositiveIntegerField(default=0)
    entities_failed = models.PositiveIntegerField(default=0)
    entities_skipped = models.PositiveIntegerField(default=0)
    # The checks run after the entities (``RunCheck``): how many, and how many failed at error level.
    checks_total = models.PositiveIntegerField(default=0)
    checks_failed = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    pinned = models.BooleanField(default=False)

    objects = TestRunQuerySet.as_manager()
    __test__ = False  # not a pytest test class, despite its name

    class Meta:
        ordering = ["-created_at"]
        # The history pages in (-created_at, -id) order, whatever it is filtered by: each index ends with
        # both, so a page is a range scan that stops after 51 rows, on SQLite as on PostgreSQL.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="run_created"),
            models.Index(fields=["configuration", "-created_at", "-id"], name="run_config_created"),
            models.Index(fields=["status", "-created_at", "-id"], name="run_status_created"),
            models.Index(
                fields=["configuration", "status", "-created_at", "-id"], name="run_config_status_created"
            ),
            models.Index(fields=["requested_by", "-created_at", "-id"], name="run_user_created"),
            models.Index(fields=["version", "-created_at", "-id"], name="run_version_created"),
        ]

    def __str__(self):
        return f"{self.configuration_id} run {self.short_id}"

    def get_absolute_url(self):
        return reverse("testruns:detail", args=[self.pk])

    @property
    def short_id(self) -> str:
        return str(self.pk)[:8]

    @property
    def folder(self) -> str:
        """The run's folder in the storage: its tables (and the explorer's copies of them)."""
        return f"runs/{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def shortfalls(self) -> list[str]:
        """What keeps the run from ``completed``, from its counters: ["19 entities failed", "33 skipped"].

        Empty when every planned entity succeeded and no error-level check failed. Entities a finished run
        never finished (crashed, cancelled, never reached) count too, so without checks an empty list means
        exactly "succeeded == total". Error-level check failures join the list ("2 checks failed"). No query.
        """
        return self._shortfalls(ended=not self.is_active)

    def _shortfalls(self, ended: bool) -> list[str]:
        noun = "entity" if self.entities_failed == 1 else "entities"
        parts = [f"{self.entities_failed:,} {noun} failed"] if self.entities_failed else []
        if self.entities_skipped:
            noun = "" if parts else (" entity" if self.entities_skipped == 1 else " entities")
            parts.append(f"{self.entities_skipped:,}{noun} skipped")
        unfinished = self.entities_total - self.entities_completed
        if unfinished > 0 and ended:
            noun = "" if parts else (" entity" if unfinished == 1 else " entities")
            parts.append(f"{unfinished:,}{noun} not finished")
        if self.checks_failed:
            parts.append(f"{self.checks_failed:,} {'check' if self.checks_failed == 1 else 'checks'} failed")
        return parts

    @property
    def summary(self) -> str:
        """Why the run did not succeed ("19 entities failed, 33 skipped"); "" if nothing went wrong.

        Live while the run works (failures so far); a run that could not start says why in ``error_message``.
        """
        return ", ".join(self.shortfalls())

    def verdict(self) -> str:
        """The final status of a run whose engine ran to its end: ``completed`` when nothing falls short
        (``shortfalls``), else ``failed``. The one place that rule lives; no query.
        """
        return Status.FAILED if self._shortfalls(ended=True) else Status.COMPLETED

    @property
    def state_label(self) -> str:
        """The run's state in a few characters, for the page's title and a tab among others: "▶ 12/55"
        while it runs, "✓ completed" or "✗ failed" once it has ended. No query."""
        if self.status in (Status.RUNNING, Status.CANCELLING):
            done = f"{self.entities_completed}/{self.entities_total}"
            return f"▶ {done}" if self.status == Status.RUNNING else f"■ cancelling {done}"
        mark = {Status.PENDING: "…", Status.COMPLETED: "✓", Status.CANCELLED: "■"}.get(self.status, "✗")
        return f"{mark} {self.status}"

    @property
    def progress_percent(self) -> int:
        if not self.entities_total:
            return 100 if not self.is_active else 0
        return round(100 * self.entities_completed / self.entities_total)

    @property
    def elapsed(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def total_time_ms(self) -> int | None:
        elapsed = self.elapsed
        return None if elapsed is None else int(elapsed.total_seconds() * 1000)

    @property
    def comparison_key(self) -> tuple:
        """What must be equal for two runs' tables to compare like with like: the rows read from each input
        (``max_rows_per_entity``), the entities asked for (in any order) and the input given, if any.

        Runs with different keys differ in their tables for that reason alone. No query.
        """
        options = self.options or {}
        entities = options.get("entities")
        return (
            options.get("max_rows_per_entity"),
            None if entities is None else tuple(sorted(entities)),
            options.get("input"),
        )

    def previous_run(self) -> "TestRun | None":
        """The run to compare this one with: the latest finished run of the same configuration created
        before it with the same ``comparison_key``; when none of the last PREVIOUS_SCAN has it, the latest
        finished one whatever its options (the page then says that they differ). None if there is none.

        One query (the options are compared here: the same entities may be stored in any order).
        """
        earlier = list(
            TestRun.objects.filter(
                configuration_id=self.configuration_id,
                created_at__lt=self.created_at,
                status__in=FINAL_STATUSES,
            ).order_by("-created_at", "-pk")[:PREVIOUS_SCAN]
        )
        key = self.comparison_key
        return next((run for run in earlier if run.comparison_key == key), earlier[0] if earlier else None)

    def comparable_run(self) -> "TestRun | None":
        """The ``previous_run`` when it compares like with like (the same ``comparison_key``), else None:
        the yardstick of this run's rows to come and time left (``testruns.progress``). One query.
        """
        previous = self.previous_run()
        return previous if previous is not None and previous.comparison_key == self.comparison_key else None

    # --- the baseline of its configuration (``Baseline``) ---

    def baseline(self) -> "Baseline | None":
        """The baseline of this run's configuration, with its run, version and setter; None if it has none.

        One query.
        """
        return (
            Baseline.objects.select_related("run__version", "set_by")
            .filter(configuration_id=self.configuration_id)
            .first()
        )

    @property
    def can_be_baseline(self) -> bool:
        """Whether the run went through every entity (``completed``, or ``failed`` by its verdict alone):
        only such a run has every table a diff needs. No query.
        """
        return self.status in (Status.COMPLETED, Status.FAILED) and not self.error_message

    def make_baseline(self, user=None) -> "Baseline":
        """Make this run its configuration's baseline, in place of any other; returns the Baseline.

        RunStillActive for a run still working (it may be made the baseline once it ends); BaselineRefused
        for a run that ended without going through every entity (cancelled, crashed, could not start).
        """
        if self.is_active:
            raise RunStillActive(
                f"Run {self.short_id} is still {self.status}: it can be made the baseline once it ends."
            )
        if not self.can_be_baseline:
            why = self.error_message.splitlines()[0] if self.error_message else self.status
            raise BaselineRefused(
                f"Run {self.short_id} did not go through every entity ({why}): a baseline must be a run "
                "that ran to its end, completed or failed by its entities."
            )
        with transaction.atomic():
            baseline, _ = Baseline.objects.update_or_create(
                configuration_id=self.configuration_id,
                defaults={"run": self, "set_by": user, "set_at": timezone.now()},
            )
        return baseline

    def clear_baseline(self) -> bool:
        """Stop this run being its configuration's baseline; False if it was not the baseline."""
        deleted, _ = Baseline.objects.filter(run=self).delete()
        return bool(deleted)

    # --- life-cycle steps; each is one UPDATE guarded by the state it expects ---

    def claim(self, worker: str) -> bool:
        """Move pending → running for this worker, with a new claim token.

        False if another delivery or a cancel got there first. From here on this object holds the claim:
        its ``claimed_write``, ``beat`` and ``finish`` only write while the run is still the claim's.
        """
        now = timezone.now()
        claimed = TestRun.objects.filter(pk=self.pk, status=Status.PENDING).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker, claim_token=uuid.uuid4()
        )
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def _still_claimed(self):
        """This run, if it is still running or cancelling under the claim this object read."""
        return TestRun.objects.filter(
            pk=self.pk, claim_token=self.claim_token, status__in=(Status.RUNNING, Status.CANCELLING)
        )

    @contextmanager
    def claimed_write(self, **fields):
        """A transaction for one write of the worker holding the claim; RunLost once the run is not its own.

        It opens with an UPDATE guarded by the claim token and an active status, which sets ``fields``
        (counters, current entity) and the heartbeat. The row stays locked until the commit, so the
        reaper cannot end the run between that check and the writes made inside the block.
        """
        with transaction.atomic():
            if not self._still_claimed().update(heartbeat_at=timezone.now(), **fields):
                raise RunLost(self)
            yield

    def beat(self) -> bool:
        """Write the heartbeat; True when the run has been asked to stop (it is ``cancelling``).

        One UPDATE while the run goes on, two once a cancel was requested: the heartbeat thread is how a
        worker stuck in one long phase learns of a cancel without the engine asking the database. Raises
        RunLost when the run is no longer this claim's (the reaper ended it meanwhile).
        """
        now = timezone.now()
        if self._still_claimed().filter(status=Status.RUNNING).update(heartbeat_at=now):
            return False
        if self._still_claimed().filter(status=Status.CANCELLING).update(heartbeat_at=now):
            return True
        raise RunLost(self)

    def finish(self, status: str, error_message: str = "") -> bool:
        """Write the final state, unless the run already ended (the reaper may have got there first).

        Guarded by the claim this object read, if any, so a worker that lost its run writes nothing. The
        entities the run never finished end with it: ``cancelled`` with a cancelled run, else ``crashed``.
        ``completed`` is what a caller asks for when the engine ran to its end; the run gets the status its
        ``verdict`` gives, from the counters as they are in the database (``failed`` if anything fell short).
        """
        runs = TestRun.objects.filter(pk=self.pk, status__in=ACTIVE_STATUSES)
        if self.claim_token is not None:
            runs = runs.filter(claim_token=self.claim_token)
        with transaction.atomic():
            if status == Status.COMPLETED:
                self.refresh_from_db(fields=COUNTERS)
                status = self.verdict()
            updated = runs.update(
                status=status,
                finished_at=timezone.now(),
                error_message=error_message[:10000],
                current_entity="",
                **NO_PHASE,
            )
            if updated:
                unfinished = self.entity_results.filter(
                    status__in=(EntityResult.Status.PENDING, EntityResult.Status.RUNNING)
                )
                unfinished.update(
                    status=EntityResult.Status.CANCELLED
                    if status == Status.CANCELLED
                    else EntityResult.Status.CRASHED,
                    error=f"Not finished: the run ended {status}.",
                )
        self.refresh_from_db()
        return bool(updated)

    def explain_crash(self, reason: str) -> bool:
        """Put what the worker knew into the error of a run the reaper marked crashed under this claim.

        The reaper only sees a silent heartbeat; a worker that lost the database knows why. Returns whether
        the run was such a run (crashed, and still carrying this claim's token).
        """
        if self.claim_token is None:
            return False
        with transaction.atomic():
            crashed = TestRun.objects.select_for_update().filter(
                pk=self.pk, claim_token=self.claim_token, status=Status.CRASHED
            )
            run = crashed.first()
            if run is None:
                return False
            message = f"{reason} (The run had been marked crashed meanwhile: {run.error_message})"
            crashed.update(error_message=message[:10000])
            self.log("error", message)
        self.refresh_from_db()
        return True

    def request_cancel(self) -> str:
        """Ask the run to stop; returns the status it is in afterwards.

        A pending run is cancelled at once; a running one is marked ``cancelling`` and its worker writes
        ``cancelled`` at its next checkpoint. A second request changes nothing. A finished run cannot be
        cancelled: ``RunAlreadyFinished`` says so.
        """
        with transaction.atomic():
            run = TestRun.objects.select_for_update().get(pk=self.pk)
            if run.cancel_requested_at and run.status in (Status.CANCELLING, Status.CANCELLED):
                self.refresh_from_db()
                return run.status  # asked twice: the first request stands
            if run.status in FINAL_STATUSES:
                raise RunAlreadyFinished(f"Run {run.short_id} has already finished ({run.status}).")
            now = timezone.now()
            if run.status == Status.PENDING:
                run.status, run.finished_at = Status.CANCELLED, now
            elif run.status == Status.RUNNING:
                run.status = Status.CANCELLING
            run.cancel_requested_at = run.cancel_requested_at or now
            run.save(update_fields=["status", "finished_at", "cancel_requested_at"])
            if run.status == Status.CANCELLED:
                run.log("info", "Cancelled before a worker took it.")
            else:
                run.log("info", "Cancel requested: the worker stops at its next checkpoint.")
        self.refresh_from_db()
        return self.status

    def toggle_pin(self) -> bool:
        """Pin the run (kept by pruning, marked in lists), or unpin a pinned one; returns the new state."""
        TestRun.objects.filter(pk=self.pk).update(pinned=~F("pinned"))
        self.refresh_from_db(fields=["pinned"])
        return self.pinned

    def delete_with_outputs(self) -> None:
        """Delete the run, its entity results and events (cascade) and its stored files (``runs/<id>/``).

        An active run is refused with RunStillActive: cancel it first, so no worker writes files for a run
        that no longer exists. The files go once the rows are gone for good (after the commit).
        """
        from django.core.files.storage import default_storage

        with transaction.atomic():
            run = TestRun.objects.select_for_update().get(pk=self.pk)
            if run.is_active:
                raise RunStillActive(f"Run {run.short_id} is still {run.status}: cancel it first.")
            names = [name for name in run.entity_results.exclude(output="").values_list("output", flat=True)]
            run.delete()
            transaction.on_commit(lambda: _delete_run_files(default_storage, self.folder, names))

    @staticmethod
    def entity_counters(status: str) -> dict:
        """The counter updates for one more finished entity in ``status`` (F expressions, for an UPDATE)."""
        counters = {"entities_completed": F("entities_completed") + 1}
        field = {
            EntityStatus.SUCCESS: "entities_succeeded",
            EntityStatus.FAILED: "entities_failed",
            EntityStatus.SKIPPED: "entities_skipped",
        }.get(status)
        if field:
            counters[field] = F(field) + 1
        return counters

    def fail_entity(self, entity: str, reason: str) -> bool:
        """Turn a succeeded entity into a failed one after the fact (its table could not be stored).

        Moves it from the succeeded to the failed counter in the same transaction, so the counters always
        add up. False, changing nothing, when the entity is not ``success``.
        """
        with transaction.atomic():
            failed = EntityResult.objects.filter(
                run=self, entity=entity, status=EntityResult.Status.SUCCESS
            ).update(status=EntityResult.Status.FAILED, error=reason)
            if failed:
                TestRun.objects.filter(pk=self.pk).update(
                    entities_succeeded=F("entities_succeeded") - 1, entities_failed=F("entities_failed") + 1
                )
                self.log("error", reason, entity=entity)
        return bool(failed)

    def loaded_checks(self) -> list["RunCheck"]:
        """The run's checks in order: prefetched ones as they are, else one query, or none at all for a run
        without checks (``checks_total`` 0), so pages and exports of such runs cost what they did before.
        """
        if not self.checks_total and "checks" not in getattr(self, "_prefetched_objects_cache", {}):
            return []
        return list(self.checks.all())

    def log(self, level: str, message: str, entity: str = "") -> "RunEvent":
        return RunEvent.objects.create(run=self, level=level, message=message[:2000], entity=entity)


class BaselineRefused(ValueError):
    """The run cannot be its configuration's baseline: it did not go through every entity."""


class RunAlreadyFinished(Exception):
    """A request that only makes sense for an active run was made on a finished one."""


class RunStillActive(Exception):
    """A request that only makes sense for a finished run was made on an active one."""


class NoVersionToRun(Exception):
    """The configuration has no current version (a re-run on the current version cannot start)."""


class RunLost(Exception):
    """The worker's claim on a run no longer holds (the reaper ended it, or it was deleted).

    The worker stops at once and writes nothing more for that run.
    """

    def __init__(self, run: "TestRun"):
        super().__init__(f"Run {run.pk} is no longer this worker's (claim {run.claim_token}).")
        self.run = run


class RunNotQueued(Exception):
    """The run was created but the task broker would not take it: the run is already marked failed."""

    def __init__(self, run: "TestRun"):
        super().__init__(
            f"{run.error_message} Run {run.pk} is marked failed; start it again once the broker is back."
        )
        self.run = run


def _uuids(names) -> list[uuid.UUID]:
    """The names that are run ids (anything else in ``runs/`` belongs to no run)."""
    ids = []
    for name in names:
        try:
            ids.append(uuid.UUID(name))
        except ValueError:
            pass
    return ids


def _delete_run_files(storage, folder: str, names: list[str]) -> None:
    """Delete a run's stored files: those its results name, and anything else left in its folder."""
    import os

    try:
        _, files = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        files = []
    for name in {*names, *(f"{folder}/{file}" for file in files)}:
        storage.delete(name)
    try:
        os.rmdir(storage.path(folder))
    except (NotImplementedError, OSError):
        pass  # not a local folder, or not empty: nothing of ours is left in it either way


class EntityResultQuerySet(models.QuerySet):
    def with_tables(self):
        """Results that name a stored table."""
        return self.exclude(output="")

    def verify_tables(self, repair: bool = False):
        """Check every stored entity table (there, size, sha256 where recorded: each is read whole).

        With ``repair``, a missing or corrupt table is let go (``mark_table_lost``): pages then say
        "table lost" instead of serving a short file or failing on a missing one. Returns a Verified.
        """
        from configurations.storage import Finding, Verified

        verified = Verified()
        today = timezone.localdate().isoformat()
        tables = self.with_tables().only("pk", "run_id", "entity", "output", "output_size", "output_sha256")
        for result in tables.order_by("run_id", "position").iterator():
            verified.checked += 1
            if problem := result.table_problem():
                finding = Finding(
                    f"table of {result.entity!r} in run {result.run_id} ({result.output.name})", problem
                )
                if repair:
                    result.mark_table_lost(f"{problem} (found by verify_storage on {today})")
                    finding.action, finding.fixed = "marked as lost", True
                verified.findings.append(finding)
        return verified

    def verify_copies(self, repair: bool = False):
        """Check the explorer's Arrow copy beside each stored table, where there is one: it must open as an
        Arrow IPC file with the table's columns (``columns``) and row count (``rows_out``).

        Cheap: each copy's footer, schema and record batch headers are read (memory-mapped where the
        storage is local), not its values. With ``repair`` a bad copy is deleted, and the diffs of its run
        with it (they were read from it); the explorer and the next diff make the copy again from the CSV.
        """
        from django.core.files.storage import default_storage

        from configurations.storage import Finding, Verified
        from testruns.explorer import copy_name, copy_problem

        verified = Verified()
        tables = self.with_tables().only("pk", "run_id", "entity", "output", "rows_out", "columns")
        for result in tables.order_by("run_id", "position").iterator():
            name = copy_name(result.output.name)
            if not default_storage.exists(name):
                continue  # none made yet: the explorer makes it on the first visit
            verified.checked += 1
            if problem := copy_problem(name, result.columns, result.rows_out, default_storage):
                finding = Finding(
                    f"explorer copy of {result.entity!r} in run {result.run_id} ({name})", problem
                )
                if repair:
                    default_storage.delete(name)
                    RunDiff.objects.filter(Q(base_id=result.run_id) | Q(head_id=result.run_id)).delete()
                    finding.action = "deleted (made again from the CSV on the next visit or diff)"
                    finding.fixed = True
                verified.findings.append(finding)
        return verified


class EntityResult(models.Model):
    class Role(models.TextChoices):
        REQUESTED = "requested"
        DEPENDENCY = "dependency"

    class Status(models.TextChoices):
        """The engine's outcomes (``shapeshift.EntityStatus``, taken as they are) and the app's own states."""

        PENDING = "pending"
        RUNNING = "running"
        SUCCESS = EntityStatus.SUCCESS.value
        FAILED = EntityStatus.FAILED.value
        SKIPPED = EntityStatus.SKIPPED.value
        CANCELLED = EntityStatus.CANCELLED.value
        CRASHED = "crashed"  # never finished: its run crashed or failed first

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="entity_results")
    position = models.PositiveIntegerField()
    entity = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REQUESTED)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    rows_in = models.BigIntegerField(null=True, blank=True)
    rows_out = models.BigIntegerField(null=True, blank=True)
    columns = models.JSONField(default=list, blank=True)
    dtypes = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    issues = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    preview = models.JSONField(default=list, blank=True, help_text="The first rows, as lists of cell values.")
    output = models.FileField(max_length=300, blank=True)
    # Recorded while the table is written, so a file cut short or changed later can be told (verify_storage).
    output_size = models.BigIntegerField(null=True, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True)
    # Set when the stored table was found missing or corrupt and let go: pages say so instead of failing.
    output_lost = models.CharField(max_length=500, blank=True)

    objects = EntityResultQuerySet.as_manager()

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "entity"], name="unique_run_entity")]

    def __str__(self):
        return f"{self.entity} ({self.status})"

    def get_absolute_url(self):
        return reverse("testruns:entity", args=[self.run_id, self.entity])

    @property
    def findings(self) -> list:
        """Its issues, warnings and error as one list, each with the severity every page shows
        (``testruns.findings``). No query."""
        return findings_of(self)

    @property
    def severity_counts(self) -> list[tuple[str, int]]:
        """How many findings of each severity, gravest first: [("warning", 2), ("info", 1)]."""
        return severity_counts(self.findings)

    def table_problem(self, full: bool = True) -> str | None:
        """What is wrong with the stored table (missing, wrong size, wrong sha256 if ``full``), or None.

        Tables stored before sizes were recorded are only checked for being there. ``full`` reads the file.
        """
        from django.core.files.storage import default_storage

        from configurations.storage import stored_problem

        if self.output_size is None:
            return None if default_storage.exists(self.output.name) else "missing"
        sha256 = self.output_sha256 if full else None
        return stored_problem(default_storage, self.output.name, self.output_size, sha256)

    def mark_table_lost(self, reason: str) -> None:
        """Let go of a stored table found missing or corrupt: it is no longer offered, and pages say why.

        The file itself is left for the run's deletion to remove.
        """
        EntityResult.objects.filter(pk=self.pk).update(
            output="", output_size=None, output_sha256="", output_lost=reason[:500]
        )
        # the diffs that read this table are stale now
        RunDiff.objects.filter(Q(base_id=self.run_id) | Q(head_id=self.run_id)).delete()
        self.refresh_from_db(fields=["output", "output_size", "output_sha256", "output_lost"])


class RunCheck(models.Model):
    """One check of a run's data, made after its entities: against the target model, or one of the
    configuration's own (``checks:``). Written once, all of a run's together (``testruns.checks``).

    ``status`` is passed, failed or skipped (``reason`` says why); only a failed check of ``severity``
    error fails the run (``TestRun.checks_failed``). ``sample`` holds up to 20 of the ``failing_rows``,
    each a {column: value} mapping with ``system_id`` first.
    """

    class Origin(models.TextChoices):
        TARGET_MODEL = "target_model", "target model"
        CONFIGURATION = "configuration", "configuration"

    class Status(models.TextChoices):
        PASSED = "passed"
        FAILED = "failed"
        SKIPPED = "skipped"

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="checks")
    position = models.PositiveIntegerField()
    origin = models.CharField(max_length=20, choices=Origin.choices)
    source = models.CharField(max_length=300, blank=True, help_text="The model or section it comes from.")
    entity = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=40)
    columns = models.JSONField(default=list, blank=True)
    severity = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices)
    message = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    failing_rows = models.BigIntegerField(default=0)
    sample = OrderedJSONField(default=list, blank=True)  # rows as the table orders its columns
    details = OrderedJSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="unique_run_check_position")]
        # The entity page reads one entity's checks of a run.
        indexes = [models.Index(fields=["run", "entity", "position"], name="run_check_entity")]

    def __str__(self):
        return f"{self.entity or '(run)'}: {self.kind} {self.status}"

    @property
    def is_error(self) -> bool:
        """A failed check that fails the run."""
        return self.status == self.Status.FAILED and self.severity == "error"

    @property
    def kind_label(self) -> str:
        """ "not null" for not_null: what pages show."""
        return self.kind.replace("_", " ")

    @property
    def sample_columns(self) -> list[str]:
        return list(self.sample[0]) if self.sample else []


class RunInputQuerySet(models.QuerySet):
    def unused(self):
        """Inputs no run reads any more (their runs were pruned or deleted)."""
        # NOT IN a subquery rather than a join: retention locks these rows (SELECT … FOR UPDATE).
        return self.exclude(pk__in=TestRun.objects.filter(input__isnull=False).values("input_id"))

    def to_prune(self, grace: timedelta, now=None):
        """The unused inputs given longer than ``grace`` ago, oldest first (``testruns.retention``).

        The grace protects a run being started: its input is made (or found) before the run that reads it.
        """
        cutoff = (now or timezone.now()) - grace
        return self.unused().filter(created_at__lt=cutoff).order_by("created_at", "pk")


class RunInput(models.Model):
    """A table given to runs as their default entity: a file's bytes (stored once by content, like bundle
    files) under the name it was given with.

    One row per name and content, whatever number of runs read it: a re-run and an API caller naming it by
    ``id`` reuse it. Made by ``testruns.inputs``, which checks the file reads as CSV or Excel first.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stored = models.ForeignKey("configurations.StoredFile", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=255, help_text="The file's own name, or its path in the bundle.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RunInputQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stored", "name"], name="unique_run_input")]

    def __str__(self):
        return f"{self.name} ({self.stored_id[:12]})"

    @property
    def sha256(self) -> str:
        return self.stored_id

    @property
    def size(self) -> int:
        """Reads ``stored`` (a query unless loaded with the input)."""
        return self.stored.size


class RunEvent(models.Model):
    """A line of a run's own log, shown on the run page."""

    run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, default="info")
    entity = models.CharField(max_length=200, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["run", "pk"]

    def __str__(self):
        return self.message


class Baseline(models.Model):
    """A configuration's baseline: the run its other runs are diffed against (``testruns.diffs``).

    One per configuration; it goes with its run (deleting the run clears it) and retention never deletes
    its run (``TestRunQuerySet.prunable``). Set with ``TestRun.make_baseline``.
    """

    configuration = models.OneToOneField(
        "configurations.Configuration", on_delete=models.CASCADE, related_name="baseline"
    )
    run = models.OneToOneField(TestRun, on_delete=models.CASCADE, related_name="baseline_of")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"baseline of {self.configuration_id}: run {self.run_id}"


class RunDiff(models.Model):
    """The diff of two finished runs' stored tables, kept once computed (``testruns.diffs``).

    A finished run's tables do not change, so each (base, head) pair is diffed once, in the request when
    it is small and by a worker otherwise, and read from here after. It goes with either run, and with a
    table of either that is let go (``EntityResult.mark_table_lost``).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    base = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="+")
    head = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="diffs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    entities_compared = models.PositiveIntegerField(null=True, blank=True)
    entities_differing = models.PositiveIntegerField(null=True, blank=True)
    # One item per entity, with the fields of ``testruns.diffs.ENTITY_FIELDS`` (shapeshift.diff's EntityDiff).
    entities = OrderedJSONField(default=list, blank=True)  # samples keep their tables' column order
    # What limited the diff: a version whose identities could not be read, a table let go.
    notes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["base", "head"], name="unique_run_diff")]

    def __str__(self):
        return f"diff {self.base_id} → {self.head_id} ({self.status})"

    @property
    def is_working(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def differing(self) -> list[dict]:
        """The entities that differ, in the diff's order (the head's, then those only in the base)."""
        return [entity for entity in self.entities if entity_differs(entity)]

    @property
    def unchanged(self) -> list[str]:
        """The names of the entities equal in both runs."""
        return [entity["entity"] for entity in self.entities if not entity_differs(entity)]


def entity_differs(entity: dict) -> bool:
    """Whether one entity of a diff (``RunDiff.entities``) differs: rows only on one side, changed rows, or
    columns added or removed (as ``shapeshift.diff.EntityDiff.differs``)."""
    return bool(
        entity["only_in_base"]
        or entity["only_in_head"]
        or entity["changed"]
        or entity["columns_added"]
        or entity["columns_removed"]
    )
