"""TestRunQuerySet: runs loaded with what each page, the API or an export reads, at the cost it states."""

from datetime import timedelta

import pytest
from django.utils import timezone

from configurations.models import Configuration
from testruns.models import EntityResult, Status, TestRun

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def runs(demo_version, alice):
    """Three finished runs of the demo, each with two entity results."""
    made = []
    for n in range(3):
        run = TestRun.objects.create(
            configuration=demo_version.configuration,
            version=demo_version,
            status=Status.COMPLETED,
            requested_by=alice,
            created_at=NOW - timedelta(hours=n),
        )
        for position, entity in enumerate(["site", "sample"]):
            EntityResult.objects.create(
                run=run, position=position, entity=entity, status="success", preview=[[1]], traceback="t"
            )
        made.append(run)
    return made


def test_for_page_loads_what_a_run_page_shows_beside_the_run_in_one_query(runs, django_assert_num_queries):
    with django_assert_num_queries(1):
        run = TestRun.objects.for_page().get(pk=runs[0].pk)
    with django_assert_num_queries(0):
        assert run.configuration.current_version.number == 1
        assert run.version.number == 1
        assert run.requested_by.username == "alice"


def test_with_results_loads_runs_and_their_results_in_two_queries_however_many(
    runs, django_assert_num_queries
):
    with django_assert_num_queries(2):
        loaded = list(TestRun.objects.with_results().order_by("created_at"))
    with django_assert_num_queries(0):
        assert [[r.entity for r in run.entity_results.all()] for run in loaded] == [["site", "sample"]] * 3
        assert {
            (run.configuration.name, run.version.number, run.requested_by.username) for run in loaded
        } == {("demo", 1, "alice")}
        assert loaded[0].entity_results.all()[0].preview == [[1]]


def test_with_results_leaves_the_heavy_fields_out_without_previews(runs):
    run = TestRun.objects.with_results(previews=False).get(pk=runs[0].pk)

    deferred = run.entity_results.all()[0].get_deferred_fields()
    assert deferred == {"preview", "traceback", "dtypes"}


def test_for_export_keeps_tracebacks_and_dtypes_but_not_previews(runs, django_assert_num_queries):
    with django_assert_num_queries(2):
        run = TestRun.objects.for_export().get(pk=runs[0].pk)

    assert run.entity_results.all()[0].get_deferred_fields() == {"preview"}


def test_annotate_last_run_gives_each_configuration_its_latest_run_in_one_query(
    runs, demo_version, django_assert_num_queries
):
    Configuration.objects.create(name="never-run")

    with django_assert_num_queries(1):
        found = {c.name: c for c in TestRun.objects.annotate_last_run(Configuration.objects.all())}

    assert (found["demo"].last_run_id, found["demo"].last_run_status) == (runs[0].pk, Status.COMPLETED)
    assert found["demo"].last_run_at == runs[0].created_at
    assert found["never-run"].last_run_id is None


def test_prunable_keeps_pinned_and_active_runs(demo_version):
    def make(**fields):
        return TestRun.objects.create(
            configuration=demo_version.configuration, version=demo_version, **fields
        )

    finished = make(status=Status.FAILED)
    make(status=Status.COMPLETED, pinned=True)
    make(status=Status.RUNNING)

    assert list(TestRun.objects.prunable()) == [finished]
