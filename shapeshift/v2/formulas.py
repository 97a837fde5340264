"""The formula language of format-2 `extra_columns` (format-v2.md 8.4): parser, checks, evaluation.

A formula is `=` followed by one expression: a function call, a column reference, or a literal. No
operators and no Python `eval`: the parser builds a small tree, `check` validates it against the
function table once every referenced column exists (8.4: unknown functions are only reported then),
and `evaluate` computes it over whole columns. Functions work on Series; functions that must run Python
code per value (`to_int`, `regex_extract`, ...) do so once per *distinct* value (`_per_value`).

Errors are `FormulaError`s carrying a position ("line 1, column 13"); `extra_columns.py` names the
entity, column and formula around them.
"""

from __future__ import annotations

import datetime
import re
import re._constants as sre  # the regex bound inspects the parsed pattern (below)
import re._parser as sre_parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd

MAX_DEPTH = 20  # limits of 8.4
MAX_NODES = 500
MAX_STRING_LITERAL = 10_000
MAX_FORMULA_LENGTH = 100_000  # ours: parse time stays bounded (500 nodes of 10,000 characters fit)
MAX_REGEX_LENGTH = 1_000  # ours: see bounded_regex


class FormulaError(ValueError):
    """A formula that cannot be parsed, checked or evaluated; `str()` ends with its position if known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.reason, self.line, self.column = message, line, column
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where)


# --- syntax tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: object  # str, int, bool or None
    line: int
    column: int


@dataclass(frozen=True)
class ColumnRef:
    name: str
    line: int
    column: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    line: int
    column: int


Node = Literal | ColumnRef | Call


def references(node: Node) -> list[str]:
    """Names of the columns the formula reads, in order of appearance, each once."""
    if isinstance(node, ColumnRef):
        return [node.name]
    if isinstance(node, Call):
        return list(dict.fromkeys(name for arg in node.args for name in references(arg)))
    return []


# --- tokenizer and parser -------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<integer>-?[0-9]+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[(),=])""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_KEYWORDS = {"null": None, "true": True, "false": False}


@dataclass(frozen=True)
class _Token:
    kind: str  # string, integer, name, punct, end
    text: str
    line: int
    column: int


def _tokens(formula: str) -> list[_Token]:
    tokens, position, line, line_start = [], 0, 1, 0
    while position < len(formula):
        match = _TOKEN.match(formula, position)
        column = position - line_start + 1
        if match is None:
            char = formula[position]
            if char in "'\"":
                raise FormulaError("Unterminated string literal", line, column)
            raise FormulaError(f"Unexpected character: {char!r}", line, column)
        kind, text = match.lastgroup, match.group()
        if kind != "space":
            tokens.append(_Token(kind, text, line, column))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = position + text.rindex("\n") + 1
        position = match.end()
    tokens.append(_Token("end", "", line, position - line_start + 1))
    return tokens


def _unescape(quoted: str) -> str:
    # \n \t \r \\ \' \" are escapes; any other backslash stays (so '\d+' reaches a regex intact)
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group()), quoted[1:-1], flags=re.DOTALL)


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.position, self.nodes = tokens, 0, 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.current
        if token.kind != "end":
            self.position += 1
        return token

    def expect(self, text: str, what: str) -> _Token:
        token = self.current
        if token.kind != "punct" or token.text != text:
            raise FormulaError(f"Expected {what}, got {_describe(token)}", token.line, token.column)
        return self.advance()

    def formula(self) -> Node:
        self.expect("=", "'=' at the start of the formula")
        node = self.expression(1)
        token = self.current
        if token.kind != "end":
            raise FormulaError(
                f"Unexpected {_describe(token)} after the expression", token.line, token.column
            )
        return node

    def expression(self, depth: int) -> Node:
        token = self.current
        if depth > MAX_DEPTH:
            raise FormulaError(f"Formula nested deeper than {MAX_DEPTH} levels", token.line, token.column)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"Formula has more than {MAX_NODES} parts", token.line, token.column)
        following = self.tokens[self.position + 1] if token.kind != "end" else token
        if token.kind == "name" and following.kind == "punct" and following.text == "(":
            return self.call(depth)
        self.advance()
        if token.kind == "name":
            if token.text in _KEYWORDS:
                return Literal(_KEYWORDS[token.text], token.line, token.column)
            return ColumnRef(token.text, token.line, token.column)
        if token.kind == "string":
            value = _unescape(token.text)
            if len(value) > MAX_STRING_LITERAL:
                raise FormulaError(
                    f"String literal longer than {MAX_STRING_LITERAL:,} characters", token.line, token.column
                )
            return Literal(value, token.line, token.column)
        if token.kind == "integer":
            return Literal(int(token.text), token.line, token.column)
        raise FormulaError(
            f"Expected a column, a literal or a function call, got {_describe(token)}",
            token.line,
            token.column,
        )

    def call(self, depth: int) -> Call:
        name = self.advance()
        self.expect("(", "'('")
        args = []
        if not (self.current.kind == "punct" and self.current.text == ")"):
            args.append(self.expression(depth + 1))
            while self.current.kind == "punct" and self.current.text == ",":
                self.advance()
                args.append(self.expression(depth + 1))
        self.expect(")", "',' or ')'")
        return Call(name.text, tuple(args), name.line, name.column)


def _describe(token: _Token) -> str:
    return "the end of the formula" if token.kind == "end" else repr(token.text)


def parse(formula: str) -> Node:
    """The syntax tree of `formula` (which starts with `=`); FormulaError on any syntax problem."""
    if len(formula) > MAX_FORMULA_LENGTH:
        raise FormulaError(f"Formula longer than {MAX_FORMULA_LENGTH:,} characters")
    return _Parser(_tokens(formula)).formula()


# --- functions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Function:
    minimum: int
    maximum: int | None  # None = any number
    literal_args: tuple = ()  # positions that must be literals (8.4)


FUNCTIONS = {
    "concat": _Function(1, None),
    "upper": _Function(1, 1),
    "lower": _Function(1, 1),
    "trim": _Function(1, 1),
    "substr": _Function(3, 3, (1, 2)),
    "coalesce": _Function(1, None),
    "replace": _Function(3, 3, (1, 2)),
    "regex_extract": _Function(2, 3, (1, 2)),
    "to_int": _Function(1, 1),
    "to_float": _Function(1, 1),
    "to_str": _Function(1, 1),
    "to_decimal": _Function(1, 2, (1,)),
    "to_date": _Function(1, 2, (1,)),
}


def check(node: Node) -> None:
    """Function names, argument counts and literal-only arguments; FormulaError on the first problem."""
    if not isinstance(node, Call):
        return
    function = FUNCTIONS.get(node.name)
    if function is None:
        allowed = ", ".join(sorted(FUNCTIONS))
        raise FormulaError(
            f"Unknown function '{node.name}'. Allowed functions: {allowed}", node.line, node.column
        )
    count = len(node.args)
    if count < function.minimum or (function.maximum is not None and count > function.maximum):
        if function.maximum is None:
            expected = f"at least {function.minimum}"
        elif function.minimum == function.maximum:
            expected = str(function.minimum)
        else:
            expected = f"{function.minimum} to {function.maximum}"
        raise FormulaError(
            f"Function '{node.name}' takes {expected} argument{'' if expected[-2:] in ('1', ' 1') else 's'}, "
            f"got {count}",
            node.line,
            node.column,
        )
    for position in function.literal_args:
        if position < count and not isinstance(node.args[position], Literal):
            arg = node.args[position]
            raise FormulaError(
                f"Function '{node.name}' requires a literal as argument {position + 1}, "
                "not a column reference or function call",
                arg.line,
                arg.column,
            )
    for arg in node.args:
        check(arg)


def evaluate(node: Node, columns: Mapping[str, pd.Series], index: pd.Index) -> pd.Series | object:
    """The value of a checked formula over the rows of `index`: a Series, or a scalar for a literal."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ColumnRef):
        return columns[node.name]
    try:
        return _IMPLEMENTATIONS[node.name](node, [evaluate(arg, columns, index) for arg in node.args], index)
    except FormulaError as error:
        if error.line is None:  # raised by a function body: point at the call
            raise FormulaError(error.reason, node.line, node.column) from None
        raise


