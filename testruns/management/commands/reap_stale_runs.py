from django.core.management.base import BaseCommand

from testruns.reaper import reap_stale_runs


class Command(BaseCommand):
    help = "Mark runs whose worker stopped as crashed, and pending runs no worker took as failed."

    def handle(self, **options):
        crashed, failed = reap_stale_runs()
        self.stdout.write(f"{crashed} run(s) marked crashed, {failed} pending run(s) marked failed")
