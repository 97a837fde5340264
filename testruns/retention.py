"""Retention: which finished runs may go (``TestRun.objects.to_prune``), and deleting them together with
their stored entity files; then the run inputs and stored files nothing uses any more (``prune_storage``).

A run is never pruned while it is pinned, active or its configuration's baseline. The two rules can be
combined, and then a run must break both to go (like restic's ``--keep-last`` with ``--keep-within``):
"keep the newest 10 of each configuration, and anything younger than 30 days".

An input or stored file goes only once nothing uses it and it is older than a grace period (GRACE): an
upload or import in progress stores its file before the row that uses it.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from configurations.models import StoredFile
from testruns.models import EntityResult, RunInput, TestRun, _delete_run_files

BATCH_SIZE = 200
GRACE = timedelta(days=1)

_AGE = re.compile(r"^\s*(\d+)\s*([dh])\s*$", re.IGNORECASE)


def parse_age(text: str) -> timedelta:
    """``"30d"`` → 30 days, ``"12h"`` → 12 hours; ValueError with the accepted forms otherwise."""
    match = _AGE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age: write a whole number of days or hours, like 30d or 12h")
    number, unit = int(match[1]), match[2].lower()
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


@dataclass(frozen=True)
class Pruned:
    """What ``prune_storage`` deleted."""

    inputs: int
    files: int

    def __str__(self) -> str:
        return f"{self.inputs} unused run input(s) and {self.files} unreferenced stored file(s) pruned"


def prune_storage(grace: timedelta = GRACE, now: datetime | None = None) -> Pruned:
    """Delete the run inputs no run uses and the stored files nothing references, older than ``grace``.

    Inputs first: an input's file is then unreferenced, and goes in the same call.
    """
    inputs = delete_inputs(RunInput.objects.to_prune(grace, now), grace, now)
    return Pruned(inputs.inputs, inputs.files + StoredFile.objects.delete_unreferenced(grace, now))


def delete_inputs(
    inputs, grace: timedelta = GRACE, now: datetime | None = None, batch_size=BATCH_SIZE
) -> int:
    """Delete these run inputs (a queryset, or ids) where ``RunInput.objects.to_prune`` still selects them,
    then their stored files where nothing else references them; returns how many inputs went.

    Each batch is re-selected and locked in its transaction, so an input a run started to use since it
    was listed stays.
    """
    input_ids = list(inputs.values_list("pk", flat=True)) if hasattr(inputs, "values_list") else list(inputs)
    deleted, stored_ids = 0, set()
    for start in range(0, len(input_ids), batch_size):
        try:
            with transaction.atomic():
                batch = dict(
                    RunInput.objects.to_prune(grace, now)
                    .select_for_update()
                    .filter(pk__in=input_ids[start : start + batch_size])
                    .values_list("pk", "stored_id")
                )
                RunInput.objects.filter(pk__in=batch).delete()
        except (IntegrityError, ProtectedError):
            continue  # a run came to read one of them meanwhile: the batch stays, for next time
        deleted += len(batch)
        stored_ids.update(batch.values())
    files = StoredFile.objects.filter(pk__in=stored_ids).delete_unreferenced(grace, now) if stored_ids else 0
    return Pruned(deleted, files)


def delete_runs(runs, batch_size: int = BATCH_SIZE) -> int:
    """Delete these runs (a queryset, or run ids) with their results, events and stored files, in batches.

    The ids are read once, then each batch is deleted in a transaction with the guard re-applied (still
    finished, still not pinned, still no baseline), so a run pinned or made the baseline after it was listed
    stays. The files go once a batch's
    rows are gone for good (after its commit), the way ``TestRun.delete_with_outputs`` does for one run
    and with the same function: a failure in between leaves a stray file, never a result that points at
    nothing. Then the run inputs the deleted runs leave unused go, with their stored files (``delete_inputs``:
    only those older than GRACE). Returns how many runs were deleted.
    """
    run_ids = list(runs.values_list("pk", flat=True)) if hasattr(runs, "values_list") else list(runs)
    deleted, input_ids = 0, set()
    for start in range(0, len(run_ids), batch_size):
        with transaction.atomic():
            # Locked (PostgreSQL) or under the write lock (SQLite, IMMEDIATE): nobody pins them in between.
            batch = list(
                TestRun.objects.prunable()
                .select_for_update()
                .filter(pk__in=run_ids[start : start + batch_size])
                .values_list("pk", flat=True)
            )
            input_ids.update(
                TestRun.objects.filter(pk__in=batch, input__isnull=False).values_list("input_id", flat=True)
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
    if input_ids:
        delete_inputs(input_ids)  # those the deleted runs leave unused
    return deleted


def _delete_files(outputs: dict) -> None:
    for run_id, names in outputs.items():
        _delete_run_files(default_storage, f"runs/{run_id}", names)
