"""Exports of a finished test run: a JSON manifest, a ZIP of its entity tables, an Excel workbook.

One function per format, used by the export views and by ``manage.py export_run``:

- ``export_json(run)``: the manifest as bytes, built from the database.
- ``export_zip(run)``: an iterable of bytes, the ZIP streamed as it is read (the stored CSVs are read in
  chunks, compressed on the fly, never held whole), with the manifest as ``manifest.json``.
- ``export_xlsx(run)``: an open temporary file holding the workbook (written in openpyxl's write-only
  mode, one row at a time); whoever streams it closes it, which removes it.

Load the run with ``TestRun.objects.for_export()`` first: everything the exports read comes with it in
two queries (a third, made before any streaming, reads the checks of a run that has them), so the streams
themselves touch only storage, never the database.
"""

import csv
import io
import json
import re
import tempfile
from collections.abc import Iterable, Iterator

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

import shiftbench
from shapeshift import excel
from shapeshift.excel import sheet_names
from testruns.models import EntityResult, TestRun

CHUNK_SIZE = 256 * 1024
FORMATS = ("json", "zip", "xlsx")
CONTENT_TYPES = {
    "json": "application/json",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXCEL_MAX_ROWS = excel.MAX_ROWS
EXCEL_MAX_CELL_TEXT = excel.MAX_CELL_TEXT
EXCEL_MAX_COLUMNS = 16_384  # per sheet (XFD)
SUMMARY_HEADINGS = (
    "Entity", "Sheet", "Status", "Role", "Rows in", "Rows out", "Columns", "Duration (ms)", "Warnings",
    "Issues", "Error", "Cells truncated",
)  # fmt: skip
CHECKS_SHEET = "Checks"
CHECK_HEADINGS = (
    "Entity", "Origin", "Kind", "Columns", "Severity", "Status", "Failing rows", "Message", "Reason",
    "Source", "Failing rows (sample)",
)  # fmt: skip


class ExportError(Exception):
    """An export that cannot be made; the message says why and what to do instead."""


class RunNotFinished(ExportError):
    """An export was asked of a run that is still working: its tables may change under the export."""


class ExportTooLarge(ExportError):
    """The workbook would take longer to write than a web request may last (see ``export_xlsx``)."""


def export_filename(run: TestRun, fmt: str) -> str:
    """``demo-v1-1a2b3c4d.zip``: configuration name, version number, the run's short id."""
    return f"{run.configuration.name}-v{run.version.number}-{run.short_id}.{fmt}"


def check_finished(run: TestRun) -> None:
    if run.is_active:
        raise RunNotFinished(f"Run {run.short_id} is still {run.status}: export it when it has finished.")


# --- the manifest (JSON) ---


def file_names(results: Iterable[EntityResult]) -> dict[str, str]:
    """Entity name → its table's name inside the ZIP: the name made safe for any file system, and unique
    ignoring case (``a/b`` and ``a_b`` become ``a_b.csv`` and ``a_b~2.csv``).
    """
    used = {"manifest.json"}
    names = {}
    for result in results:
        suffix = result.output.name.rsplit(".", 1)[-1] if "." in result.output.name else "csv"
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", result.entity).strip(".") or "entity"
        candidate, number = f"{stem}.{suffix}", 1
        while candidate.lower() in used:
            number += 1
            candidate = f"{stem}~{number}.{suffix}"
        used.add(candidate.lower())
        names[result.entity] = candidate
    return names


def stored_files(run: TestRun) -> dict[str, str]:
    """Entity name → stored file name, for the entities whose table is still in storage."""
    return {
        result.entity: result.output.name
        for result in run.entity_results.all()
        if result.output and default_storage.exists(result.output.name)
    }


def manifest(run: TestRun, files: dict[str, str] | None = None) -> dict:
    """What the run was and what it gave, for the JSON export and the ZIP's ``manifest.json``.

    ``files``: the entities whose stored table is exported (``stored_files``); their ``file`` is the
    name inside the ZIP, the others' is None (failed, skipped, or the file is gone).
    """
    files = stored_files(run) if files is None else files
    results = list(run.entity_results.all())
    names = file_names(result for result in results if result.entity in files)
    checks = run.loaded_checks()
    return {
        "shiftbench_version": shiftbench.__version__,
        "exported_at": timezone.now(),
        "run": {
            "id": str(run.pk),
            "status": run.status,
            "error_message": run.error_message or None,
            "requested_by": run.requested_by.username if run.requested_by else None,
            "pinned": run.pinned,
            "url": run.get_absolute_url(),
        },
        "configuration": {
            "name": run.configuration.name,
            "version": run.version.number,
            "version_sha256": run.version.sha256,
        },
        "options": run.options,
        "timings": {
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "total_time_ms": run.total_time_ms,
        },
        "entities_total": run.entities_total,
        "entities_succeeded": run.entities_succeeded,
        "entities_failed": run.entities_failed,
        "entities_skipped": run.entities_skipped,
        "checks_total": run.checks_total,
        "checks_failed": run.checks_failed,
        "summary": run.summary or None,
        "checks": [check_dict(check) for check in checks],
        "entities": [
            {
                "name": result.entity,
                "position": result.position,
                "role": result.role,
                "status": result.status,
                "rows_in": result.rows_in,
                "rows_out": result.rows_out,
                "columns": result.columns,
                "dtypes": result.dtypes,
                "duration_ms": result.duration_ms,
                "warnings": result.warnings,
                "issues": result.issues,
                "error": result.error or None,
                "traceback": result.traceback or None,
                "file": names.get(result.entity),
            }
            for result in results
        ],
    }


def check_dict(check) -> dict:
    """A check of the run as the manifest holds it (the API's field names)."""
    from testruns.serializers import check_result

    return check_result(check).model_dump()


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode("utf-8")


def export_json(run: TestRun) -> bytes:
    """The run's manifest as JSON (UTF-8). Raises RunNotFinished for an active run."""
    check_finished(run)
    return _json_bytes(manifest(run))


# --- the ZIP of entity tables ---


def _read_in_chunks(name: str) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def export_zip(run: TestRun) -> Iterable[bytes]:
    """The ZIP, generated while it is read: ``manifest.json``, then each stored entity table.

    Raises RunNotFinished for an active run. Nothing is read from storage until the result is iterated;
    memory stays at a chunk or two whatever the size of the tables.
    """
    import zipstream

    check_finished(run)
    files = stored_files(run)
    archive = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED)
    archive.add(_json_bytes(manifest(run, files)), "manifest.json")
    names = file_names(result for result in run.entity_results.all() if result.entity in files)
    for entity, name in names.items():
        archive.add(_read_in_chunks(files[entity]), name)
    return archive


