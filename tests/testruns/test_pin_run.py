"""POST /runs/<id>/pin: pin a run (marked in lists, kept by pruning), or unpin it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from testruns.models import Status
from tests.factories import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_version, alice):
    return make_run(
        demo_version,
        status=Status.COMPLETED,
        requested_by=alice,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )


def url(run):
    return reverse("testruns:pin", args=[run.pk])


def test_it_only_accepts_post(alice_client, run):
    assert alice_client.get(url(run)).status_code == 405


def test_it_pins_and_unpins(alice_client, run):
    response = alice_client.post(url(run))

    assert response.status_code == 302
    assert response.url == run.get_absolute_url()
    run.refresh_from_db()
    assert run.pinned
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [f"Run {run.short_id} pinned: pruning keeps it."]

    response = alice_client.post(url(run))

    run.refresh_from_db()
    assert not run.pinned
    assert f"Run {run.short_id} unpinned." in [str(m) for m in get_messages(response.wsgi_request)]


def test_it_marks_pinned_runs_in_lists(alice_client, run, demo_version):
    other = make_run(demo_version, status=Status.COMPLETED)
    run.toggle_pin()

    for page in (reverse("dashboard"), reverse("testruns:list")):
        content = alice_client.get(page).content.decode()
        assert content.count('class="chip chip-pinned"') == 1, page
        row = content.split(f">{run.short_id}</a>", 1)[1].split("</td>", 1)[0]
        assert "pinned" in row
        assert other.short_id in content
