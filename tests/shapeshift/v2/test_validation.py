"""Validation of format-2 projects (format-v2.md 18, 1.1, 4, 7.2) and of format mixture both ways.

ERROR means processing fails: every ERROR expected on the conformance corpus is an entity the reference
fails in `expected/_run.json`. Corpus failures that depend on the data, or on a reference bug this
engine does not copy (format-v2.md 20), are listed with the reason they are not errors here.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import random
import shutil

import pytest

import shapeshift
from shapeshift import IssueCode as C
from shapeshift import Severity as S

SHARED = pathlib.Path(__file__).resolve().parents[4] / "shared"
CORPUS = SHARED / "data" / "conformance-v2"
UPSTREAM = SHARED / "data" / "upstream-projects"
needs_shared = pytest.mark.skipif(
    not CORPUS.exists() and os.environ.get("CI") != "true", reason=f"no shared data at {SHARED}"
)
V2 = "metadata: {type: shapeshifter-project}\n"

# entity -> code of each ERROR per case; every entity named here fails in the case's _run.json
EXPECTED_ERRORS = {
    "05_fixed_requirements": {
        ("no_keys", C.V2_REQUIRED_KEY_MISSING),
        ("no_public_id", C.PUBLIC_ID_MISSING),
        ("surrogate_name_not_in_columns", C.SURROGATE_NAME_NOT_IN_COLUMNS),
        ("wrong_row_length", C.FIXED_ROW_LENGTH),
        ("scalar_rows_two_columns", C.FIXED_ROW_NOT_LIST),
        ("query_on_fixed", C.FIXED_HAS_LOADER_KEY),
    },
    "17_filters_query_stage": {
        ("bad_stage", C.FILTER_STAGE_INVALID),
        ("filter_on_unselected_column", C.FILTER_COLUMN_UNAVAILABLE),
    },
    "26_append_column_renaming": {
        ("bad_align", C.APPEND_ALIGN_COUNT),
        ("bad_mapping", C.APPEND_COLUMN_MAPPING_INVALID),
    },
    "29_sql_sqlite": {("taxa_legacy_values", C.SQL_LEGACY_VALUES)},
}
# failing in _run.json, yet no ERROR: the configuration cannot tell, or the failure is a reference bug
NOT_STATIC = {
    "14_drop_duplicates_fd": {"by_key_fd_holds", "by_key_fd_violated"},  # FD violations in the data
    "18_fk_null_keys": {"strict_constraint"},  # null keys in the data
    "20_fk_constraints": {
        "unmatched_left_enforced",
        "many_to_one_violated",
        "unique_right_violated",
        "row_decrease_real",
    },
    "21_fk_misc": {"fk_extra_columns_list"},  # 20 #5: a list is read as {name: name} (a warning here)
    "29_sql_sqlite": {"taxa_missing_column", "taxa_options_filename"},  # the query's result; 20 #4
    "30_default_entity": {
        "site",
        "taxon",
    },  # the reference ignores metadata.default_entity; we read it (20 #16)
    "33_file_options_tsv_location": {"csv_location_local", "csv_sanitize_flag"},  # 20 #1, #2
}


def cases() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.exists() else []


def load_case(name: str) -> shapeshift.Project:
    case = CORPUS / name
    env = dict(os.environ)
    if (case / "run.env").exists():
        env.update(line.split("=", 1) for line in (case / "run.env").read_text().splitlines() if "=" in line)
    return shapeshift.load(case / "shapeshifter.yml", env=env)


def failing(name: str) -> set[str]:
    run = json.loads((CORPUS / name / "expected" / "_run.json").read_text())
    return {entity for entity, status in run.get("per_entity", {}).items() if status != "ok"}


def issues_of(project, severity=None, code=None) -> list:
    return [
        i
        for i in shapeshift.validate(project)
        if (severity is None or i.severity == severity) and (code is None or i.code == code)
    ]


def found(issues) -> set:
    return {(i.severity, i.code, i.entity) for i in issues}


@needs_shared
@pytest.mark.parametrize("case", cases())
def test_corpus_case_has_exactly_the_expected_errors(case):
    project = load_case(case)
    errors = {(i.entity, i.code) for i in issues_of(project, S.ERROR)}
    assert errors == EXPECTED_ERRORS.get(case, set())
    assert {entity for entity, _ in errors} <= failing(case)
    assert failing(case) == {e for e, _ in errors} | NOT_STATIC.get(case, set())


@needs_shared
def test_corpus_has_no_format_1_findings():
    """surrogate_id is None in format 2: no format-1 rule (R1 fixed_missing_surrogate_id, ...) fires."""
    v1_only = {C.FIXED_MISSING_SURROGATE_ID, C.FIXED_ROW_IS_LIST, C.SURROGATE_ID_NAMING, C.V2_KEY_IN_V1}
    for case in cases():
        project = load_case(case)
        assert project.format_version == (1 if case.startswith("02_") else 2)
        if project.format_version == 2:
            assert not [i for i in shapeshift.validate(project) if i.code in v1_only], case


@needs_shared
def test_corpus_02_is_format_1_and_keeps_its_format_1_findings():
    issues = shapeshift.validate(load_case("02_old_format_under_v2"))
    assert not [i for i in issues if i.severity == S.ERROR]
    assert not [i for i in issues if i.code == C.V2_KEY_IN_V1]  # surrogate_id, top-level mappings: format 1


@needs_shared
def test_fixed_rules_of_7_2_on_case_04():
    project = load_case("04_fixed_identity")
    got = found(issues_of(project))
    assert (S.WARNING, C.FIXED_VALUES_EMPTY, "empty") in got  # values: [] is a warning (18)
    assert (S.WARNING, C.FIXED_HAS_SOURCE, "with_source") in got
    # system_id [5, null, 2, 2]: kept at run time, rejected by the reference's validator
    assert (S.WARNING, C.FIXED_SYSTEM_ID_VALUES, "phase") in got
    # surrogate_id satisfies the fixed loader but gives no id column (7.2, [C04] legacy_surrogate.csv)
    legacy = next(i for i in issues_of(project, code=C.V1_KEY_IN_V2) if i.entity == "legacy_surrogate")
    assert legacy.severity == S.WARNING and "public_id" in legacy.suggestion
    # identity-prefixed rows (period), scalar rows of one column (colour), doubled names (shape) load
    assert not {e for _, _, e in got} & {"period", "colour", "shape", "era"}


@needs_shared
def test_locations_point_at_the_yaml():
    no_keys = issues_of(load_case("05_fixed_requirements"), code=C.V2_REQUIRED_KEY_MISSING)[0]
    assert no_keys.location == "shapeshifter.yml:9"  # the entity: the key itself is missing
    mappings = issues_of(load_case("31_mappings_translation"), code=C.V1_KEY_IN_V2)[0]
    assert mappings.location == "shapeshifter.yml:18"
    assert mappings.suggestion == "move `mappings` under `options:`"


@needs_shared
def test_format_1_usage_in_format_2_files_is_named():
    fk_list = issues_of(load_case("21_fk_misc"), code=C.V1_KEY_IN_V2)
    assert {(i.entity, i.severity) for i in fk_list} == {
        ("legacy_lookup", S.WARNING),
        ("fk_extra_columns_list", S.WARNING),
    }
    assert "extra_columns: {type_name: type_name}" in next(
        i.suggestion for i in fk_list if i.entity == "fk_extra_columns_list"
    )
    distinct = issues_of(load_case("25_append_v2"), code=C.V1_KEY_IN_V2)
    assert [(i.entity, i.severity) for i in distinct] == [("distinct_mode_only", S.WARNING)]
    legacy_sql = issues_of(load_case("29_sql_sqlite"), code=C.SQL_LEGACY_VALUES)
    assert [(i.entity, i.severity, i.suggestion) for i in legacy_sql] == [
        ("taxa_legacy_values", S.ERROR, "move the SQL text to query:")
    ]


@needs_shared
def test_reference_only_objections_are_warnings():
    """20 #33: the reference's validator rejects these, its run does not fail ([C03], [C11], [C35])."""
    assert (S.WARNING, C.V2_TYPE_MISSING, "context_plain") in found(
        issues_of(load_case("03_public_id_values_and_alias"))
    )
    got = found(issues_of(load_case("35_target_model_conformance")))
    assert (S.WARNING, C.PUBLIC_ID_INVALID, "location") in got  # location_key
    assert (S.WARNING, C.EXTRA_COLUMN_SHADOWS, "sample_type") in got
    # [C11]: parish and site_name are helper columns of the CSV source (not listed): notes, not errors
    helper = issues_of(load_case("11_extra_columns_forms"), code=C.EXTRA_COLUMN_REFERENCE)
    assert {(i.severity, i.entity, i.message.split("'")[1]) for i in helper} == {
        (S.INFO, "site", name) for name in ("interp", "formula_concat", "formula_nested", "formula_substr")
    }


