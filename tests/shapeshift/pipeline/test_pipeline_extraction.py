"""Spec 2.2, 2.6 and 2.7: default entity, subsetting, extra columns, de-duplication, replacements,
fixed entities. Expected tables are the spec's verified ones."""

from __future__ import annotations

import pandas as pd

from shapeshift.pipeline.extract import subset
from shapeshift.pipeline.report import EntityReport
from tests.shapeshift.engine_support import SURVEY_CSV, frame, rows

NAN = None  # rows() shows every null as None


def survey():
    return frame(SURVEY_CSV, sep=";")


def test_2_2_csv_entity_without_columns_reads_zero_columns(ws):
    ws.write("survey.csv", SURVEY_CSV)
    config = """
    entities:
      survey:
        type: csv
        options: {filename: survey.csv, sep: ";"}
        %s
      site:
        source: survey
        surrogate_id: site_id
        keys: ["site"]
        columns: ["site", "site_name"]
        drop_duplicates: true
    """
    result = ws.run(config % "")
    site = result.outcome("site")
    assert site.columns == ["site_id"] and rows(site.table) == [(1,), (2,), (3,), (4,)]
    assert any("site_name" in w for w in site.warnings)
    result = ws.run(config % "columns: [site, site_name, sample, taxon, count]")
    assert rows(result.outcome("site").table) == [("S1", "Alpha", 1), ("S2", "Beta", 2)]


def test_2_2_prefilled_default_entity_gives_the_same(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [site, site_name, sample, taxon, count]}
      site: {surrogate_id: site_id, keys: [site], columns: [site, site_name], drop_duplicates: true}
    """,
        inputs={"survey": survey()},
    )
    assert rows(result.outcome("site").table) == [("S1", "Alpha", 1), ("S2", "Beta", 2)]
    # the input table is part of the output, columns sorted
    assert list(result.tables["survey"].columns) == ["count", "sample", "site", "site_name", "taxon"]
    assert list(result.tables) == ["survey", "site"]


def test_no_source_no_default_entity_fails_clearly(ws):
    result = ws.run("entities:\n  site: {keys: [site]}\n")
    assert result.outcome("site").status == "failed"
    assert "Unable to resolve source" in result.outcome("site").error


def test_2_6_1_basic_extraction_and_finalisation(ws):
    result = ws.run(
        """
    entities:
      survey:
        columns: [site, site_name, sample, taxon, count]
      site:
        surrogate_id: site_id
        keys: [site]
        columns: [site_name, site]
        drop_duplicates: true
    """,
        inputs={"survey": survey()},
    )
    processed = result.outcome("site").table
    assert list(processed.columns) == ["site", "site_name", "site_id"]
    assert rows(processed) == [("S1", "Alpha", 1), ("S2", "Beta", 2)]
    final = result.tables["site"]
    assert list(final.columns) == ["system_id", "site_id", "site", "site_name"]
    assert rows(final) == [(1, None, "S1", "Alpha"), (2, None, "S2", "Beta")]
    assert final.to_csv(index=False) == "system_id,site_id,site,site_name\n1,,S1,Alpha\n2,,S2,Beta\n"


def test_2_6_2_drop_duplicates_forms(ws):
    data = frame("sample,taxon,count\nP1,Oak,3\nP1,Pine,1\nP2,Oak,7\nP2,Oak,7")
    result = ws.run(
        """
    entities:
      survey: {columns: [sample, taxon, count]}
      sample_first:      {columns: [sample, taxon, count], drop_duplicates: [sample]}
      sample_all:        {columns: [sample, taxon, count], drop_duplicates: true}
      sample_missingcol: {columns: [sample, taxon, count], drop_duplicates: [sample, nosuchcol]}
      sample_string:     {columns: [sample, taxon, count], drop_duplicates: "sample"}
    """,
        inputs={"survey": data},
    )
    assert rows(result.outcome("sample_first").table) == [("P1", "Oak", "3"), ("P2", "Oak", "7")]
    assert rows(result.outcome("sample_all").table) == [
        ("P1", "Oak", "3"),
        ("P1", "Pine", "1"),
        ("P2", "Oak", "7"),
    ]
    assert len(result.outcome("sample_missingcol").table) == 4
    assert len(result.outcome("sample_string").table) == 3  # any other truthy value acts like true


def test_2_6_3_extra_columns(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [site, site_name, sample, taxon, count]}
      site:
        surrogate_id: site_id
        keys: [site]
        columns: [site]
        extra_columns:
          site_label: site_name
          country: SE
          note: null
          rank: 1
          wrong_case: Site_Name
        drop_duplicates: true
      site_trap:
        surrogate_id: site_trap_id
        keys: [site]
        columns: [site]
        extra_columns:
          first_taxon: taxon
        drop_duplicates: true
    """,
        inputs={"survey": survey()},
    )
    site = result.outcome("site").table
    assert list(site.columns) == [
        "site",
        "site_name",
        "site_label",
        "country",
        "note",
        "rank",
        "wrong_case",
        "site_id",
    ]
    assert rows(site) == [
        ("S1", "Alpha", "Alpha", "SE", None, 1, "Site_Name", 1),
        ("S2", "Beta", "Beta", "SE", None, 1, "Site_Name", 2),
    ]
    trap = result.outcome("site_trap").table
    assert list(trap.columns) == ["site", "taxon", "first_taxon", "site_trap_id"]
    assert rows(trap) == [("S1", "Oak", "Oak", 1), ("S1", "Pine", "Pine", 2), ("S2", "Oak", "Oak", 3)]
    final = result.tables["site"]
    assert list(final.columns) == [
        "system_id",
        "site_id",
        "country",
        "note",
        "rank",
        "site_label",
        "wrong_case",
        "site",
        "site_name",
    ]
    assert rows(final) == [
        (1, None, "SE", None, 1, "Alpha", "Site_Name", "S1", "Alpha"),
        (2, None, "SE", None, 1, "Beta", "Site_Name", "S2", "Beta"),
    ]


