"""testruns.retention: which runs may go, and deleting them with their files; the daily task."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from configurations.importing import import_configuration
from testruns import retention, tasks
from testruns.models import EntityResult, RunEvent, Status, TestRun
from tests import factories
from tests.factories import DEMO_YAML

pytestmark = pytest.mark.django_db

NOW = timezone.now()
NOTHING_STORED = "0 unused run input(s) and 0 unreferenced stored file(s) pruned"


@pytest.fixture
def make_run(demo_version):
    def make(days_ago: float = 0, status=Status.COMPLETED, pinned=False, version=None, files=()):
        version = version or demo_version
        run = factories.make_run(
            version,
            status=status,
            pinned=pinned,
            created_at=NOW - timedelta(days=days_ago),
        )
        for name in files:
            factories.make_result(run, name, content=b"a,b\n1,2\n", status="success")
        return run

    return make


def pruned(**rules):
    return list(TestRun.objects.to_prune(now=NOW, **rules))


def test_it_parses_ages_in_days_and_hours():
    assert retention.parse_age("30d") == timedelta(days=30)
    assert retention.parse_age("12H") == timedelta(hours=12)


@pytest.mark.parametrize("text", ["", "30", "d", "1.5d", "3w", "-1d"])
def test_it_rejects_other_ages(text):
    with pytest.raises(ValueError, match="like 30d or 12h"):
        retention.parse_age(text)


def test_it_prunes_nothing_without_a_rule(make_run):
    make_run(days_ago=400)
    assert pruned() == []


def test_it_selects_finished_runs_older_than_the_age(make_run):
    old = [
        make_run(days_ago=40, status=status) for status in (Status.COMPLETED, Status.FAILED, Status.CRASHED)
    ]
    make_run(days_ago=10)

    assert set(pruned(older_than=timedelta(days=30))) == set(old)


def test_it_never_selects_pinned_or_active_runs(make_run):
    make_run(days_ago=40, pinned=True)
    for status in (Status.PENDING, Status.RUNNING, Status.CANCELLING):
        make_run(days_ago=40, status=status)

    assert pruned(older_than=timedelta(days=1)) == []
    assert pruned(keep_last=0) == []


def test_it_keeps_the_newest_runs_of_each_configuration(make_run, demo_version, alice):
    other, _ = import_configuration(DEMO_YAML, name="other", user=alice)
    demo_runs = [make_run(days_ago=days) for days in (1, 2, 3, 4)]
    other_runs = [make_run(days_ago=days, version=other) for days in (5, 6)]
    make_run(days_ago=0.5, pinned=True)  # kept anyway, and does not use up one of the N places

    assert pruned(keep_last=2) == [demo_runs[3], demo_runs[2]]  # oldest first
    assert pruned(keep_last=1) == [other_runs[1], demo_runs[3], demo_runs[2], demo_runs[1]]


def test_it_prunes_only_runs_breaking_both_rules(make_run):
    runs = [make_run(days_ago=days) for days in (1, 2, 40, 50)]

    assert pruned(older_than=timedelta(days=30), keep_last=3) == [runs[3]]
    # The age does not change the ranking: the two old runs are not the "newest two" of anything.
    assert pruned(older_than=timedelta(days=30), keep_last=2) == [runs[3], runs[2]]


def test_it_deletes_runs_with_their_results_events_and_files(make_run, django_capture_on_commit_callbacks):
    gone = make_run(days_ago=40, files=["site", "sample"])
    gone.log("info", "started")
    kept = make_run(days_ago=1, files=["site"])
    default_storage.save(f"runs/{gone.pk}/stray.txt", ContentFile(b"left behind"))

    with django_capture_on_commit_callbacks() as callbacks:
        assert retention.delete_runs(TestRun.objects.to_prune(older_than=timedelta(days=30), now=NOW)) == 1
    assert default_storage.exists(f"runs/{gone.pk}/site.csv")  # the files go only once the rows are gone
    for callback in callbacks:
        callback()

    assert list(TestRun.objects.all()) == [kept]
    assert not EntityResult.objects.filter(run_id=gone.pk).exists()
    assert not RunEvent.objects.filter(run_id=gone.pk).exists()
    assert not default_storage.exists(f"runs/{gone.pk}")
    assert default_storage.exists(f"runs/{kept.pk}/site.csv")


def test_it_deletes_in_batches_at_a_fixed_cost_per_batch(make_run, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_run(days_ago=50, files=["site"])
    with CaptureQueriesContext(connection) as one_run:
        assert retention.delete_runs(TestRun.objects.all()) == 1
    for days in range(40, 45):
        make_run(days_ago=days, files=["site", "sample"])

    # Five runs in three batches cost what one run in each of three batches would: nothing per run.
    per_batch = len(one_run) - 1  # the first query lists the ids
    with django_assert_num_queries(1 + 3 * per_batch):
        assert retention.delete_runs(TestRun.objects.all(), batch_size=2) == 5
    assert not TestRun.objects.exists()


def test_it_deletes_a_run_without_files(make_run):
    make_run(days_ago=40, status=Status.FAILED)

    assert retention.delete_runs(TestRun.objects.all()) == 1


def test_it_leaves_a_run_pinned_after_it_was_listed(make_run):
    run = make_run(days_ago=40, files=["site"])
    listed = TestRun.objects.to_prune(older_than=timedelta(days=30), now=NOW)
    ids = TestRun.objects.filter(pk__in=[r.pk for r in listed])
    TestRun.objects.filter(pk=run.pk).update(pinned=True)

    assert retention.delete_runs(ids) == 0
    assert TestRun.objects.filter(pk=run.pk).exists()
    assert default_storage.exists(f"runs/{run.pk}/site.csv")


def test_it_schedules_the_daily_prune():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="prune old test runs")
    assert (schedule.func, schedule.schedule_type) == ("testruns.tasks.prune_runs", Schedule.DAILY)


def test_it_does_nothing_daily_when_retention_is_unset(make_run, settings):
    settings.RETENTION_DAYS = settings.RETENTION_KEEP_LAST = None
    make_run(days_ago=400)

    assert tasks.prune_runs().startswith("retention off")
    assert TestRun.objects.count() == 1


def test_it_prunes_daily_with_the_settings(make_run, settings):
    settings.RETENTION_DAYS, settings.RETENTION_KEEP_LAST = 30, None
    make_run(days_ago=40)
    make_run(days_ago=1)

    assert tasks.prune_runs() == f"1 runs pruned; {NOTHING_STORED}"
    assert TestRun.objects.count() == 1

    settings.RETENTION_DAYS, settings.RETENTION_KEEP_LAST = None, 1
    make_run(days_ago=0.5)
    assert tasks.prune_runs() == f"1 runs pruned; {NOTHING_STORED}"
    assert TestRun.objects.count() == 1


def test_it_rejects_a_negative_age():
    with pytest.raises(ValueError, match="older_than must not be negative"):
        TestRun.objects.to_prune(older_than=timedelta(days=-1))
