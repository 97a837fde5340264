"""Format-2 `filters` (format-v2.md 11): `exists_in` and `query`, each run at its stage.

`query` hands a pandas `DataFrame.query` expression over. A configuration is user input, and pandas
evaluates attribute access and method calls on whatever a name resolves to, so the expression is
checked first (`check_query`) against what a row filter needs:

* names are column names (pandas resolves nothing else once a table is given) and `@name` - pandas'
  access to the caller's local variables - is refused;
* operators: comparisons (`==`, `<`, `in`, `not in`, ...), `and`/`or`/`not`/`&`/`|`/`~`, arithmetic;
  `**` only with a small constant exponent, and `*` only on numbers (no text repetition);
* attributes and method calls only from a list of Series accessors and methods (`.str`, `.dt`,
  `.notna()`, `.isin([...])`, `.str.contains('x')`, ...), never names starting with `_`; the few plain
  functions pandas itself offers in queries (`abs`, `sqrt`, `log`, ...);
* at most 5,000 characters nested at most 100 levels deep;
* literals: numbers, texts up to 10,000 characters, lists of literals; regular expressions given to
  `.str.contains/match/fullmatch` go through the same bound as everywhere else (`bounded_regex`).

The checked expression then runs with `engine="python"` (the reference's default without numexpr).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Mapping

import pandas as pd

from ..errors import EntityError
from ..issues import IssueCode
from .formulas import bounded_regex

STAGES = ("extract", "after_link", "after_unnest")
MAX_QUERY_LENGTH = 5_000
MAX_TEXT_LITERAL = 10_000
MAX_LIST_LITERAL = 10_000
MAX_EXPONENT = 64
MAX_QUERY_DEPTH = 100  # pandas evaluates the tree recursively too

ATTRIBUTES = frozenset(
    """str dt notna notnull isna isnull isin between abs round astype
    contains startswith endswith match fullmatch lower upper strip lstrip rstrip len casefold
    isdigit isalpha isalnum isnumeric isdecimal isspace islower isupper istitle
    year month day hour minute second dayofweek weekday dayofyear quarter date""".split()
)
REGEX_METHODS = frozenset({"contains", "match", "fullmatch"})
FUNCTIONS = frozenset(
    """abs sqrt exp expm1 log log1p log10 floor ceil sin cos tan arcsin arccos arctan arctan2
    sinh cosh tanh arcsinh arccosh arctanh""".split()
)
KEYWORDS = frozenset({"case", "na", "regex", "flags", "inclusive", "decimals"})
_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Attribute, ast.Call, ast.keyword,
    ast.Subscript,
)  # fmt: skip
_BACKTICKED = re.compile(r"`[^`]*`")


def filter_stage(spec: dict, entity: str) -> str:
    """A filter's stage: `extract` when absent or empty (11); anything else unknown fails the entity."""
    stage = spec.get("stage") or "extract"
    if stage not in STAGES:
        raise EntityError(f"entity '{entity}': Invalid filter stage: {stage!r}. Expected one of {STAGES}")
    return stage


def apply_filters(
    table: pd.DataFrame,
    filters: list,
    stage: str,
    store: Mapping[str, pd.DataFrame],
    *,
    entity: str,
    report,
) -> pd.DataFrame:
    """`table` filtered by the filters of `stage`, in list order (11). The index is not renumbered.

    Every filter's stage is checked on each call, so an unknown stage fails the entity at its first
    filter step, as in the reference.
    """
    if stage not in STAGES:
        raise EntityError(f"entity '{entity}': Invalid filter stage: {stage!r}. Expected one of {STAGES}")
    if not filters:
        return table
    if not isinstance(filters, list):
        raise EntityError(f"entity '{entity}': filters must be a list, got {type(filters).__name__}")
    for number, spec in enumerate(filters, start=1):
        if not isinstance(spec, dict):
            raise EntityError(f"entity '{entity}': filter {number} is not a mapping: {spec!r}")
        filter_stage(spec, entity)
    for number, spec in enumerate(filters, start=1):
        if filter_stage(spec, entity) != stage:
            continue
        kind = spec.get("type")
        if not kind:
            report.warn(IssueCode.FILTER_INVALID, f"filter {number} has no type and is skipped")
        elif kind == "exists_in":
            table = _exists_in(table, spec, store, f"entity '{entity}': filter {number} (exists_in)", report)
        elif kind == "query":
            table = _query(table, spec, f"entity '{entity}': filter {number} (query)", number, report)
        else:
            raise EntityError(f"entity '{entity}': Unknown filter type for entity '{entity}': {kind!r}")
    return table


def _exists_in(table: pd.DataFrame, spec: dict, store: Mapping, where: str, report) -> pd.DataFrame:
    column, other = spec.get("column"), spec.get("other_entity")
    if not column or not other:
        raise EntityError(f"{where}: needs `column` and `other_entity`")
    if other not in store:
        raise EntityError(f"{where}: entity '{other}' has not been processed")
    other_column = spec.get("other_column") or column
    other_table = store[other]
    if column not in table.columns:
        raise EntityError(f"{where}: column '{column}' not found")
    if other_column not in other_table.columns:
        raise EntityError(f"{where}: column '{other_column}' not found in '{other}'")
    table = table[table[column].isin(pd.unique(other_table[other_column]))]
    columns = spec.get("drop_duplicates")
    if columns:  # keep-first per those columns (whole rows for `true`); no FD check, index kept
        columns = None if columns is True else [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in columns or [] if c not in table.columns]
        if missing:
            raise EntityError(f"{where}: drop_duplicates columns not found: {missing}")
        table = table.drop_duplicates(subset=columns)
    return table


