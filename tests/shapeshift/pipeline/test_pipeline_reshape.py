"""Spec 2.14-2.19: unnest, delayed de-duplication with the FD check, drop_empty_rows, ids,
finalisation, translation and mappings (verified examples)."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import IssueCode
from shapeshift.pipeline.finalise import finalise_table, translation_map
from shapeshift.pipeline.report import EntityReport
from shapeshift.pipeline.reshape import drop_empty_rows
from tests.shapeshift.engine_support import frame, rows


def wide_text_table(columns: int) -> pd.DataFrame:
    """`columns` text columns (a, '', b) read as category, one block each, as read_csv makes them."""
    values = pd.Categorical.from_codes([1, 0, 2], categories=["", "a", "b"])
    return pd.DataFrame({f"c{i}": values for i in range(columns)}, copy=False)


COORDINATES = """
entities:
  survey:
    columns: [sample, X, Y, Z]
  sample:
    surrogate_id: sample_id
    keys: [sample]
    columns: [sample]
    drop_duplicates: true
  dimension:
    type: fixed
    surrogate_id: dimension_id
    columns: [code, dimension_name]
    values: [[X, Easting], [Y, Northing], [Z, Altitude]]
  coordinate:
    surrogate_id: coordinate_id
    keys: []
    columns: [X, Y, Z]
    extra_columns: {source_note: imported}
    unnest:
      id_vars: %s
      value_vars: %s
      var_name: coord_type
      value_name: coord_value
    foreign_keys:
      - {entity: sample, local_keys: [sample], remote_keys: [sample]}
      - {entity: dimension, local_keys: [coord_type], remote_keys: [code]}
    drop_duplicates: [sample, coord_type]
    drop_empty_rows: [coord_value]
"""


def survey(second_p1="10"):
    return frame(f"sample,X,Y,Z\nP1,10,11,12\nP1,{second_p1},11,12\nP2,30,,32").astype(
        {"X": float, "Y": float, "Z": float}
    )


def test_2_14_unnest_example(ws):
    result = ws.run(COORDINATES % ("[sample]", "[X, Y, Z]"), inputs={"survey": survey()})
    coordinate = result.outcome("coordinate").table
    assert list(coordinate.columns) == [
        "sample",
        "coord_type",
        "coord_value",
        "sample_id",
        "dimension_id",
        "code",
        "coordinate_id",
    ]
    assert rows(coordinate) == [
        ("P1", "X", 10.0, 1, 1, "X", 1),
        ("P2", "X", 30.0, 2, 1, "X", 2),
        ("P1", "Y", 11.0, 1, 2, "Y", 3),
        ("P1", "Z", 12.0, 1, 3, "Z", 4),
        ("P2", "Z", 32.0, 2, 3, "Z", 5),
    ]
    assert list(result.tables["coordinate"].columns) == [
        "system_id",
        "coordinate_id",
        "dimension_id",
        "sample_id",
        "code",
        "coord_type",
        "coord_value",
        "sample",
    ]


def test_2_15_functional_dependency_violation_fails_entity(ws):
    result = ws.run(COORDINATES % ("[sample]", "[X, Y, Z]"), inputs={"survey": survey("99")})
    coordinate = result.outcome("coordinate")
    assert coordinate.status == "failed"
    assert "[fd_check]: inconsistent non-subset values for keys: [('P1', 'X')]" in coordinate.error


def test_2_14_unnest_failures(ws):
    config = COORDINATES.replace("columns: [X, Y, Z]\n    extra", "columns: [X, Y]\n    extra").replace(
        "      - {entity: sample, local_keys: [sample], remote_keys: [sample]}\n", ""
    )
    result = ws.run(config % ("[sample]", "[X, Y]"), inputs={"survey": survey()})
    wide = result.outcome("coordinate")
    assert wide.status == "success" and wide.columns == ["X", "Y", "source_note", "coordinate_id"]
    assert any("unnest failed" in w for w in wide.warnings)
    result = ws.run(COORDINATES % ("[sample]", "[X, Q]"), inputs={"survey": survey()})
    assert "coord_value" not in result.outcome("coordinate").columns


def test_2_14_no_value_vars_melts_extra_columns(ws):
    config = (COORDINATES % ("[sample]", "null")).replace("source_note: imported", "k: 1")
    config = config.replace("    drop_duplicates: [sample, coord_type]\n", "").replace(
        "      - {entity: dimension, local_keys: [coord_type], remote_keys: [code]}\n", ""
    )
    result = ws.run(config, inputs={"survey": survey()})
    table = result.outcome("coordinate").table
    k_rows = table[table["coord_type"] == "k"]
    assert len(k_rows) == 3 and set(k_rows["coord_value"]) == {1.0}


def test_2_16_drop_empty_rows(ws):
    data = pd.DataFrame(
        {"a": ["x", "", None, "y"], "b": ["", "", None, "z"], "status": ["ok", "unknown", "", "ok"]},
        dtype=object,
    )
    result = ws.run(
        """
    entities:
      survey: {columns: [a, b, status]}
      all_cols: {columns: [a, b], drop_empty_rows: true}
      with_constant: {columns: [a, b], extra_columns: {k: 1}, drop_empty_rows: true}
      listed: {columns: [a, b, status], drop_empty_rows: [a, b]}
      mapped: {columns: [a, status], drop_empty_rows: {status: [unknown, ""]}}
    """,
        inputs={"survey": data},
    )
    assert rows(result.outcome("all_cols").table) == [("x", None), ("y", "z")]
    assert result.outcome("all_cols").table.iloc[0, 1] is pd.NA
    assert len(result.outcome("with_constant").table) == 4
    assert rows(result.outcome("listed").table) == [("x", None, "ok"), ("y", "z", "ok")]
    assert rows(result.outcome("mapped").table) == [("x", "ok"), ("y", "ok")]


def test_2_17_surrogate_id_kept_when_column_exists(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [site, site_id]}
      site: {surrogate_id: site_id, keys: [site], columns: [site, site_id]}
    """,
        inputs={"survey": frame("site,site_id\nA,7\nB,9")},
    )
    assert rows(result.outcome("site").table) == [("A", "7"), ("B", "9")]


