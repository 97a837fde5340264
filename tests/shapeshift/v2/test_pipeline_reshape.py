"""format-v2.md 13 (unnest), 6.3 step 13 (duplicate keys) and 14 (drop_empty_rows) in format 2."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import IssueCode
from shapeshift.config.model import UnnestSpec
from shapeshift.errors import EntityError
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.reshape import check_unnest_settings, drop_empty_rows, report_duplicate_keys, unnest
from tests.shapeshift.engine_support import rows

# [C34] rows.csv read with dtype: str, keep_default_na: false (empty cells are "")
ROWS = pd.DataFrame({"a": ["x", "", "", "y"], "b": ["", "", "", "z"], "status": ["ok", "unknown", "", "ok"]})


def test_drop_empty_rows_true_checks_every_column_and_writes_nulls():
    # [C34] all_columns: rows 2 and 3 are empty in a and b; x's empty b is written as null
    out = drop_empty_rows(ROWS[["a", "b"]], True, report=EntityReport("all_columns"))
    assert rows(out) == [("x", None), ("y", "z")]


def test_drop_empty_rows_true_keeps_every_row_with_a_constant():
    # [C34] all_columns_with_constant: k = 1 keeps all four rows
    table = ROWS[["a", "b"]].assign(k=1)
    out = drop_empty_rows(table, True, report=EntityReport("e"))
    assert rows(out) == [("x", None, 1), (None, None, 1), (None, None, 1), ("y", "z", 1)]


def test_drop_empty_rows_list_checks_those_columns():
    # [C34] listed_columns
    out = drop_empty_rows(ROWS, ["a", "b"], report=EntityReport("e"))
    assert rows(out) == [("x", None, "ok"), ("y", "z", "ok")]


def test_drop_empty_rows_mapping_counts_empty_text_as_empty_too():
    # [C34] value_mapping: `unknown` and "" both empty in status (format 1: only `unknown`)
    out = drop_empty_rows(ROWS[["a", "status"]], {"status": ["unknown"]}, report=EntityReport("e"))
    assert rows(out) == [("x", "ok"), ("y", "ok")]


def test_drop_empty_rows_with_a_missing_column_warns_and_drops_nothing():
    report = EntityReport("e")
    out = drop_empty_rows(ROWS, ["a", "nosuch"], report=report)
    assert out is ROWS
    assert [i.code for i in report.issues] == [IssueCode.DROP_EMPTY_COLUMNS_MISSING]
    assert "['nosuch']" in report.issues[0].message


def test_unnest_settings_need_var_name_and_value_name():
    with pytest.raises(EntityError, match="missing var_name or value_name"):
        check_unnest_settings("coordinate", UnnestSpec.from_raw({"id_vars": ["sample"], "var_name": "v"}))


def test_unnest_without_value_vars_melts_every_other_column():
    # [C24] melt_all: the constant k is melted into rows too (rows grouped by variable)
    table = pd.DataFrame({"sample": ["P1", "P2"], "x": [1, 3], "y": [2.0, None], "k": [1, 1]})
    spec = UnnestSpec.from_raw({"id_vars": ["sample"], "var_name": "var", "value_name": "val"})
    out = unnest(table, spec, entity="melt_all", extra_columns={"k": 1})
    assert rows(out) == [
        ("P1", "x", 1.0),
        ("P2", "x", 3.0),
        ("P1", "y", 2.0),
        ("P2", "y", None),
        ("P1", "k", 1.0),
        ("P2", "k", 1.0),
    ]


def test_unnest_with_missing_id_vars_fails_the_entity():
    # [C24] missing_id_vars: the reference logs this and keeps the wide table (format-v2.md 20 #24)
    table = pd.DataFrame({"x": [1, 3], "y": [2.0, None]})
    spec = UnnestSpec.from_raw(
        {"id_vars": ["sample"], "value_vars": ["x", "y"], "var_name": "v", "value_name": "w"}
    )
    with pytest.raises(EntityError, match=r"missing `id_vars` columns: \['sample'\]"):
        unnest(table, spec, entity="missing_id_vars", extra_columns={})


def test_unnest_with_missing_value_vars_fails_the_entity():
    table = pd.DataFrame({"sample": ["P1"], "x": [1]})
    spec = UnnestSpec.from_raw(
        {"id_vars": ["sample"], "value_vars": ["x", "y"], "var_name": "v", "value_name": "w"}
    )
    with pytest.raises(EntityError, match=r"missing `value_vars` columns: \['y'\]"):
        unnest(table, spec, entity="e", extra_columns={})


def test_unnest_keeps_copies_of_other_columns_as_id_columns():
    # [C08] coordinate_lower `copy_x: X` copies x; the reference loses it in the melt and re-adds
    # the constant text 'X' (format-v2.md 20 #25); kept as an id column it keeps x's values
    table = pd.DataFrame({"sample": ["P1", "P2"], "x": [10, 30], "y": [11.0, None], "copy_x": [10, 30]})
    spec = UnnestSpec.from_raw(
        {"id_vars": ["sample"], "value_vars": ["x", "y"], "var_name": "axis", "value_name": "value"}
    )
    out = unnest(
        table, spec, entity="coordinate_lower", extra_columns={"label": "{sample}-{axis}", "copy_x": "X"}
    )
    assert rows(out, ["sample", "copy_x", "axis", "value"]) == [
        ("P1", 10, "x", 10.0),
        ("P2", 30, "x", 30.0),
        ("P1", 10, "y", 11.0),
        ("P2", 30, "y", None),
    ]


def test_unnest_does_nothing_when_the_value_column_exists():
    table = pd.DataFrame({"sample": ["P1"], "value": [1]})
    spec = UnnestSpec.from_raw(
        {"id_vars": ["sample"], "value_vars": ["x"], "var_name": "axis", "value_name": "value"}
    )
    assert unnest(table, spec, entity="e", extra_columns={}) is table


def test_duplicate_keys_are_reported_not_dropped():
    # [C25] distinct_mode_only logs "DUPLICATE KEYS FOUND FOR KEYS {'culture'}" and keeps its rows
    report = EntityReport("distinct_mode_only")
    report_duplicate_keys(pd.DataFrame({"culture": ["Roman", "Viking", "Roman"]}), ["culture"], report)
    assert [i.code for i in report.issues] == [IssueCode.DUPLICATE_KEYS]
    quiet = EntityReport("e")
    report_duplicate_keys(pd.DataFrame({"culture": ["Roman"]}), ["culture", "missing"], quiet)
    assert quiet.issues == []
