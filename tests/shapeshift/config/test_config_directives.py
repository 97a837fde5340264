"""Spec 1.1-1.7: parsing and directive resolution, including the verified example of 1.7."""

from __future__ import annotations

import math

import pytest

import shapeshift
from shapeshift import ConfigError

MAIN = """
entities:
  site:
    keys: ["site_code"]
    columns: "@value: entities.site.keys + ['site_name'] + @value: lists.more"
    drop_duplicates: "@value: entities.site.keys"
    a: "@value: nothing.here"
    b: "@value: nothing.here + ['only']"
    c: "@value: nothing.here, lists.more"
    d: "@value: lists.more + zzz"
    e: ["@value: scalars.name", "plain"]
    f: "${SS_TEST_VAR}"
    g: "prefix-${SS_TEST_VAR}"
lists:
  more: ["m1", "m2"]
scalars:
  name: "hello"
options:
  data_sources:
    db: "@include: sub/ds.yml"
  translations: {filename: tr.tsv, delimiter: "\\t"}
translation: "@load: options.translations"
"""


@pytest.fixture
def example(ws):
    ws.write("sub/ds.yml", 'driver: sqlite\nlabel: "@value: scalars.name"\ninner: "@include: inner.yml"\n')
    ws.write("sub/inner.yml", "deep: true\n")
    ws.write("tr.tsv", "arbodat_field\tenglish_column_name\tnote\nProbNr\tsample_number\t\n")
    path = ws.config(MAIN)
    return shapeshift.load(path, env={"SS_TEST_VAR": "from-env"})


def test_value_references_and_list_expressions(example):
    site = example.raw["entities"]["site"]
    assert site["columns"] == ["site_code", "site_name", "m1", "m2"]
    assert site["drop_duplicates"] == ["site_code"]
    assert site["a"] == "@value: nothing.here"
    assert site["b"] == ["only"]
    assert site["c"] == ["m1", "m2"]
    assert site["d"] == ["m1", "m2"]
    assert site["e"] == ["hello", "plain"]
    assert example.entities["site"].columns == ["site_code", "site_name", "m1", "m2"]


def test_env_substitution_whole_string_only(example, ws):
    site = example.raw["entities"]["site"]
    assert site["f"] == "from-env"
    assert site["g"] == "prefix-${SS_TEST_VAR}"
    unset = shapeshift.load(ws.folder / "config.yml", env={})
    assert unset.raw["entities"]["site"]["f"] == ""


def test_include_nested_and_value_resolved_against_main(example):
    db = example.raw["options"]["data_sources"]["db"]
    assert db["driver"] == "sqlite"
    assert db["label"] == "hello"
    assert db["inner"] == {"deep": True}


def test_load_table_rows_as_strings_with_nan(example):
    rows = example.raw["translation"]
    assert rows[0]["arbodat_field"] == "ProbNr" and rows[0]["english_column_name"] == "sample_number"
    assert isinstance(rows[0]["note"], float) and math.isnan(rows[0]["note"])


def test_load_failure_leaves_argument_text(ws):
    project = ws.load(
        'options:\n  t: {filename: missing.tsv}\ntranslation: "@load: options.t"\nentities: {}\n'
    )
    assert project.raw["translation"] == "options.t"
    assert any("missing.tsv" in message for message, _ in project.load_warnings)


def test_yaml_11_scalars_and_custom_tags(ws):
    project = ws.load("""
    entities: {}
    flags: [yes, no, on, off, ~, 0.5, "1,0"]
    null: nullkey
    joined: !join [a, 1, b]
    path: !path_join [dir, file.csv]
    unknown: !whatever {x: 1}
    """)
    assert project.raw["flags"] == [True, False, True, False, None, 0.5, "1,0"]
    assert project.raw[None] == "nullkey"
    assert project.raw["joined"] == "a1b"
    assert project.raw["path"] == "dir/file.csv"
    assert project.raw["unknown"] == {"x": 1}


def test_bracket_trap_and_sql_survives(ws):
    project = ws.load("""
    entities: {}
    x: "[a] + [b]"
    sql: "select [a] + [b] from t"
    """)
    assert project.raw["x"] == ["a", "b"]
    assert project.raw["sql"] == "select [a] + [b] from t"


