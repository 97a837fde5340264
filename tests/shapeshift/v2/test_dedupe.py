"""Format-2 `drop_duplicates` and the functional-dependency check (format-v2.md 9)."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift.errors import EntityError
from shapeshift.issues import IssueCode
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.dedupe import (
    DedupeSetting,
    FunctionalDependencyError,
    dedupe_setting,
    drop_duplicates,
    is_delayed,
)
from shapeshift.v2.extract import SubTable, extract
from tests.shapeshift.v2.transforms_support import (
    assert_same,
    entity_config,
    expected,
    needs_corpus,
    read_input,
)


def extracted(entity: str, report: EntityReport) -> pd.DataFrame:
    """Case 14's entity extracted (de-duplicated per sub-table) and de-duplicated again (6.3 step 6)."""
    config = entity_config("14", entity)
    table = extract(read_input("14", entity), SubTable(config), entity=entity, project_raw={}, report=report)
    return drop_duplicates(table, dedupe_setting(config, {}), entity=entity, report=report)


@needs_corpus
@pytest.mark.parametrize("entity", ["whole_rows", "fd_not_strict", "fd_off_top_level", "missing_column"])
def test_the_successful_entities_of_case_14(entity):
    table = extracted(entity, EntityReport(entity))
    assert_same(table, expected("14", entity), columns=entity_config("14", entity)["columns"])


@needs_corpus
@pytest.mark.parametrize(("entity", "keys"), [("by_key_fd_holds", "[nan]"), ("by_key_fd_violated", "['S1']")])
def test_a_violated_dependency_fails_the_entity(entity, keys):
    with pytest.raises(FunctionalDependencyError) as caught:
        extracted(entity, EntityReport(entity))
    assert f"vary within keyset: {keys}" in str(caught.value) and f"entity '{entity}'" in str(caught.value)
    assert isinstance(caught.value, EntityError)


@needs_corpus
def test_a_non_strict_violation_is_reported_and_the_first_row_kept():
    report = EntityReport("fd_not_strict")
    extracted("fd_not_strict", report)
    assert [i.code for i in report.issues] == [IssueCode.DROP_DUPLICATES_FD_VIOLATION]
    assert "vary within keyset: ['S1']" in report.warnings[0]


@needs_corpus
def test_a_missing_column_drops_nothing_and_warns():
    report = EntityReport("missing_column")
    extracted("missing_column", report)
    assert report.issues[0].code is IssueCode.DROP_DUPLICATES_COLUMNS_MISSING
    assert "['nosuch']" in report.warnings[0]


@needs_corpus
def test_a_plain_string_names_one_column():
    """format-v2.md 20 #12: the reference splits 'site' into characters and drops nothing (case 14
    `string_form`); we read it as [site], so the FD check of the list form applies (and fails here,
    like `by_key_fd_holds`, which has the same columns)."""
    config = entity_config("14", "string_form")
    assert dedupe_setting(config) == DedupeSetting(True, ["site"])
    with pytest.raises(FunctionalDependencyError, match=r"\[nan\]"):
        extracted("string_form", EntityReport("string_form"))


@pytest.mark.parametrize(
    ("raw", "setting"),
    [
        ({}, DedupeSetting(False, [])),
        ({"drop_duplicates": False}, DedupeSetting(False, [])),
        ({"drop_duplicates": []}, DedupeSetting(False, [])),
        ({"drop_duplicates": {"columns": False}}, DedupeSetting(False, [])),
        ({"drop_duplicates": True}, DedupeSetting(True, None)),
        ({"drop_duplicates": ["a", "b", "a"]}, DedupeSetting(True, ["a", "b"])),
        (
            {"drop_duplicates": {"columns": True, "check_functional_dependency": False}},
            DedupeSetting(True, None, False),
        ),
        (
            {"drop_duplicates": {"columns": ["a"], "strict_functional_dependency": False}},
            DedupeSetting(True, ["a"], True, False),
        ),
        (  # entity-level switches win over the mapping's
            {
                "drop_duplicates": {"columns": ["a"], "check_functional_dependency": True},
                "check_functional_dependency": False,
            },
            DedupeSetting(True, ["a"], False, True),
        ),
    ],
)
def test_the_forms_of_9_1(raw, setting):
    assert dedupe_setting(raw, {}) == setting
    assert bool(dedupe_setting(raw, {})) is setting.enabled


def test_delayed_only_when_the_list_names_an_unnest_column():
    assert is_delayed({"drop_duplicates": ["site", "value"]}, ["variable", "value"])
    assert is_delayed({"drop_duplicates": {"columns": ["variable"]}}, ["variable", "value"])
    assert not is_delayed({"drop_duplicates": ["site"]}, ["variable", "value"])
    assert not is_delayed({"drop_duplicates": True}, ["variable", "value"])
    assert not is_delayed({"drop_duplicates": ["value"]}, [])


def test_whole_rows_has_no_fd_check_and_renumbers():
    table = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "x", "y"]}, index=[10, 11, 12])
    result = drop_duplicates(
        table, dedupe_setting({"drop_duplicates": True}), entity="e", report=EntityReport("e")
    )
    assert result.index.tolist() == [0, 1] and result["b"].tolist() == ["x", "y"]


def test_many_violations_are_cut_to_five_with_tuples_for_several_columns():
    table = pd.DataFrame({"a": [1] * 14 + [None, None], "b": list("xxyyzzuuvvwwqq") + ["m", "m"]})
    table["c"] = range(16)
    with pytest.raises(FunctionalDependencyError) as caught:
        drop_duplicates(table, DedupeSetting(True, ["a", "b"]), entity="e", report=EntityReport("e"))
    assert "[(1.0, 'x'), (1.0, 'y'), (1.0, 'z'), (1.0, 'u'), (1.0, 'v')] (showing first 5 of 8)" in str(
        caught.value
    )


def test_a_null_and_a_value_differ_and_categorical_columns_work():
    table = pd.DataFrame({"k": ["a", "a", "b"], "v": ["x", None, "y"]}).astype("category")
    with pytest.raises(FunctionalDependencyError, match=r"\['a'\]"):
        drop_duplicates(table, DedupeSetting(True, ["k"]), entity="e", report=EntityReport("e"))
    agreeing = pd.DataFrame({"k": ["a", "a", "b"], "v": ["x", "x", "y"]}).astype("category")
    result = drop_duplicates(agreeing, DedupeSetting(True, ["k"]), entity="e", report=EntityReport("e"))
    assert result["v"].tolist() == ["x", "y"]
