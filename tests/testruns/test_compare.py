"""testruns.compare: issue matching and whole-run comparisons, without the client (rows: test_diffs)."""

import shutil
import uuid

import pytest
from django.utils import timezone

from testruns.compare import (
    FindingChange,
    FindingsDiff,
    RunNotFound,
    compare_entity,
    compare_runs,
    diff_findings,
    fetch_runs,
)
from testruns.findings import Finding
from testruns.models import EntityResult, Status
from tests.factories import DEMO, make_run


def result(entity="site", columns=("id", "name", "size"), preview=(), **fields) -> EntityResult:
    """An unsaved entity result, its preview rows in ``columns`` order; rows_out is the preview's length."""
    fields.setdefault("rows_out", len(preview))
    return EntityResult(
        entity=entity, columns=list(columns), preview=[list(row) for row in preview], **fields
    )


# --- issues, warnings, errors -------------------------------------------------------------------------------


def issue(message, code="", severity="warning"):
    return {
        "severity": severity,
        "code": code,
        "entity": "site",
        "message": message,
        "suggestion": "",
        "location": "",
    }


def test_it_finds_new_and_resolved_issues_warnings_and_errors():
    base = result(issues=[issue("fixed soon", "E1")], warnings=["3 rows dropped"])
    head = result(warnings=["3 rows dropped", "new warning"], error="KeyError: 'KoordZ'", status="failed")

    comparison = compare_entity("site", base, head)

    assert comparison.findings.new == [
        Finding("warning", "site", "new warning"),
        Finding("error", "site", "KeyError: 'KoordZ'"),
    ]
    assert comparison.findings.resolved == [Finding("warning", "site", "fixed soon", "E1")]
    assert comparison.findings.changed == []


def test_it_tells_apart_issues_of_one_code_whose_messages_differ_beyond_counts():
    base = [Finding("warning", "site", "column Ortt not found", "missing-column")]
    head = [Finding("warning", "site", "column Ort not found", "missing-column")]

    assert diff_findings(base, head) == FindingsDiff(new=head, resolved=base)


def test_it_matches_an_issue_whose_code_was_split_off_by_its_message():
    message = "foreign key #1 to 'site' skipped: column 'site_id' (or all its extra columns) already exists"
    base = [Finding("info", "sample", message, "fk_check_failed")]  # stored before the code was split
    head = [Finding("info", "sample", message, "fk_already_linked")]

    assert not diff_findings(base, head)


def test_it_matches_issues_per_entity():
    base = [Finding("warning", "site", "same text")]
    head = [Finding("warning", "sample", "same text")]

    assert diff_findings(base, head) == FindingsDiff(new=head, resolved=base)


def test_it_counts_repeated_findings():
    warning = Finding("warning", "site", "duplicate key")

    assert diff_findings([warning], [warning, warning]) == FindingsDiff(new=[warning])
    assert diff_findings([warning, warning], [warning]) == FindingsDiff(resolved=[warning])


def test_a_count_that_changed_is_one_changed_finding_not_a_new_and_a_resolved_one():
    before = Finding(
        "warning", "site", "3 rows dropped as duplicates (of 1,200)", "duplicate_keys", "demo.yml:7"
    )
    after = Finding(
        "warning", "site", "5 rows dropped as duplicates (of 1,200)", "duplicate_keys", "demo.yml:7"
    )

    diff = diff_findings([before], [after])

    assert diff == FindingsDiff(changed=[FindingChange(before, after)])
    assert diff.changed[0].count_changes == [("3", "5")]
    assert not diff.changed[0].severity_changed


def test_a_numbered_reference_a_location_or_a_code_is_part_of_the_identity():
    first = Finding(
        "warning", "sample", "foreign key #1 to 'site': 3 rows unmatched", "fk_unmatched", "a.yml:9"
    )
    second = Finding(
        "warning", "sample", "foreign key #2 to 'site': 4 rows unmatched", "fk_unmatched", "a.yml:9"
    )
    moved = Finding(
        "warning", "sample", "foreign key #1 to 'site': 4 rows unmatched", "fk_unmatched", "a.yml:12"
    )
    recoded = Finding(
        "warning", "sample", "foreign key #1 to 'site': 4 rows unmatched", "fk_rows_changed", "a.yml:9"
    )
    same = Finding("error", "sample", "foreign key #1 to 'site': 4 rows unmatched", "fk_unmatched", "a.yml:9")

    for other in (second, moved, recoded):
        assert diff_findings([first], [other]) == FindingsDiff(new=[other], resolved=[first])
    [change] = diff_findings([first], [same]).changed
    assert change.count_changes == [("3", "4")] and change.severity_changed  # and it became an error


