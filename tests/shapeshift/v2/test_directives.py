"""Format-2 loading (format-v2.md 2): ${NAME}, @include/@load paths, SHAPE_SHIFTER, parquet, @value: lists.

Expected values come from the spec's verified examples and the conformance corpus (`expected/`); the
upstream projects are the reference repository's own (shared/data/upstream-projects/README.md).
"""

from __future__ import annotations

import os
import pathlib
import shutil

import pandas as pd
import pytest

import shapeshift
from shapeshift import ConfigError
from shapeshift.config import yaml_reader
from shapeshift.config.loading import path_variables

SHARED = pathlib.Path(__file__).resolve().parents[4] / "shared"
CORPUS = SHARED / "data" / "conformance-v2"
UPSTREAM = SHARED / "data" / "upstream-projects"
ARBODAT = UPSTREAM / "projects" / "arbodat"
DATA_SOURCES = UPSTREAM / "shared" / "data-sources"
needs_shared = pytest.mark.skipif(
    not CORPUS.exists() and os.environ.get("CI") != "true", reason=f"no shared data at {SHARED}"
)

V2 = "metadata: {type: shapeshifter-project}\n"


C10 = CORPUS / "10_env_vars_and_include"


def run_env(case: pathlib.Path) -> dict[str, str]:
    lines = (case / "run.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def expected(case: str, table: str) -> pd.DataFrame:
    return pd.read_csv(CORPUS / case / "expected" / f"{table}.csv")


# --- [C10]: ${NAME} anywhere, prefix fallback, ${VAR} in an @include path, overrides in every root ---


@needs_shared
def test_c10_resolves_as_the_spec_says_wherever_the_process_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the reference needs cwd = the project folder (20 #19); we do not
    project = shapeshift.load(C10 / "shapeshifter.yml", env=run_env(C10))
    assert project.format_version == 2
    assert project.metadata["name"] == "env-t1"
    extra = project.raw["entities"]["labels"]["extra_columns"]
    assert extra == {"note": "loaded by alice on !", "prefixed": "north"}
    # SHAPE_SHIFTER_REGION=north lands at the project root AND at the included data source's root (2.3)
    assert project.raw["region"] == "north"
    assert project.data_sources["labels_ds"] == {
        "driver": "csv",
        "options": {"filename": "sources/labels.csv"},
        "region": "north",
    }
    assert project.load_warnings == []


@needs_shared
def test_c10_collect_files_and_path_variables():
    config, env = C10 / "shapeshifter.yml", run_env(C10)
    refs = {
        (ref.path, ref.kind): (ref.exists, ref.variable) for ref in shapeshift.collect_files(config, env=env)
    }
    assert refs == {
        ("sources/labels_ds.yml", "include"): (True, None),  # ${DS_NAME} is not the path's folder
        ("sources/labels.csv", "data"): (True, "LABEL_DIR"),
    }
    assert path_variables(config, env=env) == {"DS_NAME": "labels_ds", "LABEL_DIR": "sources"}


# --- 2.5 / 2.6 details ---


def test_substitution_happens_once_and_never_in_keys(ws):
    project = ws.load(
        V2 + "entities: {}\nx: 'a-${A}-b'\n'${A}': key\nlist: ['${B}', 1]\n",
        env={"A": "${B}", "B": "bee"},
    )
    assert project.raw["x"] == "a-${B}-b"  # the substituted text is not scanned again
    assert project.raw["${A}"] == "key"
    assert project.raw["list"] == ["bee", 1]


def test_prefix_fallback_both_ways(ws):
    project = ws.load(
        V2 + "entities: {}\nshort: '${REGION}'\nlong: '${SHAPE_SHIFTER_TAG}'\nnone: '[${NOPE}]'\n",
        env={"SHAPE_SHIFTER_REGION": "north", "TAG": "t1"},
    )
    assert (project.raw["short"], project.raw["long"], project.raw["none"]) == ("north", "t1", "[]")


def test_format_1_keeps_whole_string_substitution_and_its_own_prefix(ws):
    text = "entities: {}\nwhole: '${A}'\npart: 'x-${A}'\nfallback: '${REGION}'\n"
    env = {"A": "a", "SHAPE_SHIFTER_REGION": "north", "SEAD_NORMALIZER_HOST": "db"}
    project = ws.load(text, env=env, env_prefix="SEAD_NORMALIZER")
    assert project.format_version == 1
    assert project.raw == {"entities": {}, "whole": "a", "part": "x-${A}", "fallback": "", "host": "db"}


def test_format_2_overrides_use_shape_shifter_whatever_prefix_the_caller_gives(ws):
    project = ws.load(
        V2 + "entities: {}\noptions: {dispatch: {host: x}}\n",
        env={"SHAPE_SHIFTER_OPTIONS_DISPATCH_HOST": "db", "SEAD_NORMALIZER_OTHER": "no"},
        env_prefix="SEAD_NORMALIZER",
    )
    assert project.raw["options"]["dispatch"]["host"] == "db"
    assert "other" not in project.raw


def test_prefix_without_underscore_is_skipped_with_a_warning(ws):
    project = ws.load(V2 + "entities: {}\n", env={"SHAPE_SHIFTERX": "1", "SHAPE_SHIFTER": "2"})
    assert project.raw == {"metadata": {"type": "shapeshifter-project"}, "entities": {}}
    messages = sorted(message for message, _ in project.load_warnings)
    assert len(messages) == 2 and all("names no key after SHAPE_SHIFTER_" in m for m in messages)


# --- 2.3: ${VAR} in @include paths, and the deviation from the reference's working-directory trap ---


def test_variable_path_is_resolved_against_the_configuration_folder(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)
    ws.write("sub/a.yml", "b: '@include: ${DIR}/b.yml'\nc: '@include: c.yml'\n")
    ws.write("sub/c.yml", "where: next to a.yml\n")
    ws.write("data/b.yml", "where: data at the configuration's folder\n")
    ws.write("sub/data/b.yml", "where: next to a.yml (wrong)\n")
    project = ws.load(V2 + "entities: {}\na: '@include: sub/a.yml'\n", env={"DIR": "data"})
    assert project.raw["a"] == {
        "b": {"where": "data at the configuration's folder"},
        "c": {"where": "next to a.yml"},
    }


def test_absolute_variable_path_is_read_and_its_relative_includes_inherit_the_variable(ws, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "ds.yml").write_text("driver: csv\nmore: '@include: more.yml'\n")
    (outside / "more.yml").write_text("x: 1\n")
    config = ws.config(V2 + "entities: {}\noptions: {data_sources: {d: '@include: ${DS}/ds.yml'}}\n")
    env = {"DS": str(outside)}
    project = shapeshift.load(config, env=env)
    assert project.data_sources["d"] == {"driver": "csv", "more": {"x": 1}}
    refs = {(ref.path, ref.variable) for ref in shapeshift.collect_files(config, env=env)}
    assert refs == {(str(outside / "ds.yml"), "DS"), (str(outside / "more.yml"), "DS")}


def test_confined_resolver_refuses_a_variable_path_outside_the_folder(ws, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "ds.yml").write_text("driver: csv\n")
    ws.config(V2 + "entities: {}\noptions: {data_sources: {d: '@include: ${DS}/ds.yml'}}\n")
    resolver = shapeshift.DirectoryResolver(ws.folder, confined=True)
    with pytest.raises(ConfigError) as caught:
        shapeshift.load("config.yml", resolver, env={"DS": str(outside)})
    message = str(caught.value)
    assert "options.data_sources.d" in message and f"{outside}/ds.yml" in message
    assert f"DS='{outside}'" in message and "outside the configuration's folder" in message


@needs_shared
def test_upstream_arbodat_loads_with_the_data_source_folder_set():
    env = {"GLOBAL_DATA_SOURCE_DIR": str(DATA_SOURCES)}
    project = shapeshift.load(ARBODAT / "shapeshifter.yml", env=env)
    assert project.format_version == 2
    assert project.data_sources["sead"]["driver"] == "postgresql"  # from shared/data-sources/sead-options.yml
    assert project.data_sources["arbodat_data"]["driver"] == "ucanaccess"
    # ${GLOBAL_DATA_DIR} is unset: an empty string (2.5); the file name stays absolute
    assert project.data_sources["arbodat_data"]["options"]["filename"] == "/ArchBotDaten.mdb"
    # the reference README: translations.tsv is missing, so the @load warns and keeps its argument
    assert project.raw["options"]["translation"] == "options.translations"
    assert any("translations.tsv" in message for message, _ in project.load_warnings)


@needs_shared
def test_upstream_arbodat_names_the_unset_variable():
    with pytest.raises(ConfigError) as caught:
        shapeshift.load(ARBODAT / "shapeshifter.yml", env={})
    error = caught.value
    assert error.key_path == "options.data_sources.sead"
    assert "included file not found: /sead-options.yml" in error.message
    assert "${GLOBAL_DATA_SOURCE_DIR}/sead-options.yml" in error.message
    assert "GLOBAL_DATA_SOURCE_DIR is not set" in error.message


@needs_shared
def test_strucke_v5_needs_its_target_model_next_to_it(tmp_path):
    with pytest.raises(ConfigError) as caught:
        shapeshift.load(UPSTREAM / "projects" / "strucke_v5" / "shapeshifter.yml", env={})
    error = caught.value
    assert (error.file, error.key_path) == ("shapeshifter.yml", "metadata.target_model")
    assert "sead_standard_model.yml" in error.message
    shutil.copy(UPSTREAM / "projects" / "strucke_v5" / "shapeshifter.yml", tmp_path)
    shutil.copy(UPSTREAM / "target_models" / "sead_standard_model.yml", tmp_path)
    project = shapeshift.load(tmp_path / "shapeshifter.yml", env={})
    assert project.metadata["target_model"]["model"]["name"] == "SEAD Clearinghouse Extended"
    refs = shapeshift.collect_files(tmp_path / "shapeshifter.yml", env={})
    assert {(ref.path, ref.kind, ref.exists) for ref in refs} == {
        ("sead_standard_model.yml", "include", True),
        ("c14_master_v05.xlsx", "data", False),  # not copied here
    }


def test_include_of_an_unset_variable_alone_names_it(ws):
    with pytest.raises(ConfigError, match=r"got '\$\{MODEL\}' \(the path came from .*MODEL is not set"):
        ws.load(V2 + "entities: {}\nm: '@include: ${MODEL}'\n", env={})


# --- 2.4: @load ---


@needs_shared
def test_c06_parquet_keeps_its_types_and_csv_is_text():
    project = shapeshift.load(CORPUS / "06_load_parquet_materialized" / "shapeshifter.yml", env={})
    units = pd.DataFrame(project.raw["entities"]["unit"]["values"])
    want = expected("06_load_parquet_materialized", "unit")
    assert units["system_id"].tolist() == want["system_id"].tolist()  # 10, 20, 30: kept (integers)
    assert units["system_id"].map(type).eq(int).all()
    pd.testing.assert_series_equal(units["unit_id"], want["unit_id"])  # float with nulls
    assert units["unit_code"].tolist() == want["unit_code"].tolist()
    factors = project.raw["entities"]["unit_factor"]["values"]
    assert [row["factor"] for row in factors] == ["0.01", "1"]  # text (dtype=str), not numbers
    assert pd.isna(factors[0]["comment"]) and factors[1]["comment"] == "base unit"


def test_load_path_with_a_variable_and_a_missing_file_warns_naming_it(ws):
    ws.write("tables/t.csv", "a,b\n1,\n")
    project = ws.load(
        V2 + "entities: {}\nt: '@load: ${DIR}/t.csv'\ngone: '@load: ${NOPE}/x.csv'\n", env={"DIR": "tables"}
    )
    assert project.raw["t"][0]["a"] == "1" and pd.isna(project.raw["t"][0]["b"])
    assert project.raw["gone"] == "/x.csv"  # the argument text, then substituted like any string (2.2)
    [(message, path)] = project.load_warnings
    assert path == ("gone",) and "/x.csv" in message and "NOPE is not set" in message


def test_parquet_without_pyarrow_is_a_clear_warning(ws, monkeypatch):
    ws.write("t.parquet", "not read")

    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    project = ws.load(V2 + "entities: {}\nt: '@load: t.parquet'\n")
    assert project.raw["t"] == "t.parquet"
    [(message, _)] = project.load_warnings
    assert "needs pyarrow" in message


def test_load_rows_count_against_the_node_budget_in_format_2_only(ws, monkeypatch):
    monkeypatch.setattr(yaml_reader, "MAX_NODES", 200)
    ws.write("t.csv", "a,b\n" + "x,y\n" * 50)  # 1 + 50 * (1 + 2 * 2) = 251 nodes
    with pytest.raises(yaml_reader.LimitExceeded, match="t.csv"):
        ws.load(V2 + "entities: {}\nt: '@load: t.csv'\n")
    assert len(ws.load("entities: {}\nt: '@load: t.csv'\n").raw["t"]) == 50  # format 1: as before


# --- 2.7: @value: ---


@needs_shared
def test_c36_value_items_are_spliced_into_the_list():
    config = CORPUS / "36_value_list_flattening" / "shapeshifter.yml"
    project = shapeshift.load(config, env={})
    columns = expected("36_value_list_flattening", "site").columns
    assert set(columns) - {"system_id", "site_id"} == {"site", "site_name", "parish", "county"}
    assert project.raw["entities"]["site"]["columns"] == ["site", "site_name", "parish", "county"]
    assert project.raw["entities"]["site_expr"]["columns"] == ["site", "site_name", "parish", "county"]
    # old semantics (1.3 table): the list is inserted as one nested item
    old = shapeshift.load(config, env={}, format_version=1)
    assert old.raw["entities"]["site"]["columns"] == [["site"], "site_name", ["parish", "county"]]


def test_missing_reference_is_an_error_level_warning_but_stays_literal(ws):
    ws.write("inc.yml", "label: '@value: scalars.name'\n")  # found in the main file: no error
    project = ws.load(
        V2 + "entities: {}\nscalars: {name: hi}\ninc: '@include: inc.yml'\na: '@value: nothing.here'\n"
    )
    assert project.raw["a"] == "@value: nothing.here" and project.raw["inc"] == {"label": "hi"}
    [(message, path)] = project.load_warnings
    assert message == "Reference path 'nothing.here' not found in configuration data."
    assert message.level == "error" and path == ("a",)
    assert ws.load("entities: {}\na: '@value: nothing.here'\n").load_warnings == []  # format 1


# --- bundling: files reached through ${VAR} copied under _env/<VAR>/ ---


@needs_shared
def test_arbodat_bundle_with_env_folders_loads_confined(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ARBODAT, source / "arbodat")
    shutil.copytree(DATA_SOURCES, source / "data-sources")
    config = source / "arbodat" / "shapeshifter.yml"
    env = {"GLOBAL_DATA_SOURCE_DIR": str(source / "data-sources")}
    refs = shapeshift.collect_files(config, env=env)
    variables = path_variables(config, env=env)
    assert variables == {"GLOBAL_DATA_SOURCE_DIR": str(source / "data-sources"), "GLOBAL_DATA_DIR": ""}
    included = {
        ref.path for ref in refs if ref.kind == "include" and ref.variable == "GLOBAL_DATA_SOURCE_DIR"
    }
    assert included == {
        str(source / "data-sources" / name)
        for name in ("sead-options.yml", "arbodat-data-options.yml", "arbodat-lookup-options.yml")
    }
    loads = {ref.path for ref in refs if ref.kind == "load" and ref.exists}
    assert loads == {
        f"materialized/{name}.parquet" for name in ("abundance_element", "feature_type", "site_type")
    }
    # what the importer does: files of the folder as they are, files under a variable in _env/<VAR>/
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(config, bundle / "shapeshifter.yml")
    stored_env = {}
    for ref in (ref for ref in refs if ref.exists):
        if ref.variable:
            origin = pathlib.Path(ref.path)
            target = bundle / "_env" / ref.variable / origin.relative_to(variables[ref.variable])
            stored_env[ref.variable] = f"_env/{ref.variable}"
        else:
            origin, target = source / "arbodat" / ref.path, bundle / ref.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(origin, target)
    shutil.rmtree(source)  # the stored bundle must not need the original folders
    resolver = shapeshift.DirectoryResolver(bundle, confined=True)
    project = shapeshift.load("shapeshifter.yml", resolver, env=stored_env)
    assert project.data_sources["sead"]["driver"] == "postgresql"
    # upstream README: feature_type is 55 rows, all of them from its materialized parquet
    assert len(project.raw["entities"]["feature_type"]["values"]) == 55
    stored_refs = shapeshift.collect_files("shapeshifter.yml", resolver, env=stored_env)
    assert {ref.path for ref in stored_refs if ref.kind == "include" and ref.exists} >= {
        "_env/GLOBAL_DATA_SOURCE_DIR/sead-options.yml",
        "reconciliation.yml",
    }
