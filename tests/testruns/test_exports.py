"""testruns.exports: the manifest (JSON), the ZIP of entity tables and the Excel workbook of a run."""

import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from openpyxl import load_workbook

import shiftbench
from testruns import exports
from testruns.execution import start_run
from testruns.models import EntityResult, Status, TestRun
from testruns.options import RunOptions
from tests.factories import (
    FORMULA,
    HUGE_CELL,
    LONG,
    SITE_CSV,
    make_exportable_run,
    make_hostile_run,
    make_result,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_run(demo_version, alice, django_capture_on_commit_callbacks):
    """The demo, run in full (django-q2 sync mode), loaded as the exports load it."""
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(demo_version, RunOptions(max_rows_per_entity=None), alice)
    run = TestRun.objects.for_export().get(pk=run.pk)
    assert run.status == Status.COMPLETED, run.error_message
    return run


@pytest.fixture
def made_run(demo_version, alice):
    return make_exportable_run(demo_version, alice)


def unzip(archive) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(archive)))


def test_it_loads_a_run_for_export_in_two_queries(made_run, django_assert_num_queries):
    with django_assert_num_queries(2):
        run = TestRun.objects.for_export().get(pk=made_run.pk)
    with django_assert_num_queries(0):
        exports.manifest(run, files={})


def test_it_names_the_file_after_configuration_version_and_run(made_run):
    assert exports.export_filename(made_run, "zip") == f"demo-v1-{made_run.short_id}.zip"


def test_it_builds_the_manifest_from_the_database(demo_run, demo_version):
    manifest = json.loads(exports.export_json(demo_run))

    assert manifest["shiftbench_version"] == shiftbench.__version__
    assert manifest["configuration"] == {"name": "demo", "version": 1, "version_sha256": demo_version.sha256}
    assert manifest["run"]["id"] == str(demo_run.pk)
    assert manifest["run"]["status"] == "completed"
    assert manifest["run"]["requested_by"] == "alice"
    assert manifest["options"] == demo_run.options
    assert set(manifest["timings"]) == {"created_at", "started_at", "finished_at", "total_time_ms"}
    assert manifest["timings"]["total_time_ms"] == demo_run.total_time_ms
    assert len(manifest["entities"]) == 11
    site = next(entity for entity in manifest["entities"] if entity["name"] == "site")
    stored = demo_run.entity_results.get(entity="site")
    assert site["status"] == "success"
    assert site["role"] == stored.role
    assert (site["rows_in"], site["rows_out"]) == (stored.rows_in, stored.rows_out)
    assert site["columns"] == stored.columns
    assert site["dtypes"] == stored.dtypes
    assert site["duration_ms"] == stored.duration_ms
    assert site["file"] == "site.csv"


def test_it_describes_failed_and_skipped_entities(made_run):
    manifest = json.loads(exports.export_json(made_run))
    entities = {entity["name"]: entity for entity in manifest["entities"]}

    assert entities[LONG + "_2"]["status"] == "failed"
    assert entities[LONG + "_2"]["error"] == "KeyError: 'no_such_column'"
    assert entities[LONG + "_2"]["file"] is None
    assert entities["after_broken"]["status"] == "skipped"
    assert entities["site"]["warnings"] == ["2 rows dropped as duplicates"]
    assert entities["site"]["issues"][0]["location"] == "demo.yml:3"
    assert entities["sample/type"]["file"] == "sample_type.csv"


def test_it_zips_the_manifest_and_every_stored_table(demo_run):
    archive = unzip(exports.export_zip(demo_run))

    names = archive.namelist()
    assert names[0] == "manifest.json"
    stored = list(demo_run.entity_results.all())
    assert names[1:] == [f"{result.entity}.csv" for result in stored]
    for result in stored:
        with result.output.open("rb") as handle:
            assert archive.read(f"{result.entity}.csv") == handle.read()
    manifest = json.loads(archive.read("manifest.json"))
    assert [entity["file"] for entity in manifest["entities"]] == names[1:]
    assert archive.testzip() is None


def test_it_zips_a_run_with_a_failed_entity(made_run):
    archive = unzip(exports.export_zip(made_run))

    assert archive.namelist() == ["manifest.json", "site.csv", "sample_type.csv", LONG + "_1.csv"]
    assert archive.read("site.csv").decode() == SITE_CSV


