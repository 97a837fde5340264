from django.contrib import admin, messages

from configurations.admin import ReadOnlyAdmin
from testruns.execution import rerun_run
from testruns.models import (
    Baseline,
    BaselineRefused,
    EntityResult,
    RunAlreadyFinished,
    RunCheck,
    RunDiff,
    RunEvent,
    RunNotQueued,
    RunStillActive,
    TestRun,
)
from testruns.options import InvalidOptions
from testruns.progress import progress_of, working_on

# What a run did: set by the worker, never by hand; ``at_work`` says the phase fields as the run page does.
RUN_HISTORY_FIELDS = [
    "id",
    "configuration",
    "version",
    "options",
    "status",
    "requested_by",
    "created_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "worker",
    "current_entity",
    "at_work",
    "current_phase",
    "current_rows",
    "current_rows_in",
    "entities_total",
    "entities_completed",
    "entities_succeeded",
    "entities_failed",
    "entities_skipped",
    "checks_total",
    "checks_failed",
    "error_message",
    "cancel_requested_at",
    "task_id",
]


class ShownPosition:
    @admin.display(description="position", ordering="position")
    def shown_position(self, result: EntityResult) -> int | None:
        # Stored from 0, shown from 1 as on the run and entity pages: both name an entity by one number.
        # (The inline's blank template row has no position.)
        return None if result.position is None else result.position + 1


class EntityResultInline(ShownPosition, admin.TabularInline):
    model = EntityResult
    fields = ["shown_position", "entity", "role", "status", "rows_in", "rows_out", "duration_ms", "error"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TestRun)
class TestRunAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "configuration",
        "version",
        "status",
        "entities_completed",
        "entities_total",
        "requested_by",
        "created_at",
        "pinned",
    ]
    list_filter = ["status", "configuration", "pinned"]
    list_select_related = ["configuration", "version", "requested_by"]
    search_fields = ["id", "configuration__name"]
    show_full_result_count = False  # headed for 100k+ rows: no second COUNT(*)
    readonly_fields = RUN_HISTORY_FIELDS  # only `pinned` stays editable
    inlines = [EntityResultInline]
    actions = ["cancel_runs", "rerun_runs", "pin_runs", "unpin_runs", "make_baselines"]

    def has_add_permission(self, request):
        return False  # runs start through start_run (page, API, command), never from a blank admin form

    @admin.display(description="at work")
    def at_work(self, run: TestRun) -> str | None:
        """What the run page says of the entity at work: "working on result_base — linking 945,600 rows".

        One query: the run's results, as a phase is said only while its entity is unfinished.
        """
        return working_on(run, progress_of(run, run.entity_results.all()).phase) or None

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request, queryset):
        for run in queryset:
            try:
                run.request_cancel()
            except RunAlreadyFinished as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(request, f"Run {run.short_id}: {run.status}.")

    @admin.action(description="Re-run selected runs (same version and options)")
    def rerun_runs(self, request, queryset):
        for run in queryset.for_page():
            try:
                new = rerun_run(run, request.user)
            except InvalidOptions as exc:
                self.message_user(request, f"Run {run.short_id}: {exc}", messages.ERROR)
            except RunNotQueued as exc:
                self.message_user(request, f"Run {run.short_id}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Run {run.short_id} re-run as {new.short_id}.")

    @admin.action(description="Pin selected runs (pruning keeps them)")
    def pin_runs(self, request, queryset):
        self.message_user(request, f"{queryset.update(pinned=True)} run(s) pinned.")

    @admin.action(description="Unpin selected runs")
    def unpin_runs(self, request, queryset):
        self.message_user(request, f"{queryset.update(pinned=False)} run(s) unpinned.")

    @admin.action(description="Make selected runs their configuration's baseline")
    def make_baselines(self, request, queryset):
        by_configuration: dict = {}
        for run in queryset.select_related("configuration"):
            by_configuration.setdefault(run.configuration, []).append(run)
        for configuration, runs in by_configuration.items():
            if len(runs) > 1:
                short_ids = ", ".join(sorted(run.short_id for run in runs))
                name = configuration.name
                message = f"A configuration has one baseline: select one run of {name}, not {short_ids}."
                self.message_user(request, message, messages.ERROR)
                continue
            try:
                runs[0].make_baseline(request.user)
            except (RunStillActive, BaselineRefused) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                message = f"Run {runs[0].short_id} is now the baseline of {configuration.name}."
                self.message_user(request, message)


@admin.register(EntityResult)
class EntityResultAdmin(ShownPosition, ReadOnlyAdmin):
    list_display = ["entity", "run", "shown_position", "role", "status", "rows_in", "rows_out", "duration_ms"]
    list_filter = ["status", "role"]
    list_select_related = ["run__configuration"]
    raw_id_fields = ["run"]
    search_fields = ["entity", "run__id"]
    show_full_result_count = False


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "run", "level", "entity", "message"]
    list_filter = ["level"]
    list_select_related = ["run__configuration"]
    raw_id_fields = ["run"]
    search_fields = ["message", "entity"]
    show_full_result_count = False


@admin.register(RunCheck)
class RunCheckAdmin(ReadOnlyAdmin):
    list_display = ["run", "position", "entity", "kind", "severity", "status", "failing_rows", "origin"]
    list_filter = ["status", "severity", "origin", "kind"]
    list_select_related = ["run__configuration"]
    raw_id_fields = ["run"]
    search_fields = ["entity", "message", "run__id"]
    show_full_result_count = False


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    """A configuration's baseline: set on a run (its page, the API, the runs' admin action); deleting one
    here clears it."""

    list_display = ["configuration", "run", "set_by", "set_at"]
    list_select_related = ["configuration", "run", "set_by"]
    raw_id_fields = ["configuration", "run", "set_by"]
    readonly_fields = ["configuration", "run", "set_by", "set_at"]

    def has_add_permission(self, request):
        return False  # through TestRun.make_baseline, which checks the run


@admin.register(RunDiff)
class RunDiffAdmin(ReadOnlyAdmin):
    """Kept diffs of two runs; deleting one has it computed again when next asked for."""

    list_display = ["head", "base", "status", "entities_differing", "entities_compared", "requested_at"]
    list_filter = ["status"]
    list_select_related = ["base", "head"]
    raw_id_fields = ["base", "head"]
    exclude = ["entities"]  # samples of up to 20 rows per kind and entity: the comparison page shows them
    show_full_result_count = False
