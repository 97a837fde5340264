"""The event each entity leaves in its run's log: what it did (rows in → out, time, warnings) or why not."""

import pytest

from shapeshift import EntityStatus
from shapeshift.pipeline.outcomes import EntityOutcome
from testruns.execution import entity_event
from tests.factories import run_with_a_failing_entity


def outcome(status, **fields):
    return EntityOutcome("site", status, "requested", **fields)


def test_a_succeeded_entity_says_rows_in_and_out_and_its_time():
    event = entity_event(outcome(EntityStatus.SUCCESS, rows_in=12_000, rows_out=8_000, duration_ms=1_234))

    assert event == ("info", "12,000 rows in → 8,000 out in 1.2 s")


def test_warnings_are_counted_with_the_first_quoted():
    event = entity_event(
        outcome(
            EntityStatus.SUCCESS,
            rows_in=3,
            rows_out=3,
            duration_ms=40,
            warnings=["column KoordZ is empty", "2 rows without a match"],
        )
    )

    assert event == ("warning", "3 rows in → 3 out in 40 ms; 2 warnings, the first: column KoordZ is empty")


def test_a_long_first_warning_is_cut():
    event = entity_event(outcome(EntityStatus.SUCCESS, rows_in=1, rows_out=1, warnings=["x" * 500]))

    assert event[1].endswith("1 warning, the first: " + "x" * 199 + "…")


def test_a_failed_entity_says_after_how_long_and_why():
    failed = outcome(EntityStatus.FAILED, rows_in=50, duration_ms=400, error="column KoordZ not found")

    assert entity_event(failed) == ("error", "failed after 400 ms (50 rows in): column KoordZ not found")


def test_a_skipped_entity_says_why_and_a_cancelled_one_says_nothing():
    skipped = outcome(EntityStatus.SKIPPED, error="depends on site, which failed")

    assert entity_event(skipped) == ("warning", "skipped: depends on site, which failed")
    assert entity_event(outcome(EntityStatus.CANCELLED)) is None


@pytest.mark.django_db
def test_a_run_logs_what_each_entity_did(write_config, alice, django_capture_on_commit_callbacks):
    run = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    events = {event.entity: event for event in run.events.exclude(entity="")}

    assert events["survey"].level == "info"
    assert events["survey"].message.startswith("2 rows in → 2 out in ")
    assert events["site"].level == "error"
    assert events["site"].message.startswith("failed after ")
    assert "missing.csv" in events["site"].message
    assert events["site_note"].level == "warning"
    assert events["site_note"].message.startswith("skipped: ")
    assert events["sample"].level == "warning"  # no_such_column
    assert "1 warning, the first: " in events["sample"].message
