"""Format-2 `replacements` (format-v2.md 10): legacy forms and rule lists."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shapeshift.errors import EntityError
from shapeshift.issues import IssueCode
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.dedupe import dedupe_setting, drop_duplicates
from shapeshift.v2.extract import SubTable, extract
from shapeshift.v2.replacements import apply_replacements
from tests.shapeshift.v2.transforms_support import (
    assert_same,
    case_folder,
    entity_config,
    expected,
    needs_corpus,
    read_input,
)


def replaced(values, spec, report=None, dtype=None) -> list:
    table = pd.DataFrame({"v": pd.Series(values, dtype=dtype)})
    result = apply_replacements(table, {"v": spec}, entity="e", report=report or EntityReport("e"))
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in result["v"]
    ]


@needs_corpus
@pytest.mark.parametrize("entity", ["legacy_list", "simple_mapping", "rule_lists", "backward_fill"])
def test_the_replacement_forms_of_case_15(entity):
    config = entity_config("15", entity)
    report = EntityReport(entity)
    table = extract(read_input("15", entity), SubTable(config), entity=entity, project_raw={}, report=report)
    assert_same(table, expected("15", entity), columns=config["columns"])
    dtypes = json.loads((case_folder("15") / "expected" / "_run.json").read_text())["dtypes"][entity]
    for column in config["replacements"]:
        assert str(table[column].dtype) == dtypes[column], column
    assert report.warnings == []


@needs_corpus
@pytest.mark.parametrize("entity", ["site", "site_with_copy"])
def test_values_made_equal_by_replacements_collapse_in_the_second_dedupe_of_case_16(entity):
    config = entity_config("16", entity)
    report = EntityReport(entity)
    table = extract(read_input("16", entity), SubTable(config), entity=entity, project_raw={}, report=report)
    table = drop_duplicates(table, dedupe_setting(config, {}), entity=entity, report=report)  # 6.3 step 6
    wanted = expected("16", entity)
    assert_same(table, wanted, columns=[c for c in wanted.columns if c not in ("system_id", f"{entity}_id")])


def test_legacy_list_blanks_then_forward_fills_the_whole_column():
    assert replaced(["a", "x", None, "b", "x"], ["x"]) == ["a", "a", "a", "b", "b"]
    assert replaced(["x", "a"], "x") == [None, "a"]


def test_a_mapping_is_a_pandas_replace():
    assert replaced(["a", "b", None], {"a": "A", "z": "Z"}) == ["A", "b", None]


def test_negated_matches_touch_only_non_null_cells():
    assert replaced(["a", "b", None], [{"match": "not_equals", "from": "a", "to": "other"}]) == [
        "a",
        "other",
        None,
    ]
    assert replaced(["xa", "b", None], [{"match": "not_contains", "from": "a", "to": "-"}]) == [
        "xa",
        "-",
        None,
    ]
    assert replaced(["ab", "ba", None], [{"match": "not_startswith", "from": "a", "to": "-"}]) == [
        "ab",
        "-",
        None,
    ]
    assert replaced(["ab", "ba", None], [{"match": "endswith", "from": "A", "to": "!", "flags": ["i"]}]) == [
        "ab",
        "!",
        None,
    ]
    assert replaced(["a1", "b", None], [{"match": "not_regex", "from": "[a-z][0-9]", "to": "-"}]) == [
        "a1",
        "-",
        None,
    ]


def test_equals_ignores_flags_and_compares_normalized_or_coerced_copies():
    assert replaced(["A", "a"], [{"match": "equals", "from": "a", "to": "x", "flags": ["i"]}]) == ["A", "x"]
    assert replaced([" A ", "b"], [{"from": "a", "to": "x", "normalize": ["strip", "lower"]}]) == ["x", "b"]
    assert replaced(["2.0", "2.5", "2"], [{"from": "2", "to": "two", "coerce": "int"}]) == [
        "two",
        "2.5",
        "two",
    ]


def test_in_with_coerce_and_a_null_from_disables_the_rule():
    assert replaced(["1", "1.0", "3"], [{"match": "in", "from": [1, 2], "to": "low", "coerce": "float"}]) == [
        "low",
        "low",
        "3",
    ]
    assert replaced(["a"], [{"match": "contains", "from": None, "to": "x"}]) == ["a"]


def test_regex_sub_rewrites_and_a_null_target_blanks_cells_containing_a_match():
    assert replaced(["a1b22", None], [{"match": "regex_sub", "from": "[0-9]+", "to": "#"}]) == ["a#b#", None]
    assert replaced(["a1", "b"], [{"match": "regex_sub", "from": "[0-9]", "to": None}]) == [None, "b"]
    assert replaced(["ab"], [{"match": "regex_sub", "from": "(a)(b)", "to": r"\2\1"}]) == ["ba"]


def test_blank_out_fills():
    values = ["a", "x", None, "b", "x"]
    assert replaced(values, [{"blank_out": "x", "fill": "none"}]) == ["a", None, None, "b", None]
    assert replaced(values, [{"blank_out": "x"}]) == ["a", "a", "a", "b", "b"]
    assert replaced(values, [{"blank_out": ["x"], "fill": "backward"}]) == ["a", "b", "b", "b", None]
    assert replaced(values, [{"blank_out": "x", "fill": {"constant": "?"}}]) == ["a", "?", "?", "b", "?"]
    assert replaced(["1", "1.0", "2"], [{"blank_out": 1, "coerce": "int", "fill": None}]) == [None, None, "2"]


def test_map_with_normalize_or_coerce_leaves_nulls_alone():
    rule = {"map": {"x": "top"}, "normalize": ["lower"]}
    assert replaced(["X", None, "y"], [rule]) == ["top", None, "y"]
    assert replaced(["1.0", "2"], [{"map": {1: "one"}, "coerce": "int"}]) == ["one", "2"]


def test_transform_rules_change_the_values_themselves():
    assert replaced(["  A  b ", None], [{"normalize": ["collapse_ws", "upper"]}]) == ["A B", None]
    result = apply_replacements(
        pd.DataFrame({"v": ["1", "2.5", "x"]}),
        {"v": [{"coerce": "int"}]},
        entity="e",
        report=EntityReport("e"),
    )
    assert str(result["v"].dtype) == "Int64" and result["v"].isna().tolist() == [False, True, True]


def test_unknown_rules_fills_and_options_are_warned_about_and_skipped():
    report = EntityReport("e")
    rules = [
        {"match": "sounds_like", "from": "a", "to": "b"},
        {"blank_out": "a", "fill": "sideways"},
        {"normalize": ["reverse"], "coerce": "money"},
    ]
    assert replaced(["a", "c"], rules, report) == [None, "c"]
    assert {i.code for i in report.issues} == {IssueCode.REPLACEMENT_RULE_INVALID}
    assert len(report.issues) == 4 and "rule 1: unknown rule type 'sounds_like'" in report.warnings[0]


def test_report_options_give_counts():
    report = EntityReport("e")
    replaced(["a", "b", "a"], [{"from": "a", "to": "z", "report_replaced": True}], report)
    assert report.warnings == ["replacements of column 'v', rule 1: equals replaced 2 value(s)"]


def test_categorical_columns_accept_new_values():
    assert replaced(["a", "b"], [{"from": "a", "to": "new"}], dtype="category") == ["new", "b"]
    assert replaced(["a", "b"], {"a": "new"}, dtype="category") == ["new", "b"]


def test_missing_columns_and_empty_specs_are_skipped():
    table = pd.DataFrame({"v": ["a"]})
    result = apply_replacements(table, {"nosuch": ["a"], "v": []}, entity="e", report=EntityReport("e"))
    assert result["v"].tolist() == ["a"]


def test_a_mixed_list_is_refused():
    with pytest.raises(EntityError, match="replacements of column 'v'"):
        replaced(["a"], ["a", {"map": {"a": "b"}}])


def test_a_catastrophic_rule_pattern_is_refused():
    # refused before it runs: were it run, 24 letters would take it millions of steps
    with pytest.raises(EntityError, match=r"rule 1: regular expression '\(a\+\)\+\$' refused"):
        replaced(["a" * 24 + "!"], [{"match": "regex", "from": "(a+)+$", "to": "x"}])