def test_an_entitys_count_change_as_the_engine_stores_it_is_one_change():
    """The engine stores a warning twice: as text and as a coded issue (testruns.findings)."""

    def stored(count):
        message = f"{count} rows dropped as duplicates"
        return result(warnings=[message], issues=[issue(message, "duplicate_keys")])

    comparison = compare_entity("site", stored(3), stored(5))

    assert comparison.findings.new == comparison.findings.resolved == []
    [change] = comparison.findings.changed
    assert (change.head.message, change.count_changes) == ("5 rows dropped as duplicates", [("3", "5")])
    assert comparison.has_changes


# --- one entity ---------------------------------------------------------------------------------------------


def test_it_compares_an_entitys_columns_rows_and_duration():
    base = result(
        columns=("id", "name", "gone"),
        dtypes={"id": "int64", "name": "object", "gone": "object"},
        status="success",
        rows_in=10,
        rows_out=3,
        duration_ms=100,
    )
    head = result(
        columns=("id", "name", "added"),
        dtypes={"id": "object", "name": "object", "added": "int64"},
        status="failed",
        rows_in=50,
        rows_out=1,
        duration_ms=80,
    )

    comparison = compare_entity("site", base, head)

    assert comparison.presence == "both"
    assert comparison.status_changed
    assert (comparison.rows_in_delta, comparison.rows_out_delta, comparison.duration_delta_ms) == (
        40,
        -2,
        -20,
    )
    assert comparison.added_columns == ["added"]
    assert comparison.removed_columns == ["gone"]
    assert comparison.dtype_changes == [("id", "int64", "object")]
    assert comparison.has_changes


def test_it_reports_no_change_but_the_duration():
    base = result(preview=[(1, "a", 10)], status="success", rows_in=1, duration_ms=10)
    head = result(preview=[(1, "a", 10)], status="success", rows_in=1, duration_ms=99)

    comparison = compare_entity("site", base, head)

    assert comparison.duration_delta_ms == 89
    assert not comparison.has_changes


def test_it_lists_an_entity_present_in_one_run_only():
    head_only = compare_entity("site", None, result(warnings=["w"]))
    base_only = compare_entity("site", result(), None)

    assert head_only.presence == "head only" and head_only.rows_out_delta is None
    assert head_only.findings.new == [Finding("warning", "site", "w")]
    assert base_only.presence == "base only" and base_only.has_changes


# --- whole runs, from the database --------------------------------------------------------------------------


@pytest.fixture
def demo_v2(demo_version, alice, tmp_path):
    """Version 2 of the demo: taxa loses its Familie column."""
    from configurations.importing import import_configuration

    folder = tmp_path / "demo_v2"
    shutil.copytree(DEMO, folder)
    yaml = (folder / "demo.yml").read_text(encoding="utf-8")
    yaml = yaml.replace('columns: ["BNam", "Familie"]', 'columns: ["BNam"]')
    (folder / "demo.yml").write_text(yaml, encoding="utf-8")
    version, created = import_configuration(
        folder / "demo.yml", name="demo", user=alice, message="no Familie"
    )
    assert created and version.number == 2
    return version


def test_it_compares_two_runs_of_the_demo(db, demo_version, run_demo):
    base = run_demo(demo_version, max_rows_per_entity=10)
    head = run_demo(demo_version, max_rows_per_entity=50)
    base, head = fetch_runs(base.pk, head.pk)

    comparison = compare_runs(base, head)

    assert comparison.same_configuration and comparison.same_version
    assert comparison.version_diff_url is None
    by_name = {entity.name: entity for entity in comparison.entities}
    assert list(by_name) == [result.entity for result in head.entity_results.all()]
    assert by_name["abundance"].rows_out_delta == 40
    assert by_name["survey"].rows_in_delta == 40
    assert not by_name["record_type"].has_changes  # fixed values: the sample size changes nothing
    assert not comparison.same_options  # 10 and 50 rows: the page says so
    assert comparison.only_in_base == comparison.only_in_head == []
    assert comparison.new_findings == comparison.resolved_findings == []


def test_it_compares_runs_of_two_versions(db, demo_version, demo_v2, run_demo):
    base = run_demo(demo_version, max_rows_per_entity=10, entities=["taxa", "site"])
    head = run_demo(demo_v2, max_rows_per_entity=10, entities=["taxa"])
    base, head = fetch_runs(base.pk, head.pk)

    comparison = compare_runs(base, head)

    assert comparison.same_configuration and not comparison.same_version
    assert comparison.version_diff_url == "/configurations/demo/versions/1..2"
    taxa = next(entity for entity in comparison.entities if entity.name == "taxa")
    assert taxa.removed_columns == ["Familie"]
    assert [entity.name for entity in comparison.only_in_base] == ["project", "site"]


