"""The checks a run makes of its data once the entities are done (testruns/checks.py, issue #11 item 2).

Real runs in this process (django-q2 sync mode). The target-model case is conformance case 35
(``../shared/data/conformance-v2/35_target_model_conformance``): a format-2 project whose
``metadata.target_model`` includes a small model; what its data breaks comes from the corpus' own
``expected/`` files (the tables and the reference's data-level findings, ``_conformance.json``).
"""

import csv
import json

import pytest

import shapeshift
from configurations.importing import import_configuration
from configurations.loading import load_version
from shapeshift.targets import check_data, target_model_of
from testruns import checks as run_checks_module
from testruns import execution
from testruns.checks import RunChecks, wanted_columns
from testruns.models import EntityResult, RunCheck, Status
from testruns.options import RunOptions
from tests.factories import CONFORMANCE_V2, copy_case, run_for_real

pytestmark = pytest.mark.django_db

CASE = CONFORMANCE_V2 / "35_target_model_conformance"
FINDINGS = json.loads((CASE / "expected" / "_conformance.json").read_text())["data_conformance_issues"]
ALL_ROWS = RunOptions(max_rows_per_entity=None)


def expected_rows(entity: str) -> list[dict]:
    with open(CASE / "expected" / f"{entity}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def finding(code: str) -> dict:
    (found,) = [item for item in FINDINGS if item["code"] == code]
    return found


@pytest.fixture
def case35(alice, tmp_path):
    version, _ = import_configuration(copy_case(CASE, tmp_path) / "shapeshifter.yml", name="c35", user=alice)
    return version


@pytest.fixture
def run_it(alice, django_capture_on_commit_callbacks):
    def run(version, options=ALL_ROWS):
        return run_for_real(version, alice, django_capture_on_commit_callbacks, options)

    return run


def stored(run, **filters) -> RunCheck:
    (check,) = run.checks.filter(**filters)
    return check


def test_it_checks_the_data_against_the_projects_target_model_and_fails_the_run(case35, run_it):
    run = run_it(case35)

    assert run.status == Status.FAILED
    assert run.entities_succeeded == run.entities_total  # every entity ran: the checks failed the run
    checks = list(run.checks.all())
    errors = [check for check in checks if check.status == "failed" and check.severity == "error"]
    assert (run.checks_total, run.checks_failed) == (len(checks), len(errors))
    noun = "check" if len(errors) == 1 else "checks"
    assert run.summary == f"{len(errors)} {noun} failed"
    assert {check.origin for check in checks} == {RunCheck.Origin.TARGET_MODEL}
    assert checks[0].source == "Mini excavation model 1.0.0 (the project's metadata.target_model)"

    # NULL_IN_REQUIRED_COLUMN: an error, with the site rows whose name is empty as its failing rows
    null = finding("NULL_IN_REQUIRED_COLUMN")
    not_null = stored(run, entity=null["entity"], kind="not_null", columns=[null["field"]])
    nameless = [int(row["system_id"]) for row in expected_rows("site") if row["site_name"] == ""]
    assert (not_null.status, not_null.severity, not_null.failing_rows) == ("failed", "error", len(nameless))
    assert not_null.sample == [{"system_id": sid, "site_name": None} for sid in nameless]
    assert f"{len(nameless)} null value(s)" in null["message"]

    # TYPE_INCOMPATIBLE: a warning; ours names the rows whose depth is no whole number
    incompatible = finding("TYPE_INCOMPATIBLE")
    typed = stored(run, entity=incompatible["entity"], kind="type", columns=[incompatible["field"]])
    bad = [row for row in expected_rows("sample") if not row["depth"].isdigit()]
    assert (typed.status, typed.severity) == ("failed", incompatible["severity"])
    assert typed.sample == [{"system_id": int(row["system_id"]), "depth": row["depth"]} for row in bad]

    # FK_REFERENTIAL_INTEGRITY: the reference's false orphan (section 20 #31) is not reported
    orphan = finding("FK_REFERENTIAL_INTEGRITY")
    integrity = stored(run, entity=orphan["entity"], kind="referential_integrity", columns=[orphan["field"]])
    assert integrity.status == "passed"

    # a required entity the project lacks (the editor's MISSING_REQUIRED_ENTITY)
    assert stored(run, entity="project", kind="required_entity").status == "failed"
    source = "Mini excavation model 1.0.0 (the project's metadata.target_model)"
    assert run.events.filter(message=f"Checking the data against the target model {source}.").exists()
    assert run.events.filter(level="error", message__startswith=f"Checks: {len(checks)} checks:").exists()
    assert run.events.last().message == f"Run failed: {run.summary}."


def test_the_stored_checks_are_those_of_the_whole_tables(case35, run_it):
    """Only the columns the checks read are kept of each table; the results must not differ for it."""
    run = run_it(case35)
    project = load_version(case35)
    tables = shapeshift.run(project, shapeshift.plan(project)).tables

    whole = [result.to_dict() for result in check_data(tables, project, target_model_of(project))]

    fields = ["entity", "kind", "columns", "severity", "status", "message", "reason", "failing_rows"]
    kept = run.checks.values(*fields, "sample", "details")
    assert [dict(check) for check in kept] == [
        {key: result[key] for key in [*fields, "sample", "details"]} for result in whole
    ]


def test_it_keeps_only_what_the_checks_read(case35):
    project = load_version(case35)
    wanted = wanted_columns(project, target_model_of(project), [])

    # samples_raw is in no check (not in the model, linked to by none): its table is never kept
    assert set(wanted) == {"site", "sample", "sample_type", "location", "sample_location"}
    assert wanted["site"] == {"system_id", "site_name", "altitude"}
    assert wanted["sample"] >= {"system_id", "sample_name", "depth", "colour", "site_id", "sample_type_id"}


def test_a_model_chosen_for_the_configuration_wins_over_the_projects(case35, run_it):
    model = b"""
model: {name: Altitudes, version: "2"}
entities:
  site:
    public_id: site_id
    columns:
      altitude: {required: true, type: decimal}
"""
    case35.configuration.choose_target_model(model, "altitudes.yml")

    run = run_it(case35)

    assert {check.source for check in run.checks.all()} == {
        "Altitudes 2 (altitudes.yml, chosen for the configuration)"
    }
    assert not run.checks.filter(entity="project").exists()  # the project's own model was not used
    altitude = stored(run, entity="site", kind="required_column")
    assert (altitude.status, altitude.columns) == ("failed", ["altitude"])
    assert run.summary == "1 check failed"


DEMO_MODEL = b"""
model: {name: Demo model, version: "1"}
entities:
  site:
    public_id: site_id
    columns:
      site_name: {required: true, type: string, nullable: false}
  sample:
    public_id: sample_id
    foreign_keys:
      - {entity: site, required: true}
      - {entity: epoch, required: true}
"""


def test_a_format_1_projects_links_are_checked_by_its_surrogate_ids(demo_version, run_it):
    """Format 1 names FK columns after the parent's surrogate_id (no public_id): every demo sample has a
    site and an epoch, so the required links and their integrity pass."""
    demo_version.configuration.choose_target_model(DEMO_MODEL, "demo_model.yml")

    run = run_it(demo_version, RunOptions())

    assert run.status == Status.COMPLETED, run.summary
    links = run.checks.filter(entity="sample", kind__in=["required_fk", "referential_integrity"])
    assert {(check.kind, tuple(check.columns), check.status) for check in links} == {
        ("required_fk", ("site_id",), "passed"),
        ("referential_integrity", ("site_id",), "passed"),
        ("required_fk", ("epoch_id",), "passed"),
        ("referential_integrity", ("epoch_id",), "passed"),
    }
    assert run.checks_failed == 0 and run.checks_total == run.checks.count()


AUTHORED = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";", dtype: str, keep_default_na: false}
    columns: [site, sample, kind]
  sample:
    source: survey
    keys: [sample]
    columns: [sample, site, kind]
    surrogate_id: sample_id
