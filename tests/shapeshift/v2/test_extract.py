"""Format-2 extraction of one sub-table (format-v2.md 6.4)."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift.issues import IssueCode
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.dedupe import FunctionalDependencyError
from shapeshift.v2.extract import SubTable, extract, requested_columns
from tests.shapeshift.v2.transforms_support import (
    assert_same,
    entity_config,
    expected,
    needs_corpus,
    read_input,
)


def run(source: pd.DataFrame, sub: SubTable, report: EntityReport | None = None) -> pd.DataFrame:
    return extract(source, sub, entity="e", project_raw={}, report=report or EntityReport("e"))


def test_requested_columns_in_the_order_of_6_4_step_1():
    config = {
        "keys": ["site", "code"],
        "columns": ["name", "site", "var", "fk_text", "altitude", "name"],
        "extra_columns": {"altitude": 0},
    }
    sub = SubTable(
        config, fk_local_keys=["grp", "code", "var"], fk_extra_names=["fk_text"], unnest_names=["var", "val"]
    )
    assert requested_columns(sub) == ["site", "code", "name", "grp"]


def test_source_order_then_requested_first_and_helpers_dropped():
    source = pd.DataFrame({"Parish": ["L"], "b": [2], "a": [1], "x": ["X"], "c": [3]})
    config = {"keys": ["a"], "columns": ["c", "b"], "extra_columns": {"p": "parish", "i": "{x}{c}"}}
    table = run(source, SubTable(config))
    assert list(table.columns) == ["a", "c", "b", "p", "i"]
    assert table.loc[0].tolist() == [1, 3, 2, "L", "X3"]


def test_missing_requested_columns_are_warned_about_once_with_a_suggestion():
    report = EntityReport("e")
    table = run(
        pd.DataFrame({"Site": ["S1"], "name": ["n"]}), SubTable({"columns": ["site", "name"]}), report
    )
    assert list(table.columns) == ["name"]
    assert [i.code for i in report.issues] == [IssueCode.COLUMNS_MISSING]
    assert "['site']" in report.warnings[0] and "'site' -> 'Site'" in report.issues[0].suggestion


def test_a_sub_table_without_any_column_keeps_its_rows():
    table = run(pd.DataFrame({"x": [1, 2, 3]}), SubTable({"columns": ["nosuch"]}))
    assert table.shape == (3, 0)


def test_dedupe_runs_after_extra_columns_unless_delayed():
    source = pd.DataFrame({"site": ["S1", "S1"], "name": ["a", "b"]})
    config = {"keys": ["site"], "columns": ["site"], "drop_duplicates": True, "extra_columns": {"n": "name"}}
    assert len(run(source, SubTable(config))) == 2  # the copy keeps the rows apart
    listed = {"keys": ["site"], "columns": ["site", "name"], "drop_duplicates": ["site"]}
    with pytest.raises(FunctionalDependencyError):
        run(source, SubTable(listed))
    assert len(run(source, SubTable(listed, delayed_dedupe=True))) == 2


def test_replacements_come_last():
    source = pd.DataFrame({"crs": ["WGS84"]})
    config = {
        "columns": ["crs"],
        "extra_columns": {"original": "crs"},
        "replacements": {"crs": {"WGS84": "4326"}},
    }
    assert run(source, SubTable(config)).loc[0].tolist() == ["4326", "WGS84"]


@needs_corpus
@pytest.mark.parametrize(("entity", "alias"), [("context_note", "context_id"), ("context_plain", None)])
def test_the_source_identity_alias_of_case_3(entity, alias):
    store_table = read_input("03", "context")
    store_table.insert(0, "system_id", range(1, len(store_table) + 1))  # the store keeps ids (5.1)
    config = entity_config("03", entity)
    table = run(store_table, SubTable(config, alias=alias))
    assert "system_id" not in table.columns
    assert_same(table, expected("03", entity), columns=[c for c in table.columns])


@needs_corpus
def test_a_constant_extra_column_of_case_34_is_added_at_extraction():
    config = entity_config("34", "all_columns_with_constant")
    table = run(read_input("34", "all_columns_with_constant"), SubTable(config))
    assert_same(table, expected("34", "all_columns_with_constant"), columns=["k", "a", "b"])
