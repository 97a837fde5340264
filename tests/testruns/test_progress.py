"""testruns.progress: a run's progress in entities and rows, and its time left, from what is known."""

from datetime import timedelta

import pytest
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun
from testruns.progress import Expected, Phase, Reference, progress_of, working_on
from tests.factories import make_run

pytestmark = pytest.mark.django_db

SUCCESS = EntityResult.Status.SUCCESS


def finished(entity, rows_in, duration_ms):
    return {
        "entity": entity,
        "status": SUCCESS,
        "rows_in": rows_in,
        "rows_out": rows_in,
        "duration_ms": duration_ms,
    }


def running_run(version, entities, elapsed_s=10, **fields):
    """A run working for ``elapsed_s`` seconds on its entities (dicts or names, in plan order)."""
    done = sum(1 for e in entities if isinstance(e, dict) and e.get("status") == SUCCESS)
    return make_run(
        version,
        Status.RUNNING,
        entities,
        started_at=timezone.now() - timedelta(seconds=elapsed_s),
        entities_total=len(entities),
        entities_completed=done,
        **fields,
    )


def reference(**entities):
    """A reference whose entities read rows_in rows in duration_ms: name=(rows_in, duration_ms)."""
    import uuid

    return Reference(uuid.uuid4(), {name: Expected(*values) for name, values in entities.items()})


def results_of(run):
    return list(run.entity_results.all())


def test_it_counts_the_rows_read_of_what_the_reference_read(demo_version):
    run = running_run(
        demo_version,
        [finished("survey", 480_000, 4_000), {"entity": "result_base", "status": "running"}, "method"],
        current_entity="result_base",
    )
    ref = reference(survey=(480_000, 4_000), result_base=(945_600, 12_000), method=(60, 50))

    progress = progress_of(run, results_of(run), ref)

    assert progress.rows_read == 480_000
    assert progress.rows_expected == 480_000 + 945_600 + 60
    assert progress.current == Expected(945_600, 12_000)  # what result_base did last time


def test_it_gives_no_total_when_the_reference_does_not_know_an_entity_to_do(demo_version):
    run = running_run(demo_version, [finished("survey", 100, 40), "site", "new_entity"])
    ref = reference(survey=(100, 40), site=(10, 20))  # new_entity is new in this version

    progress = progress_of(run, results_of(run), ref)

    assert progress.rows_read == 100
    assert progress.rows_expected is None
    assert progress.eta == timedelta(milliseconds=40 * 2)  # this run's own mean × the entities left


def test_it_says_nothing_of_rows_to_come_without_a_reference(demo_version):
    run = running_run(demo_version, [finished("survey", 100, 40), "site"])

    progress = progress_of(run, results_of(run))

    assert (progress.rows_read, progress.rows_expected, progress.current) == (100, None, None)


def test_the_eta_weighs_the_entities_left_by_their_times_in_the_reference(demo_version):
    # survey took as long as last time; result_base (big) and method (small) are left
    run = running_run(demo_version, [finished("survey", 100, 1_000), "result_base", "method"])
    ref = reference(survey=(100, 1_000), result_base=(900_000, 30_000), method=(60, 500))

    progress = progress_of(run, results_of(run), ref)

    # not the entity mean (1 s × 2 left): the reference's 30 s + 0.5 s
    assert progress.eta == timedelta(milliseconds=30_500)


def test_the_eta_follows_this_runs_pace_against_the_reference(demo_version):
    run = running_run(demo_version, [finished("survey", 100, 2_000), "result_base"])
    ref = reference(survey=(100, 1_000), result_base=(900_000, 30_000))  # this run is twice as slow

    assert progress_of(run, results_of(run), ref).eta == timedelta(milliseconds=60_000)


@pytest.fixture
def frozen_now(monkeypatch):
    """``timezone.now()`` stopped at one moment, so the elapsed time of a run is exact."""
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def test_the_eta_counts_the_time_already_spent_on_the_running_entity(demo_version, frozen_now):
    run = running_run(
        demo_version,
        [finished("survey", 100, 1_000), {"entity": "result_base", "status": "running"}],
        elapsed_s=11,
    )
    ref = reference(survey=(100, 1_000), result_base=(900_000, 30_000))

    eta = progress_of(run, results_of(run), ref).eta

    # 30 s expected, 10 s of it spent (11 s elapsed − 1 s of survey): 20 s left
    assert eta == timedelta(seconds=20)


def test_the_eta_is_zero_not_negative_when_an_entity_takes_longer_than_last_time(demo_version, frozen_now):
    run = running_run(
        demo_version,
        [finished("survey", 100, 1_000), {"entity": "result_base", "status": "running"}],
        elapsed_s=60,
    )
    ref = reference(survey=(100, 1_000), result_base=(900_000, 30_000))

    assert progress_of(run, results_of(run), ref).eta == timedelta(0)


def test_the_eta_says_nothing_before_anything_is_known(demo_version):
    run = running_run(demo_version, ["survey", "site"])

    assert progress_of(run, results_of(run)).eta is None


