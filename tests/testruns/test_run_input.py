"""A run's input table (testruns.inputs): checked, stored by content, read as the default entity, reused by a
re-run and part of what compares runs like with like."""

import hashlib
import io

import pandas as pd
import pytest

from configurations.models import StoredFile
from shapeshift.pipeline.inputs import sniff_delimiter
from testruns.execution import rerun_run, start_run
from testruns.inputs import InvalidInput, bundled_input, earlier_input, local_copy, upload_input
from testruns.models import RunInput, Status, TestRun
from testruns.options import RunOptions
from tests.testruns.run_input_support import SURVEY, WITH_METADATA, distinct, import_text

pytestmark = pytest.mark.django_db

ROWS = 100


@pytest.fixture
def run_with(alice, django_capture_on_commit_callbacks):
    """``run_with(version, given_input, **options)``: the finished run, executed in this process."""

    def run(version, given_input, **options):
        options.setdefault("max_rows_per_entity", ROWS)
        with django_capture_on_commit_callbacks(execute=True):
            started = start_run(version, RunOptions(**options), alice, given_input=given_input)
        started.refresh_from_db()
        return started

    return run


def results(run) -> dict:
    return {r.entity: r for r in run.entity_results.all()}


def test_it_runs_the_entities_without_a_source_on_the_input(sourceless, alice, run_with):
    given = upload_input(sourceless, SURVEY, "survey.csv", "survey", alice)

    run = run_with(sourceless, given)

    assert run.status == Status.COMPLETED, run.error_message
    by_entity = results(run)
    assert set(by_entity) == {"site", "sample", "record_type"}  # the input is no entity of the plan
    assert by_entity["site"].rows_out == distinct("Fustel", ROWS)
    assert by_entity["sample"].rows_out == distinct("ProbNr", ROWS)
    assert by_entity["sample"].output  # its table is stored, as every entity's is


def test_without_an_input_those_entities_fail_saying_what_they_need(sourceless, run_with):
    run = run_with(sourceless, None)

    assert run.status == Status.FAILED
    assert "run with an input table as default entity" in results(run)["site"].error
    assert run.input is None and "input" not in run.options


def test_it_records_the_input_by_content(sourceless, alice, run_with):
    content = SURVEY.read_bytes()
    given = upload_input(sourceless, io.BytesIO(content), "survey.csv", "survey", alice)

    run = run_with(sourceless, given)

    sha256 = hashlib.sha256(content).hexdigest()
    assert run.options["input"] == sha256
    assert run.options["default_entity"] == "survey"
    assert (run.input.name, run.input.size, run.input.sha256) == ("survey.csv", len(content), sha256)
    with StoredFile.objects.get(pk=sha256).blob.open("rb") as blob:
        assert blob.read() == content


def test_it_stores_the_same_file_once(sourceless, alice, bob):
    first = upload_input(sourceless, SURVEY, "survey.csv", "survey", alice)
    second = upload_input(sourceless, io.BytesIO(SURVEY.read_bytes()), "survey.csv", "survey", bob)

    assert second.run_input == first.run_input
    assert StoredFile.objects.filter(pk=first.run_input.sha256).count() == 1
    assert RunInput.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("survey.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "survey.csv cannot be read as CSV"),
        (
            "latin1.csv",
            "Ort;Name\nLüneburg;Mühlenberg\n".encode("latin-1"),
            "latin1.csv cannot be read as CSV",
        ),
        ("empty.csv", b"", "empty.csv cannot be read as CSV"),
        ("sheet.xlsx", b"not a zip file", "sheet.xlsx cannot be read as Excel"),
        ("notes.pdf", b"%PDF-1.4", "notes.pdf: an input table is a CSV"),
    ],
)
def test_it_refuses_a_file_that_is_not_a_table_naming_it(sourceless, alice, name, content, says):
    with pytest.raises(InvalidInput) as refused:
        upload_input(sourceless, io.BytesIO(content), name, "survey", alice)

    assert refused.value.field == "input"
    assert says in refused.value.message
    assert not RunInput.objects.exists()
    assert not StoredFile.objects.filter(pk=hashlib.sha256(content).hexdigest()).exists()  # nothing kept


def test_it_reads_an_excel_input(sourceless, alice, run_with, tmp_path):
    survey = pd.read_csv(SURVEY, sep=";", dtype=str, keep_default_na=False)
    survey.to_excel(tmp_path / "survey.xlsx", index=False)

    run = run_with(
        sourceless, upload_input(sourceless, tmp_path / "survey.xlsx", "survey.xlsx", "survey", alice)
    )

    assert run.status == Status.COMPLETED, run.error_message
    assert results(run)["site"].rows_out == distinct("Fustel", ROWS)


def test_it_requires_a_default_entity_when_the_version_names_none(sourceless, alice):
    with pytest.raises(InvalidInput) as refused:
        upload_input(sourceless, SURVEY, "survey.csv", "", alice)

    assert refused.value.field == "default_entity"
    assert "metadata.default_entity" in refused.value.message


