"""Display formatting shared by every page: counts, durations and option summaries."""

from datetime import timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from testruns.options import RunOptions

register = template.Library()


@register.filter
def count(value) -> str:
    """A count of rows or entities with thousands separators: "1,234"; "" for None (not known yet)."""
    return "" if value is None or value == "" else intcomma(value)


@register.filter
def duration(value) -> str:
    """A timedelta or milliseconds as "850 ms", "4.2 s", "3 min 05 s" or "2 h 07 min"; "" for None."""
    if value is None or value == "":
        return ""
    ms = value.total_seconds() * 1000 if isinstance(value, timedelta) else float(value)
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def options_summary(options: dict) -> str:
    """A run's options in one line: "first 100 rows · entities: site, sample · stop on error"."""
    opts = RunOptions.from_dict(options or {})
    parts = [opts.sample_label]
    parts.append("entities: " + ", ".join(opts.entities) if opts.entities else "all entities")
    if opts.stop_on_error:
        parts.append("stop on error")
    if not opts.validate_foreign_keys:
        parts.append("foreign keys not checked")
    if not opts.validate_constraints:
        parts.append("constraints not checked")
    if opts.input:
        parts.append(f"input {opts.input[:12]}… as {opts.default_entity}")
    return " · ".join(parts)