def test_an_ended_run_has_no_eta_and_no_rows_to_come(demo_version):
    run = make_run(
        demo_version,
        Status.COMPLETED,
        [finished("survey", 100, 40)],
        started_at=timezone.now(),
        finished_at=timezone.now(),
        entities_total=1,
        entities_completed=1,
    )

    progress = progress_of(run, results_of(run), reference(survey=(100, 40)))

    assert (progress.eta, progress.rows_expected, progress.rows_read) == (timedelta(0), None, 100)


def test_the_reference_is_the_last_finished_run_with_the_same_options(demo_version):
    def earlier(minutes, options, status=Status.COMPLETED):
        return make_run(
            demo_version,
            status,
            [finished("survey", 100 * minutes, 1_000)],
            options=options,
            created_at=timezone.now() - timedelta(minutes=minutes),
        )

    same = earlier(30, {"max_rows_per_entity": 50})
    earlier(20, {})  # a full run: its rows and times say nothing about a sample of 50
    earlier(10, {"max_rows_per_entity": 50}, Status.RUNNING)  # not finished
    run = running_run(demo_version, ["survey"], options={"max_rows_per_entity": 50})

    ref = Reference.of(run)

    assert ref.run_id == same.pk
    assert ref.entities == {"survey": Expected(3_000, 1_000)}


def test_there_is_no_reference_without_a_comparable_run(demo_version):
    make_run(
        demo_version, Status.COMPLETED, [finished("survey", 1, 1)], created_at=timezone.now() - timedelta(1)
    )
    run = running_run(demo_version, ["survey"], options={"max_rows_per_entity": 50})

    assert Reference.of(run) is None


def test_a_reference_id_of_another_configuration_is_ignored(demo_version, make_other_version):
    other = make_run(make_other_version, Status.COMPLETED, [finished("survey", 1, 1)])
    run = running_run(demo_version, ["survey"])

    assert Reference.load(run, other.pk) is None


@pytest.fixture
def make_other_version():
    from tests.factories import make_version

    return make_version("other")


def test_state_label_says_where_the_run_is(demo_version):
    run = TestRun(status=Status.RUNNING, entities_completed=12, entities_total=55)

    assert run.state_label == "▶ 12/55"
    for status, label in [
        (Status.PENDING, "… pending"),
        (Status.CANCELLING, "■ cancelling 12/55"),
        (Status.COMPLETED, "✓ completed"),
        (Status.FAILED, "✗ failed"),
        (Status.CANCELLED, "■ cancelled"),
        (Status.CRASHED, "✗ crashed"),
    ]:
        run.status = status
        assert run.state_label == label


def test_it_says_what_the_entity_at_work_is_doing_with_its_rows(demo_version):
    run = running_run(
        demo_version,
        [finished("survey", 480_000, 4_000), {"entity": "result_base", "status": "running"}, "method"],
        current_entity="result_base",
        current_phase="link",
        current_rows=945_600,
        current_rows_in=945_615,
    )

    progress = progress_of(run, results_of(run))

    assert progress.phase == Phase("link", 945_600)
    assert progress.phase.words == "linking"
    assert working_on(run, progress.phase) == "working on result_base — linking 945,600 rows"
    assert progress.rows_read == 480_000  # the finished entities'
    assert progress.rows_current == 945_615  # result_base's, read so far


def test_a_phase_whose_rows_are_not_known_is_said_without_them(demo_version):
    run = running_run(
        demo_version,
        [{"entity": "survey", "status": "running"}],
        current_entity="survey",
        current_phase="load",
    )

    progress = progress_of(run, results_of(run))

    assert progress.phase == Phase("load", None) and progress.phase.words == "loading"
    assert working_on(run, progress.phase) == "working on survey — loading"
    assert progress.rows_current is None


@pytest.mark.parametrize(
    ("status", "entity_status"),
    [
        (
            Status.RUNNING,
            SUCCESS,
        ),  # the entity finished, the next one has not started: its rows are in rows_read
        (Status.COMPLETED, SUCCESS),
        (Status.CRASHED, EntityResult.Status.CRASHED),
    ],
)
def test_no_phase_is_said_of_an_entity_no_longer_at_work(demo_version, status, entity_status):
    run = running_run(
        demo_version,
        [{"entity": "survey", "status": entity_status, "rows_in": 10}, "site"],
        current_entity="survey",
        current_phase="drop_empty_rows",
        current_rows=10,
        current_rows_in=10,
    )
    TestRun.objects.filter(pk=run.pk).update(status=status)
    run.refresh_from_db()

    progress = progress_of(run, results_of(run))

    assert progress.phase is None and progress.rows_current is None
    assert progress.rows_read == 10  # counted once
    assert working_on(run, progress.phase) == ("working on survey" if run.is_active else "")


def test_a_phase_of_one_row_says_row():
    assert Phase("dedupe", 1).text == "removing duplicates 1 row"
    assert Phase("dedupe", 0).text == "removing duplicates 0 rows"
