"""Format-2 extra columns (format-v2.md 8): kinds, deferral moments, interpolation, unresolved items."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shapeshift.issues import IssueCode
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.extra_columns import (
    Kind,
    evaluate_extra_columns,
    helper_columns,
    kind_of,
    report_unresolved,
    unresolved_extra_columns,
    unresolved_reasons,
)
from shapeshift.v2.extract import SubTable, extract
from tests.shapeshift.v2.transforms_support import (
    assert_same,
    case_folder,
    entity_config,
    expected,
    fixed_table,
    needs_corpus,
    read_input,
)


def evaluate(table: pd.DataFrame, extra: dict) -> pd.DataFrame:
    return evaluate_extra_columns(table, extra, entity="e")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (3, Kind.CONSTANT),
        (None, Kind.CONSTANT),
        ("==x", Kind.ESCAPED),
        ("=x", Kind.FORMULA),
        ("{a} b", Kind.INTERPOLATION),
        ("{{a}}", Kind.TEXT),
        ("{ a }", Kind.TEXT),
        ("{1a}", Kind.TEXT),
        ("site_name", Kind.TEXT),
    ],
)
def test_kinds_are_decided_in_the_order_of_8_1(value, kind):
    assert kind_of(value) is kind


# --- case 11: every kind at extraction, then again after concatenation ----------------------------


@needs_corpus
def test_every_kind_of_case_11():
    config = entity_config("11", "site")
    report = EntityReport("site")
    table = extract(read_input("11", "site"), SubTable(config), entity="site", project_raw={}, report=report)
    table = evaluate_extra_columns(table, config["extra_columns"], entity="site", report=report)  # 6.3 step 4
    wanted = expected("11", "site")
    assert_same(table, wanted, columns=[c for c in wanted.columns if c not in ("system_id", "site_id")])
    assert "parish" not in table.columns and "site_name" not in table.columns  # helpers are gone
    dtypes = json.loads((case_folder("11") / "expected" / "_run.json").read_text())["dtypes"]["site"]
    for column in ("formula_concat", "formula_nested", "interp", "interp_number", "braces", "copy_exact"):
        assert str(table[column].dtype) == dtypes[column], column
    assert report.warnings == []


@needs_corpus
def test_a_listed_column_named_like_an_extra_column_is_replaced_after_concatenation():
    config = entity_config("11", "site")
    report = EntityReport("site")
    table = extract(read_input("11", "site"), SubTable(config), entity="site", project_raw={}, report=report)
    # at extraction `altitude` was only a helper of interp_number, so the constant could not be added yet
    assert "altitude" not in table.columns and table["interp_number"].tolist()[0] == "alt=12"
    assert evaluate(table, {"altitude": 0})["altitude"].tolist() == [0, 0, 0]


# --- case 12: deferral until after linking -----------------------------------------------------------


def _link_sample_group(table: pd.DataFrame, store_table: pd.DataFrame) -> pd.DataFrame:
    """What the pipeline's FK step adds for case 12 (a left join: sample_group_id and group_text)."""
    remote = store_table[["system_id", "grp", "grp_label"]].rename(
        columns={"system_id": "sample_group_id", "grp_label": "group_text"}
    )
    return table.merge(remote, how="left", on="grp")


@needs_corpus
def test_items_wait_for_the_columns_linking_adds_in_case_12():
    config = entity_config("12", "sample")
    extra = config["extra_columns"]
    sub = SubTable(config, fk_local_keys=["grp"], fk_extra_names=["group_text"])
    report = EntityReport("sample")
    table = extract(read_input("12", "sample"), sub, entity="sample", project_raw={}, report=report)
    table = evaluate_extra_columns(table, extra, entity="sample", report=report)
    # a copy is never deferred: the FK column does not exist yet, so the text is a constant
    assert table["copy_of_fk_column"].tolist() == ["group_text"] * 3
    assert unresolved_extra_columns(table, extra) == [
        "interp_after_link",
        "formula_after_link",
        "chained",
        "case_mismatch",
    ]
    table = _link_sample_group(table, fixed_table("12", "sample_group"))
    table = evaluate_extra_columns(table, extra, entity="sample", report=report)  # 6.3 step 9
    assert_same(table, expected("12", "sample"), columns=[*extra.keys() - {"case_mismatch"}, "group_text"])
    assert unresolved_extra_columns(table, extra) == ["case_mismatch"]


def test_an_item_may_use_a_later_one_at_the_next_moment():
    extra = {"first": "=concat(second, '!')", "second": "=upper(a)"}
    once = evaluate(pd.DataFrame({"a": ["x"]}), extra)
    assert list(once.columns) == ["a", "second"]
    assert evaluate(once, extra)["first"].tolist() == ["X!"]


