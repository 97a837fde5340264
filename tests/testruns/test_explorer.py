"""testruns.explorer: the Arrow copy of a stored table, and the pages, sorts, filters and profiles of it."""

import io

import pandas as pd
import pytest
from django.http import QueryDict

import shapeshift
from testruns import explorer
from testruns.explorer import Filter, InvalidQuery, Query

# ids out of order, text with repeats, case and an "NA" that is text, a float column with a gap, a code
# whose leading zero is text, a text cell holding a comma and a line break
FRAME = pd.DataFrame(
    {
        "site_id": pd.array([3, 1, 2, 5, 4], dtype="int64"),
        "name": ["Ham", "ham", "Bremen", "NA", None],
        "area": [1.5, None, 10.0, 0.25, 1.5],
        "code": ["007", "010", "007", None, "1,\n2"],
    }
)
DTYPES = {"site_id": "int64", "name": "object", "area": "float64", "code": "object"}
COLUMNS = list(FRAME.columns)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    handle = io.BytesIO()
    shapeshift.write_csv(frame, handle)
    return handle.getvalue()


@pytest.fixture
def table():
    return explorer.table_from_csv(io.BytesIO(csv_bytes(FRAME)), DTYPES)


def query(text: str) -> Query:
    return Query.from_params(QueryDict(text), COLUMNS)


def ids(view) -> list[int]:
    return view.take(0, view.count).column("site_id").to_pylist()


def test_it_types_columns_by_their_stored_dtype_and_keeps_text_as_the_csv_has_it(table):
    assert table.column("site_id").to_pylist() == [3, 1, 2, 5, 4]
    assert table.column("area").to_pylist() == [1.5, None, 10.0, 0.25, 1.5]
    assert table.column("name").to_pylist() == ["Ham", "ham", "Bremen", "NA", None]  # "NA" stays text
    assert table.column("code").to_pylist() == ["007", "010", "007", None, "1,\n2"]


def test_it_reads_a_column_that_does_not_fit_its_dtype_as_text(table):
    broken = explorer.table_from_csv(io.BytesIO(b"site_id\n1\nx\n"), {"site_id": "int64"})

    assert broken.column("site_id").to_pylist() == ["1", "x"]


def test_it_pages_the_table_in_stored_order(table, monkeypatch):
    monkeypatch.setattr(explorer, "PAGE_ROWS", 2)

    view = explorer.explore(table, query("page=2"))

    assert (view.count, view.pages, view.page) == (5, 3, 2)
    assert [row[0] for row in view.rows] == [2, 5]
    assert explorer.explore(table, query("page=99")).page == 3  # beyond the last: the last


def test_it_sorts_numbers_numerically_and_text_by_its_characters_empties_last(table):
    assert ids(explorer.select(table, query("sort=site_id"))) == [1, 2, 3, 4, 5]
    assert ids(explorer.select(table, query("sort=area"))) == [5, 3, 4, 2, 1]  # ties keep stored order
    assert ids(explorer.select(table, query("sort=area&desc=1"))) == [2, 3, 4, 5, 1]
    assert ids(explorer.select(table, query("sort=name"))) == [2, 3, 5, 1, 4]  # "B" < "H" < "N" < "h"
    assert ids(explorer.select(table, query("sort=name&desc=1"))) == [1, 5, 3, 2, 4]


def test_it_filters_by_equals_contains_and_emptiness(table):
    assert ids(explorer.select(table, query("col=name&op=eq&q=Ham"))) == [3]
    assert ids(explorer.select(table, query("col=name&op=contains&q=HAM"))) == [3, 1]
    assert ids(explorer.select(table, query("col=area&op=eq&q=1.5"))) == [3, 4]
    assert ids(explorer.select(table, query("col=code&op=eq&q=007"))) == [3, 2]  # text, not the number 7
    assert ids(explorer.select(table, query("col=area&op=empty&q="))) == [1]
    assert ids(explorer.select(table, query("col=code&op=notempty&q="))) == [3, 1, 2, 4]
    assert ids(explorer.select(table, query("col=site_id&op=contains&q=5"))) == [5]


def test_it_combines_filters_and_sorts_what_they_keep(table):
    view = explorer.select(table, query("col=code&op=notempty&q=&col=area&op=notempty&q=&sort=area&desc=1"))

    assert ids(view) == [2, 3, 4]


def test_it_rejects_what_the_table_cannot_answer():
    with pytest.raises(InvalidQuery, match="col: the table has no column 'nope'"):
        query("col=nope&op=eq&q=1")
    with pytest.raises(InvalidQuery, match="op: 'like'"):
        query("col=name&op=like&q=1")
    with pytest.raises(InvalidQuery, match="sort: the table has no column"):
        query("sort=nope")
    with pytest.raises(InvalidQuery, match="each filter needs all three"):
        query("col=name&op=eq")
    with pytest.raises(InvalidQuery, match="page"):
        query("page=x")


def test_it_rejects_a_value_a_number_column_cannot_hold(table):
    with pytest.raises(InvalidQuery, match="'abc' is not a number"):
        explorer.select(table, query("col=area&op=eq&q=abc"))


def test_its_url_form_reads_back_as_the_same_query():
    original = Query((Filter("name", "contains", "a&b"), Filter("area", "empty")), "area", True, 3, "code")

    assert Query.from_params(QueryDict(original.params()), COLUMNS) == original
    assert query(original.without_filter(0)).filters == (Filter("area", "empty"),)
    assert query(original.sorted_by("area")).descending is False  # the other way round
    assert query(original.sorted_by("name")) == original.replace(sort="name", descending=False, page=1)


def test_it_profiles_a_column_of_the_rows_kept(table):
    text = explorer.explore(table, query("profile=code")).profile
    number = explorer.explore(table, query("col=name&op=notempty&q=&profile=area")).profile

    assert (text.kind, text.rows, text.nulls, text.distinct) == ("text", 5, 1, 3)
    assert text.top[0] == ("007", 2)
    assert (text.minimum, text.maximum) == ("007", "1,\n2")
    assert (number.kind, number.rows, number.nulls, number.distinct) == ("decimal number", 4, 1, 3)
    assert (number.minimum, number.maximum) == (0.25, 10.0)


def test_the_csv_of_the_whole_table_is_the_stored_csv(table, monkeypatch):
    monkeypatch.setattr(explorer, "DOWNLOAD_CHUNK_ROWS", 2)  # chunks join without repeating the header

    assert b"".join(explorer.csv_chunks(explorer.select(table, Query()))) == csv_bytes(FRAME)


def test_the_csv_of_a_view_holds_its_rows_in_its_order(table):
    view = explorer.select(table, query("col=area&op=notempty&q=&sort=area"))

    expected = FRAME.iloc[[3, 0, 4, 2]]  # 0.25, 1.5, 1.5, 10.0
    assert b"".join(explorer.csv_chunks(view)) == csv_bytes(expected)


def test_it_writes_the_view_as_a_sheet_with_text_as_text(table):
    from openpyxl import load_workbook

    handle = io.BytesIO()
    explorer.write_xlsx(explorer.select(table, query("sort=site_id")), handle, max_rows=3)

    rows = list(load_workbook(handle).active.values)
    assert rows[0] == tuple(COLUMNS)
    assert rows[1:] == [(1, "ham", None, "010"), (2, "Bremen", 10, "007"), (3, "Ham", 1.5, "007")]
