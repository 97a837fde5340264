"""TestRun.verdict and TestRun.summary: a run is completed only when every entity it ran succeeded."""

import pytest

from testruns.models import Status, TestRun


def run(status=Status.COMPLETED, total=0, succeeded=0, failed=0, skipped=0, completed=None) -> TestRun:
    """An unsaved run with these counters (``completed`` defaults to every counted entity)."""
    done = succeeded + failed + skipped if completed is None else completed
    return TestRun(
        status=status,
        entities_total=total,
        entities_completed=done,
        entities_succeeded=succeeded,
        entities_failed=failed,
        entities_skipped=skipped,
    )


def test_it_is_completed_when_every_entity_succeeded():
    finished = run(total=11, succeeded=11)

    assert finished.verdict() == Status.COMPLETED
    assert finished.summary == ""


@pytest.mark.parametrize(
    "counters, summary",
    [
        ({"total": 54, "succeeded": 2, "failed": 19, "skipped": 33}, "19 entities failed, 33 skipped"),
        ({"total": 3, "succeeded": 2, "failed": 1}, "1 entity failed"),
        ({"total": 3, "succeeded": 2, "skipped": 1}, "1 entity skipped"),
        ({"total": 5, "succeeded": 2, "skipped": 3}, "3 entities skipped"),
        ({"total": 5, "succeeded": 2, "failed": 1, "completed": 3}, "1 entity failed, 2 not finished"),
        ({"total": 4, "succeeded": 2, "completed": 2}, "2 entities not finished"),
    ],
)
def test_it_fails_a_run_that_fell_short_and_says_why(counters, summary):
    finished = run(Status.FAILED, **counters)

    assert finished.verdict() == Status.FAILED
    assert finished.summary == summary


def test_it_does_not_count_entities_still_to_come_while_the_run_works():
    working = run(Status.RUNNING, total=5, succeeded=1, failed=1)

    assert working.summary == "1 entity failed"
    assert working.verdict() == Status.FAILED  # were it to end now
