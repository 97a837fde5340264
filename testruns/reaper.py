"""Ends runs that can no longer end by themselves: a lost worker, or no worker at all."""

import logging
import os
import socket

from django.conf import settings
from django.utils import timezone

from testruns.models import Status, TestRun

logger = logging.getLogger(__name__)
BATCH = 50


def reap_stale_runs(now=None) -> tuple[int, int]:
    """Mark silent running runs ``crashed`` and untaken pending runs ``failed``; returns both counts.

    A running run is silent when its heartbeat is older than HEARTBEAT_TIMEOUT, or at once when its
    worker was a process on this host that no longer exists. Bounded (BATCH runs a call) and idempotent:
    each run is ended by a guarded UPDATE, so two reapers never both end one run.
    """
    now = now or timezone.now()
    crashed = 0
    candidates = set(TestRun.objects.stale_running(now).values_list("pk", flat=True)[:BATCH])
    candidates.update(_runs_of_dead_local_workers())
    for run in TestRun.objects.filter(pk__in=candidates):
        last = run.heartbeat_at.isoformat(timespec="seconds") if run.heartbeat_at else "never"
        if run.finish(
            Status.CRASHED, f"The worker {run.worker or ''} stopped responding (last heartbeat: {last})."
        ):
            run.log("error", run.error_message)
            crashed += 1
    failed = 0
    for run in TestRun.objects.stale_pending(now)[:BATCH]:
        message = f"No worker took this run within {settings.PENDING_TIMEOUT} s; is a worker running?"
        if run.finish(Status.FAILED, message):
            run.log("error", message)
            failed += 1
    if crashed or failed:
        logger.warning("reaper: %d run(s) crashed, %d pending run(s) failed", crashed, failed)
    return crashed, failed


def _runs_of_dead_local_workers() -> list:
    prefix = socket.gethostname() + ":"
    active = TestRun.objects.filter(
        status__in=(Status.RUNNING, Status.CANCELLING), worker__startswith=prefix
    ).values_list("pk", "worker")[:BATCH]
    return [pk for pk, worker in active if not _pid_alive(int(worker.rsplit(":", 1)[1]))]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) still answers kill(0) but will never work again.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
