"""django-q2 task entry points. Each takes ids and loads what it needs itself."""

from datetime import timedelta

from django.conf import settings

from testruns import execution, explorer, reaper, retention
from testruns.models import TestRun


def execute_run(run_id: str) -> str:
    return execution.execute_run(run_id)


def store_table_copies(run_id: str) -> str:
    """The explorer's copies of a finished run's stored tables (execution.enqueue_table_copies)."""
    return f"{explorer.store_copies(run_id)} explorer copies written"


def reap_stale_runs() -> str:
    crashed, failed = reaper.reap_stale_runs()
    return f"{crashed} crashed, {failed} failed"


def prune_runs() -> str:
    """The daily retention schedule: prune runs with SHIFTBENCH_RETENTION_DAYS / _KEEP_LAST (or none while
    both are unset), then, always, the run inputs and stored files nothing uses any more (older than a day).
    """
    days, keep_last = settings.RETENTION_DAYS, settings.RETENTION_KEEP_LAST
    if not days and not keep_last:
        runs = "retention off: SHIFTBENCH_RETENTION_DAYS and SHIFTBENCH_RETENTION_KEEP_LAST are unset"
    else:
        older_than = timedelta(days=days) if days else None
        deleted = retention.delete_runs(TestRun.objects.to_prune(older_than=older_than, keep_last=keep_last))
        runs = f"{deleted} runs pruned"
    return f"{runs}; {retention.prune_storage()}"