@needs_shared
def test_extra_column_references_that_stay_unresolved():
    """[C12]: {Sample} differs in case (warning in _run.json's log); a copy of an FK column is a constant."""
    got = found(issues_of(load_case("12_extra_columns_deferred_fk")))
    assert (S.WARNING, C.EXTRA_COLUMN_REFERENCE, "sample") in got
    assert (S.WARNING, C.EXTRA_COLUMN_CONSTANT, "sample") in got
    log = json.loads((CORPUS / "12_extra_columns_deferred_fk/expected/_run.json").read_text())["log"]
    assert any("case_mismatch" in line for line in log)


@needs_shared
def test_sanitised_headers_are_compared():
    """[C07]: original header names miss after sanitising (the reference logs them as not found)."""
    issues = issues_of(load_case("07_csv_header_sanitize"), code=C.COLUMNS_MISSING)
    assert [i.entity for i in issues] == ["pollen_original_names"]
    assert "'Probe Nr.' -> 'probe_nr'" in issues[0].suggestion


@needs_shared
def test_a_cycle_only_through_deferred_links_is_no_error(ws):
    assert not issues_of(load_case("22_defer_dependency_cycle"), code=C.CIRCULAR_DEPENDENCY)
    text = (CORPUS / "22_defer_dependency_cycle" / "shapeshifter.yml").read_text()
    ws.write("samples.csv", "grp,sample,first_sample\n")
    cyclic = issues_of(ws.load(text.replace("defer_dependency: true", "defer_dependency: false")))
    cycle = [i for i in cyclic if i.code == C.CIRCULAR_DEPENDENCY]
    assert [(i.severity, i.entity) for i in cycle] == [(S.ERROR, "sample_group")]
    assert "defer_dependency" in cycle[0].suggestion


