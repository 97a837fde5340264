"""TestRun.verdict and summary with checks: an error-level check that failed fails a run, like an entity."""

import pytest

from testruns.models import Status, TestRun
from tests.factories import make_run


def run(status=Status.COMPLETED, total=3, succeeded=3, failed=0, skipped=0, checks_failed=0) -> TestRun:
    return TestRun(
        status=status,
        entities_total=total,
        entities_completed=succeeded + failed + skipped,
        entities_succeeded=succeeded,
        entities_failed=failed,
        entities_skipped=skipped,
        checks_total=10,
        checks_failed=checks_failed,
    )


@pytest.mark.parametrize(
    "counters, summary",
    [
        ({"checks_failed": 1}, "1 check failed"),
        ({"checks_failed": 2}, "2 checks failed"),
        ({"total": 54, "succeeded": 2, "failed": 19, "skipped": 33, "checks_failed": 2},
         "19 entities failed, 33 skipped, 2 checks failed"),
        ({"total": 3, "succeeded": 2, "skipped": 1, "checks_failed": 1_200},
         "1 entity skipped, 1,200 checks failed"),
    ],
)  # fmt: skip
def test_a_failed_error_level_check_fails_the_run_and_says_so(counters, summary):
    finished = run(**counters)

    assert finished.verdict() == Status.FAILED
    assert finished.summary == summary


def test_checks_that_passed_or_only_warned_leave_the_run_completed():
    finished = run(checks_failed=0)  # checks_total 10: passed, skipped or failed at warning level

    assert finished.verdict() == Status.COMPLETED
    assert finished.summary == ""


@pytest.mark.django_db
def test_finish_gives_the_verdict_of_the_checks_as_stored(demo_version):
    running = make_run(
        demo_version, Status.RUNNING, entities_total=1, entities_completed=1, entities_succeeded=1
    )
    TestRun.objects.filter(pk=running.pk).update(
        checks_total=3, checks_failed=1
    )  # written by the check phase

    assert running.finish(Status.COMPLETED)

    assert (running.status, running.summary) == (Status.FAILED, "1 check failed")
    assert running.error_message == ""  # failed by its verdict: it ran to its end
    assert TestRun.objects.ran_to_the_end().filter(pk=running.pk).exists()
