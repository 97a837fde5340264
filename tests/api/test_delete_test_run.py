"""DELETE /api/v1/test-runs/<id>: a finished run goes with its results, events and files; active ones: 409."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from testruns.models import EntityResult, RunEvent, Status, TestRun

pytestmark = pytest.mark.django_db


def delete(client, run_id, headers):
    return client.delete(f"/api/v1/test-runs/{run_id}", **headers)


def test_it_deletes_a_finished_run_with_its_files(
    client, bearer, make_run, django_capture_on_commit_callbacks
):
    run = make_run(entities=2)
    stored = default_storage.save(f"runs/{run.pk}/entity_0.csv", ContentFile(b"id\n1\n"))
    EntityResult.objects.filter(run=run, entity="entity_0").update(output=stored)
    run.log("info", "Run completed.")

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the rows are gone for good
        response = delete(client, run.pk, bearer)

    assert response.status_code == 204
    assert response.content == b""
    assert not TestRun.objects.filter(pk=run.pk).exists()
    assert not EntityResult.objects.filter(run_id=run.pk).exists()
    assert not RunEvent.objects.filter(run_id=run.pk).exists()
    assert not default_storage.exists(stored)


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.CANCELLING])
def test_it_refuses_to_delete_an_active_run(client, bearer, make_run, status):
    run = make_run(status=status)

    response = delete(client, run.pk, bearer)

    assert response.status_code == 409
    assert response.json() == {"detail": f"Run {run.short_id} is still {status}: cancel it first."}
    assert TestRun.objects.filter(pk=run.pk).exists()


def test_it_requires_authentication(client, make_run):
    run = make_run()

    assert delete(client, run.pk, {}).status_code == 401
    assert TestRun.objects.filter(pk=run.pk).exists()
