"""run_test --input FILE [--default-entity NAME]: a run from the command line on an input table."""

import io

import pytest
from django.core.management import CommandError, call_command

from testruns.models import Status, TestRun
from tests.testruns.run_input_support import SURVEY, distinct

pytestmark = pytest.mark.django_db


def run_test(*args) -> str:
    out = io.StringIO()
    call_command("run_test", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_runs_on_a_local_file(sourceless):
    run_test(
        "sourceless", "--input", str(SURVEY), "--default-entity", "survey", "--max-rows", "all", "--sync"
    )

    run = TestRun.objects.get()
    assert run.status == Status.COMPLETED, run.error_message
    assert run.input.name == "survey.csv"
    assert run.entity_results.get(entity="site").rows_out == distinct("Fustel")


def test_it_runs_on_a_file_the_version_bundles(demo_version):
    run_test("demo", "--input", "survey.csv", "--default-entity", "survey", "--sync")

    run = TestRun.objects.get()
    assert run.input.stored == demo_version.files.get(path="survey.csv").stored
    assert run.status == Status.COMPLETED, run.error_message


def test_it_refuses_a_file_that_does_not_exist(sourceless, tmp_path):
    with pytest.raises(CommandError, match="no such file, here or in sourceless v1"):
        run_test("sourceless", "--input", str(tmp_path / "missing.csv"), "--default-entity", "survey")
    assert not TestRun.objects.exists()


def test_it_refuses_a_file_that_is_not_a_table(sourceless, tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")

    with pytest.raises(CommandError, match="broken.xlsx cannot be read as Excel"):
        run_test("sourceless", "--input", str(tmp_path / "broken.xlsx"), "--default-entity", "survey")
    assert not TestRun.objects.exists()


def test_it_requires_a_default_entity_the_version_does_not_name(sourceless):
    with pytest.raises(CommandError, match="default_entity: name the entity the input table stands for"):
        run_test("sourceless", "--input", str(SURVEY))


def test_it_refuses_a_default_entity_without_an_input(sourceless):
    with pytest.raises(CommandError, match="--default-entity needs --input FILE"):
        run_test("sourceless", "--default-entity", "survey")