def test_value_alternative_separator_and_recursion(ws):
    project = ws.load("""
    entities: {}
    a_b: 1
    ref1: "@value: a:b"
    ref2: "@value: ref1"
    """)
    assert project.raw["ref1"] == 1 and project.raw["ref2"] == 1


def test_cyclic_value_is_a_config_error(ws):
    with pytest.raises(ConfigError, match="cyclic"):
        ws.load('entities: {}\na: "@value: b"\nb: "@value: a"\n')


def test_broken_yaml_names_file_and_line(ws):
    with pytest.raises(ConfigError) as info:
        ws.load("entities:\n  a: [1, 2\n  b: 3\n")
    assert info.value.file == "config.yml" and info.value.line is not None
    assert str(info.value).startswith("config.yml:")


def test_missing_include_names_directive_line(ws):
    with pytest.raises(ConfigError) as info:
        ws.load('entities: {}\noptions:\n  db: "@include: nope.yml"\n')
    assert info.value.line == 3 and info.value.key_path == "options.db"
    assert "nope.yml" in info.value.message


def test_include_of_non_yaml_and_cycle(ws):
    with pytest.raises(ConfigError, match="yml"):
        ws.load('entities: {}\nx: "@include: data.csv"\n')
    ws.write("a.yml", 'x: "@include: b.yml"\n')
    ws.write("b.yml", 'y: "@include: a.yml"\n')
    with pytest.raises(ConfigError, match="cycle"):
        ws.load('entities: {}\nz: "@include: a.yml"\n')


def test_root_must_be_a_mapping_and_empty_is_empty(ws):
    with pytest.raises(ConfigError, match="mapping"):
        ws.load("- a\n- b\n")
    assert ws.load("").raw == {}


def test_env_prefix_overrides(ws):
    path = ws.config("entities: {}\noptions:\n  database: {host: x}\n")
    project = shapeshift.load(
        path, env={"SEAD_NORMALIZER_OPTIONS_DATABASE_HOST": "db"}, env_prefix="SEAD_NORMALIZER"
    )
    assert project.raw["options"]["database"]["host"] == "db"


def test_collect_files(ws):
    ws.write("sub/ds.yml", "driver: csv\noptions: {filename: lookup.csv}\n")
    ws.write("lookup.csv", "a\n1\n")
    ws.write("tr.tsv", "arbodat_field\tenglish_column_name\n")
    ws.config("""
    entities:
      labels: {type: csv, options: {filename: data/labels.csv}, columns: [a]}
      other: {data_source: csvsrc, columns: [a]}
      db: {type: sql, data_source: lite, query: "select 1 as a", columns: [a]}
    options:
      translations: {filename: tr.tsv, delimiter: "\\t"}
      data_sources:
        csvsrc: "@include: sub/ds.yml"
        lite: {driver: sqlite, options: {filename: db.sqlite}}
    translation: "@load: options.translations"
    """)
    refs = {(ref.path, ref.kind): ref.exists for ref in shapeshift.collect_files(ws.folder / "config.yml")}
    assert refs == {
        ("sub/ds.yml", "include"): True,
        ("tr.tsv", "load"): True,
        ("lookup.csv", "data"): True,
        ("db.sqlite", "data"): False,
        ("data/labels.csv", "data"): False,
    }


def test_collect_files_missing_include_raises(ws):
    ws.config('entities: {}\nx: "@include: gone.yml"\n')
    with pytest.raises(ConfigError):
        shapeshift.collect_files(ws.folder / "config.yml")


def test_collect_files_arbodat_original():
    from tests.shapeshift.engine_support import ARBODAT

    refs = shapeshift.collect_files(ARBODAT / "original" / "arbodat.yml")
    kinds = {(r.path, r.kind, r.exists) for r in refs}
    assert ("sead-options.yml", "include", True) in kinds
    assert ("mappings.yml", "include", True) in kinds
    assert ("translations.tsv", "load", True) in kinds
    assert ("input/ArchBotDaten.mdb", "data", False) in kinds