def test_2_6_5_replacements(ws):
    data = frame("site,crs\nS1,DHDN Zone 3\nS1,EPSG:31467\nS2,WGS84\nS3,Local")
    result = ws.run(
        """
    entities:
      survey: {columns: [site, crs]}
      site:
        keys: [site]
        columns: [site, crs]
        drop_duplicates: true
        replacements:
          crs: {"DHDN Zone 3": "EPSG:31467", "WGS84": "EPSG:4326"}
          not_a_column: {a: b}
      site_pad:
        columns: [site, crs]
        replacements:
          crs: ["WGS84"]
    """,
        inputs={"survey": data},
    )
    assert rows(result.outcome("site").table) == [
        ("S1", "EPSG:31467"),
        ("S1", "EPSG:31467"),
        ("S2", "EPSG:4326"),
        ("S3", "Local"),
    ]
    assert rows(result.outcome("site_pad").table) == [
        ("S1", "DHDN Zone 3"),
        ("S1", "EPSG:31467"),
        ("S2", "EPSG:31467"),
        ("S3", "Local"),
    ]


def test_replacement_null_key(ws):
    data = frame("site,crs\nS1,\nS2,x")
    result = ws.run(
        """
    entities:
      survey: {columns: [site, crs]}
      site: {columns: [site, crs], replacements: {crs: {null: unknown}}}
    """,
        inputs={"survey": data},
    )
    assert rows(result.outcome("site").table) == [("S1", "unknown"), ("S2", "x")]


def test_2_7_fixed_entities(ws):
    result = ws.run("""
    entities:
      location_type:
        type: fixed
        surrogate_id: location_type_id
        surrogate_name: location_type
        columns: [location_type]
        extra_columns:
          arbodat_code: location_type
          kind: admin
        values: [Town, County, Town]
        drop_duplicates: true
      unit:
        type: fixed
        surrogate_id: unit_id
        keys: [code]
        columns: [code, unit_name]
        values: [[cm, centimetre], [m, metre]]
      master:
        type: fixed
        surrogate_id: master_id
        columns: [master_id, master_name]
        values: [[10, Pilot], [20, Other]]
      lost_values:
        type: fixed
        surrogate_id: lost_values_id
        surrogate_name: code
        values: [a, b]
    """)
    location = result.outcome("location_type").table
    assert list(location.columns) == ["location_type", "arbodat_code", "kind", "location_type_id"]
    assert rows(location) == [("Town", "Town", "admin", 1), ("County", "County", "admin", 2)]
    unit = result.outcome("unit").table
    assert list(unit.columns) == ["code", "unit_name", "unit_id"]
    assert rows(unit) == [("cm", "centimetre", 1), ("m", "metre", 2)]
    master = result.outcome("master").table
    assert list(master.columns) == ["master_id", "master_name"] and rows(master) == [
        (10, "Pilot"),
        (20, "Other"),
    ]
    lost = result.outcome("lost_values").table
    assert list(lost.columns) == ["lost_values_id"] and rows(lost) == [(1,), (2,)]
    assert list(result.tables["master"].columns) == ["system_id", "master_id", "master_name"]
    assert rows(result.tables["master"]) == [(10, None, "Pilot"), (20, None, "Other")]
    assert rows(result.tables["unit"], ["system_id"]) == [(1,), (2,)]