def test_existing_columns_are_never_recomputed():
    table = pd.DataFrame({"a": ["x"], "b": ["kept"]})
    assert evaluate(table, {"b": "=upper(a)"})["b"].tolist() == ["kept"]


def test_unresolved_items_are_reported_with_what_they_miss():
    table = pd.DataFrame({"sample": ["P1"]})
    extra = {"case_mismatch": "{Sample}", "ok": "{sample}"}
    table = evaluate(table, extra)
    assert unresolved_reasons(table, extra, entity="e") == {
        "case_mismatch": "'{Sample}' reads missing column(s) ['Sample']; did you mean 'Sample' -> 'sample'?"
    }
    report = EntityReport("e")
    assert report_unresolved(table, extra, entity="e", report=report) == ["case_mismatch"]
    assert report.issues[0].code is IssueCode.EXTRA_COLUMNS_UNRESOLVED
    assert "['case_mismatch']" in report.warnings[0]


# --- interpolation (8.3) ------------------------------------------------------------------------------


def test_interpolation_text_of_values():
    table = pd.DataFrame(
        {"f": [12.0, 12.5, np.nan, -3.0], "b": [True, False, True, None], "s": ["a", None, "{x}", "c"]}
    )
    result = evaluate(table, {"i": "{f}|{b}|{s}"})["i"]
    assert result.tolist() == ["12|True|a", "12.5|False|", "|True|{x}", "-3||c"]
    assert result.dtype == object


def test_interpolation_braces_and_non_placeholders():
    table = pd.DataFrame({"a": ["1"], "b": ["2"]})
    # `{b}` directly followed by `}` is no placeholder: only {a} is replaced, `}}` is a literal `}`
    result = evaluate(table, {"x": "{{raw}} {a}-{b}}}", "y": "{ a } {a}", "z": "{{a}}"})
    assert result.loc[0, ["x", "y", "z"]].tolist() == ["{raw} 1-{b}}", "{ a } 1", "{{a}}"]


def test_interpolation_keeps_a_non_unique_index():
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=[5, 5, 7])
    result = evaluate(table, {"x": "<{a}>", "k": 1})
    assert result.index.tolist() == [5, 5, 7] and result["x"].tolist() == ["<1>", "<2>", "<3>"]


# --- copies and constants (8.1 rules 6, 7) ----------------------------------------------------------


def test_copies_match_ignoring_case_but_not_other_item_names():
    table = pd.DataFrame({"Site_Name": ["A"], "code": ["c"]})
    result = evaluate(table, {"copy": "site_name", "const": "copy", "plain": "nothing here"})
    assert result.loc[0, ["copy", "const", "plain"]].tolist() == ["A", "copy", "nothing here"]


def test_an_item_copying_its_own_name_keeps_the_source_column():
    """format-v2.md 20 #35: the reference turns `{code: code}` into the constant text; we copy."""
    source = pd.DataFrame({"site": ["S1", "S2"], "code": ["c1", "c2"], "Other": ["o1", "o2"]})
    config = {"keys": ["site"], "columns": [], "extra_columns": {"code": "code", "other": "other"}}
    table = extract(source, SubTable(config), entity="e", project_raw={}, report=EntityReport("e"))
    table = evaluate(table, config["extra_columns"])
    assert table["code"].tolist() == ["c1", "c2"] and table["other"].tolist() == ["o1", "o2"]
    assert "Other" not in table.columns


def test_constants_keep_their_type_and_containers_fill_each_cell():
    table = pd.DataFrame({"a": [1, 2]})
    result = evaluate(table, {"n": 3, "t": True, "z": None, "l": [1, 2], "e": "==x"})
    assert result["n"].dtype == "int64" and result["t"].dtype == bool
    assert result["z"].tolist() == [None, None] and result["l"].tolist() == [[1, 2], [1, 2]]
    assert result["e"].tolist() == ["=x", "=x"]


def test_helpers_are_found_for_every_kind():
    extra = {"c": "SITE_NAME", "f": "=upper(parish)", "i": "{altitude}", "k": 3, "x": "==parish"}
    columns = ["site_code", "site_name", "parish", "altitude", "Parish2"]
    assert helper_columns(extra, columns, entity="e") == ["site_name", "parish", "altitude"]


def test_nothing_to_do_returns_the_same_table():
    table = pd.DataFrame({"a": [1]})
    assert evaluate(table, {}) is table and evaluate(table, {"a": 2}) is table