def _series(value, index: pd.Index) -> pd.Series:
    """A literal broadcast to every row (a Series stays as it is)."""
    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * len(index), index=index, dtype=object if value is None else None)


def _text(value, index: pd.Index) -> pd.Series:
    """pandas `string` dtype: what the text functions work on and return (numbers as pandas text)."""
    return _series(value, index).astype("string")


def _int_literal(value, function: str, what: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormulaError(f"Function '{function}' requires an integer literal as {what}, got {value!r}")
    if minimum is not None and value < minimum:
        raise FormulaError(f"Function '{function}' requires {what} >= {minimum}, got {value}")
    return value


def _per_value(series: pd.Series, function: str, convert: Callable[[object], object]) -> list:
    """`convert` applied to each non-null value (once per distinct value); nulls give None.

    A failing conversion raises FormulaError naming the value and its row (1-based position).
    """
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists...): one call per row
        codes, uniques = np.arange(len(series)), list(series)
        codes = np.where(series.isna().to_numpy(dtype=bool), -1, codes)
    results = []
    for code, value in enumerate(uniques):
        try:
            results.append(convert(value))
        except FormulaError:
            raise
        except (ValueError, TypeError, ArithmeticError, InvalidOperation) as error:
            row = int(np.argmax(codes == code)) + 1
            raise FormulaError(f"{function}: cannot convert {value!r} (row {row}): {error}") from None
    results.append(None)
    table = np.empty(len(results), dtype=object)
    table[:] = results
    return table[codes]


