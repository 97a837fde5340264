"""format-v2.md 5 and 6.6: system_id, public_id and the final column order of an entity."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import EntitySpec, IssueCode
from shapeshift.errors import EntityError
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.identity import add_identity, column_order


def spec(name: str, **raw) -> EntitySpec:
    return EntitySpec.from_raw(name, raw, format_version=2)


def test_it_adds_system_id_first_and_an_empty_public_id():
    # [C01] trench.csv: system_id,trench_id,trench,trench_name with 1..n and an empty trench_id
    table = pd.DataFrame(
        {"trench": ["T1", "T2", "T3"], "trench_name": ["North", "South", "West"]}, index=[4, 7, 9]
    )
    out = add_identity(table, spec("trench", public_id="trench_id"), report=EntityReport("trench"))
    assert list(out.columns) == ["system_id", "trench", "trench_name", "trench_id"]
    assert out["system_id"].tolist() == [1, 2, 3] and out["system_id"].dtype == "int64"
    assert out["trench_id"].dtype == object and out["trench_id"].isna().all()


def test_it_keeps_given_public_id_values():
    # [C04] era: public_id listed in columns keeps 101, 102
    table = pd.DataFrame({"era_id": [101, 102], "era": ["Bronze", "Iron"]})
    out = add_identity(table, spec("era", type="fixed", public_id="era_id"), report=EntityReport("era"))
    assert out["era_id"].tolist() == [101, 102]


def test_it_fills_null_fixed_system_ids_from_the_largest_on():
    # format-v2.md 20 #10: the reference's own helper fills nulls from max+1
    table = pd.DataFrame({"system_id": [5, None, 2], "phase": ["a", "b", "c"]})
    out = add_identity(table, spec("phase", type="fixed", public_id="phase_id"), report=EntityReport("phase"))
    assert out["system_id"].tolist() == [5, 6, 2] and out["system_id"].dtype == "int64"


def test_it_rejects_repeated_fixed_system_ids():
    # [C04] phase: [5, null, 2, 2] repeats 2 (format-v2.md 20 #10: reject duplicates)
    table = pd.DataFrame({"system_id": [5, None, 2, 2], "phase": ["a", "b", "c", "d"]})
    with pytest.raises(
        EntityError, match=r"entity 'phase': system_id values must be unique, repeated: \[2\]"
    ):
        add_identity(table, spec("phase", type="fixed", public_id="phase_id"), report=EntityReport("phase"))


def test_it_renumbers_ids_copied_twice_into_a_non_fixed_entity():
    # format-v2.md 20 #36: source ids copied by append items repeat; renumbered unless fixed
    report = EntityReport("taxon")
    table = pd.DataFrame({"system_id": [1, 2, 1, 2], "code": ["q", "p", "q", "p"]})
    out = add_identity(table, spec("taxon", public_id="taxon_id"), report=report)
    assert out["system_id"].tolist() == [1, 2, 3, 4]
    assert [i.code for i in report.issues] == [IssueCode.SYSTEM_ID_RENUMBERED]


def test_it_orders_columns_as_the_reference():
    # [C01] find.csv header; [C28] analysis_entity header (extra column `kind`, FK remote site)
    entities = {
        "trench": spec("trench", public_id="trench_id"),
        "material": spec("material", public_id="material_id"),
        "site": spec("site", public_id="site_id"),
    }
    find = spec(
        "find",
        public_id="find_id",
        foreign_keys=[
            {"entity": "trench", "local_keys": ["trench"], "remote_keys": ["trench"]},
            {"entity": "material", "local_keys": ["material"], "remote_keys": ["material"]},
        ],
    )
    columns = ["find", "weight", "trench", "material", "trench_id", "material_id", "system_id", "find_id"]
    assert column_order(pd.DataFrame(columns=columns), find, entities) == [
        "system_id",
        "find_id",
        "material_id",
        "trench_id",
        "find",
        "material",
        "trench",
        "weight",
    ]
    merged = spec(
        "analysis_entity",
        type="merged",
        public_id="analysis_entity_id",
        extra_columns={"kind": "{analysis_entity_branch}:{sample}"},
        foreign_keys=[{"entity": "site", "local_keys": ["site"], "remote_keys": ["site"], "how": "left"}],
    )
    columns = [
        "value",
        "method",
        "analysis_entity_branch",
        "dendro_id",
        "pollen_id",
        "sample",
        "site",
        "kind",
        "site_id",
        "site_site",
        "system_id",
        "analysis_entity_id",
    ]
    header = (
        "system_id,analysis_entity_id,site_id,kind,analysis_entity_branch,dendro_id,method,pollen_id,"
        "sample,site,site_site,value"
    )
    assert column_order(pd.DataFrame(columns=columns), merged, entities) == header.split(",")


def test_it_sorts_other_columns_in_python_string_order():
    # 6.6: '' < digits < upper case < '_' < lower case
    names = ["b", "_x", "B", "1", "a"]
    assert column_order(pd.DataFrame(columns=names), spec("e"), {}) == ["1", "B", "_x", "a", "b"]
