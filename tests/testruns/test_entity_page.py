"""/runs/<id>/entities/<name>/ and its CSV download."""

import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from testruns.models import Status
from tests.factories import make_hostile_run, make_result, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_version):
    return make_run(
        demo_version,
        status=Status.COMPLETED,
        entities_total=2,
        entities_completed=2,
    )


@pytest.fixture
def site(run):
    stored = default_storage.save(f"runs/{run.pk}/site.csv", ContentFile(b"site_id,Ort\n1,Hamburg\n2,\n"))
    return make_result(
        run,
        "site",
        1,
        status="success",
        rows_in=300,
        rows_out=2,
        columns=["site_id", "Ort"],
        dtypes={"site_id": "int64", "Ort": "object"},
        preview=[[1, "Hamburg"], [2, None]],
        warnings=["2 rows dropped as duplicates"],
        issues=[
            {
                "severity": "warning",
                "code": "x",
                "entity": "site",
                "message": "Ort is empty",
                "suggestion": "fill in Ort",
                "location": "demo.yml:70",
            }
        ],
        output=stored,
    )


@pytest.fixture
def failed(run):
    return make_result(
        run,
        "sample",
        2,
        status="failed",
        error="column KoordZ not found",
        traceback="Traceback (most recent call)…",
    )


def url(result, view="testruns:entity"):
    return reverse(view, args=[result.run_id, result.entity])


def test_it_returns_404_for_unknown_runs_and_entities(alice_client, run, site):
    assert alice_client.get(reverse("testruns:entity", args=[uuid.uuid4(), "site"])).status_code == 404
    assert alice_client.get(reverse("testruns:entity", args=[run.pk, "nope"])).status_code == 404
    assert alice_client.get(reverse("testruns:entity_csv", args=[run.pk, "nope"])).status_code == 404


def test_it_shows_columns_preview_warnings_and_issues(alice_client, site):
    content = alice_client.get(url(site)).content.decode()

    assert "int64" in content
    assert "<td>Hamburg</td>" in content
    assert "∅" in content  # a missing value
    assert "2 rows dropped as duplicates" in content
    assert "Ort is empty" in content
    assert "fill in Ort" in content
    assert url(site, "testruns:entity_csv") in content
    assert "300 in → 2 out" in content


def test_it_shows_the_error_and_traceback(alice_client, failed):
    content = alice_client.get(url(failed)).content.decode()

    assert "column KoordZ not found" in content
    assert "Traceback (most recent call)" in content
    assert "Download CSV" not in content


def test_it_downloads_the_table(alice_client, site):
    response = alice_client.get(url(site, "testruns:entity_csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == f'attachment; filename="demo-{site.run.short_id}-site.csv"'
    assert b"".join(response.streaming_content) == b"site_id,Ort\n1,Hamburg\n2,\n"


def test_it_returns_404_when_there_is_no_table(alice_client, failed):
    assert alice_client.get(url(failed, "testruns:entity_csv")).status_code == 404


def test_it_says_whether_the_entity_was_requested_or_a_dependency(alice_client, run, site):
    survey = make_result(run, "survey", 0, status="success", role="dependency")

    assert "run because a requested entity needs it" in alice_client.get(url(survey)).content.decode()
    content = alice_client.get(url(site)).content.decode()
    assert '<dd class="entity-role">requested (position 2 of 2)</dd>' in content


def test_it_shows_a_cancelled_entity(alice_client, run):
    cancelled = make_result(run, "taxa", 3, status="cancelled", error="run cancelled")

    content = alice_client.get(url(cancelled)).content.decode()

    assert 'data-status="cancelled"' in content
    assert "run cancelled" in content
    assert "Download CSV" not in content


def test_it_costs_a_fixed_number_of_queries(alice_client, site, django_assert_num_queries):
    # session, user, the run (with its configuration, versions, requester), the entity result
    with django_assert_num_queries(4):
        assert alice_client.get(url(site)).status_code == 200


@pytest.mark.django_db
def test_it_handles_an_entity_name_with_a_slash(
    alice_client, write_config, alice, django_capture_on_commit_callbacks
):
    from configurations.importing import import_configuration
    from testruns.execution import start_run
    from testruns.options import RunOptions

    path = write_config(
        'entities:\n  "a/b":\n    type: fixed\n    columns: [x]\n    values: [["1"], ["2"]]\n'
    )
    version, _ = import_configuration(path, user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(version, RunOptions(), alice)

    assert alice_client.get(f"/runs/{run.pk}/").status_code == 200
    page = alice_client.get(f"/runs/{run.pk}/entities/a/b/")
    assert page.status_code == 200
    assert b"a/b" in page.content
    assert alice_client.get(f"/runs/{run.pk}/entities/a/b/csv").status_code == 200
    assert run.entity_results.get().output.name == f"runs/{run.pk}/a%2Fb.csv"


def test_it_shows_a_huge_cell_cut_with_a_marker(
    alice_client, write_config, alice, django_capture_on_commit_callbacks
):
    run = make_hostile_run(write_config, alice, django_capture_on_commit_callbacks)
    result = run.entity_results.get()

    page = alice_client.get(url(result))

    assert page.status_code == 200
    assert "… [truncated: 1,200,000 characters]" in page.content.decode()
    assert len(page.content) < 100_000
