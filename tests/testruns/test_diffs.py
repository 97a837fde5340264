"""testruns.diffs: the diff of two runs' stored tables, kept per (base, head), computed in the request when
small and by a worker otherwise."""

import io
import shutil

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from testruns import diffs
from testruns.models import EntityResult, RunDiff, Status
from tests.factories import SHARED_DATA, make_run, make_version
from tests.testruns.diff_support import FIELDS, store
from tests.testruns.diff_support import finished as finished_run

pytestmark = pytest.mark.django_db

ARBODAT = SHARED_DATA / "arbodat"


@pytest.fixture
def finished(demo_version):
    """``finished(**tables)``: a completed run of the demo storing each entity's CSV text."""

    def make(**tables):
        return finished_run(demo_version, **tables)

    return make


# --- the issue's own case: the Arbodat survey without its first data row, run by ShiftBench -----------------


@pytest.fixture
def arbodat_runs(alice, tmp_path, django_capture_on_commit_callbacks):
    """Two full runs of the real Arbodat configuration: v1 on the survey as it is, v2 without its first data
    row. Imported and run as an author would (django-q2 sync mode), so the diff reads the app's stored tables.
    """
    from configurations.importing import import_configuration
    from testruns.options import RunOptions
    from tests.factories import run_for_real

    versions = []
    for variant in ("as-is", "without-first-row"):
        folder = tmp_path / variant
        shutil.copytree(ARBODAT, folder, ignore=shutil.ignore_patterns("original"))
        if variant == "without-first-row":
            survey = folder / "survey.csv"
            header, _, body = survey.read_bytes().partition(b"\n")
            survey.write_bytes(header + b"\n" + body.partition(b"\n")[2])
        version, created = import_configuration(folder / "reduced-arbodat.yml", name="arbodat", user=alice)
        assert created
        versions.append(version)
    runs = [
        run_for_real(version, alice, django_capture_on_commit_callbacks, RunOptions(max_rows_per_entity=None))
        for version in versions
    ]
    for run in runs:
        assert not run.is_active and not run.error_message, run.error_message
    return runs


@pytest.mark.slow
def test_it_diffs_two_real_runs_of_arbodat_by_identity(arbodat_runs):
    base, head = arbodat_runs

    diff = diffs.request_diff(base, head)

    assert diff.status == RunDiff.Status.DONE, diff.error
    counts = {e["entity"]: (e["only_in_base"], e["only_in_head"], e["changed"]) for e in diff.entities}
    assert len(counts) == 55
    differing = {name: count for name, count in counts.items() if count != (0, 0, 0)}
    assert differing == {
        "result_base": (8, 0, 0),
        "survey": (1, 0, 0),
        "sample_taxa": (1, 0, 0),
        "sample_archaeological_period": (1, 0, 0),
        "sample_chronological_period": (1, 0, 0),
    }
    assert (diff.entities_compared, diff.entities_differing) == (55, 5)
    assert diff.unchanged == [name for name in counts if name not in differing]  # the other 50
    assert all(list(entity) == FIELDS for entity in diff.entities)  # in this order on every database
    survey = next(e for e in diff.entities if e["entity"] == "survey")
    assert survey["rows_base"] - survey["rows_head"] == 1 and len(survey["samples"]["only_in_base"]) == 1


# --- computing a diff ---------------------------------------------------------------------------------------


def test_it_matches_rows_on_the_entitys_keys_whatever_their_system_id(finished):
    # the demo's site is keyed on ProjektNr, Fustel: the first row is gone, the others renumbered
    base = finished(site="system_id,ProjektNr,Fustel,n\n1,P,a,1\n2,P,b,2\n3,P,c,3\n")
    head = finished(site="system_id,ProjektNr,Fustel,n\n1,P,b,2\n2,P,c,30\n")

    (site,), notes = diffs.compute(base, head)

    assert notes == []
    assert site["matched_on"] == "keys"
    assert (site["only_in_base"], site["only_in_head"], site["changed"], site["unchanged"]) == (1, 0, 1, 1)
    assert site["samples"]["changed"][0]["columns"] == ["n"]
    assert site["column_match"]["n"] == 50.0


