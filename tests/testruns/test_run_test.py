"""manage.py run_test: start a run from the command line, for a worker, followed (--wait) or here (--sync)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from tqdm import tqdm

from configurations.importing import import_configuration
from testruns.management.commands.run_test import Command
from testruns.models import Status, TestRun
from tests.factories import make_run

pytestmark = pytest.mark.django_db

BROKEN_ENTITY = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";", dtype: str, keep_default_na: false}
    columns: [site, sample]
  notes:
    type: csv
    options: {filename: notes.csv, sep: ";"}
    columns: [note]
  sample:
    source: survey
    keys: [sample]
    columns: [sample]
    surrogate_id: sample_id
"""  # notes.csv is never written: that entity fails, the others succeed


def run_test(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("run_test", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_starts_a_run_and_returns_at_once(demo_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        out, _ = run_test("demo")

    run = TestRun.objects.get()
    assert out.strip() == f"{run.pk} /runs/{run.pk}/"
    assert run.status == Status.PENDING
    assert run.options["max_rows_per_entity"] == 100
    assert len(callbacks) == 1  # enqueued for a worker


def test_it_runs_the_demo_in_process_with_sync(demo_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        out, _ = run_test("demo", "--sync", "--max-rows", "all")

    run = TestRun.objects.get()
    assert run.status == Status.COMPLETED
    assert run.entities_succeeded == run.entities_total == 11
    assert out.startswith(f"demo v1 run {run.short_id} completed: 11 of 11 entities succeeded, 0 failed, ")
    assert callbacks == []  # nothing enqueued: no worker may run it a second time
    assert run.task_id == ""


def test_it_exits_1_when_an_entity_fails(write_config, alice):
    path = write_config(BROKEN_ENTITY, survey__csv="site;sample\nA;1\nB;2\n")
    import_configuration(path, name="broken", user=alice)

    with pytest.raises(CommandError) as excinfo:
        run_test("broken", "--sync")

    run = TestRun.objects.get()
    assert excinfo.value.returncode == 1
    assert f"run {run.short_id} failed: 2 of 3 entities succeeded, 1 failed, 0 skipped" in str(excinfo.value)
    assert TestRun.objects.get().entity_results.get(entity="notes").status == "failed"


def test_it_prints_the_run_object_with_json(demo_version):
    out, err = run_test("demo", "--sync", "--entities", "site", "--json")

    data = json.loads(out)
    assert data["status"] == "completed"
    assert data["options"]["entities"] == ["site"]
    assert {e["entity_name"] for e in data["entities_processed"]} >= {"site", "survey"}
    assert "completed" in err  # the summary goes to stderr, so stdout is only JSON


def test_it_prints_the_failed_run_object_with_json_too(write_config, alice):
    path = write_config(BROKEN_ENTITY, survey__csv="site;sample\nA;1\n")
    import_configuration(path, name="broken", user=alice)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("run_test", "broken", "--sync", "--json", stdout=out, stderr=io.StringIO())

    assert json.loads(out.getvalue())["entities_failed"] == 1


def test_it_passes_the_options(demo_version, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        run_test(
            "demo",
            "--entities",
            "site, sample",
            "--max-rows",
            "all",
            "--stop-on-error",
            "--no-validate-foreign-keys",
            "--no-validate-constraints",
            "--user",
            "alice",
        )

    run = TestRun.objects.get()
    assert run.options == {
        "entities": ["site", "sample"],
        "max_rows_per_entity": None,
        "stop_on_error": True,
        "validate_foreign_keys": False,
        "validate_constraints": False,
    }
    assert run.requested_by == alice


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No configuration named 'nope'"),
        (["demo", "--entities", "site,nope"], "entities: unknown entities: nope"),
        (["demo", "--max-rows", "5"], "max_rows_per_entity: must be between 10 and 10000"),
        (["demo", "--max-rows", "lots"], "--max-rows: 'lots' is neither a number nor 'all'"),
        (["demo", "--user", "nobody"], "No user named 'nobody'"),
    ],
)
def test_it_rejects_bad_arguments(demo_version, args, message):
    with pytest.raises(CommandError, match=message):
        run_test(*args)

    assert not TestRun.objects.exists()


def test_it_waits_for_the_run_to_end(transactional_db, demo_version):
    # With a committed transaction and django-q2 in sync mode, the run executes as it is enqueued,
    # so --wait finds it finished at its first poll.
    out, err = run_test("demo", "--wait")

    run = TestRun.objects.get()
    assert run.status == Status.COMPLETED
    assert "11/11" in err  # the progress bar
    assert out.strip().startswith(f"demo v1 run {run.short_id} completed")


def test_it_stops_waiting_on_ctrl_c_without_cancelling(
    demo_version, monkeypatch, django_capture_on_commit_callbacks
):
    def interrupt(self, run, bar):
        raise KeyboardInterrupt

    monkeypatch.setattr(Command, "poll", interrupt)

    with pytest.raises(CommandError) as excinfo, django_capture_on_commit_callbacks():
        run_test("demo", "--wait")

    run = TestRun.objects.get()
    assert run.status == Status.PENDING
    assert excinfo.value.returncode == 130
    assert f"manage.py show_run {run.short_id}" in str(excinfo.value)
    assert "not cancelled" in str(excinfo.value)


def test_it_cancels_a_sync_run_on_ctrl_c(demo_version, monkeypatch):
    def interrupted(run_id):
        TestRun.objects.get(pk=run_id).claim("here")
        raise KeyboardInterrupt

    monkeypatch.setattr("testruns.management.commands.run_test.execute_run", interrupted)

    with pytest.raises(CommandError, match="cancelled") as excinfo:
        run_test("demo", "--sync")

    assert excinfo.value.returncode == 130
    run = TestRun.objects.get()
    assert run.status == Status.CANCELLED
    assert "Ctrl-C" in run.error_message


def test_it_moves_the_bar_with_each_poll(demo_version):
    run = make_run(demo_version)
    bar = tqdm(total=0, file=io.StringIO())
    TestRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, entities_total=4, entities_completed=1, current_entity="site"
    )

    assert Command().poll(run, bar) is False
    assert (bar.n, bar.total, bar.desc) == (1, 4, "working on site: ")

    TestRun.objects.filter(pk=run.pk).update(status=Status.COMPLETED, entities_completed=4, current_entity="")
    assert Command().poll(run, bar) is True
    assert (bar.n, bar.desc) == (4, "completed: ")


def test_its_bar_says_what_the_entity_at_work_is_doing_as_the_run_page_does(
    demo_version, django_assert_num_queries
):
    run = make_run(demo_version)
    drawn = io.StringIO()
    bar = tqdm(total=0, file=drawn)
    TestRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING,
        entities_total=11,
        entities_completed=4,
        current_entity="result_base",
        current_phase="link",
        current_rows=945_600,
    )

    with django_assert_num_queries(1):
        Command().poll(run, bar)

    assert bar.desc == "working on result_base — linking 945,600 rows: "
    assert "working on result_base — linking 945,600 rows:  36%" in drawn.getvalue()


@pytest.mark.django_db(transaction=True)  # the run is enqueued when start_run's own transaction commits
def test_it_fails_with_the_reason_when_the_broker_is_unreachable(demo_version, broker_down):
    with pytest.raises(CommandError, match="Could not queue the run") as excinfo:
        run_test("demo")

    run = TestRun.objects.get()
    assert run.status == Status.FAILED
    assert str(run.pk) in str(excinfo.value)
