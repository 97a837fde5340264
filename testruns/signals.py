"""What a django-q2 worker process does as it starts: reap stale runs, so a restarted worker cleans up at
once, and set aside the objects it starts with from the garbage collector."""

import gc
import logging

from django.dispatch import receiver
from django_q.signals import post_spawn

logger = logging.getLogger(__name__)


@receiver(post_spawn)
def reap_on_worker_start(sender, proc_name, **kwargs):
    from testruns.reaper import reap_stale_runs

    try:
        reap_stale_runs()
    except Exception:  # a broken reaper must not stop the worker from taking runs
        logger.exception("reaper failed at worker start")


@receiver(post_spawn)
def freeze_startup_objects(sender, proc_name, **kwargs):
    """Move the objects the worker starts with (Django, pandas, pyarrow: over 100,000) out of the collector's
    reach: the full collection after each task (tasks.return_freed_memory) then walks only what tasks made,
    not 35-50 ms of them each time, which every run queued behind a finished one waited for."""
    gc.freeze()
