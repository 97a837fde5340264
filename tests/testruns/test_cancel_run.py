"""Cancelling a run: ``manage.py cancel_run ID`` and the Cancel button (POST /runs/<id>/cancel)."""

import uuid

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from testruns.models import RunEvent, Status, TestRun
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_run(demo_version, alice):
    def make(status=Status.RUNNING, **fields):
        return factories.make_run(
            demo_version,
            status=status,
            requested_by=alice,
            started_at=None if status == Status.PENDING else timezone.now(),
            **fields,
        )

    return make


def cancel_run(*args):
    from io import StringIO

    out = StringIO()
    call_command("cancel_run", *args, stdout=out)
    return out.getvalue()


def url(run):
    return reverse("testruns:cancel", args=[run.pk])


# --- the command ---------------------------------------------------------------------------------


def test_it_cancels_a_pending_run_at_once(make_run):
    run = make_run(Status.PENDING)

    output = cancel_run(str(run.pk))

    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert run.finished_at is not None
    assert output == f"Run {run.short_id} cancelled.\n"
    assert RunEvent.objects.filter(run=run, message="Cancelled before a worker took it.").exists()


def test_it_asks_a_running_run_to_stop(make_run):
    run = make_run(Status.RUNNING)

    output = cancel_run(str(run.pk)[:6])  # a unique prefix will do

    run.refresh_from_db()
    assert run.status == Status.CANCELLING
    assert run.cancel_requested_at is not None
    assert run.finished_at is None
    assert "cancelling: its worker stops at the next checkpoint" in output


def test_it_keeps_the_first_request_when_asked_twice(make_run):
    run = make_run(Status.RUNNING)
    cancel_run(str(run.pk))
    first = TestRun.objects.get(pk=run.pk).cancel_requested_at

    cancel_run(str(run.pk))

    run.refresh_from_db()
    assert run.status == Status.CANCELLING
    assert run.cancel_requested_at == first


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CRASHED])
def test_it_refuses_to_cancel_a_finished_run(make_run, status):
    run = make_run(status, finished_at=timezone.now())

    with pytest.raises(CommandError, match=rf"Run {run.short_id} has already finished \({status}\)"):
        cancel_run(str(run.pk))

    run.refresh_from_db()
    assert run.status == status


def test_it_rejects_unknown_and_short_ids(db):
    with pytest.raises(CommandError, match="No run"):
        cancel_run(str(uuid.uuid4()))
    with pytest.raises(CommandError, match="first 6 or more hex digits"):
        cancel_run("abc")


# --- the page's button ----------------------------------------------------------------------------


def test_it_requires_login(client, make_run):
    run = make_run()

    response = client.post(url(run))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_it_only_accepts_post(alice_client, make_run):
    run = make_run()

    assert alice_client.get(url(run)).status_code == 405
    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_it_cancels_from_the_page(client, bob, make_run):
    run = make_run()
    client.force_login(bob)  # any signed-in user may cancel

    response = client.post(url(run))

    assert response.status_code == 302
    assert response.url == run.get_absolute_url()
    run.refresh_from_db()
    assert run.status == Status.CANCELLING
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Cancelling run {run.short_id}: the worker stops at its next checkpoint."
    ]


def test_it_cancels_a_pending_run_from_the_page(alice_client, make_run):
    run = make_run(Status.PENDING)

    response = alice_client.post(url(run), follow=True)

    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert f"Run {run.short_id} cancelled." in response.content.decode()


def test_it_says_a_finished_run_cannot_be_cancelled(alice_client, make_run):
    run = make_run(Status.COMPLETED, finished_at=timezone.now())

    response = alice_client.post(url(run), follow=True)

    assert response.redirect_chain == [(run.get_absolute_url(), 302)]
    message = f"Run {run.short_id} has already finished (completed). Nothing to cancel."
    assert message in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.COMPLETED


def test_it_tells_htmx_where_to_go(alice_client, make_run):
    run = make_run()

    response = alice_client.post(url(run), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == run.get_absolute_url()


def test_it_requires_the_csrf_token(alice, make_run):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    run = make_run()

    assert client.post(url(run)).status_code == 403
    run.refresh_from_db()
    assert run.status == Status.RUNNING
