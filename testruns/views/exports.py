"""Downloads of a finished run: its manifest (JSON), its entity tables (ZIP) and a workbook (Excel).

The work is in ``testruns.exports``; each view finds the run, asks for the export and streams it. An
export that cannot be made (the run still works, the workbook would be too big) sends the user back to
the run's page with the reason.
"""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from testruns import exports
from testruns.models import TestRun


def _get_run(run_id):
    """The run with everything its exports read (``for_export``), in two queries; 404 if there is none."""
    return get_object_or_404(TestRun.objects.for_export(), pk=run_id)


def _back_to_run(request, run, error: exports.ExportError):
    messages.error(request, str(error))
    return redirect(run)


def _attachment(run, fmt: str) -> dict:
    return {"Content-Disposition": content_disposition_header(True, exports.export_filename(run, fmt))}


@require_GET
def export_json(request, run_id):
    run = _get_run(run_id)
    try:
        content = exports.export_json(run)
    except exports.ExportError as error:
        return _back_to_run(request, run, error)
    return HttpResponse(content, content_type=exports.CONTENT_TYPES["json"], headers=_attachment(run, "json"))


@require_GET
def export_zip(request, run_id):
    """The ZIP streams as it is made: the first bytes leave before the last table is read."""
    run = _get_run(run_id)
    try:
        archive = exports.export_zip(run)
    except exports.ExportError as error:
        return _back_to_run(request, run, error)
    return StreamingHttpResponse(
        archive, content_type=exports.CONTENT_TYPES["zip"], headers=_attachment(run, "zip")
    )


@require_GET
def export_xlsx(request, run_id):
    """The workbook is written to a temporary file first (a ZIP inside), then streamed from it.

    Only when every table fits a sheet, and up to SHIFTBENCH_EXPORT_XLSX_MAX_CELLS cells so that writing
    it stays within a request's time (``exports.excel_refusal``); else back to the run page with why.
    """
    run = _get_run(run_id)
    try:
        handle = exports.export_xlsx(run, max_cells=settings.EXPORT_XLSX_MAX_CELLS)
    except exports.ExportError as error:
        return _back_to_run(request, run, error)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=exports.export_filename(run, "xlsx"),
        content_type=exports.CONTENT_TYPES["xlsx"],
    )
