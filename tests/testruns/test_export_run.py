"""manage.py export_run ID --format json|zip|xlsx --out PATH."""

import json
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from testruns.models import Status, TestRun
from tests.factories import HUGE_CELL, LONG, make_exportable_run, make_hostile_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def made_run(demo_version, alice):
    return make_exportable_run(demo_version, alice)


@pytest.fixture
def out(tmp_path):
    """A folder of its own (tmp_path also holds the test's media)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def export(*args) -> str:
    stdout = StringIO()
    call_command("export_run", *args, stdout=stdout)
    return stdout.getvalue()


def test_it_writes_the_manifest(made_run, out):
    target = out / "run.json"

    output = export(str(made_run.pk), "--format", "json", "--out", str(target))

    assert json.loads(target.read_text(encoding="utf-8"))["run"]["id"] == str(made_run.pk)
    assert output.startswith(f"Wrote {target} (")
    assert output.endswith(f"json export of run {made_run.short_id}.\n")


def test_it_writes_the_zip(made_run, out):
    target = out / "tables.zip"

    export(made_run.short_id, "--format", "zip", "--out", str(target))

    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ["manifest.json", "site.csv", "sample_type.csv", LONG + "_1.csv"]


def test_it_writes_the_workbook(made_run, out):
    target = out / "book.xlsx"

    export(made_run.short_id, "--format", "xlsx", "--out", str(target))

    assert load_workbook(target).sheetnames == ["Summary", "site", "sample_type", LONG[:31]]


def test_it_writes_a_workbook_of_any_size(made_run, out, settings):
    settings.EXPORT_XLSX_MAX_CELLS = 1  # the web's limit; a command has no request to finish in time

    export(made_run.short_id, "--out", str(out / "book.xlsx"))

    assert (out / "book.xlsx").is_file()


def test_it_takes_the_format_from_the_file_name(made_run, out):
    export(made_run.short_id, "--out", str(out / "book.XLSX"))

    assert load_workbook(out / "book.XLSX").sheetnames[0] == "Summary"


def test_it_names_the_file_in_a_folder(made_run, out):
    export(made_run.short_id, "--out", str(out))

    assert [path.name for path in out.iterdir()] == [f"demo-v1-{made_run.short_id}.zip"]


def test_it_writes_into_the_current_folder_by_default(made_run, out, monkeypatch):
    monkeypatch.chdir(out)

    export(made_run.short_id, "--format", "json")

    assert (out / f"demo-v1-{made_run.short_id}.json").is_file()


def test_it_rejects_an_unknown_run(db):
    with pytest.raises(CommandError, match="No run id starts with 123456"):
        export("123456")


def test_it_rejects_a_run_still_working(made_run, out):
    TestRun.objects.filter(pk=made_run.pk).update(status=Status.RUNNING)

    with pytest.raises(CommandError, match="is still running: export it when it has finished"):
        export(made_run.short_id, "--out", str(out / "run.zip"))
    assert list(out.iterdir()) == []


def test_it_rejects_a_missing_folder(made_run, out):
    with pytest.raises(CommandError, match=f"folder {out / 'nowhere'} does not exist"):
        export(made_run.short_id, "--out", str(out / "nowhere" / "run.zip"))


def test_it_leaves_no_half_file_when_the_export_fails(made_run, out, monkeypatch):
    from testruns import exports

    def broken(name):
        yield b"a"
        raise OSError("disk on fire")

    monkeypatch.setattr(exports, "_read_in_chunks", broken)
    with pytest.raises(OSError, match="disk on fire"):
        export(made_run.short_id, "--out", str(out / "run.zip"))
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("fmt", ["json", "zip", "xlsx"])
def test_it_exports_a_run_with_a_cell_of_a_megabyte(
    write_config, alice, django_capture_on_commit_callbacks, out, fmt
):
    run = make_hostile_run(write_config, alice, django_capture_on_commit_callbacks)
    target = out / f"run.{fmt}"

    export(str(run.pk), "--out", str(target))

    if fmt == "zip":
        archive = zipfile.ZipFile(target)
        name = json.loads(archive.read("manifest.json"))["entities"][0]["file"]
        assert HUGE_CELL in archive.read(name).decode()  # whole in the CSV
    elif fmt == "xlsx":
        header, first = load_workbook(target).worksheets[1].iter_rows(max_row=2, values_only=True)
        assert dict(zip(header, first, strict=True))["text"].endswith("… [truncated: 1,200,000 characters]")
    else:
        assert json.loads(target.read_text(encoding="utf-8"))["entities"][0]["rows_out"] == 2
