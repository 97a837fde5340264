"""format-v2.md 16: the branch sub-tables of a `type: merged` entity."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import EntitySpec
from shapeshift.errors import EntityError
from shapeshift.v2.merged import branch_parts


def spec(name: str, **raw) -> EntitySpec:
    return EntitySpec.from_raw(name, raw, format_version=2)


# [C28]: dendro's key `sample` and FK key `site` are not among its `columns`
ENTITIES = {
    "dendro": spec("dendro", public_id="dendro_id", keys=["sample"], columns=["value", "method"]),
    "pollen": spec(
        "pollen", public_id="pollen_id", keys=["sample"], columns=["sample", "value", "site", "method"]
    ),
    "analysis_entity": spec(
        "analysis_entity",
        type="merged",
        public_id="analysis_entity_id",
        keys=["sample"],
        columns=["sample"],
        branches=[{"name": "d", "source": "dendro"}, {"name": "p", "source": "pollen"}, {"name": "nothing"}],
    ),
}
STORE = {
    # processed tables as in [C28] expected/dendro.csv and pollen.csv
    "dendro": pd.DataFrame(
        {
            "system_id": [1, 2],
            "dendro_id": [None, None],
            "site_id": [1, 1],
            "method": ["dendro", "dendro"],
            "sample": ["P1", "P3"],
            "site": ["S1", "S1"],
            "value": [1.5, 2.5],
        }
    ),
    "pollen": pd.DataFrame(
        {
            "system_id": [1],
            "pollen_id": [None],
            "method": ["pollen"],
            "sample": ["P2"],
            "site": ["S1"],
            "value": [20.0],
        }
    ),
}


def test_a_branch_takes_only_its_source_columns_a_discriminator_and_every_branch_id():
    parts, rows_in = branch_parts(ENTITIES["analysis_entity"], ENTITIES, STORE)
    assert rows_in == 3
    dendro, pollen = parts
    assert dendro.to_dict("list") == {
        "value": [1.5, 2.5],
        "method": ["dendro", "dendro"],
        "analysis_entity_branch": ["d", "d"],
        "dendro_id": [1, 2],
        "pollen_id": [None, None],
    }
    assert pollen.to_dict("list") == {
        "sample": ["P2"],
        "value": [20.0],
        "site": ["S1"],
        "method": ["pollen"],
        "analysis_entity_branch": ["p"],
        "dendro_id": [None],
        "pollen_id": [1],
    }
    assert {str(part[c].dtype) for part in parts for c in ("dendro_id", "pollen_id")} == {"Int64"}


def test_a_branch_without_a_processed_source_fails_the_entity():
    with pytest.raises(EntityError, match="branch 'p': the table of 'pollen' is not available"):
        branch_parts(ENTITIES["analysis_entity"], ENTITIES, {"dendro": STORE["dendro"]})