checks:
  sample:
    - rows: {min: 1}
    - not_null: [site]
    - accepted_values: {column: kind, values: [pit, layer]}
      severity: warning
    - equals_baseline: true
"""
SURVEY = "site;sample;kind\nA;1;pit\n;2;layer\nB;3;posthole\n"  # sample 2 has no site, 3 an unknown kind


def test_it_makes_the_configurations_own_checks(write_config, alice, run_it):
    version, _ = import_configuration(write_config(AUTHORED, survey__csv=SURVEY), user=alice)

    run = run_it(version)

    checks = {check.kind: check for check in run.checks.all()}
    assert {check.origin for check in checks.values()} == {RunCheck.Origin.CONFIGURATION}
    assert checks["row_count"].status == "passed"
    assert (checks["not_null"].status, checks["not_null"].failing_rows) == ("failed", 1)
    assert checks["not_null"].sample == [{"system_id": 2, "site": ""}]  # an empty cell counts as null
    assert list(checks["not_null"].sample[0]) == ["system_id", "site"]  # in order, on every database
    values = checks["accepted_values"]
    assert (values.status, values.severity, values.sample) == (
        "failed",
        "warning",
        [{"system_id": 3, "kind": "posthole"}],
    )
    assert (checks["equals_baseline"].status, checks["equals_baseline"].reason) == (
        "skipped",
        "no baseline run",
    )
    assert checks["not_null"].details["location"].startswith("config.yml:")  # not the bundle's folder
    assert run.events.filter(message="Checking the data with 4 checks of the configuration's own.").exists()
    assert run.status == Status.FAILED
    assert run.summary == "1 check failed"  # the warning does not fail the run


def test_equals_baseline_compares_with_the_configurations_baseline_run(write_config, alice, run_it):
    version, _ = import_configuration(write_config(AUTHORED, survey__csv=SURVEY), user=alice)
    first = run_it(version)
    first.make_baseline(alice)

    same = run_it(version)
    assert stored(same, kind="equals_baseline").status == "passed"

    changed_survey = SURVEY.replace("A;1;pit", "A;1;layer")
    changed, _ = import_configuration(
        write_config(AUTHORED, survey__csv=changed_survey), name=version.configuration.name, user=alice
    )
    differs = run_it(changed)
    check = stored(differs, kind="equals_baseline")
    assert (check.status, check.entity) == ("failed", "sample")


def test_a_check_that_cannot_be_made_fails_the_run_saying_why(write_config, alice, run_it):
    broken = AUTHORED.replace("- not_null: [site]", "- not_null: [no_such_column]")
    version, _ = import_configuration(write_config(broken, survey__csv=SURVEY), user=alice)

    run = run_it(version)

    invalid = stored(run, kind="invalid_check")
    assert (invalid.status, invalid.severity, invalid.entity) == ("failed", "error", "sample")
    assert "'no_such_column' is no column of 'sample'" in invalid.message
    assert run.checks.filter(kind="row_count", status="passed").exists()  # the others were made
    assert run.status == Status.FAILED


def test_a_target_model_that_cannot_be_read_is_a_failed_check_and_the_entities_still_run(
    tmp_path, alice, run_it
):
    folder = copy_case(CASE, tmp_path)
    (folder / "mini_model.yml").write_text("model: {name: No version}\nentities: {}\n")
    version, _ = import_configuration(folder / "shapeshifter.yml", name="c35", user=alice)

    run = run_it(version)

    unreadable = stored(run, kind="target_model")
    assert (unreadable.status, unreadable.severity) == ("failed", "error")
    assert "model.version: is required" in unreadable.message
    assert str(tmp_path) not in unreadable.message
    assert run.entities_succeeded == run.entities_total
    assert (run.status, run.summary) == (Status.FAILED, "1 check failed")
    assert run.events.filter(message="Nothing can be checked (the failed checks say why).").exists()


def test_an_error_inside_the_checks_ends_the_run_failed_with_why(case35, run_it, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(run_checks_module, "check_data", broken)

    run = run_it(case35)

    assert run.status == Status.FAILED and run.finished_at is not None
    error = stored(run, kind="checks_error")
    assert error.message == (
        "The checks could not be completed (internal error): ZeroDivisionError: division by zero"
    )
    assert run.summary == "1 check failed"


def test_a_cancel_during_the_checks_ends_the_run_cancelled_without_checks(case35, run_it, monkeypatch):
    monkeypatch.setattr(execution, "CANCEL_CHECK_INTERVAL", 0)
    evaluate = RunChecks.evaluate

    def cancel_first(self, should_stop, **kwargs):
        EntityResult.objects.first().run.request_cancel()
        return evaluate(self, should_stop, **kwargs)

    monkeypatch.setattr(RunChecks, "evaluate", cancel_first)

    run = run_it(case35)

    assert run.status == Status.CANCELLED
    assert run.entities_succeeded == run.entities_total  # the entities keep their results
    assert (run.checks_total, run.checks.count()) == (0, 0)
    assert run.events.filter(message="Cancelled during the checks: no check results are kept.").exists()


def test_a_run_with_nothing_to_check_makes_no_checks(demo_version, run_it):
    run = run_it(demo_version, RunOptions())

    assert RunChecks.prepare(run, demo_version.project) is None
    assert (run.status, run.checks_total, run.checks.count()) == (Status.COMPLETED, 0, 0)
    assert not run.events.filter(message__startswith="Check").exists()


def test_an_entity_left_out_of_the_run_has_its_checks_skipped(case35, run_it):
    run = run_it(case35, RunOptions(entities=["site"], max_rows_per_entity=None))

    sample = run.checks.filter(entity="sample")
    assert sample.exists() and set(sample.values_list("status", flat=True)) == {"skipped"}
    assert stored(run, entity="sample", kind="required_entity").reason.startswith(
        "entity 'sample' produced no"
    )


INFINITE = """
entities:
  reading:
    type: csv
    options: {filename: readings.csv}
    keys: [value]
    columns: [value]
    surrogate_id: reading_id
checks:
  reading:
    - accepted_values: {column: value, values: [1.5]}
"""


def test_values_json_cannot_hold_are_stored_as_text(write_config, alice, run_it):
    path = write_config(INFINITE, readings__csv="value\n1.5\ninf\n")
    version, _ = import_configuration(path, user=alice)

    run = run_it(version)

    check = stored(run, kind="accepted_values")
    assert (check.status, check.sample) == ("failed", [{"system_id": 2, "value": "inf"}])
