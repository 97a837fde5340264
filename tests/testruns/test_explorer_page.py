"""The entity page's table explorer (/runs/<id>/entities/<name>/ with its query, and its htmx partial) and
the downloads of its view (view.csv, view.xlsx)."""

import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from testruns import explorer
from testruns.models import Status
from tests.factories import make_result, make_run

pytestmark = pytest.mark.django_db

CSV = b"site_id,Ort,area\n1,Hamburg,1.5\n2,,\n3,Bremen,2.0\n4,Hamm,0.5\n"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def site(demo_version):
    run = make_run(demo_version, status=Status.COMPLETED, entities_total=1, entities_completed=1)
    return make_result(
        run,
        "site",
        0,
        status="success",
        rows_out=4,
        columns=["site_id", "Ort", "area"],
        dtypes={"site_id": "int64", "Ort": "object", "area": "float64"},
        content=CSV,
    )


def url(result, query="", view="testruns:entity"):
    address = reverse(view, args=[result.run_id, result.entity])
    return f"{address}?{query}" if query else address


def cells(content: str, column: int = 0) -> list[str]:
    """The text of one column of the explorer's rows, read from the HTML."""
    import re

    body = content.split('<table class="table explorer-table">', 1)[1].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("</tbody>", 1)[0], re.S)
    return [re.findall(r"<td>(.*?)</td>", row, re.S)[column] for row in rows]


def test_it_makes_the_copy_on_the_first_visit_and_shows_the_rows(alice_client, site):
    assert not default_storage.exists(explorer.copy_name(site.output.name))

    content = alice_client.get(url(site)).content.decode()

    assert default_storage.exists(explorer.copy_name(site.output.name))
    assert cells(content) == ["1", "2", "3", "4"]
    assert cells(content, 1)[1] == '<span class="null">∅</span>'
    assert "4 rows" in content
    assert "css/explorer.css" in content


def test_it_sorts_filters_and_pages_from_the_query_in_the_url(alice_client, site, monkeypatch):
    monkeypatch.setattr(explorer, "PAGE_ROWS", 2)

    sorted_page = alice_client.get(url(site, "sort=area&desc=1")).content.decode()
    filtered = alice_client.get(url(site, "col=Ort&op=contains&q=ham&sort=site_id&desc=1")).content.decode()
    second = alice_client.get(url(site, "sort=site_id&page=2")).content.decode()

    assert cells(sorted_page) == ["3", "1"]
    assert 'aria-sort="descending"' in sorted_page
    assert cells(filtered) == ["4", "1"]
    assert "2 of 4 rows match" in filtered
    assert "Ort contains “ham”" in filtered
    assert cells(second) == ["3", "4"]
    assert "Page 2 of 2" in second


def test_an_htmx_request_gets_only_the_explorer_from_one_query(alice_client, site, django_assert_num_queries):
    alice_client.get(url(site))  # the copy is made; the session is warm

    with django_assert_num_queries(3):  # session, user, the entity's result
        response = alice_client.get(url(site, "sort=Ort"), headers=HTMX)

    content = response.content.decode()
    assert content.startswith('<section id="explorer"')
    assert cells(content) == ["3", "1", "4", "2"]
    assert "HX-Request" in response["Vary"]


def test_the_page_costs_the_same_queries_with_a_query(alice_client, site, django_assert_num_queries):
    alice_client.get(url(site))

    with django_assert_num_queries(4):  # session, user, the run (for_page), the entity's result
        alice_client.get(url(site))
    with django_assert_num_queries(4):
        alice_client.get(url(site, "col=Ort&op=notempty&q=&sort=area&page=1&profile=Ort"))


def test_it_shows_a_column_profile(alice_client, site):
    content = alice_client.get(url(site, "profile=Ort")).content.decode()

    assert 'class="profile-nulls">1<' in content
    assert 'class="profile-distinct">3<' in content
    assert 'class="profile-min mono">Bremen<' in content
    assert 'class="profile-max mono">Hamm<' in content


def test_it_answers_a_bad_query_with_400_naming_it(alice_client, site):
    response = alice_client.get(url(site, "sort=nope"))
    partial = alice_client.get(url(site, "col=area&op=eq&q=abc"), headers=HTMX)

    assert response.status_code == 400
    assert "sort: the table has no column &#x27;nope&#x27;" in response.content.decode()
    assert partial.status_code == 400
    assert "is not a number" in partial.content.decode()


def test_it_says_when_the_stored_table_is_gone(alice_client, site):
    default_storage.delete(site.output.name)

    content = alice_client.get(url(site)).content.decode()

    assert "The stored table is gone." in content


def test_it_downloads_the_view_as_csv(alice_client, site):
    whole = alice_client.get(url(site, view="testruns:entity_view_csv"))
    view = alice_client.get(url(site, "col=Ort&op=notempty&q=&sort=area", "testruns:entity_view_csv"))

    assert b"".join(whole.streaming_content) == CSV  # nothing filtered: the stored table's bytes
    assert b"".join(view.streaming_content) == b"site_id,Ort,area\n4,Hamm,0.5\n1,Hamburg,1.5\n3,Bremen,2.0\n"
    assert view["Content-Type"] == "text/csv"
    assert view["Content-Disposition"] == f'attachment; filename="demo-{site.run.short_id}-site-view.csv"'


def test_it_downloads_the_view_as_excel(alice_client, site):
    from openpyxl import load_workbook

    response = alice_client.get(url(site, "col=Ort&op=contains&q=ham", "testruns:entity_view_xlsx"))

    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows == [("site_id", "Ort", "area"), (1, "Hamburg", 1.5), (4, "Hamm", 0.5)]


def test_it_refuses_an_excel_download_beyond_the_cell_limit(alice_client, site, settings):
    settings.EXPORT_XLSX_MAX_CELLS = 6

    response = alice_client.get(url(site, "sort=Ort", "testruns:entity_view_xlsx"), follow=True)

    assert response.redirect_chain[-1][0] == url(site, "sort=Ort")
    assert "This view holds 12 cells, more than the 6" in response.content.decode()


def test_its_downloads_refuse_bad_queries_and_missing_tables(alice_client, site):
    assert alice_client.get(url(site, "sort=nope", "testruns:entity_view_csv")).status_code == 400
    default_storage.delete(site.output.name)
    assert alice_client.get(url(site, view="testruns:entity_view_xlsx")).status_code == 404


def test_a_run_stores_the_copy_beside_each_table(alice, demo_version, django_capture_on_commit_callbacks):
    from tests.factories import run_for_real

    run = run_for_real(demo_version, alice, django_capture_on_commit_callbacks)
    stored = list(run.entity_results.exclude(output=""))

    assert stored
    for result in stored:
        assert default_storage.exists(explorer.copy_name(result.output.name))  # made by the run, not here
        table = explorer.open_table(result)
        assert table.num_rows == result.rows_out
        assert table.schema.names == result.columns


def test_a_copy_that_cannot_be_written_fails_nothing_and_is_made_on_the_first_visit(
    alice_client, site, monkeypatch
):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(explorer, "_write_copy", full_disk)
        assert explorer.store_copy(site.output.name, site.dtypes) is None

    assert not default_storage.exists(explorer.copy_name(site.output.name))
    assert cells(alice_client.get(url(site)).content.decode()) == ["1", "2", "3", "4"]
