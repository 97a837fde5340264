"""The formula language of format-2 extra columns (format-v2.md 8.4), and the regular-expression bound."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pandas as pd
import pytest

from shapeshift.errors import EntityError
from shapeshift.v2 import formulas
from shapeshift.v2.extra_columns import evaluate_extra_columns
from tests.shapeshift.v2.transforms_support import (
    assert_same,
    case_folder,
    entity_config,
    expected,
    needs_corpus,
    read_input,
)


def run(formula: str, table: pd.DataFrame):
    tree = formulas.parse(formula)
    formulas.check(tree)
    return formulas.evaluate(tree, {c: table[c] for c in table.columns}, table.index)


def error_of(formula: str) -> formulas.FormulaError:
    with pytest.raises(formulas.FormulaError) as caught:
        formulas.check(formulas.parse(formula))
    return caught.value


# --- parsing ---------------------------------------------------------------------------------


def test_a_formula_names_its_columns_in_order_once():
    tree = formulas.parse("=concat(site_code, '-', coalesce(parish, site_code, 'unknown'))")
    assert formulas.references(tree) == ["site_code", "parish"]


def test_keywords_are_literals_and_other_names_are_columns():
    tree = formulas.parse("=coalesce(null, true, false, x)")
    assert [getattr(arg, "value", None) for arg in tree.args[:3]] == [None, True, False]
    assert formulas.references(tree) == ["x"]


def test_string_escapes_and_unknown_escapes_kept_for_regexes():
    tree = formulas.parse(r"""=concat('it\'s', "a\"b", 'x\ny\tz\\', '\d+')""")
    assert [arg.value for arg in tree.args] == ["it's", 'a"b', "x\ny\tz\\", r"\d+"]


@pytest.mark.parametrize(
    ("formula", "message", "line", "column"),
    [
        # the decimal-literal example of 8.4: the '.' is the unexpected character
        ("=substr(a, 1.5, 2)", "Unexpected character: '.'", 1, 13),
        ("=concat(a, 'x'", "Expected ',' or ')'", 1, 15),
        ("=concat(a,, b)", "Expected a column, a literal or a function call, got ','", 1, 11),
        ("=upper(a) b", "Unexpected 'b' after the expression", 1, 11),
        ("=lower('abc", "Unterminated string literal", 1, 8),
        ("concat(a)", "Expected '=' at the start of the formula", 1, 1),
        ("=", "got the end of the formula", 1, 2),
        ("=concat(a,\n  b; c)", "Unexpected character: ';'", 2, 4),
    ],
)
def test_syntax_errors_say_what_and_where(formula, message, line, column):
    error = error_of(formula)
    assert message in error.reason
    assert (error.line, error.column) == (line, column)
    assert str(error).endswith(f"(line {line}, column {column})")


def test_unknown_functions_list_the_allowed_ones():
    error = error_of("=nosuch(a)")
    assert str(error) == (
        "Unknown function 'nosuch'. Allowed functions: coalesce, concat, lower, regex_extract, replace, "
        "substr, to_date, to_decimal, to_float, to_int, to_str, trim, upper (line 1, column 2)"
    )


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("=upper(a, b)", "Function 'upper' takes 1 argument, got 2"),
        ("=substr(a, 1)", "Function 'substr' takes 3 arguments, got 2"),
        ("=concat()", "Function 'concat' takes at least 1 argument, got 0"),
        ("=regex_extract(a)", "Function 'regex_extract' takes 2 to 3 arguments, got 1"),
        ("=substr(a, b, 2)", "Function 'substr' requires a literal as argument 2"),
        ("=replace(a, lower('X'), 'y')", "Function 'replace' requires a literal as argument 2"),
    ],
)
def test_calls_are_checked_against_the_function_table(formula, message):
    assert message in error_of(formula).reason


def test_the_limits_of_the_language():
    deep = "=" + "upper(" * 21 + "a" + ")" * 21
    assert "nested deeper than 20" in error_of(deep).reason
    wide = "=concat(" + ", ".join(["a"] * 500) + ")"
    assert "more than 500 parts" in error_of(wide).reason
    long_text = "=lower('" + "x" * 10_001 + "')"
    assert "longer than 10,000" in error_of(long_text).reason
    formulas.parse("=" + "upper(" * 19 + "a" + ")" * 19)  # 20 levels are fine


def test_a_hostile_nesting_is_refused_without_recursing():
    assert "nested deeper" in error_of("=" + "f(" * 30_000 + ")" * 30_000).reason
    assert "longer than" in error_of("=" + "f(" * 200_000).reason


# --- functions (values from 8.4/8.5 and the corpus) --------------------------------------------


@pytest.fixture
def sites() -> pd.DataFrame:
    return pd.DataFrame(
        {"site_code": ["S1", "S2", "S3"], "site_name": [" Alpha ", None, "Gamma"], "n": [12.0, 3.5, None]}
    )


def test_text_functions_give_pandas_string_dtype_and_keep_nulls(sites):
    upper = run("=upper(trim(site_name))", sites)
    assert str(upper.dtype) == "string"
    assert upper.tolist()[::2] == ["ALPHA", "GAMMA"] and upper.isna().tolist() == [False, True, False]


def test_concat_treats_nulls_as_empty_and_numbers_as_pandas_text(sites):
    result = run("=concat(site_code, ':', site_name, ':', n)", sites)
    assert result.tolist() == ["S1: Alpha :12.0", "S2::3.5", "S3:Gamma:"]


def test_substr_is_a_python_slice(sites):
    assert run("=substr(site_code, 0, 1)", sites).tolist() == ["S", "S", "S"]
    assert run("=substr(site_code, -3, 3)", sites).tolist() == ["", "", ""]  # [-3:0]
    assert run("=substr(site_code, -1, 5)", sites).tolist() == ["1", "2", "3"]
    with pytest.raises(formulas.FormulaError, match="length >= 0"):
        run("=substr(site_code, 0, -1)", sites)


def test_coalesce_takes_the_first_non_null_and_broadcasts_literals(sites):
    assert run("=coalesce(site_name, site_code, 'none')", sites).tolist() == [" Alpha ", "S2", "Gamma"]
    assert run("=lower('ABC')", sites).tolist() == ["abc"] * 3


def test_categorical_and_nullable_columns():
    table = pd.DataFrame(
        {"c": pd.Series(["a", None], dtype="category"), "i": pd.Series([1, None], dtype="Int64")}
    )
    assert run("=coalesce(c, 'z')", table).tolist() == ["a", "z"]
    assert run("=concat(c, i)", table).tolist() == ["a1", ""]
    assert run("=to_float(i)", table).dtype == "float64"


def test_conversions_keep_nulls_and_fail_with_the_value_and_row():
    table = pd.DataFrame(
        {"v": ["12", None, "7"], "f": [12.5, None, 3.0], "d": ["2024-01-05", None, " 2024-02-29 "]}
    )
    assert run("=to_int(v)", table).dtype == "float64"  # a null makes it float (6.7)
    assert run("=to_int(f)", table).tolist()[::2] == [12.0, 3.0]
    assert run("=to_str(f)", table).tolist() == ["12.5", None, "3.0"]
    assert run("=to_date(d)", table).tolist() == [datetime.date(2024, 1, 5), None, datetime.date(2024, 2, 29)]
    assert run("=to_decimal(f, 0)", table).tolist() == [Decimal("13"), None, Decimal("3")]  # half up
    with pytest.raises(formulas.FormulaError, match=r"to_int: cannot convert '12.5' \(row 2\)"):
        run("=to_int(v)", pd.DataFrame({"v": ["1", "12.5"]}))
    with pytest.raises(formulas.FormulaError, match="to_date: cannot convert '05/01/2024'"):
        run("=to_date(v)", pd.DataFrame({"v": ["05/01/2024"]}))


def test_replace_is_literal_and_a_null_replacement_is_empty():
    table = pd.DataFrame({"v": ["a.b.c", None]})
    result = run("=replace(v, '.', null)", table)
    assert str(result.dtype) == "string" and result.tolist()[0] == "abc" and pd.isna(result[1])


def test_regex_extract_searches_and_picks_a_group():
    table = pd.DataFrame({"code": ["xAB12/7", "CD3", "--", None]})
    assert run("=regex_extract(code, '[A-Z]+')", table).tolist() == ["AB", "CD", None, None]
    assert run("=regex_extract(code, '([A-Z]+)([0-9]+)', 2)", table).tolist() == ["12", "3", None, None]
    with pytest.raises(formulas.FormulaError, match="group 3 does not exist"):
        run("=regex_extract(code, '([A-Z]+)([0-9]+)', 3)", table)


@needs_corpus
def test_the_dev_functions_of_case_13():
    config = entity_config("13", "sample")
    table = evaluate_extra_columns(read_input("13", "sample"), config["extra_columns"], entity="sample")
    assert_same(table, expected("13", "sample"), columns=config["extra_columns"])
    dtypes = json.loads((case_folder("13") / "expected" / "_run.json").read_text())["dtypes"]["sample"]
    for column in config["extra_columns"]:
        assert str(table[column].dtype) == dtypes[column], column
    assert isinstance(table["depth_dec"][0], Decimal) and isinstance(table["day"][0], datetime.date)


def test_a_formula_error_names_entity_column_formula_and_position():
    table = pd.DataFrame({"a": ["x"]})
    with pytest.raises(EntityError) as caught:
        evaluate_extra_columns(table, {"b": "=concat(a,"}, entity="site")
    assert str(caught.value) == (
        "entity 'site': extra column 'b' = '=concat(a,': formula error: Expected a column, a literal or a "
        "function call, got the end of the formula (line 1, column 11)"
    )


def test_syntax_errors_fail_even_when_columns_are_missing_but_unknown_functions_wait():
    table = pd.DataFrame({"a": ["x"]})
    with pytest.raises(EntityError, match="Unexpected character"):
        evaluate_extra_columns(table, {"b": "=upper(later) + 1"}, entity="e")
    deferred = evaluate_extra_columns(table, {"b": "=nosuch(later)"}, entity="e")
    assert "b" not in deferred.columns
    with pytest.raises(EntityError, match="Unknown function 'nosuch'"):
        evaluate_extra_columns(table, {"b": "=nosuch(a)"}, entity="e")


# --- the regular-expression bound ----------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*b?)*c", r"(x{1,9}){2,}", r"(a|ab)*c", r"(?>(a+)+b)"])
def test_catastrophic_patterns_are_refused_before_running(pattern):
    with pytest.raises(ValueError, match="exponential time"):
        formulas.bounded_regex(pattern)


@pytest.mark.parametrize("pattern", [r"([A-Z]+)([0-9]+)", r"(\d{2}-){3}", r"(foo|bar)+", r"^P-(\d+)$"])
def test_ordinary_patterns_pass(pattern):
    assert formulas.bounded_regex(pattern).pattern == pattern


def test_a_catastrophic_regex_extract_fails_the_entity():
    # refused before it runs: were it run, 24 letters would take it millions of steps
    table = pd.DataFrame({"code": ["a" * 24 + "!"]})
    with pytest.raises(EntityError, match="regex_extract: regular expression .* refused"):
        evaluate_extra_columns(table, {"x": "=regex_extract(code, '(a+)+$')"}, entity="e")


def test_a_huge_pattern_is_refused():
    table = pd.DataFrame({"code": ["x"]})
    with pytest.raises(EntityError, match="longer than 1,000 characters"):
        evaluate_extra_columns(table, {"x": "=regex_extract(code, '" + "a" * 5000 + "')"}, entity="e")
    with pytest.raises(EntityError, match="invalid regular expression"):
        evaluate_extra_columns(table, {"x": "=regex_extract(code, '[')"}, entity="e")


def test_formulas_run_once_per_distinct_value():
    calls = []
    table = pd.DataFrame({"v": ["1", "2"] * 50_000})
    original = int

    def counting(value):
        calls.append(value)
        return original(value)

    result = formulas._per_value(table["v"], "to_int", counting)
    assert len(calls) == 2 and len(result) == 100_000
