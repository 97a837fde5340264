"""The entity page's table explorer (its partial, shown inside ``entity_detail``) and the downloads of the
view it shows, as CSV and as Excel. The query is in the URL (``testruns.explorer.Query``), so a view can be
shared, reloaded and downloaded as it is.
"""

import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET

from shapeshift import excel
from testruns import explorer
from testruns.exports import CONTENT_TYPES
from testruns.models import EntityResult


def explorer_context(request, result: EntityResult) -> dict:
    """What ``partials/explorer.html`` shows of ``result``'s table for the query in ``request.GET``.

    ``explorer_error`` says why there is nothing to show (no table, a query the table cannot answer:
    ``explorer_status`` 400). No query: the table is read from storage, not the database.
    """
    base = result.get_absolute_url()
    context = {"result": result, "explorer_url": base, "explorer_status": 200}
    try:
        query = explorer.Query.from_params(request.GET, result.columns)
        view = explorer.explore(explorer.open_table(result), query)
    except explorer.InvalidQuery as exc:
        return {**context, "explorer_error": f"This view cannot be shown: {exc}", "explorer_status": 400}
    except explorer.NoTable as exc:
        return {**context, "explorer_error": str(exc)}
    query = query.replace(page=view.page)

    def url(params: str) -> str:
        return f"{base}?{params}" if params else base

    kinds = {
        name: explorer.column_kind(view.table.schema.field(name).type) for name in view.table.schema.names
    }
    headers = [
        {
            "name": name,
            "kind": kinds[name],
            "sort_url": url(query.sorted_by(name)),
            "sorted": ("descending" if query.descending else "ascending") if query.sort == name else "",
            "profile_url": url(query.params(profile="" if query.profile == name else name)),
        }
        for name in view.table.schema.names
    ]
    pages = {
        "first": url(query.params(page=1)) if view.page > 1 else "",
        "previous": url(query.params(page=view.page - 1)) if view.page > 1 else "",
        "next": url(query.params(page=view.page + 1)) if view.page < view.pages else "",
        "last": url(query.params(page=view.pages)) if view.page < view.pages else "",
    }
    download = query.params(page=1, profile="")
    return {
        **context,
        "view": view,
        "query": query,
        "headers": headers,
        "pages": pages,
        "filters": [(item.label, url(query.without_filter(i))) for i, item in enumerate(query.filters)],
        "close_profile_url": url(query.params(profile="")),
        "csv_url": _with(result, "testruns:entity_view_csv", download),
        "xlsx_url": _with(result, "testruns:entity_view_xlsx", download),
        "excel_rows": excel.MAX_ROWS - 1,
    }


def _with(result, view_name: str, params: str) -> str:
    from django.urls import reverse

    address = reverse(view_name, args=[result.run_id, result.entity])
    return f"{address}?{params}" if params else address


def _view(request, run_id, name):
    """The result and the view its query asks for; 404 without a table, 400 for a bad query."""
    from django.core.exceptions import BadRequest

    result = get_object_or_404(
        EntityResult.objects.select_related("run__configuration"), run_id=run_id, entity=name
    )
    try:
        query = explorer.Query.from_params(request.GET, result.columns)
        return result, explorer.select(explorer.open_table(result), query)
    except explorer.InvalidQuery as exc:
        raise BadRequest(str(exc)) from None
    except explorer.NoTable as exc:
        raise Http404(str(exc)) from None


def _filename(result, suffix: str) -> str:
    run = result.run
    return get_valid_filename(f"{run.configuration.name}-{run.short_id}-{result.entity}-view.{suffix}")


@require_GET
def entity_view_csv(request, run_id, name):
    """The rows of the explorer's view (filters and sort of the query; every page) as CSV, streamed."""
    result, view = _view(request, run_id, name)
    disposition = content_disposition_header(True, _filename(result, "csv"))
    return StreamingHttpResponse(
        explorer.csv_chunks(view), content_type="text/csv", headers={"Content-Disposition": disposition}
    )


@require_GET
def entity_view_xlsx(request, run_id, name):
    """The explorer's view as an Excel sheet: up to Excel's rows, and SHIFTBENCH_EXPORT_XLSX_MAX_CELLS cells
    (beyond that the page says so: filter further, or download CSV)."""
    result, view = _view(request, run_id, name)
    rows = min(view.count, excel.MAX_ROWS - 1)
    cells = rows * max(view.table.num_columns, 1)
    limit = settings.EXPORT_XLSX_MAX_CELLS
    if limit and cells > limit:
        messages.error(
            request,
            f"This view holds {cells:,} cells, more than the {limit:,} an Excel download may have "
            f"(SHIFTBENCH_EXPORT_XLSX_MAX_CELLS): filter it further, or download it as CSV.",
        )
        query = request.GET.urlencode()
        return redirect(f"{result.get_absolute_url()}?{query}" if query else result.get_absolute_url())
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        explorer.write_xlsx(view, handle, rows)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename=_filename(result, "xlsx"), content_type=CONTENT_TYPES["xlsx"]
    )
