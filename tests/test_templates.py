"""Checks over every template file."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_it_has_no_multi_line_hash_comments(template):
    # Django's {# … #} ends at the end of its line; a longer one is printed on the page as text.
    for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
        if "{#" in line:
            assert "#}" in line[line.index("{#") :], f"{template.name}:{number}: use {{% comment %}}"


# What the Content-Security-Policy (shiftbench/settings.py) refuses: inline code and inline styles.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # an inline script (a data block <script type=application/json> too)
    r"|\son[a-z]+\s*="  # an event handler attribute: onclick=…
    r"|\shx-on[:-]"  # htmx's inline handlers need eval
    r"|javascript:"
    r"|\sstyle\s*=|<style",
    re.IGNORECASE,
)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_it_has_no_inline_script_handler_or_style(template):
    for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
        found = INLINE.search(line)
        assert found is None, (
            f"{template.name}:{number}: {found.group(0)!r} is refused by the CSP; use static/"
        )
