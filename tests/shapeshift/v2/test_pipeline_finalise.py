"""format-v2.md 17: finalisation of format-2 tables ([C31] mappings and translation, 17.3)."""

from __future__ import annotations

import pandas as pd

from shapeshift import EntitySpec, IssueCode, Project
from shapeshift.config.resolver import DirectoryResolver
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.finalise import finalise_table, mapping_warning, translation_map
from tests.shapeshift.engine_support import rows

RAW = {
    "metadata": {"type": "shapeshifter-project"},
    "entities": {
        "feature_type": {"public_id": "feature_type_id", "keys": ["befutyp"], "columns": ["befutyp"]},
        "sample": {
            "public_id": "sample_id",
            "keys": ["probnr"],
            "columns": ["probnr", "befu"],
            "foreign_keys": [
                {"entity": "feature_type", "local_keys": ["befutyp"], "remote_keys": ["befutyp"]}
            ],
        },
    },
    "mappings": {"sample": {"local_key": "probnr", "remote_key": "sample_id", "mapping": {"P1": 900}}},
    "translation": [{"arbodat_field": "befutyp", "english_column_name": "ignored"}],
    "options": {
        "translation": [
            {"arbodat_field": "probnr", "english_column_name": "sample_number"},
            {"arbodat_field": "befu", "english_column_name": "feature"},
        ],
        "mappings": {
            "feature_type": {
                "local_key": "befutyp",
                "remote_key": "feature_type_id",
                "mapping": {"Pit": 26, "Wall": 27},
            }
        },
    },
}
PROJECT = Project(
    raw=RAW,
    entities={n: EntitySpec.from_raw(n, r, i, 2) for i, (n, r) in enumerate(RAW["entities"].items())},
    resolver=DirectoryResolver("."),
    main="shapeshifter.yml",
    format_version=2,
)
# [C31] processed tables (expected/ without the mapping)
FEATURE_TYPE = pd.DataFrame(
    {"system_id": [1, 2, 3], "feature_type_id": [None] * 3, "befutyp": ["Pit", "Wall", None]}
)
SAMPLE = pd.DataFrame(
    {
        "system_id": [1, 2, 3],
        "sample_id": [None] * 3,
        "feature_type_id": [1, 2, 3],
        "befu": ["F1", "F2", "F3"],
        "befutyp": ["Pit", "Wall", None],
        "probnr": ["P1", "P2", "P3"],
    }
)


def test_options_mappings_fill_the_public_id_and_unmapped_values_stay_null():
    out = finalise_table("feature_type", FEATURE_TYPE, PROJECT)
    assert out.to_csv(index=False) == "system_id,feature_type_id,befutyp\n1,26.0,Pit\n2,27.0,Wall\n3,,\n"
    assert FEATURE_TYPE["feature_type_id"].isna().all()  # the input is not modified


def test_top_level_mappings_and_translation_are_ignored():
    out = finalise_table("sample", SAMPLE, PROJECT)
    assert out["sample_id"].isna().all()
    assert translation_map(PROJECT) == {"probnr": "sample_number", "befu": "feature"}


def test_translation_renames_in_place():
    # [C31] expected_translate/sample.csv
    out = finalise_table("sample", SAMPLE, PROJECT, translation=translation_map(PROJECT))
    assert list(out.columns) == [
        "system_id",
        "sample_id",
        "feature_type_id",
        "feature",
        "befutyp",
        "sample_number",
    ]


def test_drop_foreign_keys_drops_fk_keys_not_listed_in_columns():
    out = finalise_table("sample", SAMPLE, PROJECT, drop_foreign_keys=True)
    assert "befutyp" not in out.columns and "feature_type_id" in out.columns


def test_a_mapping_whose_local_key_was_translated_away_is_reported():
    translation = {"befutyp": "feature_kind"}
    columns = list(FEATURE_TYPE.columns)
    problem = mapping_warning(
        "feature_type", columns, PROJECT, drop_foreign_keys=False, translation=translation
    )
    assert "local_key 'befutyp' is not a column" in problem
    assert (
        mapping_warning("feature_type", columns, PROJECT, drop_foreign_keys=False, translation=None) is None
    )
    report = EntityReport("feature_type")
    out = finalise_table("feature_type", FEATURE_TYPE, PROJECT, translation=translation, report=report)
    assert rows(out, ["feature_type_id"]) == [(None,), (None,), (None,)]
    assert [i.code for i in report.issues] == [IssueCode.MAPPING_INVALID]
