"""django-q2 task entry points. Each takes ids and loads what it needs itself."""

from testruns import execution, reaper


def execute_run(run_id: str) -> str:
    return execution.execute_run(run_id)


def reap_stale_runs() -> str:
    crashed, failed = reaper.reap_stale_runs()
    return f"{crashed} crashed, {failed} failed"
