"""Retention: which finished runs may go (``TestRun.objects.to_prune``), and deleting them together with
their stored entity files.

A run is never pruned while it is pinned, active or its configuration's baseline. The two rules can be
combined, and then a run must break both to go (like restic's ``--keep-last`` with ``--keep-within``):
"keep the newest 10 of each configuration, and anything younger than 30 days".
"""

import re
from datetime import timedelta
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction

from testruns.models import EntityResult, TestRun, _delete_run_files

BATCH_SIZE = 200

_AGE = re.compile(r"^\s*(\d+)\s*([dh])\s*$", re.IGNORECASE)


def parse_age(text: str) -> timedelta:
    """``"30d"`` → 30 days, ``"12h"`` → 12 hours; ValueError with the accepted forms otherwise."""
    match = _AGE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age: write a whole number of days or hours, like 30d or 12h")
    number, unit = int(match[1]), match[2].lower()
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


def delete_runs(runs, batch_size: int = BATCH_SIZE) -> int:
    """Delete these runs (a queryset, or run ids) with their results, events and stored files, in batches.

    The ids are read once, then each batch is deleted in a transaction with the guard re-applied (still
    finished, still not pinned, still no baseline), so a run pinned or made the baseline after it was listed
    stays. The files go once a batch's
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
                TestRun.objects.prunable()
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