def test_a_cycle_with_one_hard_edge_left_is_an_error(ws):
    project = ws.load(
        V2
        + """
entities:
  a: {type: entity, source: c, public_id: a_id, keys: [], columns: [x]}
  b:
    type: entity
    source: a
    public_id: b_id
    keys: []
    columns: [x]
  c:
    type: fixed
    public_id: c_id
    keys: []
    columns: [x]
    values: [[1]]
    foreign_keys: [{entity: b, local_keys: [x], remote_keys: [x], defer_dependency: true}]
    depends_on: [a]
"""
    )
    cycle = issues_of(project, code=C.CIRCULAR_DEPENDENCY)
    assert [i.severity for i in cycle] == [S.ERROR] and "a -> c -> a" in cycle[0].message


def test_unknown_keys_are_named(ws):
    project = ws.load(
        V2
        + """
entities:
  site:
    type: fixed
    public_id: site_id
    keys: []
    columns: [code]
    values: [[a]]
    surrogate_names: code
    table: sites
  sample:
    type: entity
    source: site
    public_id: sample_id
    keys: []
    columns: [code]
    foreign_keys:
      - {entity: site, local_keys: [code], remote_keys: [code], contraints: {cardinality: many_to_one}}
    filters: [{type: query, query: "code == 'a'", when: later}]
column_sets: {admin: [a]}
options: {data_sources: {}, colour: blue}
"""
    )
    unknown = {
        (i.entity, i.message.split("'")[1], i.suggestion)
        for i in issues_of(project, S.WARNING, C.V2_UNKNOWN_KEY)
    }
    assert unknown == {
        ("site", "surrogate_names", "did you mean 'surrogate_names' -> 'surrogate_name'?"),
        ("site", "table", "there is no table: key in format 2 (7.6); write query: select ... from <table>"),
        ("sample", "contraints", "did you mean 'contraints' -> 'constraints'?"),
        ("sample", "when", "remove it, or keep @value: anchors at the top level"),
        (None, "colour", "remove it, or keep @value: anchors at the top level"),
    }
    free = issues_of(project, code=C.V2_TOP_LEVEL_KEY)
    assert [(i.severity, i.location) for i in free] == [(S.INFO, "config.yml:21")]  # column_sets: anchors