def test_it_reads_the_runs_arrow_copies_and_makes_a_missing_one(finished):
    from testruns import explorer

    base = finished(site="system_id,ProjektNr,Fustel,n\n1,P,a,1\n2,P,b,2\n")
    head = finished(site="system_id,ProjektNr,Fustel,n\n1,P,a,1\n2,P,b,2\n3,P,c,3\n")
    head_csv = head.entity_results.get().output.name
    # the head's copy says something its CSV does not: the diff must be reading the copy
    explorer.store_copy(head_csv, {})
    other = finished(site="system_id,ProjektNr,Fustel,n\n1,P,a,10\n")
    other_csv = other.entity_results.get().output.name
    explorer.store_copy(other_csv, {})
    copy = default_storage.open(explorer.copy_name(other_csv)).read()
    default_storage.delete(explorer.copy_name(head_csv))
    default_storage.save(explorer.copy_name(head_csv), io.BytesIO(copy))
    base_copy = explorer.copy_name(base.entity_results.get().output.name)
    assert not default_storage.exists(base_copy)

    (site,), notes = diffs.compute(base, head)

    assert default_storage.exists(base_copy)  # made from the CSV for the diff (and kept for the explorer)
    assert (site["rows_head"], site["only_in_base"], site["changed"]) == (1, 1, 1)
    assert site["samples"]["changed"][0]["head"]["n"] == "10"


def test_it_reads_identity_columns_from_the_target_model(alice, write_config):
    from configurations.importing import import_configuration

    config = write_config(
        """
metadata:
  target_model:
    model: {name: m, version: "1"}
    entities:
      place: {identity_columns: [code]}
entities:
  place:
    type: fixed
    surrogate_id: place_id
    columns: [code, name]
    values: [[a, x]]
"""
    )
    version, _ = import_configuration(config, name="modelled", user=alice)

    found, notes = diffs.run_identities(version)
    base = finished_run(version, place="system_id,code,name\n1,a,x\n2,b,y\n")
    head = finished_run(version, place="system_id,code,name\n1,b,Y\n")
    (place,), _ = diffs.compute(base, head)

    assert notes == []
    assert found["place"].identity_columns == ("code",)
    assert place["matched_on"] == "identity_columns"  # no keys, no public id: the model's columns
    assert (place["only_in_base"], place["only_in_head"], place["changed"]) == (1, 0, 1)


def test_it_matches_whole_rows_when_the_version_does_not_load(alice, write_config):
    from configurations.importing import import_configuration

    broken, _ = import_configuration(write_config("entities: [unclosed\n", name="broken.yml"), user=alice)

    found, notes = diffs.run_identities(broken)

    assert found == {}
    assert len(notes) == 1 and notes[0].startswith("v1 does not load (") and "whole row" in notes[0]


def test_it_notes_a_table_that_was_let_go(finished):
    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head.entity_results.get().mark_table_lost("missing (found by verify_storage)")

    (site,), notes = diffs.compute(base, head)

    assert site["matched_on"] == "absent_in_head"
    assert notes == [
        f"The table of 'site' in run {head.short_id} was let go (missing (found by verify_storage)): "
        "not compared."
    ]


def test_it_counts_the_bytes_of_the_tables_that_differ(finished):
    same = "system_id,ProjektNr,Fustel\n1,P,a\n"
    base = finished(site=same, sample="id\n1\n")
    head = finished(site=same, sample="id\n2\n", taxa="BNam\nx\n")

    assert diffs.bytes_to_read(base, head) == len("id\n1\n") + len("id\n2\n") + len("BNam\nx\n")
    assert diffs.bytes_to_read(head, head) == 0


# --- asking for a diff: kept, computed here when small, by a worker when big --------------------------------


def test_it_computes_a_small_diff_at_once_and_keeps_it(finished, django_assert_num_queries):
    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = finished(site="system_id,ProjektNr,Fustel\n1,P,b\n")

    diff = diffs.request_diff(base, head)

    assert (diff.status, diff.entities_compared, diff.entities_differing) == ("done", 1, 1)
    assert diff.started_at and diff.finished_at
    with django_assert_num_queries(1):  # the kept diff
        again = diffs.request_diff(base, head)
    assert again.pk == diff.pk and again.entities == diff.entities
    assert RunDiff.objects.count() == 1


