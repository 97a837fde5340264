"""/runs/<id>/status: the polled part of the run page."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun

pytestmark = pytest.mark.django_db


def make_run(version, status=Status.RUNNING, entities=2):
    run = TestRun.objects.create(
        configuration=version.configuration,
        version=version,
        status=status,
        started_at=timezone.now(),
        entities_total=entities,
        entities_completed=1,
    )
    EntityResult.objects.bulk_create(
        EntityResult(
            run=run,
            position=i,
            entity=f"entity_{i}",
            status="success" if i == 0 else "pending",
            rows_in=10,
            rows_out=8,
            duration_ms=120,
            warnings=["odd"] if i == 0 else [],
        )
        for i in range(entities)
    )
    return run


def url(run):
    return reverse("testruns:status", args=[run.pk])


def test_it_requires_login(client, demo_version):
    run = make_run(demo_version)
    response = client.get(url(run))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_allows_other_users(client, bob, demo_version):
    client.force_login(bob)
    assert client.get(url(make_run(demo_version))).status_code == 200


def test_it_returns_404_for_an_unknown_run(alice_client, db):
    assert alice_client.get(reverse("testruns:status", args=[uuid.uuid4()])).status_code == 404


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.CANCELLING])
def test_it_keeps_polling_while_the_run_is_active(alice_client, demo_version, status):
    run = make_run(demo_version, status)

    response = alice_client.get(url(run))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="run-status"')
    assert f'hx-get="{url(run)}"' in content
    assert 'hx-trigger="every 2s"' in content
    assert 'hx-swap="outerHTML"' in content
    assert "<html" not in content  # a fragment, not a page


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.CRASHED])
def test_it_stops_polling_once_the_run_has_ended(alice_client, demo_version, status):
    response = alice_client.get(url(make_run(demo_version, status)))

    content = response.content.decode()
    assert 'id="run-status"' in content
    assert "hx-trigger" not in content
    assert "hx-get" not in content
    assert f'data-status="{status}"' in content


def test_it_shows_progress_and_entities(alice_client, demo_version):
    run = make_run(demo_version, entities=4)

    content = alice_client.get(url(run)).content.decode()

    assert "1 of 4 entities · 25%" in content
    assert 'style="width: 25%"' in content
    assert reverse("testruns:entity", args=[run.pk, "entity_3"]) in content
    assert "120 ms" in content


def test_it_shows_the_runs_error(alice_client, demo_version):
    run = make_run(demo_version, Status.FAILED)
    TestRun.objects.filter(pk=run.pk).update(error_message="demo.yml:3: entities.a: broken")

    assert b"demo.yml:3: entities.a: broken" in alice_client.get(url(run)).content


@pytest.mark.parametrize("entities", [2, 40])
def test_it_costs_a_fixed_number_of_queries(alice_client, demo_version, django_assert_num_queries, entities):
    run = make_run(demo_version, entities=entities)

    # session, user (the middleware), the run with its configuration/version/requester, its entity results
    with django_assert_num_queries(4):
        response = alice_client.get(url(run), headers={"HX-Request": "true"})

    assert response.content.count(b'<tr class="entity-') == entities


def test_it_sends_the_event_log_with_the_last_poll(alice_client, demo_version, django_assert_num_queries):
    run = make_run(demo_version, Status.FAILED)
    run.log("error", "Run failed: no survey.csv")

    # session, user, run, entity results, events
    with django_assert_num_queries(5):
        response = alice_client.get(url(run), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert '<section id="run-events" hx-swap-oob="true">' in content
    assert "Run failed: no survey.csv" in content


def test_it_leaves_the_event_log_out_while_the_run_works(alice_client, demo_version):
    run = make_run(demo_version, Status.RUNNING)
    run.log("info", "Started on testhost:1.")

    content = alice_client.get(url(run), headers={"HX-Request": "true"}).content.decode()

    assert "run-events" not in content