def test_2_19_system_id_kept_when_it_exists(ws):
    result = ws.run("""
    entities:
      taxa:
        type: fixed
        surrogate_id: taxon_id
        columns: [name]
        extra_columns: {system_id: 0}
        values: [Oak, Elm]
    """)
    assert rows(result.tables["taxa"]) == [(0, 1, "Oak"), (0, 2, "Elm")]


MAPPING_EXAMPLE = """
entities:
  survey:
    columns: [Befu, ProbNr, BefuTyp]
  feature_type:
    surrogate_id: feature_type_id
    keys: [BefuTyp]
    columns: [BefuTyp]
    drop_duplicates: true
  sample:
    surrogate_id: sample_id
    keys: [ProbNr]
    columns: [ProbNr, Befu, BefuTyp]
    extra_columns: {sample_name: ProbNr}
    foreign_keys:
      - {entity: feature_type, local_keys: [BefuTyp], remote_keys: [BefuTyp]}
translation: "@load: options.translations"
options:
  translations: {filename: tr.tsv, delimiter: "\\t"}
mappings:
  feature_type:
    local_key: BefuTyp
    remote_key: feature_type_id
    mapping: {Pit: 26, "": 27, null: 28}
"""


def test_2_19_5_translation_and_mappings(ws):
    ws.write("tr.tsv", "arbodat_field\tenglish_column_name\nProbNr\tsample_number\nBefu\tfeature\n")
    data = pd.DataFrame(
        {
            "Befu": ["F1", "F2", "F3", "F4"],
            "ProbNr": ["P1", "P2", "P3", "P4"],
            "BefuTyp": ["Pit", "Wall", None, ""],
        },
        dtype=object,
    )
    result = ws.run(MAPPING_EXAMPLE, inputs={"survey": data}, translate=True)
    feature_type = result.tables["feature_type"]
    assert list(feature_type.columns) == ["system_id", "feature_type_id", "BefuTyp"]
    assert rows(feature_type) == [(1, 26.0, "Pit"), (2, None, "Wall"), (3, 28.0, None), (4, 27.0, "")]
    sample = result.tables["sample"]
    assert list(sample.columns) == [
        "system_id",
        "sample_id",
        "feature_type_id",
        "sample_name",
        "BefuTyp",
        "feature",
        "sample_number",
    ]
    assert rows(sample) == [
        (1, None, 1, "P1", "Pit", "F1", "P1"),
        (2, None, 2, "P2", "Wall", "F2", "P2"),
        (3, None, 3, "P3", None, "F3", "P3"),
        (4, None, 4, "P4", "", "F4", "P4"),
    ]