def test_it_hands_a_big_diff_to_a_worker(finished, queued, django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = finished(site="system_id,ProjektNr,Fustel\n1,P,b\n")

    with django_capture_on_commit_callbacks(execute=True):
        diff = diffs.request_diff(base, head, inline_bytes=0)

    assert diff.status == RunDiff.Status.PENDING and diff.entities == []
    assert OrmQ.objects.count() == 1  # the task, for a worker
    assert diffs.request_diff(base, head, inline_bytes=0).status == RunDiff.Status.PENDING  # not twice
    assert OrmQ.objects.count() == 1

    assert diffs.compute_diff(diff.pk) == f"diff {diff.pk}: 1 of 1 entities differ"  # what the worker runs
    assert diffs.compute_diff(diff.pk) == f"diff {diff.pk}: not pending"  # a second delivery does nothing
    diff.refresh_from_db()
    assert (diff.status, diff.entities_differing) == ("done", 1)


def test_it_asks_again_for_a_diff_whose_worker_went_quiet(finished, queued):
    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = finished(site="system_id,ProjektNr,Fustel\n1,P,b\n")
    long_ago = timezone.now() - diffs.STALE_AFTER - timezone.timedelta(seconds=1)
    RunDiff.objects.create(base=base, head=head, status="running", started_at=long_ago)
    RunDiff.objects.create(base=head, head=base, status="running", started_at=timezone.now())

    assert diffs.request_diff(base, head).status == RunDiff.Status.DONE  # small: computed again, here
    assert diffs.request_diff(head, base).status == RunDiff.Status.RUNNING  # a worker is on it


def test_it_says_which_table_could_not_be_read_and_tries_again(finished):
    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = finished(site="system_id,ProjektNr,Fustel\n1,P,b\n")
    name = head.entity_results.get().output.name
    content = default_storage.open(name).read()
    default_storage.delete(name)

    diff = diffs.request_diff(base, head)

    assert diff.status == RunDiff.Status.FAILED
    where = f"the table of 'site' in run {head.short_id}"
    assert diff.error.startswith(f"A stored table could not be read: {where}")
    default_storage.save(name, io.BytesIO(content))
    assert diffs.request_diff(base, head).status == RunDiff.Status.DONE  # asked again: computed again


def test_it_fails_a_diff_the_broker_will_not_take(finished, broker_down, django_capture_on_commit_callbacks):
    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = finished(site="system_id,ProjektNr,Fustel\n1,P,b\n")

    with django_capture_on_commit_callbacks(execute=True):
        diff = diffs.request_diff(base, head, inline_bytes=0)

    diff.refresh_from_db()
    assert diff.status == RunDiff.Status.FAILED
    assert diff.error.startswith("Could not queue the diff: the task broker refused it:")


def test_it_refuses_a_run_still_working(finished, demo_version):
    running = make_run(demo_version, Status.RUNNING)

    with pytest.raises(diffs.DiffRefused, match=f"The head run {running.short_id} is still running"):
        diffs.request_diff(finished(), running)
    assert not RunDiff.objects.exists()


def test_it_goes_with_either_run_and_with_a_table_let_go(finished):
    base, head, other = (finished(site="system_id,ProjektNr,Fustel\n1,P,a\n") for _ in range(3))
    diffs.request_diff(base, head)
    diffs.request_diff(head, other)
    diffs.request_diff(other, base)

    base.delete_with_outputs()
    assert list(RunDiff.objects.values_list("base", "head")) == [(head.pk, other.pk)]
    EntityResult.objects.get(run=other).mark_table_lost("corrupt")
    assert not RunDiff.objects.exists()


def test_it_diffs_runs_of_other_configurations_by_entity_name(finished):
    other = make_version("other", current=True)
    base = finished(site="system_id,ProjektNr,Fustel\n1,P,a\n")
    head = make_run(other, Status.COMPLETED)
    store(head, "site", "system_id,ProjektNr,Fustel\n1,P,a\n")

    diff = diffs.request_diff(base, head)

    # the head's version does not load (it has no files): whole rows, and a note saying so
    assert diff.status == RunDiff.Status.DONE and diff.entities_differing == 0
    assert "whole row" in diff.notes[0]
