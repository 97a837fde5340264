"""format-v2.md 6.5: the union of an entity's sub-tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shapeshift import IssueCode
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.concat import concatenate


def test_it_turns_an_all_null_column_into_float_even_in_a_single_part():
    # [C11] `const_null: null` is float64 in the reference's dtypes (6.7: "null constant becomes float64")
    part = pd.DataFrame({"site": ["S1", "S2"], "const_null": [None, None]})
    table = concatenate([part], ["site"], report=EntityReport("site"))
    assert list(table.columns) == ["site", "const_null"]
    assert table["const_null"].dtype == np.float64
    assert table["site"].tolist() == ["S1", "S2"]


def test_it_keeps_the_nullable_integer_ids_of_merged_branches():
    # [C27] analysis_entity: dendro_id and pollen_id are Int64, null in the other branch's rows
    dendro = pd.DataFrame(
        {
            "value": [1.5, 2.5],
            "dendro_id": pd.array([1, 2], dtype="Int64"),
            "pollen_id": pd.array([None, None], dtype="Int64"),
        }
    )
    pollen = pd.DataFrame(
        {
            "value": [20.0, None],
            "dendro_id": pd.array([None, None], dtype="Int64"),
            "pollen_id": pd.array([1, 2], dtype="Int64"),
        }
    )
    table = concatenate([dendro, pollen], [], report=EntityReport("analysis_entity"))
    assert list(table.columns) == ["value", "dendro_id", "pollen_id"]
    assert str(table["dendro_id"].dtype) == "Int64" and str(table["pollen_id"].dtype) == "Int64"
    assert table["dendro_id"].tolist() == [1, 2, pd.NA, pd.NA]
    assert table["pollen_id"].tolist() == [pd.NA, pd.NA, 1, 2]
    assert table.index.tolist() == [0, 1, 2, 3]


def test_it_leaves_out_empty_parts_and_orders_columns_as_first_seen():
    # [C25] from_source_only: a fixed parent with `values: []` filled entirely from its append item
    parent = pd.DataFrame({"culture": pd.Series([], dtype=object)})
    item = pd.DataFrame({"culture": ["Roman", "Celt"], "culture_en": ["Roman", "Celtic"]})
    no_columns = pd.DataFrame(index=range(2))
    table = concatenate([parent, item, no_columns], ["culture"], report=EntityReport("e"))
    assert table.to_dict("list") == {"culture": ["Roman", "Celt"], "culture_en": ["Roman", "Celtic"]}


def test_it_keeps_the_first_part_when_every_part_is_empty():
    # [C29] taxa_no_check: 3 rows without columns survive because the part is the only one
    report = EntityReport("taxa_no_check")
    rows_only = pd.DataFrame(index=range(3))
    table = concatenate([rows_only], ["taxon_code"], report=report)
    assert len(table) == 3 and list(table.columns) == []
    assert [i.code for i in report.issues] == [IssueCode.SUB_TABLES_EMPTY]


def test_it_gives_the_requested_columns_when_there_is_no_part():
    table = concatenate([], ["code", "label"], report=EntityReport("e"))
    assert list(table.columns) == ["code", "label"] and len(table) == 0
