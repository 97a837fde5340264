"""What the run page's export links need: whether an Excel workbook of the run can be made."""

from django import template
from django.conf import settings

from testruns import exports

register = template.Library()


@register.simple_tag
def excel_refusal(run) -> str:
    """Why the run page offers no Excel workbook of ``run`` (``exports.excel_refusal``), or "". One query."""
    return exports.excel_refusal(run, settings.EXPORT_XLSX_MAX_CELLS) or ""
