from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Sum
from django.utils import timezone

from configurations.models import StoredFile
from testruns import retention
from testruns.management.commands._runs import confirmed
from testruns.models import RunInput


class Command(BaseCommand):
    help = (
        "Delete the run inputs no run uses any more and the stored files nothing references (no version, "
        "no configuration's target model, no run input), with their blobs, once older than a grace period "
        "(1 day by default: an upload or import in progress stores its file before the row that uses it)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            metavar="AGE",
            default="1d",
            help="grace period: only inputs and files created longer ago than this (default 1d; 12h, 30d)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="do not ask to confirm"
        )

    def handle(self, **options):
        grace = self.grace(options["older_than"])
        now = timezone.now()
        inputs = RunInput.objects.to_prune(grace, now)
        # With the files that only those inputs use: they go in the same call.
        files = StoredFile.objects.to_prune(grace, now, besides=inputs)
        if options["verbosity"] >= 2:
            for run_input in inputs:
                self.stdout.write(
                    f"  input  {run_input.name}  ({run_input.pk}, file {run_input.stored_id[:12]})"
                )
            for stored in files:
                self.stdout.write(f"  file   {stored.blob.name}  ({stored.size:,} bytes)")
        count = inputs.count()
        stored = files.aggregate(files=Count("pk"), size=Sum("size"))
        if not count and not stored["files"]:
            self.stdout.write("Nothing to prune.")
            return
        self.stdout.write(
            f"{count} unused run input(s) and {stored['files']} unreferenced stored file(s) "
            f"({stored['size'] or 0:,} bytes) would be deleted."
        )
        if not confirmed(self, options["dry_run"], options["interactive"]):
            return
        pruned = retention.prune_storage(grace, now)
        self.stdout.write(f"Deleted {pruned.inputs} run input(s) and {pruned.files} stored file(s).")

    def grace(self, older_than: str) -> timedelta:
        try:
            return retention.parse_age(older_than)
        except ValueError as exc:
            raise CommandError(f"--older-than: {exc}") from None
