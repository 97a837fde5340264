"""Executing runs in-process (django-q2 sync mode): the life of a run from pending to its end."""

import csv
import io
import json

import pytest

from configurations.importing import import_configuration
from testruns.execution import execute_run, start_run
from testruns.models import EntityResult, RunAlreadyFinished, RunNotQueued, Status, TestRun
from testruns.options import InvalidOptions, RunOptions
from tests.factories import HUGE_CELL, make_hostile_run, run_for_real, run_with_a_failing_entity

pytestmark = pytest.mark.django_db


def test_it_enqueues_the_run_only_after_commit(demo_version, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = start_run(demo_version, RunOptions(), alice)

    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.status == Status.PENDING
    assert run.requested_by == alice


def test_it_runs_the_demo_to_completion(demo_version, alice, django_capture_on_commit_callbacks):
    run = run_for_real(
        demo_version, alice, django_capture_on_commit_callbacks, RunOptions(max_rows_per_entity=None)
    )

    assert run.status == Status.COMPLETED, run.error_message
    assert run.entities_total == len(demo_version.validation["entities"]) == 11
    assert run.entities_succeeded == run.entities_completed == 11
    assert run.started_at <= run.finished_at
    rows = dict(run.entity_results.values_list("entity", "rows_out"))
    assert rows["site"] == 6
    assert rows["sample"] == 60
    assert rows["taxa"] == 40
    assert rows["abundance"] == 300


def test_it_stores_a_preview_and_the_full_table(demo_version, alice, django_capture_on_commit_callbacks):
    run = run_for_real(
        demo_version, alice, django_capture_on_commit_callbacks, RunOptions(max_rows_per_entity=None)
    )

    abundance = run.entity_results.get(entity="abundance")
    assert len(abundance.preview) == 50
    assert len(abundance.preview[0]) == len(abundance.columns)
    assert set(abundance.dtypes) == set(abundance.columns)
    with abundance.output.open("rb") as f:
        table = list(csv.reader(io.TextIOWrapper(f, encoding="utf-8")))
    assert table[0] == abundance.columns
    assert len(table) == 1 + 300


def test_it_samples_the_first_rows(demo_version, alice, django_capture_on_commit_callbacks):
    run = run_for_real(
        demo_version, alice, django_capture_on_commit_callbacks, RunOptions(max_rows_per_entity=10)
    )

    assert run.status == Status.COMPLETED
    assert run.entity_results.get(entity="survey").rows_out == 10
    assert run.entity_results.get(entity="abundance").rows_out == 10


def test_it_runs_requested_entities_with_their_dependencies(
    demo_version, alice, django_capture_on_commit_callbacks
):
    run = run_for_real(demo_version, alice, django_capture_on_commit_callbacks, RunOptions(entities=["site"]))

    roles = dict(run.entity_results.values_list("entity", "role"))
    assert roles["site"] == EntityResult.Role.REQUESTED
    assert roles["survey"] == EntityResult.Role.DEPENDENCY
    assert "abundance" not in roles
    assert list(run.entity_results.values_list("position", flat=True)) == list(range(len(roles)))


def test_it_rejects_unknown_entities(demo_version, alice):
    with pytest.raises(InvalidOptions) as excinfo:
        start_run(demo_version, RunOptions(entities=["site", "nope"]), alice)

    assert excinfo.value.field == "entities"
    assert "nope" in str(excinfo.value)
    assert not TestRun.objects.exists()


def test_it_rejects_a_sample_size_out_of_range(demo_version, alice):
    with pytest.raises(InvalidOptions) as excinfo:
        start_run(demo_version, RunOptions(max_rows_per_entity=5), alice)

    assert excinfo.value.field == "max_rows_per_entity"


def test_it_fails_one_entity_skips_its_dependents_and_runs_the_rest(
    write_config, alice, django_capture_on_commit_callbacks
):
    run = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    assert run.status == Status.FAILED
    assert run.summary == "1 entity failed, 1 skipped"
    assert run.error_message == ""  # it did start: the counters say why it failed
    assert run.events.order_by("pk").last().message == "Run failed: 1 entity failed, 1 skipped."
    results = {r.entity: r for r in run.entity_results.all()}
    assert results["site"].status == EntityResult.Status.FAILED
    assert "missing.csv" in results["site"].error
    assert results["site_note"].status == EntityResult.Status.SKIPPED
    assert results["sample"].status == EntityResult.Status.SUCCESS
    assert any("no_such_column" in warning for warning in results["sample"].warnings)
    assert (run.entities_failed, run.entities_skipped, run.entities_succeeded) == (1, 1, 2)


def test_it_fails_a_run_whose_configuration_does_not_load(
    write_config, alice, django_capture_on_commit_callbacks
):
    path = write_config("entities:\n  site: [unclosed\n")
    version, _ = import_configuration(path, user=alice)
    assert version.validation["error"]

    run = run_for_real(version, alice, django_capture_on_commit_callbacks)

    assert run.status == Status.FAILED
    assert "config.yml" in run.error_message
    assert run.finished_at is not None
    assert not run.entity_results.exists()


def test_a_duplicate_delivery_does_nothing(demo_version, alice, django_capture_on_commit_callbacks):
    run = run_for_real(demo_version, alice, django_capture_on_commit_callbacks, RunOptions(entities=["site"]))
    finished_at = run.finished_at

    assert execute_run(run.pk) == Status.COMPLETED

    run.refresh_from_db()
    assert run.finished_at == finished_at
    assert run.entity_results.count() == run.entities_total


def test_cancelling_a_pending_run_cancels_it_at_once(demo_version, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = start_run(demo_version, RunOptions(), alice)

    assert run.request_cancel() == Status.CANCELLED
    assert run.request_cancel() == Status.CANCELLED  # a second cancel is harmless
    assert execute_run(run.pk) == Status.CANCELLED  # the delivered task finds nothing to do
    assert not run.entity_results.exists()


def test_cancelling_a_finished_run_is_refused(demo_version, alice, django_capture_on_commit_callbacks):
    run = run_for_real(demo_version, alice, django_capture_on_commit_callbacks, RunOptions(entities=["site"]))

    with pytest.raises(RunAlreadyFinished, match="already finished"):
        run.request_cancel()


def test_it_cuts_a_huge_cell_in_the_preview_and_stores_it_whole(
    write_config, alice, django_capture_on_commit_callbacks
):
    run = make_hostile_run(write_config, alice, django_capture_on_commit_callbacks)

    result = run.entity_results.get()
    preview = dict(zip(result.columns, result.preview[0], strict=True))
    assert len(preview["text"]) <= 1_000
    assert preview["text"].endswith("… [truncated: 1,200,000 characters]")
    assert len(json.dumps(result.preview)) < 10_000
    with result.output.open("rb") as handle:
        assert HUGE_CELL in handle.read().decode()


@pytest.mark.django_db(transaction=True)  # the run is enqueued when start_run's own transaction commits
def test_it_fails_the_run_with_the_reason_when_the_broker_is_unreachable(demo_version, alice, broker_down):
    with pytest.raises(RunNotQueued) as excinfo:
        start_run(demo_version, RunOptions(), alice)

    run = TestRun.objects.get()
    assert excinfo.value.run == run
    assert run.status == Status.FAILED
    assert run.finished_at is not None
    port = broker_down.rsplit(":", 1)[1].split("/")[0]
    assert run.error_message.startswith("Could not queue the run: the task broker (Redis at 127.0.0.1:")
    assert f":{port}) is unreachable" in run.error_message
    assert "Connection refused" in run.error_message
    assert run.events.get(level="error").message == run.error_message
    assert run.error_message in str(excinfo.value)


def test_a_worker_whose_run_was_reaped_stops_and_writes_nothing_more(
    demo_version, alice, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """The worker froze while "site" loaded, long enough for the reaper; then it goes on where it was."""
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from testruns import execution
    from testruns.execution import RunObserver
    from testruns.reaper import reap_stale_runs

    monkeypatch.setattr(execution, "CANCEL_CHECK_INTERVAL", 0)
    phase = RunObserver.entity_phase

    def reaped_while_site_loads(self, name, current, rows=None):
        if (name, current) == ("site", "load"):
            past = timezone.now() - timedelta(seconds=settings.HEARTBEAT_TIMEOUT + 1)
            TestRun.objects.filter(pk=self.run.pk).update(heartbeat_at=past)
            assert reap_stale_runs() == (1, 0)
        phase(self, name, current, rows)

    monkeypatch.setattr(RunObserver, "entity_phase", reaped_while_site_loads)
    with django_capture_on_commit_callbacks(execute=False):
        run = start_run(demo_version, RunOptions(max_rows_per_entity=None), alice)

    assert execute_run(run.pk) == Status.CRASHED

    run.refresh_from_db()
    assert "stopped responding" in run.error_message
    results = list(run.entity_results.order_by("position"))
    site = next(r for r in results if r.entity == "site")
    before = [r for r in results if r.position < site.position]
    after = [r for r in results if r.position >= site.position]
    assert {r.status for r in before} == {EntityResult.Status.SUCCESS}
    assert {r.status for r in after} == {"crashed"}
    assert all(r.rows_out is None and not r.output for r in after)
    assert run.entities_completed == len(before)
    stored = default_storage.listdir(f"runs/{run.pk}")[1]
    tables = [r.output.name for r in before if r.output]  # no explorer copies: a lost run queues none
    assert sorted(stored) == sorted(name.rsplit("/", 1)[1] for name in tables)
    assert run.events.order_by("pk").last().message == run.error_message  # the reaper's word is the last
