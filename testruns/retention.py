"""Retention: which finished runs may go, and deleting them together with their stored entity files.

A run is never pruned while it is pinned or active. The two rules can be combined, and then a run must
break both to go (like restic's ``--keep-last`` with ``--keep-within``): "keep the newest 10 of each
configuration, and anything younger than 30 days".
"""

import re
from datetime import timedelta
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from testruns.models import FINAL_STATUSES, EntityResult, TestRun, _delete_run_files

BATCH_SIZE = 200

_AGE = re.compile(r"^\s*(\d+)\s*([dh])\s*$", re.IGNORECASE)


def parse_age(text: str) -> timedelta:
    """``"30d"`` → 30 days, ``"12h"`` → 12 hours; ValueError with the accepted forms otherwise."""
    match = _AGE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age: write a whole number of days or hours, like 30d or 12h")
    number, unit = int(match[1]), match[2].lower()
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


def prunable_runs():
    """Runs retention may ever delete: finished and not pinned."""
    return TestRun.objects.filter(status__in=FINAL_STATUSES, pinned=False)


def runs_to_prune(older_than: timedelta | None = None, keep_last: int | None = None, now=None):
    """The finished, unpinned runs that the rules say may go, oldest first (a plain queryset of TestRun).

    ``older_than``: created longer ago than this. ``keep_last``: beyond the newest N prunable runs of
    their configuration (pinned and active runs are kept anyway and do not count towards N). With both
    rules a run must break both; with neither, nothing is returned.
    """
    if older_than is None and keep_last is None:
        return TestRun.objects.none()
    if keep_last is not None and keep_last < 0:
        raise ValueError(f"keep_last must be 0 or more, not {keep_last}")
    if older_than is not None and older_than < timedelta(0):
        raise ValueError(f"older_than must not be negative, not {older_than}")  # every run would be "old"
    runs = prunable_runs()
    if keep_last is not None:
        # Ranked in a subquery of its own: filtering the age in the same query would rank only the old runs.
        ranked = prunable_runs().annotate(
            newest=Window(
                RowNumber(),
                partition_by=F("configuration_id"),
                order_by=[F("created_at").desc(), F("pk").desc()],
            )
        )
        runs = runs.filter(pk__in=ranked.filter(newest__gt=keep_last).values("pk"))
    if older_than is not None:
        runs = runs.filter(created_at__lt=(now or timezone.now()) - older_than)
    return runs.order_by("created_at", "pk")


def delete_runs(runs, batch_size: int = BATCH_SIZE) -> int:
    """Delete these runs (a queryset, or run ids) with their results, events and stored files, in batches.

    The ids are read once, then each batch is deleted in a transaction with the guard re-applied (still
    finished, still not pinned), so a run pinned after it was listed stays. The files go once a batch's
    rows are gone for good (after its commit), the way ``TestRun.delete_with_outputs`` does for one run
    and with the same function: a failure in between leaves a stray file, never a result that points at
    nothing. Returns how many runs were deleted.
    """
    run_ids = list(runs.values_list("pk", flat=True)) if hasattr(runs, "values_list") else list(runs)
    deleted = 0
    for start in range(0, len(run_ids), batch_size):
        with transaction.atomic():
            # Locked (PostgreSQL) or under the write lock (SQLite, IMMEDIATE): nobody pins them in between.
            batch = list(
                prunable_runs()
                .select_for_update()
                .filter(pk__in=run_ids[start : start + batch_size])
                .values_list("pk", flat=True)
            )
            outputs = {run_id: [] for run_id in batch}
            for run_id, output in (
                EntityResult.objects.filter(run_id__in=batch)
                .exclude(output="")
                .values_list("run_id", "output")
            ):
                outputs[run_id].append(output)
            TestRun.objects.filter(pk__in=batch).delete()
            transaction.on_commit(partial(_delete_files, outputs))
        deleted += len(batch)
    return deleted


def _delete_files(outputs: dict) -> None:
    for run_id, names in outputs.items():
        _delete_run_files(default_storage, f"runs/{run_id}", names)
