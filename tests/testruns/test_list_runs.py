"""manage.py list_runs: one line per run, newest first, filtered by configuration and status."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from configurations.importing import import_configuration
from testruns.models import Status
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def list_runs(*args) -> list[str]:
    out = io.StringIO()
    call_command("list_runs", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


@pytest.fixture
def runs(demo_version, alice, write_config):
    """Three demo runs, an hour apart (the newest running), and one of another configuration."""
    now = timezone.now()
    made = [
        make_run(
            demo_version,
            requested_by=alice,
            status=status,
            created_at=now - timedelta(hours=hours),
            entities_total=11,
            entities_succeeded=succeeded,
            entities_failed=11 - succeeded,
        )
        for hours, status, succeeded in (
            (2, Status.COMPLETED, 11),
            (1, Status.COMPLETED, 9),
            (0, Status.RUNNING, 11),
        )
    ]
    path = write_config(
        "entities:\n  one:\n    type: fixed\n    surrogate_id: one_id\n    columns: [a]\n    values: [[x]]\n",
        name="other.yml",
    )
    other, _ = import_configuration(path)
    made.append(make_run(other, created_at=now - timedelta(hours=3)))
    return made


def test_it_lists_runs_newest_first(runs):
    lines = list_runs()

    newest_first = (runs[2], runs[1], runs[0], runs[3])
    assert [line.split()[0] for line in lines] == [run.short_id for run in newest_first]
    assert lines[1].split()[3:8] == ["demo", "v1", "completed", "9/11", "ok,"]
    assert "2 failed" in lines[1]
    assert lines[1].endswith("alice")


def test_it_filters_by_configuration_and_status(runs):
    assert [line.split()[0] for line in list_runs("--configuration", "other")] == [runs[3].short_id]
    assert [line.split()[0] for line in list_runs("--status", "running")] == [runs[2].short_id]
    assert len(list_runs("--configuration", "demo", "--status", "completed")) == 2
    assert list_runs("--configuration", "nope") == []


def test_it_limits_the_list(runs):
    assert [line.split()[0] for line in list_runs("--limit", "2")] == [runs[2].short_id, runs[1].short_id]


def test_it_rejects_a_bad_status_or_limit(db):
    with pytest.raises(CommandError):
        list_runs("--status", "sleeping")
    with pytest.raises(CommandError, match="at least 1"):
        list_runs("--limit", "0")


def test_it_costs_one_query(runs, django_assert_num_queries):
    with django_assert_num_queries(1):
        list_runs()
