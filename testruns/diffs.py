"""Diffs of two finished runs: their whole stored tables compared by ``shapeshift.diff``, kept in ``RunDiff``.

Rows are matched by identity (the entity's keys, its public ids, the target model's identity columns,
else the whole row), read from the head version's project; foreign-key columns compare by the parent row
they point to. See ``shapeshift.diff``.

Where the work happens: a finished run's tables never change, so a (base, head) pair is diffed once and the
result kept in the database, where every web process and worker can read it (a per-process cache could
not be filled by a worker). A diff that reads little (under ``INLINE_BYTES`` of tables whose digests
differ: any sample run, or a full run of a survey like Arbodat's, in well under a second) is computed in
the request that first asks, so the answer is there at once even while every worker is busy with a long
run. A bigger one (a 50x run takes seconds) goes to a django-q2 worker, as runs do, and pages poll a
partial until it is done; the API answers 202 meanwhile. ``manage.py diff_runs`` computes any diff itself.

    diff = request_diff(base, head)          # RunDiff: done, or pending with a worker on it
    entities, notes = compute(base, head)    # the same, computed here and now (the command's fallback)
"""

import logging
from dataclasses import replace
from datetime import timedelta

import pyarrow as pa
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

import shapeshift
from configurations.storage import is_local
from shapeshift.diff import ArrowFile, Identity, StoredTable, diff_runs, identities
from shapeshift.targets import TargetModelError, target_model_of
from testruns import explorer
from testruns.models import EntityResult, RunDiff, TestRun, entity_differs

logger = logging.getLogger(__name__)

TASK = "testruns.diffs.compute_diff"
# What a diff may read in the request: two full Arbodat runs, one without a survey row, read 6.9 MB of
# differing tables and take 0.23 s (benchmarks/diff.py's tables); a 50x run takes seconds.
INLINE_BYTES = 8_000_000
# A diff a worker took (or was to take) this long ago without an answer is asked for again.
STALE_AFTER = timedelta(minutes=15)
# The fields of each entity in the JSON of a diff (command, API), in this order.
ENTITY_FIELDS = (
    "entity",
    "matched_on",
    "rows_base",
    "rows_head",
    "only_in_base",
    "only_in_head",
    "changed",
    "unchanged",
    "columns_added",
    "columns_removed",
    "column_match",
    "samples",
)


class DiffRefused(ValueError):
    """Two runs that cannot be diffed (yet): one is still working."""


def check_finished(base: TestRun, head: TestRun) -> None:
    """DiffRefused naming the run that is still working, if one is: its tables are not final."""
    for role, run in (("base", base), ("head", head)):
        if run.is_active:
            raise DiffRefused(
                f"The {role} run {run.short_id} is still {run.status}: its tables are diffed once it ends."
            )


# --- computing ------------------------------------------------------------------------------------------


def stored_tables(run: TestRun) -> tuple[dict[str, StoredTable], list[str]]:
    """The run's stored entity tables for ``shapeshift.diff``, and a note for each table that was let go.

    One query. Each table is read when the diff needs it (an identical one is not read at all).
    """
    tables, notes = {}, []
    results = EntityResult.objects.filter(run=run).order_by("position")
    fields = ("entity", "output", "dtypes", "output_sha256", "rows_out", "output_lost")
    for entity, output, dtypes, sha256, rows, lost in results.values_list(*fields):
        if output:
            read = _reader(run, entity, output, dtypes)
            tables[entity] = StoredTable(read=read, digest=sha256 or None, rows=rows)
        elif lost:
            notes.append(f"The table of {entity!r} in run {run.short_id} was let go ({lost}): not compared.")
    return tables, notes


def _reader(run: TestRun, entity: str, name: str, dtypes: dict):
    """Reads the table's Arrow copy (made now if the run's end did not make it), a column at a time:
    a diff of two 50x runs then holds a few columns, not two 70 MB tables (benchmarks/diff.py).
    """

    def read() -> ArrowFile:
        try:
            copy = explorer.ensure_copy(name, dtypes)
            if is_local(default_storage):
                return ArrowFile(default_storage.path(copy))
            return ArrowFile(lambda: default_storage.open(copy, "rb"))
        except (explorer.NoTable, OSError, pa.ArrowException) as exc:
            where = f"the table of {entity!r} in run {run.short_id} ({name})"
            raise OSError(f"{where} cannot be read: {exc}") from exc

    return read


def run_identities(version) -> tuple[dict[str, Identity], list[str]]:
    """How each entity's rows are recognised, from ``version``'s project, and notes on what was missing.

    The keys and public ids of the entities, and the identity columns of the project's target model if it
    has one. A version that does not load gives no identities: rows then match on the whole row, and a
    note says so. Loads the project (builds the version's bundle the first time on this machine).
    """
    try:
        project = version.project
    except (shapeshift.ConfigError, OSError) as exc:
        message = str(exc).splitlines()[0]
        return {}, [f"v{version.number} does not load ({message}): rows are matched on the whole row."]
    found = identities(project)
    try:
        model = target_model_of(project)
    except TargetModelError as exc:
        return found, [f"The target model of v{version.number} is not usable ({exc}): no identity columns."]
    if model is not None:
        for name, modelled in model.entities.items():
            if name in found and modelled.identity_columns:
                found[name] = replace(found[name], identity_columns=tuple(modelled.identity_columns))
    return found, []