def _query(table: pd.DataFrame, spec: dict, where: str, number: int, report) -> pd.DataFrame:
    query = spec.get("query")
    if not query:
        report.warn(IssueCode.FILTER_INVALID, f"filter {number} (query) has no query and is skipped")
        return table
    if not isinstance(query, str):
        raise EntityError(f"{where}: Invalid query in filter: {query!r} (not text)")
    try:
        check_query(query, table)
    except ValueError as error:
        raise EntityError(f"{where}: Invalid query in filter: {query!r}: {error}") from None
    try:
        return table.query(query, engine="python")
    except Exception as error:  # pandas raises many kinds (UndefinedVariableError, TypeError, ...)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise EntityError(f"{where}: Invalid query in filter: {query!r}: {reason}") from None


def check_query(query: str, table: pd.DataFrame | None = None) -> None:
    """ValueError when `query` uses anything beyond the row-filter subset described above."""
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"longer than {MAX_QUERY_LENGTH:,} characters")
    names: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:  # `odd name` -> an identifier, for Python's parser only
        names[f"_backtick_{len(names)}"] = match.group()[1:-1]
        return f" _backtick_{len(names) - 1} "

    text = _BACKTICKED.sub(placeholder, query)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP and token.string == "@":
                raise ValueError("local variables (@name) are not allowed")
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # the parser below reports it
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ValueError(f"syntax error: {getattr(error, 'msg', error)}") from None
    if _depth(tree) > MAX_QUERY_DEPTH:
        raise ValueError(f"expression nested deeper than {MAX_QUERY_DEPTH} levels")
    _Checker(table, names).visit(tree)


def _depth(tree: ast.AST) -> int:
    """Nesting depth of the tree, without recursion (a long `a+a+...` chain is a deep tree)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


class _Checker(ast.NodeVisitor):
    def __init__(self, table: pd.DataFrame | None, backticked: dict) -> None:
        self.table, self.backticked = table, backticked

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _NODES):
            raise ValueError(f"{type(node).__name__} is not allowed")
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            raise ValueError(f"name {node.id!r} is not allowed")

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str) and len(value) > MAX_TEXT_LITERAL:
            raise ValueError(f"text longer than {MAX_TEXT_LITERAL:,} characters")
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise ValueError(f"literal {value!r} is not allowed")

    def visit_List(self, node: ast.List | ast.Tuple) -> None:
        if len(node.elts) > MAX_LIST_LITERAL:
            raise ValueError(f"list longer than {MAX_LIST_LITERAL:,} items")
        for element in node.elts:
            if not _is_literal(element):
                raise ValueError("lists may only hold literals")
            self.visit(element)

    visit_Tuple = visit_List

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_") or node.attr not in ATTRIBUTES:
            raise ValueError(f"attribute or method {node.attr!r} is not allowed")
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Name):
            if function.id not in FUNCTIONS:
                raise ValueError(f"function {function.id!r} is not allowed")
        elif isinstance(function, ast.Attribute):
            self.visit(function)
            if function.attr in REGEX_METHODS and node.args and _is_text(node.args[0]):
                uses_regex = next(
                    (
                        k.value
                        for k in node.keywords
                        if k.arg == "regex" and isinstance(k.value, ast.Constant)
                    ),
                    None,
                )
                if function.attr != "contains" or uses_regex is None or uses_regex.value:
                    bounded_regex(node.args[0].value)
        else:
            raise ValueError("only methods of columns and plain math functions may be called")
        for keyword in node.keywords:
            if keyword.arg not in KEYWORDS or not _is_literal(keyword.value):
                raise ValueError(f"keyword argument {keyword.arg!r} is not allowed")
        for arg in node.args:
            self.visit(arg)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Pow):
            exponent = node.right
            if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, (ast.USub, ast.UAdd)):
                exponent = exponent.operand
            if not (_is_number(exponent) and abs(exponent.value) <= MAX_EXPONENT):
                raise ValueError(f"'**' needs a constant exponent of at most {MAX_EXPONENT}")
            if isinstance(node.left, ast.BinOp) and isinstance(node.left.op, ast.Pow):
                raise ValueError("'**' may not be chained")
        if isinstance(node.op, ast.Mult):
            for side in (node.left, node.right):
                if not self._numeric(side):
                    raise ValueError("'*' is only allowed between numbers and numeric columns")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not (_is_number(node.slice) or _is_negative_number(node.slice)):
            raise ValueError("only constant integer indexes are allowed (`name.str[0]`)")
        self.visit(node.value)

    def _numeric(self, node: ast.AST) -> bool:
        """Whether `node` is surely a number (so `*` cannot repeat a text into a huge one)."""
        if _is_number(node):
            return True
        if isinstance(node, ast.UnaryOp):
            return self._numeric(node.operand)
        if isinstance(node, ast.BinOp):
            return self._numeric(node.left) and self._numeric(node.right)
        if isinstance(node, ast.Name) and self.table is not None:
            name = self.backticked.get(node.id, node.id)
            if name in self.table.columns:
                dtype = self.table[name].dtype
                return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return True  # math functions return numbers
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return node.func.attr in ("len", "abs", "round", "year", "month", "day")
        if isinstance(node, ast.Attribute):
            return node.attr in ("year", "month", "day", "hour", "minute", "second", "dayofweek", "quarter")
        return False


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _is_negative_number(node: ast.AST) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_number(node.operand)


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or _is_negative_number(node)
