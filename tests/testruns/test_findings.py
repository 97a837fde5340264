"""One severity for a finding on every page: testruns.findings, and the entity page, the run page and the
comparison showing the same stored issue with the same label."""

import re

import pytest
from django.urls import reverse

from testruns.findings import Finding, findings_of, severity_of
from testruns.models import EntityResult, Status
from tests.factories import make_run

# The engine stores a note twice: as a line of ``warnings`` and as a coded issue with its severity.
NOTE = "foreign key #1 to 'site' skipped: column 'site_id' already exists"
NOTE_ISSUE = {
    "severity": "info",
    "code": "fk_already_linked",
    "entity": "sample",
    "message": NOTE,
    "suggestion": "",
    "location": "demo.yml:40",
}


def result(**fields) -> EntityResult:
    return EntityResult(entity="sample", **fields)


def test_an_issue_keeps_its_own_severity_and_its_warning_line_is_not_a_second_finding():
    findings = findings_of(result(warnings=[NOTE], issues=[NOTE_ISSUE]))

    assert findings == [Finding("info", "sample", NOTE)]
    assert (findings[0].code, findings[0].location) == ("fk_already_linked", "demo.yml:40")


def test_a_warning_line_no_issue_carries_is_a_warning():
    assert findings_of(result(warnings=["3 rows dropped"])) == [
        Finding("warning", "sample", "3 rows dropped")
    ]


def test_an_error_is_an_error_and_a_skipped_entitys_reason_a_warning():
    failed = result(status="failed", error="column KoordZ not found")
    skipped_issue = {"severity": "warning", "code": "entity_skipped", "message": "'site' failed"}
    skipped = result(status="skipped", error="'site' failed", issues=[skipped_issue])
    skipped_before_issues = result(status="skipped", error="'site' failed")

    assert findings_of(failed) == [Finding("error", "sample", "column KoordZ not found")]
    assert (
        findings_of(skipped)
        == findings_of(skipped_before_issues)
        == [Finding("warning", "sample", "'site' failed")]
    )


def test_a_cancelled_entitys_reason_is_a_note_and_a_crashed_ones_an_error():
    # cancelling is what the user asked for, not a problem of the data; a worker that died is one
    cancelled = result(status="cancelled", error="Not finished: the run ended cancelled.")
    crashed = result(status="crashed", error="Not finished: the run ended crashed.")

    assert findings_of(cancelled) == [Finding("info", "sample", "Not finished: the run ended cancelled.")]
    assert findings_of(crashed) == [Finding("error", "sample", "Not finished: the run ended crashed.")]


def test_a_missing_or_unknown_severity_reads_as_a_warning():
    assert [severity_of(value) for value in ("ERROR", "info", None, "", "fatal")] == [
        "error",
        "info",
        "warning",
        "warning",
        "warning",
    ]


def test_it_counts_the_severities_gravest_first():
    warning = {"severity": "warning", "message": "w"}
    counted = result(status="failed", error="boom", warnings=["x", NOTE], issues=[NOTE_ISSUE, warning])

    assert counted.severity_counts == [("error", 1), ("warning", 2), ("info", 1)]


# --- the same stored issue on the three pages ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_entity_page_the_run_page_and_the_comparison_give_a_stored_issue_one_severity(
    alice_client, demo_version
):
    entity = {"entity": "sample", "status": "success", "rows_in": 5, "rows_out": 5}
    base = make_run(demo_version, Status.COMPLETED, [entity])
    head = make_run(demo_version, Status.COMPLETED, [{**entity, "warnings": [NOTE], "issues": [NOTE_ISSUE]}])
    labels = {}

    page = alice_client.get(reverse("testruns:entity", args=[head.pk, "sample"])).content.decode()
    section = page.split('id="entity-issues"')[1].split("</section>")[0]
    labels["entity page"] = re.findall(r'class="chip chip-(\w+)">(\w+)</span>', section)

    page = alice_client.get(head.get_absolute_url()).content.decode()
    row = page.split('<tr id="entity-0"')[1].split("</tr>")[0]
    labels["run page"] = re.findall(r'class="chip chip-(\w+) severity-count">1 (\w+)</span>', row)

    page = alice_client.get(f"{reverse('testruns:compare')}?base={base.pk}&head={head.pk}").content.decode()
    section = page.split('id="compare-issues"')[1].split("</section>")[0]
    labels["comparison"] = re.findall(
        r'class="chip chip-(\w+)">(\w+)</span> <strong>sample</strong>', section
    )
    assert NOTE.replace("'", "&#x27;") in section

    assert labels == {page: [("info", "info")] for page in ("entity page", "run page", "comparison")}