def test_it_streams_the_zip_in_chunks_read_only_when_asked(made_run, monkeypatch):
    big = b"id,text\n" + b"".join(b"%d,%s\n" % (i, b"x" * (i % 50)) for i in range(100_000))
    EntityResult.objects.filter(run=made_run, entity="site").update(
        output=default_storage.save(f"runs/{made_run.pk}/big.csv", ContentFile(big))
    )
    run = TestRun.objects.for_export().get(pk=made_run.pk)
    opened, read_in_chunks = [], exports._read_in_chunks

    def reading(name):
        opened.append(name)
        yield from read_in_chunks(name)

    monkeypatch.setattr(exports, "_read_in_chunks", reading)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 64 * 1024)

    archive = exports.export_zip(run)
    assert opened == []  # nothing read yet: the ZIP is made as it is sent
    chunks = list(archive)
    assert opened == [
        f"runs/{made_run.pk}/big.csv",
        f"runs/{made_run.pk}/sample_type.csv",
        f"runs/{made_run.pk}/{LONG}_1.csv",
    ]

    assert len(chunks) > len(big) // (64 * 1024)
    assert max(len(chunk) for chunk in chunks) < 1024 * 1024
    assert unzip(chunks).read("site.csv") == big


def test_it_leaves_out_a_table_gone_from_storage(made_run):
    default_storage.delete(made_run.entity_results.get(entity="site").output.name)

    archive = unzip(exports.export_zip(made_run))

    assert "site.csv" not in archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["entities"][0]["file"] is None


def test_it_writes_a_summary_sheet_then_one_sheet_per_stored_table(made_run):
    with exports.export_xlsx(made_run) as handle:
        workbook = load_workbook(handle)

    assert workbook.sheetnames == ["Summary", "site", "sample_type", LONG[:31]]
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    facts = {row[0]: row[1] for row in summary[:12]}
    assert facts["Configuration"] == "demo"
    assert facts["Version"] == 1
    assert facts["Run"] == str(made_run.pk)
    assert facts["Status"] == "completed"
    assert json.loads(facts["Options"]) == {"max_rows_per_entity": 100}
    assert facts["ShiftBench"] == shiftbench.__version__
    table = summary[summary.index(exports.SUMMARY_HEADINGS) + 1 :]
    assert [row[:3] for row in table] == [
        ("site", "site", "success"),
        ("sample/type", "sample_type", "success"),
        (LONG + "_1", LONG[:31], "success"),
        (LONG + "_2", None, "failed"),
        ("after_broken", None, "skipped"),
    ]
    assert table[3][exports.SUMMARY_HEADINGS.index("Error")] == "KeyError: 'no_such_column'"
    assert table[0][8] == "2 rows dropped as duplicates"


def test_it_keeps_cell_types_and_text_as_stored(made_run):
    with exports.export_xlsx(made_run) as handle:
        workbook = load_workbook(handle)

    rows = list(workbook["site"].iter_rows(values_only=True))
    assert rows == [
        ("site_id", "code", "area", "note", "flag"),
        (1, "007", 1.5, "=1+1", True),  # leading zeros kept; a formula-like text stays text
        (2, "010", None, "plain bell", False),  # the control character Excel refuses is dropped
    ]
    assert workbook["site"]["D2"].data_type == "s"
    assert list(workbook["sample_type"].iter_rows(values_only=True)) == [("name",), ("Äpfel",)]


def test_it_cuts_a_table_longer_than_excel_allows(made_run, monkeypatch):
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 2)
    EntityResult.objects.filter(run=made_run, entity="site").update(rows_out=2)
    run = TestRun.objects.for_export().get(pk=made_run.pk)

    with exports.export_xlsx(run) as handle:
        workbook = load_workbook(handle)

    assert len(list(workbook["site"].iter_rows(values_only=True))) == 2  # the header and one row
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert ("site", "site (first 1 rows)") in [row[:2] for row in summary]


