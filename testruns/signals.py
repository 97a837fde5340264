"""Reap stale runs whenever a django-q2 worker process starts, so a restarted worker cleans up at once."""

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
