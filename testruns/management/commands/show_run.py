from django.core.management.base import BaseCommand
from django.utils import timezone

from testruns.checks import CheckSummary
from testruns.management.commands._runs import find_run, summary
from testruns.models import TestRun
from testruns.progress import progress_of, working_on
from testruns.serializers import run_result, to_json
from testruns.templatetags.shiftbench import duration, options_summary


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "—"


class Command(BaseCommand):
    help = (
        "Show a test run: status, options, timings, a table of its entities and the checks of its data "
        "(or the API's JSON)."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", help="the run's id, or its first 6 or more characters")
        parser.add_argument("--json", action="store_true", help="print the run object as the API gives it")

    def handle(self, run_id, json=False, **options):
        run = find_run(run_id, TestRun.objects.with_results(previews=json))
        if json:
            self.stdout.write(to_json(run_result(run)))
            return
        self.stdout.write(summary(run))
        self.stdout.write(f"  id:        {run.pk}")
        self.stdout.write(f"  requested: {when(run.created_at)} by {run.requested_by or '—'}")
        self.stdout.write(f"  options:   {options_summary(run.options)}")
        self.stdout.write(f"  started:   {when(run.started_at)}")
        self.stdout.write(f"  finished:  {when(run.finished_at)}")
        results = list(run.entity_results.all())
        at_work = working_on(run, progress_of(run, results).phase)
        if at_work:
            self.stdout.write(f"  {at_work} ({run.entities_completed} of {run.entities_total} done)")
        if run.summary and not run.is_active:
            self.stdout.write(f"  verdict:   {run.summary}")  # why it is not completed, as its page says
        if run.error_message:
            self.stdout.write(f"  error:     {run.error_message}")
        self.stdout.write(f"  page:      {run.get_absolute_url()}")
        if results:
            self.stdout.write("")
            self.write_table(results)
        if run.checks_total:
            self.write_checks(CheckSummary.of(run.loaded_checks()))

    def write_checks(self, checks: CheckSummary):
        """The checks' counts, then each check that did not pass: failed ones first, then skipped ones."""
        self.stdout.write("")
        self.stdout.write(f"{checks}; from {'; '.join(checks.sources) or '—'}")
        for check in [*checks.failed, *checks.skipped]:
            what = check.kind + (f" ({', '.join(check.columns)})" if check.columns else "")
            rows = f"  {check.failing_rows:,} failing rows" if check.failing_rows else ""
            level = check.severity if check.status == "failed" else ""
            line = f"  {check.status:<7}  {level:<7}  {check.entity or '—'}: {what}{rows}  {check.message}"
            self.stdout.write(line.rstrip())

    def write_table(self, results):
        width = max(len("entity"), *(len(r.entity) for r in results))
        self.stdout.write(f"{'entity':<{width}}  {'status':<9}  {'rows in → out':>17}  {'time':>9}  error")
        for r in results:
            rows = f"{_count(r.rows_in)} → {_count(r.rows_out)}"
            error = (r.error.splitlines() or [""])[0]
            line = f"{r.entity:<{width}}  {r.status:<9}  {rows:>17}  {duration(r.duration_ms):>9}  {error}"
            self.stdout.write(line.rstrip())


def _count(value) -> str:
    return "—" if value is None else str(value)
