"""The checks of a run where it leaves ShiftBench: the API's run object, the JSON, ZIP and Excel exports,
and ``manage.py show_run`` (text and --json)."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from testruns import exports
from testruns.models import TestRun
from tests.factories import CHECK_SOURCE, make_checked_run, make_exportable_run

pytestmark = pytest.mark.django_db

NOT_NULL = {
    "origin": "target_model",
    "source": CHECK_SOURCE,
    "entity_name": "site",
    "kind": "not_null",
    "columns": ["site_name"],
    "severity": "error",
    "status": "failed",
    "message": "entity 'site': column 'site_name' is not nullable in the model but has 25 null values",
    "reason": "",
    "failing_rows": 25,
    "sample_rows": [{"system_id": i, "site_name": None} for i in range(1, 21)],
    "details": {},
}


@pytest.fixture
def checked(demo_version, alice):
    return make_checked_run(demo_version, alice)


def test_the_api_gives_a_run_with_its_checks(alice_client, checked):
    data = alice_client.get(f"/api/v1/test-runs/{checked.pk}").json()

    assert (data["checks_total"], data["checks_failed"]) == (4, 1)
    assert data["summary"] == "1 check failed"
    assert data["checks"][0] == NOT_NULL
    assert [(check["kind"], check["status"]) for check in data["checks"]] == [
        ("not_null", "failed"),
        ("type", "failed"),
        ("equals_baseline", "skipped"),
        ("required_entity", "passed"),
    ]
    assert data["checks"][2]["origin"] == "configuration"
    assert data["checks"][2]["reason"] == "no baseline run"


def test_the_api_reads_the_checks_of_one_run_in_one_more_query(
    alice_client, checked, demo_version, alice, django_assert_num_queries
):
    plain = make_exportable_run(demo_version, alice)
    # session, user, the run (with configuration, version, requester), its entity results
    with django_assert_num_queries(4):
        assert alice_client.get(f"/api/v1/test-runs/{plain.pk}").json()["checks"] == []
    with django_assert_num_queries(5):  # and its checks
        alice_client.get(f"/api/v1/test-runs/{checked.pk}")


def test_a_list_of_runs_gives_their_check_counts_without_the_checks(alice_client, checked):
    (item,) = alice_client.get("/api/v1/test-runs").json()["items"]

    assert (item["checks_total"], item["checks_failed"], item["checks"]) == (4, 1, None)


def test_the_json_export_holds_the_checks(checked):
    manifest = json.loads(exports.export_json(TestRun.objects.for_export().get(pk=checked.pk)))

    assert (manifest["checks_total"], manifest["checks_failed"]) == (4, 1)
    assert manifest["summary"] == "1 check failed"
    assert manifest["checks"][0] == NOT_NULL
    assert len(manifest["checks"]) == 4


def test_the_zip_export_holds_the_checks_in_its_manifest(checked):
    archive = exports.export_zip(TestRun.objects.for_export().get(pk=checked.pk))

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(archive))).read("manifest.json"))
    assert manifest["checks"][0] == NOT_NULL


def test_the_exports_read_the_checks_before_streaming(checked, django_assert_num_queries):
    run = TestRun.objects.for_export().get(pk=checked.pk)

    with django_assert_num_queries(1):  # the checks, then storage only
        archive = exports.export_zip(run)
    with django_assert_num_queries(0):
        b"".join(archive)


def test_the_workbook_has_a_checks_sheet(checked):
    with exports.export_xlsx(TestRun.objects.for_export().get(pk=checked.pk)) as handle:
        workbook = load_workbook(handle)

    assert workbook.sheetnames == ["Summary", "Checks"]  # the two entities have no stored table
    rows = list(workbook["Checks"].iter_rows(values_only=True))
    assert rows[0] == exports.CHECK_HEADINGS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["Entity"], first["Kind"], first["Columns"], first["Severity"], first["Status"]) == (
        "site",
        "not_null",
        "site_name",
        "error",
        "failed",
    )
    assert first["Failing rows"] == 25
    assert json.loads(first["Failing rows (sample)"]) == NOT_NULL["sample_rows"]
    assert len(rows) == 5
    facts = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row}
    assert facts["Checks"] == "4, 1 failed at error level (sheet Checks)"


def test_a_run_without_checks_has_no_checks_sheet(demo_version, alice):
    with exports.export_xlsx(make_exportable_run(demo_version, alice)) as handle:
        assert "Checks" not in load_workbook(handle).sheetnames


def show_run(*args) -> str:
    out = io.StringIO()
    call_command("show_run", *args, stdout=out)
    return out.getvalue()


def test_show_run_lists_the_checks_that_did_not_pass(checked):
    out = show_run(str(checked.pk))

    first = out.splitlines()[0]
    assert (
        f"run {checked.short_id} failed: 2 of 2 entities succeeded, 0 failed, 0 skipped; 1 of 4 checks"
        in first
    )
    assert "  verdict:   1 check failed" in out
    lines = out.splitlines()
    start = lines.index(f"4 checks: 2 failed (1 error, 1 warning), 1 skipped, 1 passed; from {CHECK_SOURCE}; "
                        "the configuration's checks: section")  # fmt: skip
    assert [line.split()[:3] for line in lines[start + 1 :]] == [
        ["failed", "error", "site:"],
        ["failed", "warning", "sample:"],
        ["skipped", "sample:", "equals_baseline"],
    ]
    assert "not_null (site_name)  25 failing rows  entity 'site'" in lines[start + 1]


def test_show_run_json_gives_the_apis_checks(checked):
    data = json.loads(show_run(str(checked.pk), "--json"))

    assert data["checks"][0] == NOT_NULL
