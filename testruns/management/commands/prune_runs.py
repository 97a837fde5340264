from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q
from django.utils import timezone

from testruns import retention
from testruns.management.commands._runs import confirmed, summary
from testruns.models import EntityResult, RunEvent, TestRun


class Command(BaseCommand):
    help = (
        "Delete finished test runs older than an age and/or beyond the newest N of each configuration, "
        "with their stored entity files. Pinned and active runs and baselines are never deleted. With both "
        "rules a run must break both to go. Without either, SHIFTBENCH_RETENTION_DAYS / _KEEP_LAST apply."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", metavar="AGE", help="created longer ago than this: 30d, 12h")
        parser.add_argument("--keep-last", metavar="N", type=int, help="keep each configuration's newest N")
        parser.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="do not ask to confirm"
        )

    def handle(self, **options):
        older_than, keep_last = self.rules(options["older_than"], options["keep_last"])
        runs = TestRun.objects.to_prune(older_than=older_than, keep_last=keep_last, now=timezone.now())
        if options["verbosity"] >= 2:
            run_ids = []
            for run in runs.select_related("configuration", "version"):
                run_ids.append(run.pk)
                self.stdout.write(f"  {timezone.localtime(run.created_at):%Y-%m-%d %H:%M}  {summary(run)}")
        else:
            run_ids = list(runs.values_list("pk", flat=True))
        if not run_ids:
            self.stdout.write("No runs to prune.")
            return
        self.stdout.write(self.describe(runs, len(run_ids)))

        if not confirmed(self, options["dry_run"], options["interactive"]):
            return
        deleted = retention.delete_runs(run_ids)
        self.stdout.write(f"Deleted {deleted} run(s) with their entity results, events and files.")
        if deleted < len(run_ids):
            kept = len(run_ids) - deleted
            self.stdout.write(f"Kept {kept} run(s) pinned or made a baseline since they were listed.")

    def rules(self, older_than: str | None, keep_last: int | None) -> tuple[timedelta | None, int | None]:
        """The options as retention rules; the SHIFTBENCH_RETENTION_* settings when neither is given."""
        if keep_last is not None and keep_last < 0:
            raise CommandError(f"--keep-last {keep_last}: give 0 or more")
        if older_than is not None:
            try:
                return retention.parse_age(older_than), keep_last
            except ValueError as exc:
                raise CommandError(f"--older-than: {exc}") from None
        if keep_last is not None:
            return None, keep_last
        if settings.RETENTION_DAYS or settings.RETENTION_KEEP_LAST:
            days = settings.RETENTION_DAYS
            return (timedelta(days=days) if days else None), settings.RETENTION_KEEP_LAST
        raise CommandError(
            "Nothing says which runs to prune: give --older-than and/or --keep-last "
            "(or set SHIFTBENCH_RETENTION_DAYS / SHIFTBENCH_RETENTION_KEEP_LAST)."
        )

    def describe(self, runs, count: int) -> str:
        """'12 run(s) would be deleted: 130 entity result(s) (120 stored file(s)), 480 event(s).'

        Two queries.
        """
        results = EntityResult.objects.filter(run__in=runs.values("pk")).aggregate(
            results=Count("pk"), files=Count("pk", filter=~Q(output=""))
        )
        events = RunEvent.objects.filter(run__in=runs.values("pk")).count()
        return (
            f"{count} run(s) would be deleted: {results['results']} entity result(s) "
            f"({results['files']} stored file(s)), {events} event(s)."
        )
