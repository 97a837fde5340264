"""Dependencies point one way: testruns → configurations → shapeshift (DESIGN.md §2).

Read from the source, not from what happens to be imported at run time, so an import inside a function
or a module named in a string (``import_module("testruns.tasks")``, ``apps.get_model("testruns", …)``)
counts as much as one at the top of a file.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package → the apps of this project it must not know
FORBIDDEN = {
    "shapeshift": {"configurations", "testruns", "accounts", "shiftbench"},
    "configurations": {"testruns"},
    "accounts": {"testruns", "configurations"},
}
MODULE_NAME = re.compile(r"^[a-z_]+(\.[A-Za-z_]\w*)*$")


def references(source: str, forbidden: set[str]) -> list[tuple[int, str]]:
    """``(line, what)`` for each import of, or string naming, a module of the ``forbidden`` packages."""

    def names_forbidden(module: str | None) -> bool:
        return bool(module) and module.split(".")[0] in forbidden

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if names_forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and names_forbidden(node.module):
            found.append((node.lineno, f"from {node.module} import …"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if MODULE_NAME.match(node.value) and names_forbidden(node.value):
                found.append((node.lineno, f"the string {node.value!r}"))
    return found


def test_it_finds_every_kind_of_reference():
    source = (
        "import testruns.models\n"
        "def f():\n"
        "    from testruns import execution\n"
        "    import_module('testruns.tasks')\n"
        "    apps.get_model('testruns', 'TestRun')\n"
        "'''A docstring that talks about testruns is no reference.'''\n"
        "from configurations.models import Configuration\n"
    )

    assert [line for line, _ in references(source, {"testruns"})] == [1, 3, 4, 5]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_it_keeps_the_dependencies_one_way(package):
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, what in references(path.read_text(encoding="utf-8"), FORBIDDEN[package])
    ]

    assert found == [], f"{package} must not know {', '.join(sorted(FORBIDDEN[package]))}"
