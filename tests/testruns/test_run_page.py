"""/runs/<id>/: the run page, which includes the status partial."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_version, alice):
    run = TestRun.objects.create(
        configuration=demo_version.configuration,
        version=demo_version,
        status=Status.RUNNING,
        requested_by=alice,
        options={"entities": ["site"], "max_rows_per_entity": 50, "stop_on_error": True},
        started_at=timezone.now(),
        entities_total=2,
        entities_completed=1,
    )
    EntityResult.objects.create(run=run, position=0, entity="survey", role="dependency", status="success")
    EntityResult.objects.create(run=run, position=1, entity="site", status="running")
    run.log("info", "Started on testhost:1.")
    run.log("error", "column KoordZ not found", entity="site")
    return run


def url(run):
    return reverse("testruns:detail", args=[run.pk])


def test_it_requires_login(client, run):
    response = client.get(url(run))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_allows_other_users(client, bob, run):
    client.force_login(bob)
    assert client.get(url(run)).status_code == 200


def test_it_returns_404_for_an_unknown_run(alice_client, db):
    assert alice_client.get(reverse("testruns:detail", args=[uuid.uuid4()])).status_code == 404


def test_it_works(alice_client, run):
    content = alice_client.get(url(run)).content.decode()

    assert 'id="run-status"' in content
    assert f'hx-get="{reverse("testruns:status", args=[run.pk])}"' in content  # the same partial, polling
    assert "first 50 rows · entities: site · stop on error" in content
    assert "v1" in content
    assert "Started on testhost:1." in content
    assert "column KoordZ not found" in content
    assert reverse("testruns:entity", args=[run.pk, "site"]) in content
    assert "htmx" in content  # {% htmx_script %}
    assert 'id="run-events"' in content
    assert "hx-swap-oob" not in content


def test_it_costs_a_fixed_number_of_queries(alice_client, run, django_assert_num_queries):
    # session, user, run, previous run (for "Compare with previous run"), entity results, events
    with django_assert_num_queries(6):
        alice_client.get(url(run))
