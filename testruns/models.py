"""Test runs of a configuration version, their per-entity results and their event log."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone


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


class TestRunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def for_list(self):
        """What the history and dashboard tables show, in a single query."""
        return self.select_related("configuration", "version", "requested_by").order_by("-created_at", "-pk")

    def stale_running(self, now=None):
        """Running or cancelling runs whose worker has not sent a heartbeat within HEARTBEAT_TIMEOUT."""
        now = now or timezone.now()
        cutoff = now - timedelta(seconds=settings.HEARTBEAT_TIMEOUT)
        return self.filter(status__in=(Status.RUNNING, Status.CANCELLING)).filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        )

    def stale_pending(self, now=None):
        """Pending runs that no worker has taken within PENDING_TIMEOUT."""
        now = now or timezone.now()
        return self.filter(status=Status.PENDING, created_at__lt=now - timedelta(seconds=settings.PENDING_TIMEOUT))


class TestRun(models.Model):
    """One test run of one configuration version with one set of options.

    ``status`` answers "where is the run in its life" (see DESIGN.md §5); whether its entities succeeded is
    in the counters. A run is ``completed`` when every planned entity was processed, even if some failed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    configuration = models.ForeignKey("configurations.Configuration", on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey("configurations.ConfigurationVersion", on_delete=models.PROTECT, related_name="runs")
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that claimed it")
    current_entity = models.CharField(max_length=200, blank=True)
    entities_total = models.PositiveIntegerField(default=0)
    entities_completed = models.PositiveIntegerField(default=0)
    entities_succeeded = models.PositiveIntegerField(default=0)
    entities_failed = models.PositiveIntegerField(default=0)
    entities_skipped = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    pinned = models.BooleanField(default=False)

    objects = TestRunQuerySet.as_manager()
    __test__ = False  # not a pytest test class, despite its name

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["configuration", "-created_at"], name="run_config_created"),
            models.Index(fields=["status", "-created_at"], name="run_status_created"),
            models.Index(fields=["created_at"], name="run_created"),
        ]

    def __str__(self):
        return f"{self.configuration_id} run {self.short_id}"

    def get_absolute_url(self):
        return reverse("testruns:detail", args=[self.pk])

    @property
    def short_id(self) -> str:
        return str(self.pk)[:8]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

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

    def previous_run(self) -> "TestRun | None":
        """The latest finished run of the same configuration created before this one, or None. One query."""
        return (
            TestRun.objects.filter(
                configuration_id=self.configuration_id, created_at__lt=self.created_at, status__in=FINAL_STATUSES
            )
            .order_by("-created_at", "-pk")
            .first()
        )

    # --- life-cycle steps; each is one UPDATE guarded by the state it expects ---

    def claim(self, worker: str) -> bool:
        """Move pending → running for this worker. False if another delivery or a cancel got there first."""
        now = timezone.now()
        claimed = TestRun.objects.filter(pk=self.pk, status=Status.PENDING).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker
        )
        if claimed:
            self.refresh_from_db()
        return bool(claimed)

    def beat(self) -> None:
        TestRun.objects.filter(pk=self.pk, status__in=(Status.RUNNING, Status.CANCELLING)).update(
            heartbeat_at=timezone.now()
        )

    def finish(self, status: str, error_message: str = "") -> bool:
        """Write the final state, unless the run already ended (the reaper may have got there first)."""
        updated = TestRun.objects.filter(pk=self.pk, status__in=ACTIVE_STATUSES).update(
            status=status, finished_at=timezone.now(), error_message=error_message[:10000], current_entity=""
        )
        self.refresh_from_db()
        return bool(updated)

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
        self.refresh_from_db()
        return self.status

    def count_entity(self, status: str) -> None:
        """Add one finished entity to the counters (a single UPDATE, safe against concurrent writers)."""
        counters = {"entities_completed": F("entities_completed") + 1}
        field = {"success": "entities_succeeded", "failed": "entities_failed", "skipped": "entities_skipped"}.get(
            status
        )
        if field:
            counters[field] = F(field) + 1
        TestRun.objects.filter(pk=self.pk).update(heartbeat_at=timezone.now(), **counters)

    def log(self, level: str, message: str, entity: str = "") -> "RunEvent":
        return RunEvent.objects.create(run=self, level=level, message=message[:2000], entity=entity)


class RunAlreadyFinished(Exception):
    """A request that only makes sense for an active run was made on a finished one."""


class EntityResult(models.Model):
    class Role(models.TextChoices):
        REQUESTED = "requested"
        DEPENDENCY = "dependency"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

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

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "entity"], name="unique_run_entity")]

    def __str__(self):
        return f"{self.entity} ({self.status})"

    def get_absolute_url(self):
        return reverse("testruns:entity", args=[self.run_id, self.entity])


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
