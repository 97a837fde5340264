"""Spec section 3: validation rules, with this engine's severities (see docs/compatibility.md)."""

from __future__ import annotations

import pytest

import shapeshift
from shapeshift import IssueCode as C
from shapeshift import Severity as S

EXAMPLE_3_2_1 = """
entities:
  kind:   {type: fixed, columns: [code], values: [a, b]}
  site:   {surrogate_id: site_pk, keys: [site], columns: [site], depends_on: [region]}
  region: {surrogate_id: site_pk, keys: [], columns: [], source: site}
  sample:
    type: sql
    data_source: lims
    values: "sql: select 1"
    columns: [x]
    foreign_keys: [{entity: site, how: cross}]
    unnest: {var_name: v, value_name: w}
    append: [{values: [[1]]}]
options:
  data_sources: {}
"""


def found(issues):
    return {(i.severity, i.code, i.entity) for i in issues}


def test_3_2_1_example(ws):
    issues = shapeshift.validate(ws.load(EXAMPLE_3_2_1))
    got = found(issues)
    assert {
        (S.WARNING, C.FIXED_MISSING_SURROGATE_ID, "kind"),
        (S.INFO, C.DATA_MISSING_COLUMNS, "region"),
        (S.ERROR, C.CIRCULAR_DEPENDENCY, "site"),
        (S.ERROR, C.DATA_SOURCE_UNKNOWN, "sample"),
        (S.INFO, C.SQL_LEGACY_VALUES, "sample"),
        (S.WARNING, C.UNNEST_MISSING_VALUE_VARS, "sample"),
        (S.INFO, C.UNNEST_MISSING_ID_VARS, "sample"),
        (S.WARNING, C.SURROGATE_ID_SHARED, "site"),
        (S.INFO, C.SURROGATE_ID_NAMING, "site"),
        (S.INFO, C.SURROGATE_ID_NAMING, "region"),
        (S.ERROR, C.APPEND_SQL_MISSING_QUERY, "sample"),
    } <= got
    # the cross join without keys is fine here (K2/K3 of the reference fire on it)
    assert not any(code in (C.FK_MISSING_LOCAL_KEYS, C.FK_MISSING_REMOTE_KEYS) for _, code, _ in got)
    cycle = next(i for i in issues if i.code == C.CIRCULAR_DEPENDENCY)
    assert "site" in cycle.message and "region" in cycle.message and cycle.location == "config.yml:4"
    assert "site -> region -> site" in cycle.message
    # one report per cycle, no bogus second cycle for an entity that only points into it
    assert sum(1 for i in issues if i.code == C.CIRCULAR_DEPENDENCY) == 1
    assert all(isinstance(i.to_dict()["severity"], str) for i in issues)


def test_structural_errors(ws):
    issues = shapeshift.validate(
        ws.load("""
    entities:
      a:
        type: fixed
        surrogate_id: a_id
        columns: [x, y]
        values: [[1, 2], [3]]
      b:
        keys: [k]
        foreign_keys:
          - {local_keys: [k], remote_keys: [k]}
          - {entity: nope, local_keys: [k], remote_keys: [k]}
          - {entity: a, local_keys: [k]}
          - {entity: a, local_keys: [k, j], remote_keys: [x]}
          - {entity: a, local_keys: [k], remote_keys: [x], extra_columns: 5}
        unnest: {value_vars: [x]}
        drop_duplicates: {a: 1}
      c:
      d: {type: sqlite}
      e: {type: sql, data_source: db, query: "  "}
    options:
      data_sources:
        db: {driver: sqlite, options: {filename: db.sqlite}}
    """)
    )
    got = found(issues)
    expected_errors = {
        (C.FIXED_ROW_LENGTH, "a"),
        (C.FK_MISSING_ENTITY, "b"),
        (C.FK_UNKNOWN_ENTITY, "b"),
        (C.FK_MISSING_REMOTE_KEYS, "b"),
        (C.FK_KEY_COUNT, "b"),
        (C.FK_EXTRA_COLUMNS_TYPE, "b"),
        (C.UNNEST_MISSING_VAR_NAME, "b"),
        (C.UNNEST_MISSING_VALUE_NAME, "b"),
        (C.ENTITY_EMPTY, "c"),
        (C.INVALID_TYPE, "d"),
        (C.SQL_EMPTY_QUERY, "e"),
    }
    assert expected_errors <= {(code, entity) for severity, code, entity in got if severity == S.ERROR}
    assert (S.WARNING, C.DROP_DUPLICATES_TYPE, "b") in got
    assert (S.WARNING, C.SOURCE_UNAVAILABLE, "e") in got


def test_no_entities(ws):
    issues = shapeshift.validate(ws.load("options: {}\n"))
    assert [(i.severity, i.code) for i in issues] == [(S.ERROR, C.ENTITIES_MISSING)]


def test_reference_problems_are_warnings_with_locations(ws):
    issues = shapeshift.validate(
        ws.load("""
    entities:
      a:
        source: ghost
        keys: [k]
        columns: "@value: entities.nope.columns"
        depends_on: [phantom]
    """)
    )
    got = found(issues)
    assert (S.WARNING, C.SOURCE_UNKNOWN, "a") in got
    assert (S.WARNING, C.DEPENDS_ON_UNKNOWN, "a") in got
    assert (S.WARNING, C.COLUMNS_NOT_LIST, "a") in got
    assert (S.WARNING, C.UNRESOLVED_REFERENCE, "a") in got
    source = next(i for i in issues if i.code == C.SOURCE_UNKNOWN)
    assert source.location == "config.yml:4" and source.suggestion


