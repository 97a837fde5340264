"""The names format-2 expressions read: extra-column formulas and interpolations, filter queries.

Parsing is shapeshift/v2's (one grammar for the check and the run, format-v2.md 20 #33); this module
only asks which columns an expression reads.
"""

from __future__ import annotations

import ast
import re

from ...v2 import formulas
from ...v2.extra_columns import PLACEHOLDER, Kind, kind_of
from ...v2.filters import check_query

__all__ = ["Kind", "check_query", "formula_columns", "interpolation_names", "kind_of", "query_columns"]

_BACKTICKED = re.compile(r"`([^`]*)`")


def formula_columns(text: str) -> list[str]:
    """Columns a formula reads; formulas.FormulaError when it can never be evaluated (8.4)."""
    tree = formulas.parse(text)
    formulas.check(tree)
    return formulas.references(tree)


def interpolation_names(text: str) -> list[str]:
    """The `{name}` placeholders of an interpolation (8.3), each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def query_columns(query: str) -> list[str] | None:
    """Column names a DataFrame.query string reads, or None when it does not parse (11).

    Names are the query's variables, not the functions it calls; `quoted names` are columns too.
    """
    quoted: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        quoted[f"_quoted_{len(quoted)}"] = match.group(1)
        return f" _quoted_{len(quoted) - 1} "

    try:
        tree = ast.parse(_BACKTICKED.sub(placeholder, query).strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    variables = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called and node.id != "index"
    ]
    variables.sort(key=lambda node: node.col_offset)
    return list(dict.fromkeys(quoted.get(node.id, node.id) for node in variables))
