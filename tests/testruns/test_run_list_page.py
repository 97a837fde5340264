"""/runs/: the history, filtered by configuration and status in the URL, paginated."""

import pytest
from django.urls import reverse

from configurations.models import Configuration, ConfigurationVersion
from testruns.models import Status, TestRun

pytestmark = pytest.mark.django_db
URL = reverse("testruns:list")


@pytest.fixture
def other_version(db):
    configuration = Configuration.objects.create(name="other")
    return ConfigurationVersion.objects.create(
        configuration=configuration, number=1, main_file="other.yml", yaml_text="", sha256="0" * 64
    )


def make_runs(version, count, status=Status.COMPLETED):
    return TestRun.objects.bulk_create(
        TestRun(configuration=version.configuration, version=version, status=status) for _ in range(count)
    )


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_allows_other_users(client, bob, demo_version):
    make_runs(demo_version, 1)
    client.force_login(bob)
    assert client.get(URL).status_code == 200


def test_it_lists_runs_newest_first(alice_client, demo_version):
    older, newer = make_runs(demo_version, 2)
    TestRun.objects.filter(pk=older.pk).update(created_at=newer.created_at.replace(year=2020))

    content = alice_client.get(URL).content.decode()

    assert content.index(newer.short_id) < content.index(older.short_id)


def test_it_filters_by_configuration_and_status(alice_client, demo_version, other_version):
    [demo_failed] = make_runs(demo_version, 1, Status.FAILED)
    [demo_ok] = make_runs(demo_version, 1)
    [other_failed] = make_runs(other_version, 1, Status.FAILED)

    content = alice_client.get(URL, {"configuration": "demo", "status": "failed"}).content.decode()

    assert demo_failed.short_id in content
    assert demo_ok.short_id not in content
    assert other_failed.short_id not in content
    assert '<option value="demo" selected>' in content


def test_it_rejects_unknown_filter_values(alice_client, db):
    assert alice_client.get(URL, {"status": "exploded"}).status_code == 400
    assert alice_client.get(URL, {"configuration": "nope"}).status_code == 400


def test_it_paginates_and_keeps_filters_in_page_links(alice_client, demo_version, other_version):
    make_runs(demo_version, 51, Status.FAILED)
    make_runs(other_version, 5, Status.FAILED)

    first = alice_client.get(URL, {"configuration": "demo", "status": "failed"})
    second = alice_client.get(URL, {"configuration": "demo", "status": "failed", "page": 2})

    assert first.content.count(b'<tr>\n      <td><a class="mono"') == 50
    assert b"?configuration=demo&amp;status=failed&amp;page=2" in first.content
    assert second.content.count(b'<tr>\n      <td><a class="mono"') == 1


def test_it_costs_the_same_queries_for_a_full_page(alice_client, demo_version, django_assert_num_queries):
    make_runs(demo_version, 60)
    # session, user, the filter's configuration choices, count, page of runs (with configuration/version/user)
    with django_assert_num_queries(5):
        alice_client.get(URL)
