"""/runs/: the history, filtered in the URL, in keyset pages that cost the same however deep."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from configurations.models import Configuration
from testruns.models import Status, TestRun
from testruns.pagination import Cursor
from tests import factories
from tests.factories import minutes_apart

pytestmark = pytest.mark.django_db
URL = reverse("testruns:list")
ROW = b'<tr>\n      <td><a class="mono"'


@pytest.fixture
def other_version(db):
    return factories.make_version(Configuration.objects.create(name="other", title="Another survey"))


def make_runs(version, count, status=Status.COMPLETED, user=None, start=None):
    """``count`` runs one minute apart, the newest first in the returned list."""
    return factories.make_runs(version, minutes_apart(count, start), status=status, requested_by=user)


def rows(response) -> int:
    return response.content.count(ROW)


def test_it_lists_runs_newest_first(alice_client, demo_version):
    newer, older = make_runs(demo_version, 2)

    content = alice_client.get(URL).content.decode()

    assert content.index(newer.short_id) < content.index(older.short_id)
    assert "Older ›" not in content and "Newer" not in content


def test_it_filters_by_configuration_and_status(alice_client, demo_version, other_version):
    [demo_failed] = make_runs(demo_version, 1, Status.FAILED)
    [demo_ok] = make_runs(demo_version, 1)
    [other_failed] = make_runs(other_version, 1, Status.FAILED)

    content = alice_client.get(URL, {"configuration": "demo", "status": "failed"}).content.decode()

    assert demo_failed.short_id in content
    assert demo_ok.short_id not in content
    assert other_failed.short_id not in content
    assert '<option value="demo" selected>' in content


def test_it_filters_by_user(alice_client, alice, bob, demo_version):
    [mine] = make_runs(demo_version, 1, user=alice)
    [theirs] = make_runs(demo_version, 1, user=bob)

    content = alice_client.get(URL, {"user": "bob"}).content.decode()

    assert theirs.short_id in content and mine.short_id not in content


def test_it_filters_by_version_of_a_configuration(alice_client, demo_version):
    v2 = factories.make_version(demo_version.configuration, 2)
    [first] = make_runs(demo_version, 1)
    [second] = make_runs(v2, 1)

    content = alice_client.get(URL, {"configuration": "demo", "version": 2}).content.decode()
    assert second.short_id in content and first.short_id not in content

    missing = alice_client.get(URL, {"configuration": "demo", "version": 9})
    assert missing.status_code == 200 and rows(missing) == 0


def test_it_filters_by_dates(alice_client, demo_version):
    start = timezone.now().replace(year=2025, month=3, day=10, hour=12)
    runs = factories.make_runs(demo_version, (start + timedelta(days=d) for d in range(5)))  # 10-14 March

    content = alice_client.get(URL, {"from_date": "2025-03-11", "to_date": "2025-03-13"}).content.decode()

    assert [run.short_id in content for run in runs] == [False, True, True, True, False]


def test_it_searches_run_ids_configurations_and_users(alice_client, bob, demo_version, other_version):
    [demo_run] = make_runs(demo_version, 1)
    [other_run] = make_runs(other_version, 1, user=bob)

    def found(q):
        content = alice_client.get(URL, {"q": q}).content.decode()
        return {run.short_id for run in (demo_run, other_run) if run.short_id in content}

    assert found(demo_run.short_id[:6]) == {demo_run.short_id}
    assert found(str(other_run.pk)) == {other_run.short_id}
    assert found(str(other_run.pk).upper()) == {other_run.short_id}
    assert found("another SURVEY") == {other_run.short_id}  # a configuration's title
    assert found("dem") == {demo_run.short_id}
    assert found("bob") == {other_run.short_id}
    assert found("zzz") == set()


def test_it_rejects_bad_filter_values_with_a_message(alice_client, demo_version):
    cases = {
        "status": ({"status": "exploded"}, "exploded is not one of the available choices"),
        "configuration": ({"configuration": "nope"}, "nope is not one of the available choices"),
        "user": ({"user": "mallory"}, "mallory is not one of the available choices"),
        "version": ({"version": "two", "configuration": "demo"}, "Enter a whole number"),
        "version alone": ({"version": "2"}, "needs a configuration"),
        "dates": ({"from_date": "2025-02-30"}, "Enter a valid date"),
        "date order": ({"from_date": "2025-03-02", "to_date": "2025-03-01"}, "before the “from” date"),
        "cursor": ({"before": "yesterday"}, "is not a position in the history"),
        "cursor id": ({"before": "1_xyz"}, "is not a position in the history"),
        "both cursors": ({"before": f"1_{'a' * 32}", "after": f"1_{'a' * 32}"}, "not both"),
        "long search": ({"q": "x" * 101}, "at most 100 characters"),
    }
    for case, (params, message) in cases.items():
        response = alice_client.get(URL, params)
        assert response.status_code == 400, case
        assert message in response.content.decode(), case
        assert b"These filters cannot be used" in response.content, case


def test_it_pages_with_cursors_and_keeps_filters_in_links(alice_client, demo_version, other_version):
    runs = make_runs(demo_version, 120, Status.FAILED)
    make_runs(other_version, 5, Status.FAILED)
    filters = {"configuration": "demo", "status": "failed"}

    first = alice_client.get(URL, filters)
    assert rows(first) == 50
    older = str(Cursor.of(runs[49]))
    assert f"?configuration=demo&amp;status=failed&amp;before={older}".encode() in first.content
    assert b"Newer" not in first.content

    second = alice_client.get(URL, {**filters, "before": older})
    third = alice_client.get(URL, {**filters, "before": str(Cursor.of(runs[99]))})
    assert rows(second) == 50 and rows(third) == 20
    assert runs[50].short_id.encode() in second.content and runs[49].short_id.encode() not in second.content
    assert b"Older" not in third.content
    assert f"after={Cursor.of(runs[100])}".encode() in third.content

    back = alice_client.get(URL, {**filters, "after": str(Cursor.of(runs[100]))})
    assert rows(back) == 50
    content = back.content.decode()
    assert content.index(runs[50].short_id) < content.index(runs[99].short_id)  # still newest first
    assert f"before={Cursor.of(runs[99])}" in content and f"after={Cursor.of(runs[50])}" in content
    assert "« Newest" in content


def test_it_orders_runs_created_at_the_same_moment_by_id(alice_client, demo_version):
    same = timezone.now()
    runs = factories.make_runs(demo_version, [same] * 60)
    ids = sorted((run.pk for run in runs), reverse=True)

    first = TestRun.objects.keyset_page(50)
    second = TestRun.objects.keyset_page(50, before=first.older)
    back = TestRun.objects.keyset_page(50, after=second.newer)

    assert [run.pk for run in first.runs + second.runs] == ids
    assert back.runs == first.runs and back.newer is None


def test_it_answers_an_htmx_page_link_with_the_table_alone(alice_client, demo_version):
    runs = make_runs(demo_version, 60)

    response = alice_client.get(URL, {"before": str(Cursor.of(runs[49]))}, headers={"HX-Request": "true"})

    assert response.content.startswith(b'<div id="run-history">')
    assert b"<form" not in response.content
    assert "HX-Request" in response["Vary"]
    restore = alice_client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in restore.content


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"configuration": "demo", "status": "completed"},
        {
            "configuration": "demo",
            "version": 1,
            "user": "alice",
            "from_date": "2020-01-01",
            "to_date": "2099-01-01",
        },
        {"q": "dem"},
    ],
)
def test_it_costs_the_same_queries_whatever_the_filters(
    alice_client, alice, demo_version, params, django_assert_num_queries
):
    runs = make_runs(demo_version, 120, user=alice)
    # session, user, configuration choices, user choices, the page of runs (with configuration/version/user)
    for cursor in [{}, {"before": str(Cursor.of(runs[49]))}, {"after": str(Cursor.of(runs[100]))}]:
        with django_assert_num_queries(5):
            response = alice_client.get(URL, {**params, **cursor})
        assert rows(response) == 50


def test_it_leaves_each_versions_yaml_and_validation_out(
    alice_client, demo_version, django_assert_num_queries
):
    make_runs(demo_version, 3)

    with django_assert_num_queries(5) as queries:
        response = alice_client.get(URL)

    page_query = queries.captured_queries[-1]["sql"]
    assert "yaml_text" not in page_query and '"validation"' not in page_query
    assert response.content.count(b">v1<") == 3


def test_its_failed_filter_finds_a_run_whose_entity_failed(
    alice_client, alice, write_config, django_capture_on_commit_callbacks
):
    failed = factories.run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    found = alice_client.get(URL, {"status": "failed"}).content.decode()
    completed = alice_client.get(URL, {"status": "completed"}).content.decode()

    assert failed.short_id in found
    assert "(1 entity failed, 1 skipped)" in found
    assert failed.short_id not in completed
