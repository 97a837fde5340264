"""The history's cursor and keyset pages, without the client."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from testruns.models import TestRun
from testruns.pagination import Cursor
from tests.factories import make_runs


def test_it_round_trips_a_cursor():
    cursor = Cursor(datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), uuid.uuid4())

    assert Cursor.parse(str(cursor)) == cursor
    assert str(cursor).startswith("1772366400123456_")


@pytest.mark.parametrize(
    "text", ["", "_", "12", "12_", "x_" + "a" * 32, "1_" + "g" * 32, "9" * 19 + "_" + "a" * 32]
)
def test_it_rejects_what_is_not_a_cursor(text):
    with pytest.raises(ValueError, match="is not a position in the history"):
        Cursor.parse(text)


@pytest.mark.django_db
def test_it_pages_through_whole_seconds_and_microseconds_alike(demo_version):
    """SQLite compares datetimes as text, and writes a whole second without ".000000"."""
    start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    offsets = [0, 1, 500_000, 1_000_000, 1_000_001, 2_000_000]
    make_runs(demo_version, (start + timedelta(microseconds=us) for us in offsets))
    seen, cursor = [], None
    while True:
        page = TestRun.objects.keyset_page(2, before=cursor)
        seen += [run.created_at for run in page.runs]
        if page.older is None:
            break
        cursor = page.older

    assert seen == [start + timedelta(microseconds=us) for us in reversed(offsets)]