def test_metadata_type_is_checked(ws):
    project = ws.load("metadata: {name: transitional}\nentities:\n  a: {type: fixed, public_id: a_id}\n")
    assert project.format_version == 2  # a metadata mapping makes the file format 2 (1.1)
    [issue] = issues_of(project, code=C.V2_METADATA_TYPE)
    assert issue.severity == S.WARNING and "shapeshifter-project" in issue.suggestion


def test_entity_kinds_and_public_id_rules(ws):
    project = ws.load(
        V2
        + """
entities:
  raw: {type: fixed, public_id: raw_id, keys: [], columns: [x], values: [[1]]}
  no_id: {type: entity, source: raw, keys: [], columns: [x]}
  badly_named: {type: entity, source: raw, public_id: raw_key, keys: [], columns: [x]}
  merged_without_id:
    type: merged
    keys: []
    columns: []
    branches: [{name: one, source: raw}, {source: raw}, {name: one, source: nowhere}, plain]
  merged_empty: {type: merged, public_id: merged_empty_id, keys: [], columns: [], branches: []}
  driver_as_type: {type: sqlite, public_id: driver_as_type_id, keys: [], columns: [x]}
  editor_type: {type: file, source: raw, public_id: editor_type_id, keys: [], columns: [x]}
  entity_with_query: {type: entity, source: raw, public_id: eq_id, keys: [], columns: [x], query: select 1}
"""
    )
    got = found(issues_of(project))
    assert {
        (S.WARNING, C.PUBLIC_ID_MISSING, "no_id"),
        (S.WARNING, C.PUBLIC_ID_INVALID, "badly_named"),
        (S.ERROR, C.PUBLIC_ID_MISSING, "merged_without_id"),
        (S.WARNING, C.MERGED_BRANCH_INVALID, "merged_without_id"),  # no name, twice 'one'
        (S.WARNING, C.MERGED_BRANCH_SOURCE_UNKNOWN, "merged_without_id"),
        (S.ERROR, C.MERGED_BRANCH_INVALID, "merged_without_id"),  # 'plain' is not a mapping
        (S.ERROR, C.MERGED_BRANCHES_MISSING, "merged_empty"),
        (S.ERROR, C.INVALID_TYPE, "driver_as_type"),
        (S.WARNING, C.V2_TYPE_UNKNOWN, "editor_type"),
        (S.WARNING, C.ENTITY_HAS_LOADER_KEY, "entity_with_query"),
    } <= got
    assert not [i for i in issues_of(project) if i.entity == "raw"]


@needs_shared
def test_merged_entities_of_the_corpus_are_valid():
    for case in ("27_merged_branches", "28_merged_quirks"):
        assert not issues_of(load_case(case), S.WARNING), case  # {analysis_entity_branch} is known


