"""/runs/<id>/export.json, export.zip and export.xlsx, and the run page's links to them."""

import io
import json
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from testruns.models import EntityResult, Status, TestRun
from tests.factories import LONG, make_exportable_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def made_run(demo_version, alice):
    return make_exportable_run(demo_version, alice)


VIEWS = ["testruns:export_json", "testruns:export_zip", "testruns:export_xlsx"]


def get(client, view, run_id):
    return client.get(reverse(view, args=[run_id]))


@pytest.mark.parametrize("view", VIEWS)
def test_it_sends_a_run_still_working_back_to_its_page(alice_client, made_run, view):
    TestRun.objects.filter(pk=made_run.pk).update(status=Status.RUNNING)

    response = get(alice_client, view, made_run.pk)

    assert response.status_code == 302
    assert response.url == made_run.get_absolute_url()
    message = f"Run {made_run.short_id} is still running: export it when it has finished."
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]


def test_it_refuses_a_workbook_too_big_to_write_in_a_request(alice_client, made_run, settings):
    settings.EXPORT_XLSX_MAX_CELLS = (
        10  # site has 2 rows of 5 columns, sample/type 1 of 1, the long one 1 of 1
    )

    response = get(alice_client, "testruns:export_xlsx", made_run.pk)

    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(
        f"Run {made_run.short_id}'s tables hold 12 cells, more than the 10 an Excel export"
    )
    assert "Download the ZIP of CSV tables" in message
    settings.EXPORT_XLSX_MAX_CELLS = 0  # no limit
    assert get(alice_client, "testruns:export_xlsx", made_run.pk).status_code == 200


@pytest.mark.parametrize("view", VIEWS)
def test_it_answers_a_get_only(alice_client, made_run, view):
    assert alice_client.post(reverse(view, args=[made_run.pk])).status_code == 405


def test_it_sends_the_manifest(alice_client, made_run):
    response = get(alice_client, "testruns:export_json", made_run.pk)

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="demo-v1-{made_run.short_id}.json"'
    manifest = json.loads(response.content)
    assert manifest["run"]["id"] == str(made_run.pk)
    assert [entity["name"] for entity in manifest["entities"]][:2] == ["site", "sample/type"]


def test_it_streams_the_zip(alice_client, made_run):
    response = get(alice_client, "testruns:export_zip", made_run.pk)

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="demo-v1-{made_run.short_id}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["manifest.json", "site.csv", "sample_type.csv", LONG + "_1.csv"]


def test_it_streams_the_workbook_from_a_file(alice_client, made_run):
    response = get(alice_client, "testruns:export_xlsx", made_run.pk)

    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="demo-v1-{made_run.short_id}.xlsx"'
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    response.close()
    assert workbook.sheetnames == ["Summary", "site", "sample_type", LONG[:31]]


@pytest.mark.parametrize("view", VIEWS)
def test_it_reads_the_database_once_before_streaming(alice_client, made_run, view, django_assert_num_queries):
    # session and user (the login), then the run and its entity results; the stream reads storage only
    with django_assert_num_queries(4):
        response = get(alice_client, view, made_run.pk)
        content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content
    response.close()


def test_it_links_the_exports_from_the_page_of_a_finished_run(alice_client, made_run):
    EntityResult.objects.filter(entity="sample/type").update(entity="sample")  # the entity page has no "/"
    content = alice_client.get(made_run.get_absolute_url()).content.decode()

    for view in VIEWS:
        assert f'href="{reverse(view, args=[made_run.pk])}"' in content


def test_it_shows_no_export_links_while_the_run_works(alice_client, made_run):
    TestRun.objects.filter(pk=made_run.pk).update(status=Status.RUNNING)
    EntityResult.objects.filter(entity="sample/type").update(entity="sample")

    content = alice_client.get(made_run.get_absolute_url()).content.decode()

    assert reverse("testruns:export_zip", args=[made_run.pk]) not in content


def test_it_offers_excel_only_when_every_table_fits_a_sheet_and_says_why_not(alice_client, made_run):
    EntityResult.objects.filter(entity="sample/type").update(entity="sample")
    EntityResult.objects.filter(run=made_run, entity="site").update(rows_out=1_200_000)

    content = alice_client.get(made_run.get_absolute_url()).content.decode()

    assert reverse("testruns:export_xlsx", args=[made_run.pk]) not in content
    assert reverse("testruns:export_zip", args=[made_run.pk]) in content
    assert (
        "No Excel workbook: site has 1,200,000 rows, more than a sheet holds (1,048,575 below its header)"
        in content
    )


def test_it_refuses_a_workbook_whose_table_is_too_wide_for_a_sheet(alice_client, made_run, settings):
    settings.EXPORT_XLSX_MAX_CELLS = 0  # no cell limit: the sheet's own limits still hold
    EntityResult.objects.filter(run=made_run, entity="site").update(columns=[f"c{n}" for n in range(16_385)])

    response = get(alice_client, "testruns:export_xlsx", made_run.pk)

    assert (response.status_code, response.url) == (302, made_run.get_absolute_url())
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "site has 16,385 columns, more than a sheet holds (16,384)"
    ]