# --- the Excel workbook ---


def _whole_number(text: str) -> int:
    number = int(text)
    if isinstance(excel.whole_number(number), str):  # too long for Excel's doubles: stays text
        raise ValueError(text)
    return number


def _real_number(text: str) -> float:
    number = float(text)
    if isinstance(excel.real_number(number), str):  # inf and nan are no Excel numbers: they stay text
        raise ValueError(text)
    return number


def _cell_converter(dtype: str):
    """Text of a CSV cell → the value to write, by the column's stored pandas dtype (text stays text).

    A converter raises ValueError for text it cannot turn into a value Excel keeps as is; that text is
    written as text.
    """
    dtype = dtype.lower()
    if dtype.startswith(("int", "uint")):
        return _whole_number
    if dtype.startswith("float"):
        return _real_number
    if dtype in ("bool", "boolean"):
        return lambda text: text == "True"
    return None


def _table_rows(name: str, dtypes: dict, cells: excel.Cells) -> Iterator[list]:
    """The stored CSV's rows as typed cells: the header in bold, then values by the column's dtype."""
    with default_storage.open(name, "rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        header = next(reader, [])
        yield [cells.text(column, bold=True) for column in header]
        converters = [_cell_converter(str(dtypes.get(column, ""))) for column in header]
        for row in reader:
            values = []
            for text, convert in zip(row, converters, strict=False):
                if text == "":
                    values.append(None)
                    continue
                if convert is not None:
                    try:
                        values.append(convert(text))
                        continue
                    except ValueError:
                        pass
                values.append(cells.text(text))
            yield values


def excel_refusal(run: TestRun, max_cells: int = 0) -> str | None:
    """Why the run's tables cannot be one Excel workbook from the web, or None when every one fits.

    A table longer (header included) or wider than a sheet would be cut: refused, naming the first such
    entity. So are tables holding more than ``max_cells`` cells in all (0: no such limit), since openpyxl
    writes some 50,000 cells a second and the workbook must be whole before its first byte can be sent.
    One query (the stored tables' row and column counts) whatever the run's size; none when the run's
    entity results are prefetched (``TestRun.objects.for_export``).
    """
    if "entity_results" in getattr(run, "_prefetched_objects_cache", {}):  # ``for_export``: no query
        tables = [(r.entity, r.rows_out, r.columns) for r in run.entity_results.all() if r.output]
    else:
        tables = run.entity_results.exclude(output="").order_by("position")
        tables = tables.values_list("entity", "rows_out", "columns")
    cells = 0
    for entity, rows, columns in tables:
        rows, width = rows or 0, len(columns or ())
        if rows > (sheet_rows := EXCEL_MAX_ROWS - 1):
            return f"{entity} has {rows:,} rows, more than a sheet holds ({sheet_rows:,} below its header)"
        if width > EXCEL_MAX_COLUMNS:
            return f"{entity} has {width:,} columns, more than a sheet holds ({EXCEL_MAX_COLUMNS:,})"
        cells += rows * width
    if max_cells and cells > max_cells:
        return (
            f"Run {run.short_id}'s tables hold {cells:,} cells, more than the {max_cells:,} an Excel export "
            f"from the web may have (SHIFTBENCH_EXPORT_XLSX_MAX_CELLS). Download the ZIP of CSV tables, or "
            f"run: python manage.py export_run {run.short_id} --format xlsx"
        )
    return None


def export_xlsx(run: TestRun, max_cells: int | None = None):
    """The workbook in an open temporary file (at its start): a summary sheet, then one sheet per entity.

    Entities without a stored table (failed, skipped) are listed on the summary only. Without
    ``max_cells`` (the command) a table longer than Excel allows is cut, and the summary says so. With it
    (the web: 0 for no cell limit) raises ExportTooLarge when ``excel_refusal`` refuses the run. Raises
    RunNotFinished for an active run. Close the file when
    done; that removes it.
    """
    from openpyxl import Workbook

    check_finished(run)
    if max_cells is not None and (refusal := excel_refusal(run, max_cells)):
        raise ExportTooLarge(refusal)
    files = stored_files(run)
    results = list(run.entity_results.all())
    checks = run.loaded_checks()
    taken = ["Summary", CHECKS_SHEET] if checks else ["Summary"]
    sheets = sheet_names([result.entity for result in results if result.entity in files], taken=taken)

    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("Summary")  # first in the workbook, written last: it counts the cuts
    if checks:
        _write_checks(excel.Cells(workbook.create_sheet(CHECKS_SHEET)), checks)
    truncated = {}
    for result in results:
        if result.entity not in sheets:
            continue
        sheet = workbook.create_sheet(sheets[result.entity])
        cells = excel.Cells(sheet)
        rows = _table_rows(files[result.entity], result.dtypes, cells)
        for number, row in enumerate(rows, start=1):
            if number > EXCEL_MAX_ROWS:
                break
            sheet.append(row)
        truncated[result.entity] = cells.truncated
    _write_summary(excel.Cells(summary), run, results, sheets, truncated)

    handle = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        workbook.save(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def _write_summary(cells: excel.Cells, run: TestRun, results, sheets: dict, truncated: dict) -> None:
    """The run's facts, then one row per entity: its sheet, status, counts, and the cells Excel made us cut.

    Every text goes through ``cells``: an entity name, a warning or an error is never a formula.
    """

    def when(moment):
        return timezone.localtime(moment).replace(tzinfo=None) if moment else None

    facts = [
        ("Configuration", run.configuration.name),
        ("Version", run.version.number),
        ("Version sha256", run.version.sha256),
        ("Run", str(run.pk)),
        ("Status", run.status),
        ("Error", run.error_message or None),
        ("Created", when(run.created_at)),
        ("Started", when(run.started_at)),
        ("Finished", when(run.finished_at)),
        ("Total time (ms)", run.total_time_ms),
        ("Options", json.dumps(run.options, ensure_ascii=False)),
        ("ShiftBench", shiftbench.__version__),
    ]
    if run.checks_total:
        facts.append(
            (
                "Checks",
                f"{run.checks_total:,}, {run.checks_failed:,} failed at error level (sheet {CHECKS_SHEET})",
            )
        )
    if total := sum(truncated.values()):
        facts.append(
            (
                "Cells truncated",
                f"{total:,} cells held more than Excel's {EXCEL_MAX_CELL_TEXT:,} characters: each shows its "
                f"start and its full length; the CSV tables (ZIP export) keep them whole.",
            )
        )
    sheet = cells.sheet
    for label, value in facts:
        sheet.append([cells.text(label, bold=True), cells.value(value)])
    sheet.append([])
    sheet.append([cells.text(heading, bold=True) for heading in SUMMARY_HEADINGS])
    for result in results:
        name = sheets.get(result.entity)
        if name and (result.rows_out or 0) >= EXCEL_MAX_ROWS:
            name += f" (first {EXCEL_MAX_ROWS - 1:,} rows)"
        warnings = "\n".join(str(warning) for warning in result.warnings)
        row = [result.entity, name, result.status, result.role, result.rows_in, result.rows_out]
        row += [len(result.columns), result.duration_ms, warnings, len(result.issues) or None]
        row += [result.error, truncated.get(result.entity) or None]
        sheet.append([cells.value(value) for value in row])


def _write_checks(cells: excel.Cells, checks) -> None:
    """One row per check of the run; the failing rows it kept as JSON text (a cell holds no table)."""
    sheet = cells.sheet
    sheet.append([cells.text(heading, bold=True) for heading in CHECK_HEADINGS])
    for check in checks:
        sample = json.dumps(check.sample, ensure_ascii=False) if check.sample else None
        row = [check.entity or None, check.origin, check.kind, ", ".join(check.columns) or None]
        row += [check.severity, check.status, check.failing_rows, check.message, check.reason or None]
        row += [check.source or None, sample]
        sheet.append([cells.value(value) for value in row])


def export(run: TestRun, fmt: str):
    """The export of ``run`` in ``fmt`` (one of FORMATS): bytes, an iterable of bytes, or an open file."""
    return {"json": export_json, "zip": export_zip, "xlsx": export_xlsx}[fmt](run)