def test_it_takes_the_default_entity_from_the_versions_metadata(write_config, alice, run_with):
    version = import_text(write_config, WITH_METADATA, "with-metadata", alice)

    run = run_with(version, upload_input(version, SURVEY, "survey.csv", None, alice))

    assert run.status == Status.COMPLETED, run.error_message
    assert run.options["default_entity"] == "survey"
    assert results(run)["site"].rows_out == distinct("Fustel", ROWS)


def test_a_given_default_entity_wins_over_the_metadata(write_config, alice):
    version = import_text(write_config, WITH_METADATA, "with-metadata", alice)

    assert upload_input(version, SURVEY, "survey.csv", "observations", alice).default_entity == "observations"


def test_it_takes_one_of_the_versions_files_without_storing_it_again(demo_version, alice, run_with):
    bundled = demo_version.files.get(path="survey.csv")

    given = bundled_input(demo_version, "survey.csv", "survey", alice)
    run = run_with(demo_version, given)

    assert given.run_input.stored == bundled.stored
    assert run.status == Status.COMPLETED, run.error_message
    assert results(run)["survey"].rows_out == ROWS  # the declared survey entity is the input table


def test_it_refuses_a_path_the_version_does_not_bundle(demo_version, alice):
    with pytest.raises(InvalidInput, match="elsewhere.csv is not a CSV or Excel file of demo v1"):
        bundled_input(demo_version, "elsewhere.csv", "survey", alice)


def test_it_reuses_an_earlier_input_by_its_id(sourceless, alice, run_with):
    earlier = upload_input(sourceless, SURVEY, "survey.csv", "survey", alice).run_input

    run = run_with(sourceless, earlier_input(sourceless, earlier.pk, "survey"))

    assert run.input == earlier
    assert run.status == Status.COMPLETED, run.error_message


def test_it_refuses_an_unknown_input_id(sourceless):
    with pytest.raises(InvalidInput, match="no input table has the id 00000000-0000-0000-0000-000000000000"):
        earlier_input(sourceless, "00000000-0000-0000-0000-000000000000", "survey")


def test_a_rerun_reads_the_same_input(sourceless, alice, run_with, django_capture_on_commit_callbacks):
    run = run_with(sourceless, upload_input(sourceless, SURVEY, "survey.csv", "survey", alice))

    with django_capture_on_commit_callbacks(execute=True):
        again = rerun_run(run, alice)
    again.refresh_from_db()

    assert again.input == run.input
    assert again.options == run.options
    assert again.status == Status.COMPLETED, again.error_message
    assert results(again)["site"].rows_out == distinct("Fustel", ROWS)


def test_runs_compare_like_with_like_only_with_the_same_input(sourceless, alice, run_with, tmp_path):
    half = tmp_path / "half.csv"
    lines = SURVEY.read_text(encoding="utf-8").splitlines(keepends=True)
    half.write_text("".join(lines[:150]), encoding="utf-8")
    full_input = upload_input(sourceless, SURVEY, "survey.csv", "survey", alice)
    first = run_with(sourceless, full_input)
    other = run_with(sourceless, upload_input(sourceless, half, "half.csv", "survey", alice))
    latest = run_with(sourceless, full_input)

    assert first.comparison_key == latest.comparison_key
    assert other.comparison_key != latest.comparison_key
    assert latest.comparison_key[2] == hashlib.sha256(SURVEY.read_bytes()).hexdigest()
    assert latest.previous_run() == first  # not the later run on another input


def test_the_worker_copies_a_lost_local_copy_again(sourceless, alice, run_with):
    given = upload_input(sourceless, SURVEY, "survey.csv", "survey", alice)
    local_copy(given.run_input).unlink()

    run = run_with(sourceless, given)

    assert run.status == Status.COMPLETED, run.error_message
    assert local_copy(given.run_input).read_bytes() == SURVEY.read_bytes()


def test_a_run_whose_stored_input_is_corrupt_fails_saying_so(sourceless, alice, run_with):
    given = upload_input(sourceless, SURVEY, "survey.csv", "survey", alice)
    local_copy(given.run_input).unlink()
    with open(given.run_input.stored.blob.path, "wb") as blob:
        blob.write(b"changed")

    run = run_with(sourceless, given)

    assert run.status == Status.FAILED
    assert run.error_message.startswith("The input table could not be prepared for the run:")
    assert "survey.csv" in run.error_message
    assert not TestRun.objects.exclude(pk=run.pk).exists()


def test_the_delimiter_is_told_by_the_rows_not_the_header_alone():
    # A header like Arbodat's, whose column names hold commas ("ORG2,0"): only ";" splits every line alike.
    sample = "ProjektNr;ORG2,0;ORG1,0;Fustel\n21_0004;1;2;Mühlenberg\n21_0005;3;4;Ort\n"

    assert sniff_delimiter(sample) == ";"
    assert sniff_delimiter("a,b\n1,2\n3,4") == ","
    assert sniff_delimiter("") == ","
