"""RunObserver.entity_phase: the worker notes the entity's phase and rows on the run, cheaply."""

import uuid

import pytest
from django.utils import timezone

import shapeshift
from testruns import execution
from testruns.execution import RunObserver, execute_run, start_run
from testruns.models import RunLost, Status, TestRun
from testruns.options import RunOptions
from testruns.progress import PHASE_WORDS
from tests.factories import make_run

pytestmark = pytest.mark.django_db


class Clock:
    """time.monotonic for the observer, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(execution, "time", clock)
    monkeypatch.setattr(execution, "PHASE_WRITE_INTERVAL", 0.5)
    monkeypatch.setattr(execution, "CANCEL_CHECK_INTERVAL", 3600)  # no cancel query in these counts
    return clock


# One write: the guarded UPDATE in its own transaction (here a savepoint and its release around it).
WRITE = 3


@pytest.fixture
def running(demo_version):
    return make_run(demo_version, Status.RUNNING, ["survey", "site"], started_at=timezone.now())


def noted(run) -> tuple:
    return TestRun.objects.values_list("current_phase", "current_rows", "current_rows_in").get(pk=run.pk)


def test_an_entitys_first_phase_is_written_at_once(running, clock, django_assert_num_queries):
    observer = RunObserver(running)
    observer.entity_started("site")

    with django_assert_num_queries(WRITE):
        observer.entity_phase("site", "load")
    assert noted(running) == ("load", None, None)


def test_phases_come_at_most_every_interval_and_the_held_one_at_the_next_checkpoint(
    running, clock, django_assert_num_queries
):
    observer = RunObserver(running)
    observer.entity_phase("survey", "load")
    observer.should_stop()  # its cancel query, not again within CANCEL_CHECK_INTERVAL
    clock.now += 0.1
    with django_assert_num_queries(0):
        observer.entity_phase("survey", "subset", 945_615)
        assert observer.should_stop() is False  # polled right after a phase: still too soon
    assert noted(running) == ("load", None, None)

    clock.now += 0.5  # a checkpoint inside the long subset phase, past the interval
    with django_assert_num_queries(WRITE):
        observer.should_stop()
    assert noted(running) == ("subset", 945_615, 945_615)
    with django_assert_num_queries(0):  # written once only
        observer.should_stop()


def test_a_newer_phase_replaces_the_one_held(running, clock):
    observer = RunObserver(running)
    observer.entity_phase("survey", "load")
    clock.now += 0.1
    observer.entity_phase("survey", "subset", 10)
    observer.entity_phase("survey", "filter", 10)
    clock.now += 0.1
    observer.entity_phase("survey", "link", 8)
    clock.now += 1
    observer.entity_phase("survey", "drop_empty_rows", 8)

    assert noted(running) == ("drop_empty_rows", 8, 10)


def test_the_rows_read_add_up_the_parts_and_start_over_with_the_next_entity(running, clock):
    observer = RunObserver(running)
    for rows in (4, 3):  # the entity, then its append item
        clock.now += 1
        observer.entity_phase("survey", "load")
        clock.now += 1
        observer.entity_phase("survey", "subset", rows)
    assert noted(running) == ("subset", 3, 7)

    observer.entity_started("site")
    assert noted(running) == ("", None, None)  # a new entity: nothing known of it yet
    observer.entity_phase("site", "load")  # its first phase: written however soon
    assert noted(running) == ("load", None, None)


def test_a_finished_entitys_held_phase_is_not_written(running, clock, django_assert_num_queries):
    observer = RunObserver(running)
    observer.entity_phase("survey", "load")
    observer.should_stop()
    observer.entity_phase("survey", "subset", 4)  # held
    observer.entity_finished(
        shapeshift.EntityOutcome("survey", "success", "requested", rows_in=4, rows_out=4)
    )
    clock.now += 1
    with django_assert_num_queries(0):
        observer.should_stop()


def test_a_phase_of_a_run_no_longer_this_workers_raises_run_lost(running, clock):
    TestRun.objects.filter(pk=running.pk).update(claim_token=uuid.uuid4())  # the reaper and another claim

    with pytest.raises(RunLost):
        RunObserver(running).entity_phase("survey", "load")


def test_a_run_notes_each_entitys_rows_read_and_clears_its_notes_at_the_end(
    demo_version, alice, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(execution, "PHASE_WRITE_INTERVAL", 0)  # every phase written
    seen = {}
    finished = RunObserver.entity_finished

    def note_then_finish(self, outcome):
        seen[outcome.name] = (noted(self.run), outcome.rows_in)
        finished(self, outcome)

    monkeypatch.setattr(RunObserver, "entity_finished", note_then_finish)
    with django_capture_on_commit_callbacks(execute=False):
        run = start_run(demo_version, RunOptions(max_rows_per_entity=None), alice)

    assert execute_run(run.pk) == Status.COMPLETED

    assert seen
    for entity, ((phase, _, rows_in), outcome_rows_in) in seen.items():
        assert phase in PHASE_WORDS, entity  # its last phase, as the engine named it
        assert rows_in == outcome_rows_in, entity  # the worker's count is the engine's
    assert noted(run) == ("", None, None)


def test_an_entitys_phase_ends_with_it(running, clock, django_assert_num_queries):
    observer = RunObserver(running)
    observer.entity_started("survey")
    observer.entity_phase("survey", "load")
    clock.now += 1
    observer.entity_phase("survey", "subset", 4)
    assert noted(running) == ("subset", 4, 4)

    with django_assert_num_queries(WRITE + 2):  # its one write with the result and the event: no more
        observer.entity_finished(
            shapeshift.EntityOutcome("survey", "success", "requested", rows_in=4, rows_out=4)
        )
    assert noted(running) == ("", None, None)  # what reads the run alone says no phase of a finished entity
