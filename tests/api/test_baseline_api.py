"""POST / DELETE /api/v1/test-runs/<id>/baseline: make a finished run its configuration's baseline, or
clear it."""

import pytest

from testruns.models import Baseline, Status

pytestmark = pytest.mark.django_db


def baseline(client, run_id, headers, method="post"):
    return getattr(client, method)(f"/api/v1/test-runs/{run_id}/baseline", **headers)


def test_it_makes_a_finished_run_the_baseline(client, bearer, make_run):
    old, run = make_run(), make_run()
    baseline(client, old.pk, bearer)

    response = baseline(client, run.pk, bearer)

    assert response.status_code == 200
    data = response.json()
    assert (data["config_name"], data["run_id"], data["set_by"]) == ("demo", str(run.pk), "alice")
    assert Baseline.objects.get().run == run  # one per configuration: it replaced the old one


def test_it_refuses_a_run_still_working_409(client, bearer, make_run):
    run = make_run(status=Status.RUNNING)

    response = baseline(client, run.pk, bearer)

    assert response.status_code == 409
    detail = f"Run {run.short_id} is still running: it can be made the baseline once it ends."
    assert response.json()["detail"] == detail
    assert not Baseline.objects.exists()


def test_it_refuses_a_run_that_did_not_go_through_every_entity_400(client, bearer, make_run):
    run = make_run(status=Status.CANCELLED)

    response = baseline(client, run.pk, bearer)

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith(f"Run {run.short_id} did not go through every entity (cancelled)")
    assert not Baseline.objects.exists()


def test_it_clears_the_baseline(client, bearer, make_run):
    run, other = make_run(), make_run()
    run.make_baseline()

    assert baseline(client, other.pk, bearer, "delete").status_code == 409  # not the baseline
    assert baseline(client, run.pk, bearer, "delete").status_code == 204
    assert not Baseline.objects.exists()


def test_it_requires_authentication(client, make_run):
    run = make_run()

    assert baseline(client, run.pk, {}).status_code == 401
    assert not Baseline.objects.exists()
