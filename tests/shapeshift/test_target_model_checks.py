"""Data-level checks of a run's tables against a target model (format-v2.md 19.4, issue #11 item 2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import shapeshift
from shapeshift.issues import Severity
from shapeshift.targets import CheckKind, CheckStatus, check_data, load_target_model, target_model_of
from tests.shapeshift.engine_support import C35, load_v2_entities, needs_shared

K, S = CheckKind, CheckStatus
# the reference's data-level codes (19.4) and our kinds
REFERENCE_KINDS = {
    "NULL_IN_REQUIRED_COLUMN": K.NOT_NULL,
    "TYPE_INCOMPATIBLE": K.TYPE,
    "FK_REFERENTIAL_INTEGRITY": K.REFERENTIAL_INTEGRITY,
}


def _model(**entities):
    return load_target_model({"model": {"name": "m", "version": "1"}, "entities": entities})


def _table(**columns) -> pd.DataFrame:
    length = len(next(iter(columns.values())))
    return pd.DataFrame({"system_id": np.arange(1, length + 1, dtype="int64"), **columns})


def _one(results, kind, column=None):
    found = [r for r in results if r.kind == kind and (column is None or column in r.columns)]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def one_entity(tmp_path):
    return load_v2_entities(tmp_path, "e: {type: entity, public_id: e_id, keys: [], columns: []}\n")


def _check_column(project, column_spec: dict, values, *, kind):
    model = _model(e={"columns": {"c": column_spec}})
    return _one(check_data({"e": _table(c=values)}, project, model), kind, "c")


# --- C35 -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c35():
    if not C35.exists():
        pytest.skip(f"no shared data at {C35}")
    run = json.loads((C35 / "expected" / "_run.json").read_text())
    tables = {
        name: pd.read_csv(
            C35 / "expected" / f"{name}.csv",
            dtype={column: object if dtype == "object" else dtype for column, dtype in dtypes.items()},
        )
        for name, dtypes in run["dtypes"].items()
    }
    project = shapeshift.load(C35 / "shapeshifter.yml")
    expected = json.loads((C35 / "expected" / "_conformance.json").read_text())["data_conformance_issues"]
    return check_data(tables, project, target_model_of(project)), expected


@needs_shared
def test_c35_fails_the_null_and_type_checks_the_reference_fails(c35):
    results, expected = c35
    for issue in expected:
        if issue["code"] == "FK_REFERENTIAL_INTEGRITY":
            continue  # the reference's bug: see the next test
        kind = REFERENCE_KINDS[issue["code"]]
        result = _one([r for r in results if r.entity == issue["entity"]], kind, issue["field"])
        assert (result.status, result.severity.value) == (S.FAILED, issue["severity"])
    failed = {
        (r.entity, r.kind, r.columns[0])
        for r in results
        if r.status == S.FAILED and r.kind in (K.TYPE, K.NOT_NULL)
    }
    assert failed == {
        (i["entity"], REFERENCE_KINDS[i["code"]], i["field"])
        for i in expected
        if i["code"] != "FK_REFERENTIAL_INTEGRITY"
    }


@needs_shared
def test_c35_links_every_sample_to_an_existing_site_which_the_reference_misreports(c35):
    results, expected = c35
    reported = [i for i in expected if i["code"] == "FK_REFERENTIAL_INTEGRITY"]
    assert [(i["entity"], i["field"]) for i in reported] == [("sample", "site_id")]

    result = _one([r for r in results if r.entity == "sample"], K.REFERENTIAL_INTEGRITY, "site_id")

    assert result.status == S.PASSED
    assert result.details["parent_column"] == "system_id"


@needs_shared
def test_c35_fails_what_the_tables_lack(c35):
    results, _expected = c35
    failed = {(r.entity, r.kind, r.columns) for r in results if r.status == S.FAILED}

    assert (K.REQUIRED_ENTITY, ()) in {(k, c) for e, k, c in failed if e == "project"}
    assert ("sample", K.REQUIRED_COLUMN, ("colour",)) in failed
    # sample P2 has no site (its site_name is empty) and no sample_type link at all
    assert ("sample", K.REQUIRED_FK, ("site_id",)) in failed
    assert ("sample", K.REQUIRED_FK, ("sample_type_id",)) in failed


@needs_shared
def test_c35_results_are_json_ready(c35):
    results, _expected = c35

    assert json.loads(json.dumps([r.to_dict() for r in results]))[0]["kind"] == "required_entity"


# --- required entities and columns ---------------------------------------------------------------------


def test_a_required_entity_must_produce_a_table(tmp_path):
    project = load_v2_entities(
        tmp_path, "a: {type: entity, public_id: a_id}\nb: {type: entity, public_id: b_id}\n"
    )
    model = _model(a={"required": True}, b={"required": True}, c={"required": True}, d={})

    results = check_data({"a": _table(x=[1])}, project, model)

    assert [(r.entity, r.kind, r.status) for r in results] == [
        ("a", K.REQUIRED_ENTITY, S.PASSED),
        ("b", K.REQUIRED_ENTITY, S.SKIPPED),  # in the project, but it failed or was not run
        ("c", K.REQUIRED_ENTITY, S.FAILED),
    ]
    assert results[2].severity == Severity.ERROR


def test_a_required_column_must_be_in_the_table(one_entity):
    model = _model(e={"columns": {"c": {"required": True}, "d": {"required": True}, "x": {}}})

    results = check_data({"e": _table(c=[1])}, one_entity, model)

    assert [(r.kind, r.columns, r.status) for r in results] == [
        (K.REQUIRED_COLUMN, ("c",), S.PASSED),
        (K.REQUIRED_COLUMN, ("d",), S.FAILED),
        (K.NOT_NULL, ("c",), S.PASSED),  # required without nullable: true
        (K.NOT_NULL, ("d",), S.SKIPPED),
    ]
    assert results[3].reason == "column absent: 'd'"


def test_an_entity_without_a_table_has_each_check_skipped(one_entity):
    model = _model(e={"columns": {"c": {"required": True, "type": "integer"}}})

    results = check_data({}, one_entity, model)

    assert [(r.kind, r.status) for r in results] == [
        (K.REQUIRED_COLUMN, S.SKIPPED),
        (K.TYPE, S.SKIPPED),
        (K.NOT_NULL, S.SKIPPED),
    ]


# --- types -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "values", "failing"),
    [
        ("integer", pd.Series([1, 2], dtype="int64"), []),
        ("integer", pd.Series([1.0, np.nan, 3.0]), []),
        ("integer", pd.Series([1.0, 2.5]), [2]),
        ("integer", pd.Series(["10", "x", None, "", " 7 "], dtype=object), [2]),
        ("integer", pd.Series([1, 2], dtype="Int64"), []),
        ("integer", pd.Series([True, False]), [1, 2]),
        ("integer", pd.Series(["1", "2.5"], dtype="category"), [2]),
        ("decimal", pd.Series(["1.5", "2", "abc", 4.25, None], dtype=object), [3]),
        ("decimal", pd.Series([1.5, np.inf]), [2]),
        ("float", pd.Series([1, 2], dtype="int64"), []),
        ("number", pd.Series(["1e3", "nan?"], dtype="string"), [2]),
        ("date", pd.Series(["2020-01-03", "1200-05-01", "not a date", "pit 12", None], dtype=object), [3, 4]),
        ("datetime", pd.Series(pd.to_datetime(["2020-01-03", None])), []),
        ("date", pd.Series([20200103, 20200104]), [1, 2]),
        ("boolean", pd.Series([True, False]), []),
        ("boolean", pd.Series(["yes", "No", "maybe", True], dtype=object), [3]),
        ("boolean", pd.Series([0, 1, 2]), [3]),
        ("string", pd.Series([1, "a", None, 2.5], dtype=object), []),
        ("Text", pd.Series([True]), []),
    ],
)
def test_values_must_fit_the_declared_type(one_entity, declared, values, failing):
    result = _check_column(one_entity, {"type": declared}, values, kind=K.TYPE)

    assert result.status == (S.FAILED if failing else S.PASSED)
    assert [row["system_id"] for row in result.sample] == failing
    assert result.failing_rows == len(failing)
    assert (result.severity, result.details["type"]) == (Severity.WARNING, declared)


def test_a_type_failure_shows_the_offending_values(one_entity):
    result = _check_column(one_entity, {"type": "integer"}, ["10", "x"], kind=K.TYPE)

    assert result.sample == [{"system_id": 2, "c": "x"}]
    assert "1 of 2" in result.message


def test_an_unknown_type_is_not_checked(one_entity):
    result = _check_column(one_entity, {"type": "geometry"}, ["POINT(1 2)"], kind=K.TYPE)

    assert result.status == S.SKIPPED
    assert result.reason.startswith("type 'geometry' is not checked")


# --- nulls -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "checked"),
    [
        ({"nullable": False}, True),
        ({"required": True}, True),
        ({"required": True, "nullable": False}, True),
        ({"required": True, "nullable": True}, False),
        ({}, False),
    ],
)
def test_non_nullable_columns_are_those_the_model_says(one_entity, spec, checked):
    model = _model(e={"columns": {"c": spec}})

    results = check_data({"e": _table(c=["a", None])}, one_entity, model)

    assert [r.status for r in results if r.kind == K.NOT_NULL] == ([S.FAILED] if checked else [])


def test_empty_strings_count_as_nulls(one_entity):
    result = _check_column(one_entity, {"nullable": False}, ["a", None, "", np.nan], kind=K.NOT_NULL)

    assert result.failing_rows == 3
    assert result.sample == [
        {"system_id": 2, "c": None},
        {"system_id": 3, "c": ""},
        {"system_id": 4, "c": None},
    ]
    assert result.severity == Severity.ERROR


def test_the_sample_holds_twenty_rows_and_the_count_all(one_entity):
    result = _check_column(one_entity, {"nullable": False}, [None] * 25 + ["a"], kind=K.NOT_NULL)

    assert result.failing_rows == 25
    assert [row["system_id"] for row in result.sample] == list(range(1, 21))


# --- unique sets and identity columns --------------------------------------------------------------------


def test_unique_sets_must_be_unique(one_entity):
    model = _model(e={"columns": {"a": {}, "b": {}}, "unique_sets": [["a", "b"]], "identity_columns": ["a"]})
    table = _table(a=["x", "x", "x", "y"], b=[1, 1, 2, 1])

    results = [r for r in check_data({"e": table}, one_entity, model) if r.kind == K.UNIQUE]

    assert [(r.columns, r.status, r.failing_rows) for r in results] == [
        (("a", "b"), S.FAILED, 2),
        (("a",), S.FAILED, 3),
    ]
    assert results[0].sample == [{"system_id": 1, "a": "x", "b": 1}, {"system_id": 2, "a": "x", "b": 1}]
    assert [r.details["origin"] for r in results] == ["unique set", "identity columns"]
    assert results[0].severity == Severity.WARNING


def test_rows_with_a_null_in_the_set_do_not_collide(one_entity):
    model = _model(e={"unique_sets": [["a", "b"]]})
    table = _table(a=["x", "x", None, None], b=[None, None, 1, 1])

    assert _one(check_data({"e": table}, one_entity, model), K.UNIQUE).status == S.PASSED


def test_a_set_named_twice_is_checked_once(one_entity):
    model = _model(e={"unique_sets": [["a"], ["a"]], "identity_columns": ["a"]})

    results = check_data({"e": _table(a=["x", "y"])}, one_entity, model)

    assert [(r.kind, r.status) for r in results] == [(K.UNIQUE, S.PASSED)]


# --- foreign keys ----------------------------------------------------------------------------------------

LINKED = """
    site: {type: entity, public_id: site_key, keys: [s], columns: [s]}
    sample:
      type: entity
      public_id: sample_id
      keys: [p]
      columns: [p, s]
      foreign_keys: [{entity: site, local_keys: [s], remote_keys: [s]}]
