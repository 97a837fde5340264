"""manage.py diff_runs BASE HEAD [--json]: the diff of two runs' whole stored tables from the command line."""

import json

import pytest
from django.core.management import CommandError, call_command

from testruns.models import RunDiff, Status
from tests.factories import make_run
from tests.testruns.diff_support import FIELDS, finished

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(demo_version):
    # site is keyed on ProjektNr, Fustel in the demo; taxa on BNam
    base = finished(
        demo_version,
        site="system_id,ProjektNr,Fustel,n\n1,P,a,1\n2,P,b,2\n",
        taxa="system_id,BNam\n1,Poa\n",
    )
    head = finished(
        demo_version,
        site="system_id,ProjektNr,Fustel,n\n1,P,b,20\n2,P,c,3\n",
        taxa="system_id,BNam\n1,Poa\n",
    )
    return base, head


def run_command(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("diff_runs", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_entities_that_differ(runs):
    base, head = runs

    out = run_command(str(base.pk), head.short_id)  # a short id will do

    lines = out.splitlines()
    assert lines[0].split() == ["entity", "matched", "on", "rows", "only", "base/head,", "changed", "columns"]
    assert lines[1].split() == ["site", "keys", "2", "→", "2", "-1", "+1", "~1"]
    assert lines[-1] == f"Run {head.pk} differs from run {base.pk} in 1 of 2 entities."


def test_it_prints_the_apis_json_with_the_fields_the_issue_lists(runs):
    base, head = runs

    data = json.loads(run_command(str(base.pk), str(head.pk), "--json"))

    assert (data["base"], data["head"]) == (str(base.pk), str(head.pk))
    assert (data["entities_compared"], data["entities_differing"], data["notes"]) == (2, 1, [])
    site, taxa = data["entities"]
    assert list(site) == FIELDS and list(taxa) == FIELDS
    assert (site["entity"], site["matched_on"]) == ("site", "keys")
    assert (site["rows_base"], site["rows_head"]) == (2, 2)
    assert (site["only_in_base"], site["only_in_head"], site["changed"], site["unchanged"]) == (1, 1, 1, 0)
    assert site["column_match"] == {"ProjektNr": 100.0, "Fustel": 100.0, "n": 0.0}
    assert site["samples"]["only_in_base"] == [{"system_id": "1", "ProjektNr": "P", "Fustel": "a", "n": "1"}]
    assert site["samples"]["changed"] == [
        {
            "base": {"system_id": "2", "ProjektNr": "P", "Fustel": "b", "n": "2"},
            "head": {"system_id": "1", "ProjektNr": "P", "Fustel": "b", "n": "20"},
            "columns": ["n"],
        }
    ]
    assert (taxa["matched_on"], taxa["unchanged"], taxa["columns_added"]) == ("identical", 1, [])


def test_it_keeps_the_diff_for_the_pages(runs):
    base, head = runs

    run_command(str(base.pk), str(head.pk))

    assert RunDiff.objects.get(base=base, head=head).status == RunDiff.Status.DONE


def test_it_computes_a_diff_a_worker_has_not_done_yet(runs):
    base, head = runs
    RunDiff.objects.create(base=base, head=head, status=RunDiff.Status.PENDING)

    data = json.loads(run_command(str(base.pk), str(head.pk), "--json"))

    assert data["entities_differing"] == 1


def test_it_rejects_an_unknown_run_or_one_still_working(runs, demo_version):
    base, _ = runs
    running = make_run(demo_version, Status.RUNNING)

    with pytest.raises(CommandError, match="No run id starts with abcdef"):
        run_command(str(base.pk), "abcdef")
    with pytest.raises(CommandError, match=f"The head run {running.short_id} is still running"):
        run_command(str(base.pk), str(running.pk))