def test_drop_foreign_keys_option(ws):
    data = pd.DataFrame({"Befu": ["F1"], "ProbNr": ["P1"], "BefuTyp": ["Pit"]}, dtype=object)
    ws.write("tr.tsv", "arbodat_field\tenglish_column_name\n")
    config = MAPPING_EXAMPLE.replace("columns: [ProbNr, Befu, BefuTyp]", "columns: [ProbNr, Befu]")
    result = ws.run(config, inputs={"survey": data}, drop_foreign_keys=True)
    assert "BefuTyp" not in result.tables["sample"].columns


def test_section_6_mappings_and_translation_under_options(ws):
    ws.write("tr.tsv", "arbodat_field\tenglish_column_name\nProbNr\tsample_number\nBefu\tfeature\n")
    config = MAPPING_EXAMPLE.replace('translation: "@load: options.translations"\n', "").replace(
        "options:\n", 'options:\n  translation: "@load: options.translations"\n'
    )
    config = config.replace("mappings:\n  feature_type:", "  mappings:\n    feature_type:").replace(
        "    local_key: BefuTyp\n    remote_key: feature_type_id\n    mapping:",
        "      local_key: BefuTyp\n      remote_key: feature_type_id\n      mapping:",
    )
    data = pd.DataFrame({"Befu": ["F1"], "ProbNr": ["P1"], "BefuTyp": ["Pit"]}, dtype=object)
    result = ws.run(config, inputs={"survey": data}, translate=True)
    assert rows(result.tables["feature_type"]) == [(1, 26, "Pit")]
    assert "sample_number" in result.tables["sample"].columns


def test_drop_empty_rows_on_a_10000_column_table():
    table = wide_text_table(10_000)

    result = drop_empty_rows(table, True, EntityReport("wide"))

    assert list(result.columns) == list(table.columns)
    assert result["c0"].tolist() == ["a", "b"] and result["c9999"].tolist() == ["a", "b"]
    assert table["c0"].tolist() == ["a", "", "b"]  # the input table is left as it was


def test_finalisation_of_a_10000_column_table_turns_text_back_into_object(ws):
    project = ws.load("entities:\n  other: {type: fixed, surrogate_id: id, columns: [a], values: [1]}\n")
    table = wide_text_table(10_000)

    final = finalise_table("wide", table, project)

    assert list(final.columns) == list(table.columns)
    assert set(final.dtypes.astype(str)) == {"object"}
    assert final["c9999"].tolist() == ["a", "", "b"]


@pytest.mark.parametrize(
    "entity",
    [
        "{columns: [k, v1], drop_duplicates: [k, nope]}",
        # delayed until after the melt, which does not run: the list's unnest column never appears
        "{columns: [k, v1], drop_duplicates: [k, var],"
        " unnest: {id_vars: [k], value_vars: [nope], var_name: var, value_name: value}}",
    ],
    ids=["at_once", "after_unnest"],
)
def test_drop_duplicates_on_missing_columns_is_its_own_finding(ws, entity):
    result = ws.run(
        f"""
    entities:
      survey: {{columns: [k, v1]}}
      child: {entity}
    """,
        inputs={"survey": frame("k,v1\na,x\na,x")},
    )
    issues = [i for i in result.outcome("child").issues if "drop_duplicates columns not found" in i.message]
    assert [i.code for i in issues] == [IssueCode.DROP_DUPLICATES_COLUMNS_MISSING]
    assert len(result.tables["child"]) == 2  # nothing dropped


def test_a_translation_table_without_its_columns_is_its_own_finding(ws):
    project = ws.load("""
    entities:
      a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1]}
    translation: [{field: ProbNr, column: sample_number}]
    """)
    report = EntityReport("a")
    assert translation_map(project, report) == {}
    assert [i.code for i in report.issues] == [IssueCode.TRANSLATION_INVALID]
