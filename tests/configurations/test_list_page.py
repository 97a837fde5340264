"""/configurations/: every configuration with its current version and last run."""

import pytest
from django.urls import reverse

from testruns.models import Status
from tests.factories import make_run, make_version

pytestmark = pytest.mark.django_db
URL = reverse("configurations:list")


def test_it_lists_configurations_with_their_last_run(alice_client, demo_version):
    run = make_run(demo_version, status=Status.FAILED)

    response = alice_client.get(URL)

    assert response.status_code == 200
    assert b"demo" in response.content
    assert b"v1" in response.content
    assert reverse("testruns:detail", args=[run.pk]).encode() in response.content
    assert b'data-status="failed"' in response.content


def test_it_costs_the_same_queries_for_many_configurations(
    alice_client, demo_version, django_assert_num_queries
):
    for n in range(2, 7):
        make_run(make_version(f"copy-{n}", current=True))

    # session, user, configurations with current version, its author and last run (subqueries)
    with django_assert_num_queries(3):
        response = alice_client.get(URL)

    assert response.content.count(b'data-status="pending"') == 5
