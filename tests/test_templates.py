"""Checks over every template file."""

from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_it_has_no_multi_line_hash_comments(template):
    # Django's {# … #} ends at the end of its line; a longer one is printed on the page as text.
    for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
        if "{#" in line:
            assert "#}" in line[line.index("{#") :], f"{template.name}:{number}: use {{% comment %}}"
