"""GET /api/v1/test-runs/<head>/diff?base=<id>: the diff of two runs' whole stored tables."""

import pytest

from testruns import diffs
from testruns.models import RunDiff, Status
from tests.factories import make_run
from tests.testruns.diff_support import FIELDS, finished

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(demo_version):
    # site is keyed on (ProjektNr, Fustel): a removed, c added; a column added in head
    base = finished(demo_version, site="system_id,ProjektNr,Fustel\n1,P,a\n2,P,b\n")
    head = finished(demo_version, site="system_id,ProjektNr,Fustel,extra\n1,P,b,x\n2,P,c,y\n")
    return base, head


def get_diff(client, head, headers, base=None):
    query = "" if base is None else f"?base={base.pk}"
    return client.get(f"/api/v1/test-runs/{head.pk}/diff{query}", **headers)


def test_it_gives_the_diff_with_the_fields_the_issue_lists(client, bearer, runs):
    base, head = runs

    response = get_diff(client, head, bearer, base)

    assert response.status_code == 200
    data = response.json()
    assert (data["base"], data["head"]) == (str(base.pk), str(head.pk))
    assert (data["entities_compared"], data["entities_differing"], data["notes"]) == (1, 1, [])
    (site,) = data["entities"]
    assert list(site) == FIELDS
    assert site["matched_on"] == "keys"
    assert (site["only_in_base"], site["only_in_head"], site["changed"], site["unchanged"]) == (1, 1, 0, 1)
    assert site["columns_added"] == ["extra"] and site["columns_removed"] == []
    only_in_head = [{"system_id": "2", "ProjektNr": "P", "Fustel": "c", "extra": "y"}]
    assert site["samples"]["only_in_head"] == only_in_head


def test_it_diffs_with_the_configurations_baseline_by_default(client, bearer, runs):
    base, head = runs

    assert get_diff(client, head, bearer).status_code == 400  # no base, no baseline
    base.make_baseline()
    response = get_diff(client, head, bearer)

    assert response.status_code == 200 and response.json()["base"] == str(base.pk)


def test_it_answers_202_while_a_worker_computes_it(client, bearer, runs, queued, monkeypatch):
    monkeypatch.setattr(diffs, "INLINE_BYTES", 0)
    base, head = runs

    response = get_diff(client, head, bearer, base)

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    diffs.compute_diff(RunDiff.objects.get().pk)  # the worker
    assert get_diff(client, head, bearer, base).status_code == 200


def test_it_refuses_a_run_still_working_409(client, bearer, runs, demo_version):
    running = make_run(demo_version, Status.RUNNING)

    response = get_diff(client, running, bearer, runs[0])

    assert response.status_code == 409
    assert f"The head run {running.short_id} is still running" in response.json()["detail"]


def test_it_says_why_a_diff_failed_409(client, bearer, runs):
    from django.core.files.storage import default_storage

    base, head = runs
    default_storage.delete(head.entity_results.get().output.name)

    response = get_diff(client, head, bearer, base)

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail.startswith("The diff could not be computed: A stored table could not be read")


def test_it_answers_404_for_an_unknown_base(client, bearer, runs):
    import uuid

    response = client.get(f"/api/v1/test-runs/{runs[1].pk}/diff?base={uuid.uuid4()}", **bearer)

    assert response.status_code == 404


def test_it_requires_authentication(client, runs):
    assert get_diff(client, runs[1], {}, runs[0]).status_code == 401