"""


@pytest.fixture
def linked(tmp_path):
    return load_v2_entities(tmp_path, LINKED)


def _fk_results(project, sample: pd.DataFrame, site: pd.DataFrame | None, required=True):
    model = _model(
        site={"public_id": "site_id"}, sample={"foreign_keys": [{"entity": "site", "required": required}]}
    )
    tables = {"sample": sample} | ({"site": site} if site is not None else {})
    return [r for r in check_data(tables, project, model) if r.entity == "sample"]


def test_fk_values_must_be_parent_system_ids(linked):
    # the FK column is named after the project's public_id of site (site_key), not the model's (site_id);
    # site's own public_id column is empty, as after any run without mappings (5.2)
    site = _table(site_key=[None, None, None], s=["A", "B", "C"])
    sample = _table(site_key=[1.0, 3.0, 7.0, np.nan, 7.0])

    results = _fk_results(linked, sample, site)

    assert [(r.kind, r.columns, r.status, r.failing_rows) for r in results] == [
        (K.REQUIRED_FK, ("site_key",), S.FAILED, 1),
        (K.REFERENTIAL_INTEGRITY, ("site_key",), S.FAILED, 2),
    ]
    integrity = results[1]
    assert integrity.sample == [{"system_id": 3, "site_key": 7.0}, {"system_id": 5, "site_key": 7.0}]
    assert integrity.details == {"parent": "site", "parent_column": "system_id", "orphan_values": 1}
    assert integrity.severity == Severity.ERROR


def test_fk_values_read_back_as_text_still_match(linked):
    site = _table(s=["A", "B"])
    sample = _table(site_key=pd.Series(["1", "2"], dtype=object))

    assert [r.status for r in _fk_results(linked, sample, site)] == [S.PASSED, S.PASSED]


def test_an_optional_fk_is_checked_for_integrity_only(linked):
    site = _table(s=["A"])
    sample = _table(site_key=[1.0, np.nan])

    results = _fk_results(linked, sample, site, required=False)

    assert [(r.kind, r.status) for r in results] == [(K.REFERENTIAL_INTEGRITY, S.PASSED)]


def test_an_fk_without_its_column_is_not_linked(linked):
    results = _fk_results(linked, _table(p=["P1"]), _table(s=["A"]))

    assert [(r.kind, r.status, r.reason) for r in results] == [
        (K.REQUIRED_FK, S.FAILED, ""),
        (K.REFERENTIAL_INTEGRITY, S.SKIPPED, "column absent: 'site_key'"),
    ]


def test_integrity_needs_the_parents_table(linked):
    results = _fk_results(linked, _table(site_key=[1]), None)

    assert (results[1].status, results[1].reason) == (S.SKIPPED, "no table for 'site'")


def test_a_bridge_mediated_fk_is_left_to_the_bridge(tmp_path):
    project = load_v2_entities(tmp_path, "site: {type: entity, public_id: site_id}\n")
    model = _model(site={"foreign_keys": [{"entity": "location", "required": True, "via": "site_location"}]})

    results = check_data({"site": _table(a=[1])}, project, model)

    assert [(r.kind, r.status, r.details["via"]) for r in results] == [
        (K.REQUIRED_FK, S.SKIPPED, "site_location")
    ]


def test_samples_are_json_ready(one_entity):
    values = pd.Series([pd.Timestamp("2020-01-02"), np.int64(5), 2.5, None], dtype=object)

    result = _check_column(one_entity, {"type": "boolean"}, values, kind=K.TYPE)

    assert json.loads(json.dumps(result.to_dict()))["sample"] == [
        {"system_id": 1, "c": "2020-01-02T00:00:00"},
        {"system_id": 2, "c": 5},
        {"system_id": 3, "c": 2.5},
    ]