def _concat(node, args, index):
    texts = [_text(arg, index).fillna("") for arg in args]  # null parts count as empty (8.4)
    result = texts[0]
    for text in texts[1:]:
        result = result + text
    return result


def _upper(node, args, index):
    return _text(args[0], index).str.upper()


def _lower(node, args, index):
    return _text(args[0], index).str.lower()


def _trim(node, args, index):
    return _text(args[0], index).str.strip()


def _substr(node, args, index):
    start = _int_literal(args[1], "substr", "start")
    length = _int_literal(args[2], "substr", "length", minimum=0)
    return _text(args[0], index).str.slice(start, start + length)


def _coalesce(node, args, index):
    result = _series(args[0], index)
    if isinstance(result.dtype, pd.CategoricalDtype):  # other values are no categories of it
        result = result.astype(object)
    for arg in args[1:]:
        result = result.where(result.notna(), _series(arg, index))
    return result


def _replace(node, args, index):
    old, new = args[1], args[2]
    if old is None or old == "":
        raise FormulaError("Function 'replace' requires a non-empty text to replace")
    return _text(args[0], index).str.replace(str(old), "" if new is None else str(new), regex=False)


def _regex_extract(node, args, index):
    pattern = args[1]
    if not isinstance(pattern, str):
        raise FormulaError(f"Function 'regex_extract' requires a text pattern, got {pattern!r}")
    try:
        regex = bounded_regex(pattern)
    except ValueError as error:
        raise FormulaError(f"regex_extract: {error}") from None
    group = _int_literal(args[2] if len(args) > 2 else 0, "regex_extract", "group", minimum=0)
    if group > regex.groups:
        raise FormulaError(f"regex_extract: group {group} does not exist (the pattern has {regex.groups})")

    def extract(value):
        match = regex.search(value if isinstance(value, str) else str(value))
        return match.group(group) if match else None

    return pd.Series(_per_value(_series(args[0], index), "regex_extract", extract), index=index, dtype=object)


def _numbers(values: np.ndarray, index: pd.Index, integral: bool) -> pd.Series:
    """int64 when every row has a value (float64 for to_float), else float64 with NaN (6.7)."""
    missing = pd.isna(values)
    if not missing.any() and integral:
        try:
            return pd.Series(np.array(values.tolist(), dtype=np.int64), index=index)
        except OverflowError:
            return pd.Series(values, index=index, dtype=object)
    filled = np.where(missing, np.nan, values)
    return pd.Series(filled.astype(np.float64), index=index)


def _to_int(node, args, index):
    series = _series(args[0], index)
    if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        return series.astype(np.int64)
    return _numbers(_per_value(series, "to_int", int), index, integral=True)


def _to_float(node, args, index):
    series = _series(args[0], index)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(np.float64)
    return _numbers(_per_value(series, "to_float", float), index, integral=False)


def _to_str(node, args, index):
    return pd.Series(_per_value(_series(args[0], index), "to_str", str), index=index, dtype=object)


def _to_decimal(node, args, index):
    precision = _int_literal(args[1] if len(args) > 1 else 10, "to_decimal", "precision", minimum=0)
    quantum = Decimal(1).scaleb(-precision)

    def convert(value):
        return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)

    return pd.Series(_per_value(_series(args[0], index), "to_decimal", convert), index=index, dtype=object)