def test_it_refuses_a_workbook_above_the_cell_limit(made_run):
    # 2 * 5 + 1 + 1 cells: failed and skipped entities have no table
    assert "tables hold 12 cells" in exports.excel_refusal(made_run, 11)

    with pytest.raises(exports.ExportTooLarge, match="hold 12 cells, more than the 11 an Excel export"):
        exports.export_xlsx(made_run, max_cells=11)
    exports.export_xlsx(made_run, max_cells=12).close()


def test_it_makes_sheet_names_excel_accepts():
    names = exports.sheet_names(
        ["a/b:c", "x" * 40, "x" * 35, "Summary", "history", "'quoted'", "", "X" * 31], taken=["Summary"]
    )

    assert names == {
        "a/b:c": "a_b_c",
        "x" * 40: "x" * 31,
        "x" * 35: "x" * 29 + "~2",
        "Summary": "Summary~2",
        "history": "history_",
        "'quoted'": "quoted",
        "": "entity",
        "X" * 31: "X" * 29 + "~3",  # unique ignoring case, as Excel compares them
    }
    assert all(len(name) <= 31 for name in names.values())


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.CANCELLING])
@pytest.mark.parametrize("export", [exports.export_json, exports.export_zip, exports.export_xlsx])
def test_it_refuses_a_run_still_working(made_run, status, export):
    made_run.status = status

    with pytest.raises(exports.RunNotFinished, match=f"still {status}: export it when it has finished"):
        export(made_run)


@pytest.mark.parametrize("status", [Status.FAILED, Status.CANCELLED, Status.CRASHED])
def test_it_exports_runs_that_ended_badly(made_run, status):
    made_run.status, made_run.error_message = status, "worker lost"

    assert json.loads(exports.export_json(made_run))["run"]["error_message"] == "worker lost"
    assert "manifest.json" in unzip(exports.export_zip(made_run)).namelist()
    with exports.export_xlsx(made_run) as handle:
        assert load_workbook(handle).sheetnames[0] == "Summary"


def test_it_gives_each_table_its_own_file_name_in_the_zip(made_run):
    other = make_result(
        made_run,
        "sample_type",
        5,  # "sample/type" is sample_type.csv already
        status="success",
        output=default_storage.save(f"runs/{made_run.pk}/other.csv", ContentFile(b"b\n2\n")),
    )
    run = TestRun.objects.for_export().get(pk=made_run.pk)

    archive = unzip(exports.export_zip(run))

    assert archive.namelist()[1:3] == ["site.csv", "sample_type.csv"]
    assert archive.namelist()[-1] == "sample_type~2.csv"
    assert archive.read("sample_type~2.csv") == b"b\n2\n"
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["entities"][-1] == {
        **manifest["entities"][-1],
        "name": other.entity,
        "file": "sample_type~2.csv",
    }


def test_it_writes_numbers_excel_cannot_keep_as_text(made_run):
    csv_text = f"big,ratio\n{2**60},inf\n7,nan\n8,0.25\n"
    EntityResult.objects.filter(run=made_run, entity="site").update(
        output=default_storage.save(f"runs/{made_run.pk}/numbers.csv", ContentFile(csv_text.encode())),
        dtypes={"big": "int64", "ratio": "float64"},
    )
    run = TestRun.objects.for_export().get(pk=made_run.pk)

    with exports.export_xlsx(run) as handle:
        rows = list(load_workbook(handle)["site"].iter_rows(values_only=True))

    assert rows == [("big", "ratio"), (str(2**60), "inf"), (7, "nan"), (8, 0.25)]


# --- hostile text: formulas and huge cells ---


def formula_cells(workbook) -> list[str]:
    """Every cell of the workbook Excel would evaluate (a formula) or show as an error value."""
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type in ("f", "e")
    ]


@pytest.fixture
def hostile_run(write_config, alice, django_capture_on_commit_callbacks):
    return make_hostile_run(write_config, alice, django_capture_on_commit_callbacks)


