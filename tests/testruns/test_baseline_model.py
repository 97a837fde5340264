"""A configuration's baseline (``Baseline``, ``TestRun.make_baseline``): which runs may be it, one per
configuration, gone with its run, and never pruned."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from testruns import retention
from testruns.models import Baseline, BaselineRefused, RunStillActive, Status, TestRun
from tests.factories import make_run, make_version

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ended(version, status=Status.COMPLETED, days_ago=0, **fields):
    return make_run(version, status, created_at=NOW - timedelta(days=days_ago), finished_at=NOW, **fields)


def test_it_makes_a_finished_run_the_baseline(demo_version, alice, django_assert_num_queries):
    run = ended(demo_version)

    baseline = run.make_baseline(alice)

    assert (baseline.configuration, baseline.run, baseline.set_by) == (demo_version.configuration, run, alice)
    with django_assert_num_queries(1):
        found = run.baseline()
        assert (found.run.version.number, found.set_by.username) == (1, "alice")


def test_it_takes_a_run_failed_by_its_entities(demo_version):
    # it went through every entity: its tables are all there is to compare with
    run = ended(demo_version, Status.FAILED, entities_total=2, entities_completed=2, entities_failed=1)

    assert run.can_be_baseline
    assert run.make_baseline().run == run


def test_it_keeps_one_baseline_per_configuration(demo_version, alice):
    first, second = ended(demo_version), ended(demo_version)
    other = ended(make_version("other"))
    first.make_baseline(alice)
    other.make_baseline(alice)

    second.make_baseline(alice)
    second.make_baseline(alice)  # again: nothing changes

    assert {(b.configuration.name, b.run_id) for b in Baseline.objects.all()} == {
        ("demo", second.pk),
        ("other", other.pk),
    }
    assert first.baseline().run == second


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.CANCELLING])
def test_it_refuses_a_run_still_working(demo_version, status):
    run = make_run(demo_version, status)

    with pytest.raises(RunStillActive, match=f"Run {run.short_id} is still {status}: it can be made"):
        run.make_baseline()
    assert not Baseline.objects.exists()


@pytest.mark.parametrize(
    "status, error, why",
    [
        (Status.CANCELLED, "", "cancelled"),
        (Status.CRASHED, "The worker stopped sending heartbeats.", "The worker stopped sending heartbeats."),
        (Status.FAILED, "config.yml: line 2: unclosed\nmore", "config.yml: line 2: unclosed"),
    ],
)
def test_it_refuses_a_run_that_did_not_go_through_every_entity(demo_version, status, error, why):
    run = ended(demo_version, status, error_message=error)

    with pytest.raises(BaselineRefused) as refused:
        run.make_baseline()
    assert str(refused.value).startswith(f"Run {run.short_id} did not go through every entity ({why})")
    assert not Baseline.objects.exists()


def test_it_clears_the_baseline(demo_version):
    baseline, other = ended(demo_version), ended(demo_version)
    baseline.make_baseline()

    assert not other.clear_baseline()  # not the baseline: nothing to clear
    assert baseline.clear_baseline()
    assert other.baseline() is None


def test_deleting_the_baseline_run_clears_it(demo_version, django_capture_on_commit_callbacks):
    run = ended(demo_version)
    run.make_baseline()

    with django_capture_on_commit_callbacks(execute=True):
        run.delete_with_outputs()

    assert not Baseline.objects.exists()
    assert demo_version.configuration.runs.count() == 0


# --- retention never deletes a baseline ---------------------------------------------------------------------


def test_retention_never_selects_the_baseline(demo_version):
    old = [ended(demo_version, days_ago=days) for days in (40, 50, 60)]
    old[1].make_baseline()

    assert list(TestRun.objects.to_prune(older_than=timedelta(days=30), now=NOW)) == [old[2], old[0]]
    # the baseline is kept anyway, and does not use up one of the newest N places
    assert list(TestRun.objects.to_prune(keep_last=1, now=NOW)) == [old[2]]


def test_retention_leaves_a_run_made_the_baseline_after_it_was_listed(demo_version):
    run = ended(demo_version, days_ago=40)
    listed = [r.pk for r in TestRun.objects.to_prune(older_than=timedelta(days=30), now=NOW)]
    run.make_baseline()

    assert retention.delete_runs(listed) == 0
    assert TestRun.objects.filter(pk=run.pk).exists()


def test_prune_runs_never_deletes_the_baseline(demo_version):
    gone, baseline = ended(demo_version, days_ago=40), ended(demo_version, days_ago=50)
    baseline.make_baseline()
    out = StringIO()

    call_command("prune_runs", "--older-than", "30d", "--noinput", stdout=out)

    assert list(TestRun.objects.all()) == [baseline]
    assert "Deleted 1 run(s)" in out.getvalue()
    assert not TestRun.objects.filter(pk=gone.pk).exists()