def test_2_7_fixed_loader_errors(ws):
    result = ws.run("""
    entities:
      wrong_length: {type: fixed, surrogate_id: a_id, columns: [a, b], values: [[1, 2], [3]]}
      scalars: {type: fixed, surrogate_id: b_id, columns: [a, b], values: [1, 2]}
      no_name: {type: fixed, surrogate_id: c_id, values: [1, 2]}
      no_values: {type: fixed, surrogate_id: d_id, columns: [a]}
    """)
    errors = {o.name: o.error for o in result.outcomes}
    assert "mismatched number of columns and values" in errors["wrong_length"]
    assert "list of lists" in errors["scalars"]
    assert "surrogate_name or one column" in errors["no_name"]
    assert "no values" in errors["no_values"]


def test_columns_not_strings_fails_and_string_columns_are_characters(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [ab, b]}
      bad: {columns: [ab, 1]}
      chars: {columns: "ab"}
    """,
        inputs={"survey": frame("ab,b,a\n1,2,3")},
    )
    assert result.outcome("bad").status == "failed" and "Invalid columns" in result.outcome("bad").error
    chars = result.outcome("chars")
    assert chars.status == "success" and chars.columns == ["a", "b"]


def test_public_id_is_read_as_surrogate_id(ws):
    result = ws.run("""
    entities:
      kind: {type: fixed, public_id: kind_id, columns: [code], values: [a, b]}
      thing:
        type: fixed
        public_id: thing_id
        columns: [name, code]
        values: [[x, a], [y, b]]
        foreign_keys: [{entity: kind, local_keys: [code], remote_keys: [code]}]
    """)
    assert list(result.tables["thing"].columns) == ["system_id", "thing_id", "kind_id", "code", "name"]
    assert rows(result.tables["thing"], ["system_id", "kind_id"]) == [(1, 1), (2, 2)]


def test_missing_columns_suggest_close_names(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [site, site_name]}
      site: {keys: [Site], columns: [site_nam]}
    """,
        inputs={"survey": survey()},
    )
    issue = next(i for i in result.outcome("site").issues if i.code == "columns_missing")
    assert "'Site' -> 'site'" in issue.suggestion and "'site_nam' -> 'site_name'" in issue.suggestion


def test_input_file_for_an_undeclared_default_entity_is_sniffed_as_text(ws):
    path = ws.write("input.csv", "site;count\nS1;007\nS2;\n")
    result = ws.run(
        """
    entities:
      site: {surrogate_id: site_id, keys: [site], columns: [site, count]}
    """,
        inputs={"survey": path},
    )
    assert rows(result.outcome("site").table) == [("S1", "007", 1), ("S2", "", 2)]
    assert list(result.tables) == ["survey", "site"]
    assert result.outcome("site").dtypes["count"] == "object"


def test_input_excel_file(ws):
    import pandas as pd

    path = ws.folder / "input.xlsx"
    pd.DataFrame({"site": ["S1", "S2", "S3"], "count": ["1", "2", "3"]}).to_excel(path, index=False)
    result = ws.run(
        "entities:\n  site: {keys: [site], columns: [site]}\n", inputs={"survey": path}, max_rows=2
    )
    assert rows(result.outcome("site").table) == [("S1",), ("S2",)]


def test_subset_keeps_20000_requested_columns_in_their_order():
    values = pd.Categorical.from_codes([1, 0, 2], categories=["", "a", "b"])
    table = pd.DataFrame({f"c{i}": values for i in range(20_000)}, copy=False)
    names = [f"c{i}" for i in reversed(range(20_000))]
    config = {"keys": ["c5"], "columns": names, "extra_columns": {"copy": "c7"}}
    config["replacements"] = {"c9": {"a": "A"}}

    result = subset(table, config, fk_local_keys=[], unnest_names=[], delayed=False, report=EntityReport("w"))

    assert list(result.columns) == ["c5"] + [n for n in names if n != "c5"] + ["copy"]
    assert result["c9"].tolist() == ["A", "", "b"] and result["copy"].tolist() == ["a", "", "b"]
