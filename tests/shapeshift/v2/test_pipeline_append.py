"""format-v2.md 15: the configuration of append items and the renaming of source-based items."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import EntitySpec
from shapeshift.errors import EntityError
from shapeshift.v2.append import item_config, item_label, rename_item_columns

TREE = EntitySpec.from_raw(
    "tree",
    {"type": "csv", "public_id": "tree_id", "keys": ["code"], "columns": ["code", "name", "extra"]},
    format_version=2,
)
ENTITIES = {"tree": TREE}
# [C26] taxon (fixed) with three append items
TAXON = {
    "type": "fixed",
    "public_id": "taxon_id",
    "keys": ["taxon_code"],
    "columns": ["taxon_id", "taxon_code", "taxon_name"],
    "extra_columns": {"origin": "{taxon_code}@fixed"},
    "values": [[500, "a", "Alnus"]],
    "foreign_keys": [{"entity": "x", "local_keys": ["k"], "remote_keys": ["k"]}],
    "depends_on": ["x"],
    "append_mode": "all",
}


def test_a_type_based_item_inherits_all_but_the_never_inherited_keys():
    config = item_config(TAXON, {"type": "fixed", "values": [["b", "Betula"]]}, ENTITIES)
    assert config == {
        "type": "fixed",
        "public_id": "taxon_id",
        "keys": ["taxon_code"],
        "columns": ["taxon_code", "taxon_name"],  # the parent's public_id is removed
        "extra_columns": {"origin": "{taxon_code}@fixed"},
        "values": [["b", "Betula"]],
    }


def test_a_source_based_item_does_not_inherit_loader_keys():
    # [C25] cultural_group: `- source: legacy_culture` does not read cultures.csv nor fixed values
    parent = {
        "type": "csv",
        "public_id": "cultural_group_id",
        "keys": ["culture"],
        "columns": ["culture", "culture_en", "cultural_group_id"],
        "options": {"filename": "cultures.csv"},
        "query": "select 1",
        "data_source": "db",
        "values": [["x"]],
        "drop_duplicates": True,
    }
    config = item_config(parent, {"source": "legacy_culture"}, ENTITIES)
    assert config == {
        "public_id": "cultural_group_id",
        "keys": ["culture"],
        "columns": ["culture", "culture_en"],
        "options": {"filename": "cultures.csv"},
        "drop_duplicates": True,
        "source": "legacy_culture",
    }


def test_a_renaming_item_takes_the_source_entity_columns_and_keys():
    # [C26] the column_mapping item carries `extra` because it takes tree's columns
    item = {
        "type": "entity",
        "source": "tree",
        "column_mapping": {"code": "taxon_code", "name": "taxon_name"},
    }
    config = item_config(TAXON, item, ENTITIES)
    assert config["columns"] == ["code", "name", "extra"] and config["keys"] == ["code"]
    aligned = item_config(
        TAXON, {"source": "tree", "align_by_position": True, "columns": ["code", "name"]}, ENTITIES
    )
    assert aligned["columns"] == ["code", "name"] and aligned["keys"] == ["code"]


def test_column_mapping_renames_and_keeps_unmapped_columns():
    item = {
        "type": "entity",
        "source": "tree",
        "column_mapping": {"code": "taxon_code", "name": "taxon_name"},
    }
    table = pd.DataFrame({"code": ["q"], "name": ["Quercus"], "extra": [1]})
    out = rename_item_columns(table, item, TAXON, ENTITIES, label=item_label("taxon", 0))
    assert list(out.columns) == ["taxon_code", "taxon_name", "extra"]


def test_align_by_position_pairs_the_parent_columns_without_ids():
    item = {"source": "tree", "align_by_position": True, "columns": ["code", "name"]}
    table = pd.DataFrame({"code": ["q"], "name": ["Quercus"], "tree_id": [None], "system_id": [1]})
    out = rename_item_columns(table, item, TAXON, ENTITIES, label=item_label("taxon", 1))
    assert list(out.columns) == ["taxon_code", "taxon_name", "tree_id", "system_id"]


def test_bad_renamings_fail_with_the_reference_messages():
    # [C26] bad_align and bad_mapping (messages from expected/_run.json)
    parent = {"type": "fixed", "public_id": "bad_align_id", "keys": [], "columns": ["k"], "values": [["z"]]}
    table = pd.DataFrame({"code": ["q"], "name": ["Quercus"]})
    align = {"source": "tree", "align_by_position": True, "columns": ["code", "name"]}
    with pytest.raises(EntityError) as error:
        rename_item_columns(table, align, parent, ENTITIES, label=item_label("bad_align", 0))
    assert str(error.value) == (
        "Column count mismatch for align_by_position in bad_align__append_0: parent has 1 columns ['k'], "
        "append has 2 columns ['code', 'name']"
    )
    with pytest.raises(EntityError, match=r"column_mapping not found in bad_mapping__append_0: \['nosuch'\]"):
        rename_item_columns(
            table,
            {"source": "tree", "column_mapping": {"nosuch": "k"}},
            parent,
            ENTITIES,
            label="bad_mapping__append_0",
        )
