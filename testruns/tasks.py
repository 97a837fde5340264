"""django-q2 task entry points. Each takes ids and loads what it needs itself."""

import ctypes
import ctypes.util
import functools
import gc
from datetime import timedelta

import pyarrow
from django.conf import settings

from testruns import execution, explorer, reaper, retention
from testruns.models import TestRun


def execute_run(run_id: str) -> str:
    try:
        return execution.execute_run(run_id)
    finally:
        return_freed_memory()


def return_freed_memory() -> bool:
    """Hand the memory a finished task freed back to the system; True if glibc could be asked too.

    glibc keeps the blocks pandas freed in its arenas, and Arrow's allocator its own, so a worker would go
    on holding a 50x run's peak into the explorer copies and the next runs it takes
    (benchmarks/full_run.py --worker).
    """
    gc.collect()
    pyarrow.default_memory_pool().release_unused()  # Arrow's own allocator (mimalloc/jemalloc) keeps it too
    trim = _malloc_trim()
    if trim is None:  # not glibc (musl, macOS): nothing more to ask
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")  # runs ldconfig: once per process
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def store_table_copies(run_id: str) -> str:
    """The explorer's copies of a finished run's stored tables (execution.enqueue_table_copies)."""
    try:
        return f"{explorer.store_copies(run_id)} explorer copies written"
    finally:
        return_freed_memory()


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
