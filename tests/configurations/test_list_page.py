"""/configurations/: every configuration with its current version and last run."""

import pytest
from django.urls import reverse

from testruns.models import Status, TestRun

pytestmark = pytest.mark.django_db
URL = reverse("configurations:list")


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_lists_configurations_with_their_last_run(alice_client, demo_version):
    run = TestRun.objects.create(
        configuration=demo_version.configuration, version=demo_version, status=Status.FAILED
    )

    response = alice_client.get(URL)

    assert response.status_code == 200
    assert b"demo" in response.content
    assert b"v1" in response.content
    assert reverse("testruns:detail", args=[run.pk]).encode() in response.content
    assert b'data-status="failed"' in response.content


def test_it_allows_other_users(client, bob, demo_version):
    # No teams yet: every logged-in user sees every configuration.
    client.force_login(bob)
    assert client.get(URL).status_code == 200


def test_it_costs_the_same_queries_for_many_configurations(
    alice_client, demo_version, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):  # session, user, configurations (last run via subqueries)
        alice_client.get(URL)
