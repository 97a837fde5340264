"""The names format-2 expressions refer to: extra-column formulas and interpolations, filter queries.

Validation only needs to know which columns an expression reads and whether a formula can ever be
evaluated (format-v2.md 8.1, 8.3, 8.4, 11); evaluating them is shapeshift/v2's business.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field

# 8.3: `{name}` not directly preceded by `{` nor followed by `}` (`{{` and `}}` are literal braces)
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
_TOKEN = re.compile(
    r"""\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<int>-?[0-9]+)|(?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")"""
    r"""|(?P<punct>[(),]))"""
)
_LITERAL_NAMES = {"null", "true", "false"}
MAX_DEPTH, MAX_NODES, MAX_STRING = 20, 500, 10_000


@dataclass(frozen=True)
class Function:
    """Arity and which arguments must be literals (by 0-based position): int or text ("str")."""

    low: int
    high: int | None
    literals: dict = field(default_factory=dict)


# 8.4, the dev function set (the corpus' [C13] needs it)
FUNCTIONS = {
    "concat": Function(1, None),
    "coalesce": Function(1, None),
    "upper": Function(1, 1),
    "lower": Function(1, 1),
    "trim": Function(1, 1),
    "substr": Function(3, 3, {1: "int", 2: "int"}),
    "replace": Function(3, 3, {1: "str", 2: "str"}),
    "regex_extract": Function(2, 3, {1: "str", 2: "int"}),
    "to_int": Function(1, 1),
    "to_float": Function(1, 1),
    "to_str": Function(1, 1),
    "to_decimal": Function(1, 2, {1: "int"}),
    "to_date": Function(1, 2, {1: "str"}),
}


def extra_column_kind(value) -> str:
    """Which kind of extra column a value is (8.1 rules 2-7; 'plain' = copy or constant, decided later)."""
    if not isinstance(value, str):
        return "constant"
    if value.startswith("=="):
        return "constant"
    if value.startswith("="):
        return "formula"
    if PLACEHOLDER.search(value):
        return "interpolation"
    return "plain"


def interpolation_names(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


class FormulaError(ValueError):
    pass


@dataclass
class _Node:
    kind: str  # "call", "column", "int", "str", "null", "bool"
    value: object = None
    args: list = field(default_factory=list)
    column: int = 0


def formula_columns(text: str) -> list[str]:
    """The column names a formula reads; raises FormulaError when it cannot be evaluated (8.4)."""
    tree = _Parser(text[1:]).parse()
    columns: list[str] = []
    _check(tree, columns)
    return list(dict.fromkeys(columns))


def _check(node: _Node, columns: list) -> None:
    if node.kind == "column":
        columns.append(node.value)
        return
    if node.kind != "call":
        return
    function = FUNCTIONS.get(node.value)
    if function is None:
        raise FormulaError(
            f"unknown function '{node.value}' (column {node.column}); known: {', '.join(sorted(FUNCTIONS))}"
        )
    count = len(node.args)
    if count < function.low or (function.high is not None and count > function.high):
        wanted = (
            str(function.low) if function.high == function.low else f"{function.low}-{function.high or 'n'}"
        )
        raise FormulaError(f"{node.value}() takes {wanted} arguments, got {count}")
    for position, arg in enumerate(node.args):
        kind = function.literals.get(position)
        if kind == "int" and arg.kind != "int":
            raise FormulaError(f"{node.value}() argument {position + 1} must be an integer literal")
        if kind == "str" and arg.kind not in ("str", "null"):
            raise FormulaError(f"{node.value}() argument {position + 1} must be a text literal")
        _check(arg, columns)


class _Parser:
    """Recursive descent over the grammar of 8.4 (columns are 1-based, counting the leading '=')."""

    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text)
        self.position = 0
        self.nodes = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str, int]]:
        tokens, index = [], 0
        while index < len(text):
            match = _TOKEN.match(text, index)
            if match is None or match.end() == index:
                rest = text[index:].lstrip()
                if not rest:
                    break
                column = len(text) - len(rest) + 2
                raise FormulaError(f"unexpected character {rest[0]!r} (column {column})")
            kind = match.lastgroup
            tokens.append((kind, match.group(kind), match.start(kind) + 2))
            index = match.end()
        return tokens

    def parse(self) -> _Node:
        node = self._expr(1)
        if self.position != len(self.tokens):
            raise FormulaError(
                f"unexpected {self.tokens[self.position][1]!r} (column {self.tokens[self.position][2]})"
            )
        return node

    def _next(self) -> tuple[str, str, int]:
        if self.position >= len(self.tokens):
            raise FormulaError("unexpected end of formula")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _expr(self, depth: int) -> _Node:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise FormulaError(
                f"formula too deep or too long (at most {MAX_DEPTH} levels, {MAX_NODES} nodes)"
            )
        kind, text, column = self._next()
        if kind == "int":
            return _Node("int", int(text), column=column)
        if kind == "str":
            if len(text) - 2 > MAX_STRING:
                raise FormulaError(f"text literal longer than {MAX_STRING} characters")
            return _Node("str", text[1:-1], column=column)
        if kind != "name":
            raise FormulaError(f"unexpected {text!r} (column {column})")
        if self._peek() == "(":
            self._next()
            node = _Node("call", text, column=column)
            if self._peek() == ")":
                self._next()
                return node
            while True:
                node.args.append(self._expr(depth + 1))
                separator = self._next()[1]
                if separator == ")":
                    return node
                if separator != ",":
                    raise FormulaError(f"expected ',' or ')' after an argument of {text}()")
        if text in _LITERAL_NAMES:
            return _Node("null" if text == "null" else "bool", column=column)
        return _Node("column", text, column=column)


_BACKTICK = re.compile(r"`([^`]*)`")
_QUERY_WORDS = set(keyword.kwlist) | {"index", "True", "False", "None"}


def query_columns(query: str) -> list[str] | None:
    """Column names a pandas DataFrame.query string reads, or None when it cannot be read (11).

    Names after '@' (local variables), after '.' (methods, attributes) and before '(' (functions)
    are not columns; `quoted names` are.
    """
    names = _BACKTICK.findall(query)
    text = _BACKTICK.sub(" 0 ", query)
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type != tokenize.NL]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    for index, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string in _QUERY_WORDS:
            continue
        before = tokens[index - 1].string if index else ""
        after = tokens[index + 1].string if index + 1 < len(tokens) else ""
        if before in ("@", ".") or after == "(":
            continue
        names.append(token.string)
    return list(dict.fromkeys(names))
