from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from testruns.models import Status, TestRun
from testruns.templatetags.shiftbench import duration


class Command(BaseCommand):
    help = "List test runs, newest first: one line each."

    def add_arguments(self, parser):
        parser.add_argument("--configuration", help="only runs of this configuration")
        parser.add_argument("--status", choices=Status.values, help="only runs in this status")
        parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")

    def handle(self, configuration=None, status=None, limit=20, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        runs = TestRun.objects.for_list()
        if configuration:
            runs = runs.filter(configuration__name=configuration)
        if status:
            runs = runs.filter(status=status)
        runs = list(runs[:limit])
        for run in runs:
            created = timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M")
            name = f"{run.configuration.name} v{run.version.number}"
            entities = f"{run.entities_succeeded}/{run.entities_total} ok" if run.entities_total else "—"
            if run.entities_failed:
                entities += f", {run.entities_failed} failed"
            self.stdout.write(
                f"{run.short_id}  {created}  {name:<24}  {run.status:<10}  {entities:<16}  "
                f"{duration(run.total_time_ms):>9}  {run.requested_by or '—'}".rstrip()
            )
        if not runs:
            self.stderr.write("No runs.")
