"""What the run commands share: finding a run by a short id, and describing one in a line or a table.

A module whose name starts with "_" is not a command (Django skips it).
"""

import re
import uuid

from django.core.management.base import CommandError

from testruns.models import Status, TestRun
from testruns.templatetags.shiftbench import duration

MIN_PREFIX = 6


def find_run(run_id: str, runs=None) -> TestRun:
    """The run whose id is ``run_id``, or starts with it (at least 6 characters); CommandError otherwise."""
    runs = TestRun.objects.all() if runs is None else runs
    text = run_id.strip().lower()
    try:
        exact = uuid.UUID(text)
    except ValueError:
        exact = None
    if exact is not None:
        run = runs.filter(pk=exact).first()
        if run is None:
            raise CommandError(f"No run {text}.")
        return run
    if len(text.replace("-", "")) < MIN_PREFIX or not re.fullmatch(r"[0-9a-f-]+", text):
        raise CommandError(f"{run_id!r} is not a run id, nor its first {MIN_PREFIX} or more hex digits.")
    found = list(runs.filter(pk__istartswith=text)[:2])
    if not found:
        raise CommandError(f"No run id starts with {text}.")
    if len(found) > 1:
        raise CommandError(f"More than one run id starts with {text}; give more of it.")
    return found[0]


def all_succeeded(run: TestRun) -> bool:
    """Whether the run completed: its verdict (``TestRun.verdict``) is that every entity succeeded."""
    return run.status == Status.COMPLETED


def summary(run: TestRun) -> str:
    """One line: "demo v3 run 1a2b3c4d completed: 11 of 11 entities succeeded, 0 failed, 0 skipped (1.2 s)",
    with "; 2 of 40 checks failed" before the time for a run whose data was checked.

    Reads run.configuration and run.version (a query each unless selected with the run).
    """
    line = (
        f"{run.configuration.name} v{run.version.number} run {run.short_id} {run.status}: "
        f"{run.entities_succeeded} of {run.entities_total} entities succeeded, "
        f"{run.entities_failed} failed, {run.entities_skipped} skipped"
    )
    if run.checks_total:
        line += f"; {run.checks_failed} of {run.checks_total} checks failed"
    if run.total_time_ms is not None:
        line += f" ({duration(run.total_time_ms)})"
    if run.error_message:
        line += f" — {run.error_message.splitlines()[0]}"
    return line


def confirmed(command, dry_run: bool, interactive: bool) -> bool:
    """Whether a pruning command may delete what it listed: not on a dry run, and once asked, on "yes"."""
    if dry_run:
        command.stdout.write("Dry run: nothing deleted.")
        return False
    if interactive:
        answer = input("Delete them? Type 'yes' to continue, or 'no' to cancel: ")
        if answer.strip().lower() != "yes":
            command.stdout.write("Nothing deleted.")
            return False
    return True