def test_formulas_are_checked_with_the_run_s_grammar(ws):
    project = ws.load(
        V2
        + """
entities:
  site:
    type: fixed
    public_id: site_id
    keys: [code]
    columns: [code, name]
    values: [[a, b]]
    extra_columns:
      ok: "=concat(code, '-', upper(name))"
      decimal: "=substr(code, 1.5, 2)"
      unknown: "=nosuch(code)"
      column_as_literal: "=substr(code, name, 1)"
      escaped: "==nosuch("
"""
    )
    bad = {i.message.split("'")[1] for i in issues_of(project, S.ERROR, C.FORMULA_INVALID)}
    assert bad == {"decimal", "unknown", "column_as_literal"}


def test_filter_queries_are_checked_with_the_run_s_rules(ws):
    project = ws.load(
        V2
        + """
entities:
  site:
    type: fixed
    public_id: site_id
    keys: [code]
    columns: [code]
    values: [[a]]
    filters:
      - {type: query, query: "code == @wanted"}
      - {type: query, query: "site_id.notna()", stage: after_link}
      - {type: query, query: ""}
"""
    )
    got = [(i.severity, i.code, i.message[:9]) for i in issues_of(project) if i.code.startswith("filter")]
    assert got == [
        (S.ERROR, C.FILTER_INVALID, "filter #1"),  # local variables are refused by the run
        (S.ERROR, C.FILTER_COLUMN_UNAVAILABLE, "filter #2"),  # site_id is not an FK column of site
        (S.WARNING, C.FILTER_INVALID, "filter #3"),  # empty query: skipped (11)
    ]


def test_format_2_keys_in_a_format_1_file(ws):
    project = ws.load(
        """
entities:
  site:
    type: fixed
    surrogate_id: site_id
    public_id: site_id
    columns: [code]
    values: [a]
    materialized: {enabled: true}
    options: {location: local}
  sample:
    source: site
    surrogate_id: sample_id
    columns: [code]
    drop_duplicates: {columns: [code]}
    replacements: {code: [{match: equals, from: a, to: b}]}
    filters: [{type: exists_in, column: code, other_entity: site, stage: after_link}]
    extra_columns: {label: "{code}!", upper: "=upper(code)", plain: text}
    foreign_keys: [{entity: site, local_keys: [code], remote_keys: [code], defer_dependency: true}]
    append: [{source: site, align_by_position: true}]
"""
    )
    assert project.format_version == 1
    named = issues_of(project, code=C.V2_KEY_IN_V1)
    assert all(
        i.severity == S.WARNING and "metadata: {type: shapeshifter-project}" in i.suggestion for i in named
    )
    assert sorted((i.entity, i.message.split(" is ")[0]) for i in named) == sorted(
        [
            ("site", "`materialized`"),
            ("site", "`options.location`"),
            ("sample", "`drop_duplicates` as a mapping"),
            ("sample", "a replacement rule list for 'code'"),
            ("sample", "filter #1: `stage`"),
            ("sample", "foreign key #1: `defer_dependency`"),
            ("sample", "append item #1: `align_by_position`"),
            ("sample", "extra column 'label' looks like a format-2 interpolation ('{code}!') but"),
            ("sample", "extra column 'upper' looks like a format-2 formula ('=upper(code)') but"),
        ]
    )


@needs_shared
def test_upstream_bugs_project():
    project = shapeshift.load(UPSTREAM / "projects" / "bugs" / "shapeshifter.yml")
    assert not issues_of(project, S.ERROR)
    # README: the source-based append items list system_id, so table ab has two rows with system_id 1
    copies = issues_of(project, code=C.SYSTEM_ID_IN_COLUMNS)
    assert [(i.entity, i.severity) for i in copies] == [("ab", S.WARNING), ("ab", S.WARNING)]