def test_it_writes_formula_like_names_headers_and_cells_as_text(made_run):
    EntityResult.objects.filter(run=made_run, entity="site").update(
        entity=FORMULA,
        output=default_storage.save(
            f"runs/{made_run.pk}/formula.csv",
            ContentFile(('"' + FORMULA.replace('"', '""') + '",code\n#N/A,=2+2\n').encode()),
        ),
        columns=[FORMULA, "code"],
        dtypes={FORMULA: "object", "code": "object"},
        warnings=["=1+1 is a warning"],
        error="@SUM(A1)",
    )
    run = TestRun.objects.for_export().get(pk=made_run.pk)

    with exports.export_xlsx(run) as handle:
        workbook = load_workbook(handle)

    assert formula_cells(workbook) == []
    sheet = workbook[workbook.sheetnames[1]]
    assert [(cell.value, cell.data_type) for cell in sheet[1]] == [(FORMULA, "s"), ("code", "s")]
    assert [(cell.value, cell.data_type) for cell in sheet[2]] == [("#N/A", "s"), ("=2+2", "s")]
    assert sheet["B2"].quotePrefix  # Excel keeps it text when someone edits the cell
    summary = list(workbook["Summary"].iter_rows())
    row = next(row for row in summary if row[0].value == FORMULA)
    assert row[0].data_type == row[1].data_type == "s"
    assert row[1].value == sheet.title
    assert row[8].value == "=1+1 is a warning"


def test_it_cuts_cells_longer_than_excel_allows_with_a_marker_and_counts_them(made_run):
    long_text = "é" * 40_000
    EntityResult.objects.filter(run=made_run, entity="site").update(
        output=default_storage.save(
            f"runs/{made_run.pk}/long.csv",
            ContentFile(f"note,other\n{long_text},{long_text}\nshort,\n".encode()),
        ),
        columns=["note", "other"],
        dtypes={"note": "object", "other": "object"},
    )
    run = TestRun.objects.for_export().get(pk=made_run.pk)

    with exports.export_xlsx(run) as handle:
        workbook = load_workbook(handle)

    cell = workbook["site"]["A2"].value
    assert len(cell) == exports.EXCEL_MAX_CELL_TEXT
    assert cell.startswith("é" * 32_000)
    assert cell.endswith("… [truncated: 40,000 characters]")
    assert workbook["site"]["A3"].value == "short"
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    headings = summary.index(exports.SUMMARY_HEADINGS)
    column = exports.SUMMARY_HEADINGS.index("Cells truncated")
    counts = {row[0]: row[column] for row in summary[headings + 1 :]}
    assert counts == {
        "site": 2,
        "sample/type": None,
        LONG + "_1": None,
        LONG + "_2": None,
        "after_broken": None,
    }
    assert any(
        "32,767 characters" in str(row[1]) for row in summary[:headings] if row[0] == "Cells truncated"
    )


def test_it_exports_a_real_run_with_a_huge_cell_and_formula_like_names_in_every_format(hostile_run):
    entity = "=cmd|' /C calc'!A0"
    stored = hostile_run.entity_results.get(entity=entity)

    manifest = json.loads(exports.export_json(hostile_run))
    assert manifest["entities"][0]["name"] == entity

    archive = unzip(exports.export_zip(hostile_run))
    with stored.output.open("rb") as handle:
        assert archive.read(manifest["entities"][0]["file"]) == handle.read()  # the CSV stays whole
    assert HUGE_CELL in archive.read(manifest["entities"][0]["file"]).decode()

    with exports.export_xlsx(hostile_run) as handle:
        workbook = load_workbook(handle)
    assert formula_cells(workbook) == []
    rows = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert sorted(rows[0]) == sorted(["id", "text", FORMULA])
    first, second = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert first["text"].endswith("… [truncated: 1,200,000 characters]")
    assert (first[FORMULA], second["text"]) == ("=1+1", "#N/A")


def test_it_makes_formula_like_and_forbidden_names_safe_unique_sheet_names():
    names = exports.sheet_names(
        [FORMULA, "a[1]:*?/\\", "a[1]_____", "=x" + "y" * 28 + "'z", "'" * 40], taken=["Summary"]
    )

    assert names[FORMULA] == '=HYPERLINK("http___evil.example'
    assert names["a[1]:*?/\\"] == "a_1______"
    assert names["a[1]_____"] == "a_1______~2"
    assert not names["=x" + "y" * 28 + "'z"].endswith("'")  # Excel refuses a name ending in a quote
    assert names["'" * 40] == "entity"
    assert len({name.lower() for name in names.values()}) == len(names)
    assert all(len(name) <= 31 for name in names.values())
