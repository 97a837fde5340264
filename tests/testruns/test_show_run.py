"""manage.py show_run: one run as a summary and an entity table, or as the API's JSON."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from testruns.execution import execute_run, start_run
from testruns.models import Status
from testruns.options import RunOptions
from tests.factories import make_run, run_with_a_failing_entity

pytestmark = pytest.mark.django_db


def show_run(*args) -> str:
    out = io.StringIO()
    call_command("show_run", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_run(demo_version, alice):
    run = start_run(demo_version, RunOptions(entities=["site"]), alice, background=False)
    execute_run(run.pk)
    run.refresh_from_db()
    return run


def test_it_shows_a_summary_and_the_entities(demo_run):
    out = show_run(str(demo_run.pk))

    lines = out.splitlines()
    assert lines[0].startswith(f"demo v1 run {demo_run.short_id} completed: 3 of 3 entities succeeded")
    assert "by alice" in out
    assert "first 100 rows · entities: site" in out
    assert f"/runs/{demo_run.pk}/" in out
    table = lines[lines.index("") + 1 :]
    assert table[0].split() == ["entity", "status", "rows", "in", "→", "out", "time", "error"]
    assert [line.split()[:2] for line in table[1:]] == [
        ["survey", "success"],
        ["project", "success"],
        ["site", "success"],
    ]
    assert "100 → 3" in table[3]


def test_it_shows_an_entity_error(demo_run):
    demo_run.entity_results.filter(entity="site").update(status="failed", error="Boom: no column\ntraceback")

    site = next(line for line in show_run(str(demo_run.pk)).splitlines() if line.startswith("site "))

    assert site.split()[1] == "failed"
    assert site.endswith("Boom: no column")


def test_it_prints_the_api_json(client, demo_run, alice):
    client.force_login(alice)

    data = json.loads(show_run(str(demo_run.pk), "--json"))

    api = client.get(f"/api/v1/test-runs/{demo_run.pk}").json()
    assert data == {**api, "url": f"/runs/{demo_run.pk}/"}  # the same object; only the URL is not absolute


def test_it_accepts_a_unique_prefix(demo_run, demo_version):
    prefix = str(demo_run.pk)[:6]

    assert show_run(prefix).startswith(f"demo v1 run {demo_run.short_id}")
    assert show_run(prefix.upper()).startswith(f"demo v1 run {demo_run.short_id}")


def test_it_rejects_an_ambiguous_prefix(demo_version):
    for pk in ("abcdef01-0000-4000-8000-000000000000", "abcdef02-0000-4000-8000-000000000000"):
        make_run(demo_version, pk=pk)

    with pytest.raises(CommandError, match="More than one run"):
        show_run("abcdef")
    assert "abcdef02" in show_run("abcdef02")


@pytest.mark.parametrize(
    ("run_id", "message"),
    [
        ("abc", "not a run id"),
        ("zzzzzzzz", "not a run id"),
        ("012345", "No run id starts with 012345"),
        ("01234567-0000-4000-8000-000000000000", "No run 01234567-0000-4000-8000-000000000000"),
    ],
)
def test_it_rejects_ids_it_cannot_find(db, run_id, message):
    with pytest.raises(CommandError, match=message):
        show_run(run_id)


def test_it_shows_a_run_whose_entity_failed_as_failed(
    alice, write_config, django_capture_on_commit_callbacks
):
    failed = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    lines = show_run(str(failed.pk)).splitlines()

    head = f"broken v1 run {failed.short_id} failed: 2 of 4 entities succeeded, 1 failed, 1 skipped"
    assert lines[0].startswith(head)
    assert "  verdict:   1 entity failed, 1 skipped" in lines
    assert not any(line.startswith("  error:") for line in lines)


def test_it_says_what_the_entity_at_work_is_doing_as_the_run_page_does(demo_version):
    run = make_run(
        demo_version,
        Status.RUNNING,
        [{"entity": "survey", "status": "success"}, {"entity": "result_base", "status": "running"}, "method"],
        entities_total=3,
        entities_completed=1,
        current_entity="result_base",
        current_phase="link",
        current_rows=945_600,
    )

    lines = show_run(str(run.pk)).splitlines()

    assert "  working on result_base — linking 945,600 rows (1 of 3 done)" in lines