def compute(base: TestRun, head: TestRun) -> tuple[list[dict], list[str]]:
    """Diff the two runs' stored tables now: one dict per entity (``ENTITY_FIELDS``), and notes.

    Identities come from the head's version (the one whose tables are judged). Raises OSError when a
    stored table cannot be read. Three queries and the version's project.
    """
    base_tables, base_notes = stored_tables(base)
    head_tables, head_notes = stored_tables(head)
    found, notes = run_identities(head.version)
    entities = [_entity_json(result.as_dict()) for result in diff_runs(base_tables, head_tables, found)]
    return entities, notes + base_notes + head_notes


def _entity_json(data: dict) -> dict:
    return {name: data[name] for name in ENTITY_FIELDS}


# --- asking for a diff, and the task that computes it -----------------------------------------------------


def request_diff(base: TestRun, head: TestRun, inline_bytes: int | None = None) -> RunDiff:
    """The kept diff of ``base`` and ``head``: done, failed, or being computed by a worker.

    A diff asked for the first time (or again after it failed, or after its worker went quiet for
    STALE_AFTER) is computed here when it reads under ``inline_bytes`` (INLINE_BYTES), else enqueued once
    the transaction commits. DiffRefused while either run is still working. One query for a kept diff.
    """
    check_finished(base, head)
    diff, created = RunDiff.objects.get_or_create(base=base, head=head)
    if not created and not _wants_work(diff):
        return diff
    if not created:
        again = RunDiff.objects.filter(pk=diff.pk, status=diff.status, requested_at=diff.requested_at)
        if not again.update(status=RunDiff.Status.PENDING, requested_at=timezone.now(), error=""):
            diff.refresh_from_db()  # another request got there first
            return diff
    limit = INLINE_BYTES if inline_bytes is None else inline_bytes
    if bytes_to_read(base, head) <= limit:
        compute_diff(diff.pk)
    else:
        transaction.on_commit(lambda: enqueue(diff))
    diff.refresh_from_db()
    return diff


def _wants_work(diff: RunDiff) -> bool:
    if diff.status == RunDiff.Status.FAILED:
        return True
    since = diff.started_at if diff.status == RunDiff.Status.RUNNING else diff.requested_at
    return diff.is_working and since is not None and since < timezone.now() - STALE_AFTER


def bytes_to_read(base: TestRun, head: TestRun) -> int:
    """The stored bytes of the tables a diff of the two runs reads: those not byte-identical in both
    (a table whose parent changed is read too; this estimate leaves those out). One query.
    """
    if base.pk == head.pk:
        return 0
    sides: dict[str, list[tuple[int, str]]] = {}
    stored = EntityResult.objects.filter(run__in=[base.pk, head.pk]).exclude(output="")
    for entity, size, sha256 in stored.values_list("entity", "output_size", "output_sha256"):
        sides.setdefault(entity, []).append((size or 0, sha256))
    total = 0
    for tables in sides.values():
        identical = len(tables) == 2 and tables[0][1] and tables[0][1] == tables[1][1]
        if not identical:
            total += sum(size for size, _ in tables)
    return total


def enqueue(diff: RunDiff) -> None:
    """Hand the diff to a worker; if the broker will not take it, the diff fails with why."""
    from django_q.tasks import async_task

    try:
        async_task(TASK, diff.pk, task_name=f"diff-{diff.pk}", group="diffs")
    except Exception as exc:  # whatever the broker raised, no task exists
        logger.error("diff %s: could not queue: %s", diff.pk, exc)
        RunDiff.objects.filter(pk=diff.pk, status=RunDiff.Status.PENDING).update(
            status=RunDiff.Status.FAILED, error=f"Could not queue the diff: the task broker refused it: {exc}"
        )


def compute_diff(diff_id: int) -> str:
    """The task: claim the pending diff, compute it and keep the result (or why it failed).

    The claim is one guarded UPDATE, so a second delivery does nothing.
    """
    pending = RunDiff.objects.filter(pk=diff_id, status=RunDiff.Status.PENDING)
    if not pending.update(status=RunDiff.Status.RUNNING, started_at=timezone.now()):
        return f"diff {diff_id}: not pending"
    diff = RunDiff.objects.select_related("base", "head__version").get(pk=diff_id)
    try:
        entities, notes = compute(diff.base, diff.head)
    except OSError as exc:
        return _failed(diff, f"A stored table could not be read: {exc}")
    except Exception as exc:  # ours, not the user's: the traceback goes to the log
        logger.exception("diff %s of runs %s and %s failed", diff.pk, diff.base_id, diff.head_id)
        return _failed(diff, f"The diff failed with an internal error ({type(exc).__name__}: {exc}).")
    differing = sum(1 for entity in entities if entity_differs(entity))
    RunDiff.objects.filter(pk=diff.pk).update(
        status=RunDiff.Status.DONE,
        finished_at=timezone.now(),
        entities=entities,
        notes=notes,
        entities_compared=len(entities),
        entities_differing=differing,
        error="",
    )
    return f"diff {diff_id}: {differing} of {len(entities)} entities differ"


def _failed(diff: RunDiff, message: str) -> str:
    RunDiff.objects.filter(pk=diff.pk).update(
        status=RunDiff.Status.FAILED, finished_at=timezone.now(), error=message[:10000]
    )
    return f"diff {diff.pk}: {message}"


# --- what the command and the API give ---------------------------------------------------------------------


def diff_json(diff: RunDiff) -> dict:
    """A done diff as the command's ``--json`` and the API give it."""
    return {
        "base": str(diff.base_id),
        "head": str(diff.head_id),
        "entities_compared": diff.entities_compared,
        "entities_differing": diff.entities_differing,
        "notes": diff.notes,
        "entities": diff.entities,
    }
