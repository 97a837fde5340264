from django.core.management.base import BaseCommand, CommandError

from testruns.management.commands._runs import find_run
from testruns.models import RunAlreadyFinished, Status


class Command(BaseCommand):
    help = (
        "Cancel a test run: a pending one at once, a running one at its worker's next checkpoint "
        "(between entities, or between the phases of a long one)."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", help="the run's id, or its first 6 or more characters")

    def handle(self, run_id, **options):
        run = find_run(run_id)
        try:
            status = run.request_cancel()
        except RunAlreadyFinished as exc:
            raise CommandError(f"{exc} Nothing to cancel.") from None
        if status == Status.CANCELLED:
            self.stdout.write(f"Run {run.short_id} cancelled.")
        else:
            self.stdout.write(
                f"Run {run.short_id} {status}: its worker stops at the next checkpoint "
                f"(show_run {run.short_id} tells when)."
            )