def test_it_links_the_version_diff_only_between_two_versions(db, demo_version, demo_v2):
    base = make_run(demo_version)
    head, same = make_run(demo_v2), make_run(demo_v2)

    assert compare_runs(base, head).version_diff_url == "/configurations/demo/versions/1..2"
    assert compare_runs(head, base).version_diff_url == "/configurations/demo/versions/2..1"
    assert compare_runs(head, same).version_diff_url is None  # same version: nothing to diff


def test_it_compares_runs_of_different_configurations(db, demo_version, alice, run_demo, tmp_path):
    from configurations.importing import import_configuration

    folder = tmp_path / "other"
    shutil.copytree(DEMO, folder)
    other, _ = import_configuration(folder / "demo.yml", name="other", user=alice)
    base, head = run_demo(demo_version, entities=["site"]), run_demo(other, entities=["site"])

    comparison = compare_runs(*fetch_runs(base.pk, head.pk))

    assert not comparison.same_configuration
    assert [entity.presence for entity in comparison.entities] == ["both"] * 3
    assert comparison.changed == []  # same data under another name


def test_it_compares_run_level_errors(db, demo_version, alice):
    base = make_run(
        demo_version,
        status=Status.FAILED,
        error_message="bad",
    )
    head = make_run(demo_version)

    comparison = compare_runs(*fetch_runs(base.pk, head.pk))

    assert comparison.entities == []
    assert comparison.resolved_findings == [Finding("error", "", "bad")]


def test_it_fetches_both_runs_and_their_results_in_two_queries(
    db, demo_version, run_demo, django_assert_num_queries
):
    base = run_demo(demo_version, max_rows_per_entity=10)
    head = run_demo(demo_version, max_rows_per_entity=50)

    with django_assert_num_queries(2):
        base, head = fetch_runs(base.pk, head.pk)
    with django_assert_num_queries(0):
        comparison = compare_runs(base, head)
        assert len(comparison.entities) == 11
        assert (base.configuration.name, head.version.number, head.requested_by.username) == (
            "demo",
            1,
            "alice",
        )


def test_it_fetches_the_same_run_twice(db, demo_version, run_demo):
    run = run_demo(demo_version, entities=["site"])

    base, head = fetch_runs(run.pk, run.pk)

    assert base is head
    assert not compare_runs(base, head).changed


def test_it_names_the_side_of_an_unknown_run(db, demo_version):
    run = make_run(demo_version)
    unknown = uuid.uuid4()

    with pytest.raises(RunNotFound, match=f"No run {unknown} \\(head\\)"):
        fetch_runs(run.pk, unknown)
    with pytest.raises(RunNotFound) as raised:
        fetch_runs(unknown, run.pk)
    assert raised.value.role == "base"


# --- TestRun.previous_run -----------------------------------------------------------------------------------


def test_it_finds_the_previous_finished_run_of_the_same_configuration(db, demo_version, alice, write_config):
    from configurations.importing import import_configuration

    def make(version, minutes_ago, status=Status.COMPLETED):
        return make_run(
            version,
            status=status,
            created_at=timezone.now() - timezone.timedelta(minutes=minutes_ago),
        )

    other, _ = import_configuration(write_config("entities: {}\n", name="other.yml"), user=alice)
    oldest = make(demo_version, 50)
    previous = make(demo_version, 40, Status.FAILED)
    make(demo_version, 30, Status.RUNNING)  # not finished
    make(other, 20)  # another configuration
    run = make(demo_version, 10)
    make(demo_version, 5)  # later

    assert run.previous_run() == previous
    assert previous.previous_run() == oldest
    assert oldest.previous_run() is None


def test_it_compares_like_with_like(db, demo_version, django_assert_num_queries):
    def make(minutes_ago, **options):
        created_at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
        return make_run(demo_version, status=Status.COMPLETED, created_at=created_at, options=options)

    same = make(50, max_rows_per_entity=100, entities=["site", "sample"])
    make(40, max_rows_per_entity=None, entities=["site", "sample"])  # all rows
    make(30, max_rows_per_entity=100, entities=["site"])  # other entities
    make(20, max_rows_per_entity=100, entities=["site", "sample"], input="sha256:ab12")  # another input
    run = make(10, max_rows_per_entity=100, entities=["sample", "site"])  # the same entities, reordered

    with django_assert_num_queries(1):
        assert run.previous_run() == same
    assert run.comparison_key == same.comparison_key == (100, ("sample", "site"), None)


def test_it_falls_back_to_the_previous_run_when_none_has_the_same_options(db, demo_version):
    def make(minutes_ago, rows):
        created_at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
        options = {"max_rows_per_entity": rows}
        return make_run(demo_version, status=Status.COMPLETED, created_at=created_at, options=options)

    make(30, 10)
    latest = make(20, 50)
    run = make(10, None)

    assert run.previous_run() == latest
    assert run.previous_run().comparison_key != run.comparison_key  # the run page says they differ
