"""/runs/<id>/delete: a confirmation page (GET), then the run, its results, events and files go (POST)."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from testruns.models import EntityResult, RunEvent, RunStillActive, Status, TestRun
from tests.factories import make_result, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_version, alice):
    run = make_run(
        demo_version,
        status=Status.COMPLETED,
        requested_by=alice,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        entities_total=2,
    )
    stored = default_storage.save(f"runs/{run.pk}/site.csv", ContentFile(b"site_id\n1\n"))
    make_result(run, "survey", 0, status="success", role="dependency")
    make_result(run, "site", 1, status="success", output=stored)
    run.log("info", "Run completed.")
    return run


def url(run):
    return reverse("testruns:delete", args=[run.pk])


def test_it_asks_first_and_says_what_would_go(alice_client, run):
    response = alice_client.get(url(run))

    content = response.content.decode()
    assert response.status_code == 200
    assert f'Delete run <span class="mono">{run.short_id}</span> of demo?' in content
    assert "2 entity results and 1 stored table" in content
    assert "1 event of its log" in content
    assert 'method="post"' in content and "csrfmiddlewaretoken" in content
    assert TestRun.objects.filter(pk=run.pk).exists()  # a GET deletes nothing


def test_it_deletes_the_run_its_results_events_and_files(
    alice_client, run, django_capture_on_commit_callbacks
):
    stored = run.entity_results.get(entity="site").output.name

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url(run))

    assert response.status_code == 302
    assert response.url == reverse("testruns:list")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Run {run.short_id} of demo deleted."]
    assert not TestRun.objects.filter(pk=run.pk).exists()
    assert not EntityResult.objects.filter(run_id=run.pk).exists()
    assert not RunEvent.objects.filter(run_id=run.pk).exists()
    assert not default_storage.exists(stored)


def test_it_removes_the_runs_folder_with_any_file_left_in_it(
    run, django_capture_on_commit_callbacks, settings
):
    from pathlib import Path

    default_storage.save(f"runs/{run.pk}/stray.csv", ContentFile(b"x"))

    with django_capture_on_commit_callbacks(execute=True):
        run.delete_with_outputs()

    assert not (Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)).exists()


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.CANCELLING])
def test_it_refuses_to_delete_an_active_run(alice_client, run, status):
    TestRun.objects.filter(pk=run.pk).update(status=status)

    response = alice_client.post(url(run), follow=True)

    assert response.redirect_chain == [(run.get_absolute_url(), 302)]
    assert f"Run {run.short_id} is still {status}: cancel it first." in response.content.decode()
    assert TestRun.objects.filter(pk=run.pk).exists()
    assert "cancel it first" in alice_client.get(url(run)).content.decode()  # the confirmation page says so
    with pytest.raises(RunStillActive):
        run.delete_with_outputs()
