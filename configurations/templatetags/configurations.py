"""Links from a place in a configuration version (``demo.yml:80``) to that line of its YAML.

Issue lists of every app print a location through these: ``{% load configurations %}``.
"""

from django import template
from django.urls import reverse

register = template.Library()


def parse_location(location) -> tuple[str, int | None]:
    """``"demo.yml:80"`` → ``("demo.yml", 80)``; one without a line (a key path) → ``(location, None)``."""
    text = "" if location is None else str(location)
    file, colon, line = text.rpartition(":")
    if colon and file and line.isdigit() and int(line) > 0:
        return file, int(line)
    return text, None


@register.filter
def main_file_line(location, version) -> int | None:
    """The line ``location`` names in ``version``'s main YAML; None for another file, or no line."""
    file, line = parse_location(location)
    if not version or line is None or file != version.main_file:
        return None
    return line


@register.simple_tag
def line_url(configuration, version, location="", file="", line=None) -> str:
    """Where a line of ``version``'s main YAML opens, given as ``location`` or as ``file`` and ``line``; "".

    The current version's lines open in the editor at that line (``/configurations/demo/edit?line=80``);
    an older version's in its listing (``/configurations/demo/versions/3/#L80``), since the editor edits
    only the current version. A line of another file (an @include'd YAML), no line, or no configuration
    and version in the template's context give "" (no link). Reads nothing from the database.
    """
    if not configuration or not version:
        return ""
    where = location if location else f"{file}:{line}"
    number = main_file_line(where, version)
    if number is None:
        return ""
    if version.pk == configuration.current_version_id:
        return f"{reverse('configurations:edit', args=[configuration.name])}?line={number}"
    return f"{reverse('configurations:version', args=[configuration.name, version.number])}#L{number}"