@needs_shared
def test_upstream_strucke_project(tmp_path):
    """README: the target model must sit next to the project; the run then fails only on data."""
    folder = tmp_path / "strucke_v5"
    shutil.copytree(UPSTREAM / "projects" / "strucke_v5", folder)
    shutil.copy(UPSTREAM / "target_models" / "sead_standard_model.yml", folder)
    project = shapeshift.load(folder / "shapeshifter.yml")
    assert project.metadata["target_model"]["model"]["name"] == "SEAD Clearinghouse Extended"
    assert not issues_of(project, S.ERROR)
    assert not issues_of(project, code=C.TARGET_MODEL_INVALID)


@needs_shared
def test_upstream_arbodat_project():
    env = dict(os.environ, GLOBAL_DATA_SOURCE_DIR=str(UPSTREAM / "shared" / "data-sources"))
    project = shapeshift.load(UPSTREAM / "projects" / "arbodat" / "shapeshifter.yml", env=env)
    assert project.format_version == 2 and len(project.entities) == 67
    assert not issues_of(project, S.ERROR)
    unknown = {(i.entity, i.message.split("'")[1]) for i in issues_of(project, code=C.V2_UNKNOWN_KEY)}
    # @value: anchors kept inside entities, one misspelt FK key (shapeshifter.yml lines 323, 386, 633, 943)
    assert unknown == {
        ("contact_type", "contact_types"),
        ("dataset", "contraints"),
        ("feature_property_type", "surrogate_names"),
        ("sample_description_type", "type_names"),
    }
    # the Access databases need Java (not supported); the PostgreSQL host comes from an unset ${SEAD_HOST}
    unavailable = issues_of(project, code=C.SOURCE_UNAVAILABLE)
    assert unavailable and all(i.severity == S.WARNING for i in unavailable)


def test_target_model_shape_is_checked(ws):
    ws.write(
        "model.yml",
        """
        model: {name: mini}
        entities:
          site: {role: place, columns: [a]}
          sample: {foreign_keys: [{required: true}]}
        """,
    )
    project = ws.load(
        "metadata:\n  type: shapeshifter-project\n  target_model: '@include: model.yml'\n"
        "entities:\n  a: {type: fixed, public_id: a_id, keys: [], columns: [x], values: [[1]]}\n"
    )
    invalid = issues_of(project, code=C.TARGET_MODEL_INVALID)
    assert all(i.severity == S.WARNING and i.location == "config.yml:3" for i in invalid)
    # each of the four defects of model.yml, named by its key path (the target-model parser's words)
    assert {i.message.split(":")[0] for i in invalid} == {
        "metadata.target_model.model.version",
        "metadata.target_model.entities.site.role",
        "metadata.target_model.entities.site.columns",
        "metadata.target_model.entities.sample.foreign_keys[0].entity",
    }


@needs_shared
def test_validation_never_crashes_on_mangled_corpus_projects(ws):
    """Any value in any place of a format-2 project: issues, never VALIDATION_CRASHED."""
    yaml = pytest.importorskip("yaml")
    rng = random.Random(20260507)
    oddities = [None, 3, 2.5, True, "", "x", "=nosuch(", "{a}", [], {}, [1, [2]], {"a": None}, ["a", None]]
    for case in cases():
        base = yaml.safe_load((CORPUS / case / "shapeshifter.yml").read_text())
        if "metadata" not in base:
            continue
        for _ in range(6):
            tree = copy.deepcopy(base)
            for _ in range(3):
                parent, key = rng.choice(list(_slots(tree["entities"])))
                parent[key] = copy.deepcopy(rng.choice(oddities))
            try:
                project = ws.load(yaml.safe_dump(tree))
            except shapeshift.ConfigError:
                continue
            crashed = issues_of(project, code=C.VALIDATION_CRASHED)
            assert not crashed, (case, crashed[0].message)


def _slots(node):
    """(container, key) of every value under `node`."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield node, key
        yield from _slots(value)