def test_validate_never_raises_on_odd_shapes(ws):
    issues = shapeshift.validate(
        ws.load("""
    entities:
      a: [1, 2]
      b: {foreign_keys: [1, "x"], append: 3, filters: [7], keys: k}
    options: null
    """)
    )
    assert any(i.code == C.ENTITY_NOT_MAPPING for i in issues)


def test_ignored_fields_are_noted(ws):
    issues = shapeshift.validate(
        ws.load("""
    entities:
      a: {type: fixed, surrogate_id: a_id, columns: [k], values: [x]}
      b:
        type: fixed
        surrogate_id: b_id
        columns: [k]
        values: [x]
        check_functional_dependency: true
        foreign_keys: [{entity: a, local_keys: [k], remote_keys: [k], contraints: {cardinality: one_to_one}}]
    """)
    )
    got = found(issues)
    assert (S.INFO, C.IGNORED_FIELD, "b") in got and (S.WARNING, C.IGNORED_FIELD, "b") in got


def test_csv_header_is_checked(ws):
    ws.write("data.csv", "code;Label\nQ;oak\n")
    issues = shapeshift.validate(
        ws.load("""
    entities:
      labels:
        {type: csv, surrogate_id: label_id, columns: [code, label], options: {filename: data.csv, sep: ";"}}
      wrong_sep: {type: csv, surrogate_id: w_id, columns: [code], options: {filename: data.csv}}
    """)
    )
    labels = next(i for i in issues if i.code == C.COLUMNS_MISSING and i.entity == "labels")
    assert "['label']" in labels.message and "'label' -> 'Label'" in labels.suggestion
    assert any(i.code == C.COLUMNS_MISSING and i.entity == "wrong_sep" for i in issues)


# One code, one meaning: each case is a finding that used to share its code with another kind of finding.
# Codes are named by attribute, so before the split each new name is simply missing (AttributeError).
ONE_MEANING_PER_CODE = [
    ("entities: {a: {columns: [x]}}", "DEFAULT_ENTITY_NEEDED", "read the input table"),
    ("entities: {a: {source: b}, b: {type: fixed, surrogate_id: b_id, columns: [x], values: [1]}}",
     "DATA_MISSING_COLUMNS", "has no columns or keys"),
    ("entities: {a: {type: sqlite}}", "INVALID_TYPE", "is a loader name"),
    ("""entities: {a: {data_source: db, query: select 1, columns: [x]}}
options: {data_sources: {db: {driver: sqlite, options: {filename: db.sqlite}}}}""",
     "SQL_MISSING_TYPE", "uses SQL data source 'db' but is not type: sql"),
    ("entities: {a: {columns: [x], foreign_keys: {entity: a}}}", "FOREIGN_KEYS_NOT_LIST", "must be a list"),
    ("entities: {a: {columns: [x], foreign_keys: [b]}}", "FK_NOT_MAPPING", "#1 is not a mapping"),
    ("entities: {a: {columns: [x], foreign_keys: [{local_keys: [x], remote_keys: [x]}]}}",
     "FK_MISSING_ENTITY", "lacks the required field entity"),
    ("""entities:
  a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1]}
  b:
    columns: [x]
    foreign_keys: [{entity: a, local_keys: [x], remote_keys: [x], constraints: {cardinality: one-to-one}}]""",
     "FK_CARDINALITY_HYPHENATED", "is read as 'one_to_one'"),
    ("entities: {a: {type: csv, surrogate_id: a_id, columns: [x]}}",
     "FILENAME_MISSING", "needs options.filename"),
    ("entities: {a: {type: csv, surrogate_id: a_id, columns: [x], options: {filename: nope.csv}}}",
     "FILE_MISSING", "file not found: nope.csv"),
    ("entities: {a: {type: csv, surrogate_id: a_id, columns: [x], options: {filename: empty.csv}}}",
     "FILE_UNREADABLE", "cannot read the header"),
    ("entities: {a: {columns: [x], unnest: [x]}}", "UNNEST_NOT_MAPPING", "unnest must be a mapping"),
    ("entities: {a: {type: fixed, surrogate_id: a_id, columns: [x], values: [[1, 2]]}}",
     "FIXED_ROW_IS_LIST", "has list rows"),
    ("entities: {a: {type: fixed, surrogate_id: a_id, columns: [x, y], values: [1]}}",
     "FIXED_ROW_NOT_LIST", "row 1 is not a list"),
    ("entities: {a: {columns: [x], filters: [{type: exists_in, column: x, other_entity: ghost}]}}",
     "FILTER_UNKNOWN_ENTITY", "other_entity 'ghost' is not declared"),
    ("entities: {a: {columns: [x], filters: [{type: exists_in, column: x}]}}",
     "FILTER_INVALID", "needs column and other_entity"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("config", "code", "fragment"), ONE_MEANING_PER_CODE, ids=[c[1] for c in ONE_MEANING_PER_CODE]
)
def test_each_kind_of_finding_has_its_own_code(ws, config, code, fragment):
    ws.write("empty.csv", "")
    issues = shapeshift.validate(ws.load(config))
    codes = {i.code for i in issues if fragment in i.message}
    assert codes == {C[code]}, [str(i) for i in issues]


def test_a_crash_inside_validation_is_reported_as_such_not_as_a_failed_entity(ws, monkeypatch):
    def crash(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr("shapeshift.config.validation.cycles", crash)
    issues = shapeshift.validate(ws.load("entities: {a: {columns: [x]}}"))
    crashed = [i for i in issues if "validation crashed" in i.message]
    assert [(i.severity, i.code, i.entity) for i in crashed] == [(S.ERROR, C.VALIDATION_CRASHED, None)]
    assert "RuntimeError: boom" in crashed[0].message