def _to_date(node, args, index):
    form = args[1] if len(args) > 1 else "%Y-%m-%d"
    if not isinstance(form, str):
        raise FormulaError(f"Function 'to_date' requires a text format, got {form!r}")

    def convert(value):
        return datetime.datetime.strptime(str(value).strip(), form).date()

    return pd.Series(_per_value(_series(args[0], index), "to_date", convert), index=index, dtype=object)


_IMPLEMENTATIONS = {
    "concat": _concat,
    "upper": _upper,
    "lower": _lower,
    "trim": _trim,
    "substr": _substr,
    "coalesce": _coalesce,
    "replace": _replace,
    "regex_extract": _regex_extract,
    "to_int": _to_int,
    "to_float": _to_float,
    "to_str": _to_str,
    "to_decimal": _to_decimal,
    "to_date": _to_date,
}


# --- bounded regular expressions ------------------------------------------------------------
# Python's `re` has no timeout, and a configuration is user input: a pattern such as `(a+)+$` takes
# exponential time on a line of a's. Patterns written in configurations (regex_extract, replacement
# rules, filter queries) therefore go through `bounded_regex`, which rejects long patterns and the
# shapes that backtrack catastrophically: a repeating quantifier inside a variable one (`(a+)+`,
# `(a*b?)*`, `(x{1,9}){2,}`), and alternatives that can start with the same character inside a variable
# quantifier (`(a|ab)*`). The check is conservative (a few harmless patterns are refused too; the message
# says why), and polynomial backtracking (`a*a*a*b`) stays possible.

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
_ANY = None  # first-character set of a part that may start with anything (or be empty)


def bounded_regex(pattern: str, flags: int = 0) -> re.Pattern:
    """`re.compile(pattern, flags)` for a pattern that cannot backtrack catastrophically; else ValueError."""
    if not isinstance(pattern, str):
        raise ValueError(f"a regular expression must be text, got {pattern!r}")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"regular expression longer than {MAX_REGEX_LENGTH:,} characters")
    try:
        compiled = re.compile(pattern, flags)
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, OverflowError, RecursionError) as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
    problem = _backtracking_problem(parsed.data if hasattr(parsed, "data") else parsed, False, flags)
    if problem:
        raise ValueError(f"regular expression {pattern!r} refused: {problem} can take exponential time")
    return compiled


def _backtracking_problem(items, in_variable: bool, flags: int) -> str:
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            repeats = high is sre.MAXREPEAT or high > 1
            if in_variable and repeats:
                return "a quantifier inside another quantifier"
            problem = _backtracking_problem(body, in_variable or (repeats and low != high), flags)
        elif op is sre.SUBPATTERN:
            group_flags = flags | av[1]
            problem = _backtracking_problem(av[3], in_variable, group_flags)
        elif op is sre.BRANCH:
            branches = av[1]
            if in_variable and _overlapping(branches, flags):
                return "alternatives that can match the same text inside a quantifier"
            problem = next((p for b in branches if (p := _backtracking_problem(b, in_variable, flags))), "")
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            problem = _backtracking_problem(av[1], in_variable, flags)
        elif op is sre.ATOMIC_GROUP:  # never backtracked into, but may backtrack inside
            problem = _backtracking_problem(av, False, flags)
        elif op is sre.GROUPREF_EXISTS:
            problem = next(
                (p for b in av[1:] if b and (p := _backtracking_problem(b, in_variable, flags))), ""
            )
        else:  # literals, classes, anchors, back references
            problem = ""
        if problem:
            return problem
    return ""


def _overlapping(branches, flags: int) -> bool:
    seen: set = set()
    for branch in branches:
        first = _first_chars(list(branch), flags)
        if first is _ANY or first & seen:
            return True
        seen |= first
    return False


def _first_chars(items, flags: int):
    """Characters a (non-empty) match of `items` can start with, or _ANY when unknown or possibly empty."""
    if not items:
        return _ANY
    op, av = items[0]
    fold = flags & re.IGNORECASE
    if op is sre.LITERAL:
        char = chr(av)
        return {char.lower(), char.upper()} if fold else {char}
    if op is sre.SUBPATTERN:
        return _first_chars(list(av[3]), flags | av[1])
    if op in _REPEATS:
        return _first_chars(list(av[2]), flags) if av[0] > 0 else _ANY
    if op is sre.IN and not fold:
        chars: set = set()
        for kind, value in av:
            if kind is sre.LITERAL:
                chars.add(chr(value))
            elif kind is sre.RANGE and value[1] - value[0] < 256:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:
                return _ANY
        return chars
    return _ANY
