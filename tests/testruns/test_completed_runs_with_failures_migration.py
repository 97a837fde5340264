"""Migration 0008: runs stored as completed although entities failed or were skipped become failed."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from testruns.models import Status, TestRun
from tests.factories import make_runs

pytestmark = pytest.mark.django_db

migration = importlib.import_module("testruns.migrations.0008_completed_runs_with_failures_failed")


def counters(total, succeeded, failed=0, skipped=0):
    return {
        "entities_total": total,
        "entities_completed": succeeded + failed + skipped,
        "entities_succeeded": succeeded,
        "entities_failed": failed,
        "entities_skipped": skipped,
    }


def test_it_fails_completed_runs_that_fell_short_and_leaves_the_others(demo_version):
    rows = {
        "green": {"status": Status.COMPLETED, **counters(11, 11)},
        "arbodat": {"status": Status.COMPLETED, **counters(54, 2, failed=19, skipped=33)},
        "skipped": {"status": Status.COMPLETED, **counters(3, 2, skipped=1)},
        "unfinished": {"status": Status.COMPLETED, **counters(3, 2), "entities_completed": 2},
        "cancelled": {"status": Status.CANCELLED, **counters(3, 1, failed=1)},
        "crashed": {"status": Status.CRASHED, **counters(3, 0, failed=1)},
        "never started": {"status": Status.FAILED, "error_message": "config.yml: line 2: unclosed"},
    }
    runs = make_runs(demo_version, [{"created_at": timezone.now(), **fields} for fields in rows.values()])
    names = dict(zip((run.pk for run in runs), rows, strict=True))

    migration.fail_completed_runs_that_fell_short(apps, None)

    stored = TestRun.objects.values_list("pk", "status", "error_message")
    after = {names[pk]: (status, error) for pk, status, error in stored}
    assert after == {
        "green": ("completed", ""),
        "arbodat": ("failed", ""),
        "skipped": ("failed", ""),
        "unfinished": ("failed", ""),
        "cancelled": ("cancelled", ""),
        "crashed": ("crashed", ""),
        "never started": ("failed", "config.yml: line 2: unclosed"),
    }
