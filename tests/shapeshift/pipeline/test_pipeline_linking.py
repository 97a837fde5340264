"""Spec 2.10-2.13: append, filters, foreign keys and their constraints (verified examples)."""
# ruff: noqa: E501 - YAML fixtures are kept on one line as written in the spec

from __future__ import annotations

import pytest

from shapeshift import IssueCode
from tests.shapeshift.engine_support import frame, rows

SAMPLES = "sample,type_code\nP1,A\nP2,B\nP3,X\nP4,"

FK_EXAMPLE = """
entities:
  survey:
    columns: [sample, type_code]
  sample_type:
    type: fixed
    surrogate_id: sample_type_id
    columns: [code, type_name]
    values: [[A, Alpha type], [B, Beta type], [null, Unknown type]]
  sample_inner:
    surrogate_id: sample_inner_id
    keys: [sample]
    columns: [sample, type_code]
    foreign_keys:
      - {entity: sample_type, local_keys: [type_code], remote_keys: [code]}
  sample_left:
    surrogate_id: sample_left_id
    keys: [sample]
    columns: [sample, type_code]
    foreign_keys:
      - entity: sample_type
        local_keys: [type_code]
        remote_keys: [code]
        how: left
        extra_columns: {type_label: type_name}
  sample_nameonly:
    surrogate_id: sample_nameonly_id
    keys: [sample]
    columns: [sample, type_code]
    foreign_keys:
      - entity: sample_type
        local_keys: [type_code]
        remote_keys: [code]
        how: left
        extra_columns: [type_name]
        drop_remote_id: true
"""


def test_2_12_4_inner_left_extra_columns_null_keys(ws):
    result = ws.run(FK_EXAMPLE, inputs={"survey": frame(SAMPLES)})
    inner = result.outcome("sample_inner").table
    assert list(inner.columns) == ["sample", "type_code", "sample_type_id", "code", "sample_inner_id"]
    assert rows(inner) == [("P1", "A", 1, "A", 1), ("P2", "B", 2, "B", 2), ("P4", None, 3, None, 3)]
    left = result.outcome("sample_left").table
    assert list(left.columns) == [
        "sample",
        "type_code",
        "sample_type_id",
        "code",
        "type_label",
        "sample_left_id",
    ]
    assert rows(left) == [
        ("P1", "A", 1.0, "A", "Alpha type", 1),
        ("P2", "B", 2.0, "B", "Beta type", 2),
        ("P3", "X", None, None, None, 3),
        ("P4", None, 3.0, None, "Unknown type", 4),
    ]
    assert str(left["sample_type_id"].dtype) == "float64"
    nameonly = result.outcome("sample_nameonly").table
    assert list(nameonly.columns) == ["sample", "type_code", "code", "type_name", "sample_nameonly_id"]
    assert rows(nameonly) == [
        ("P1", "A", "A", "Alpha type", 1),
        ("P2", "B", "B", "Beta type", 2),
        ("P3", "X", None, None, 3),
        ("P4", None, None, "Unknown type", 4),
    ]
    assert result.tables["sample_left"].to_csv(index=False) == (
        "system_id,sample_left_id,sample_type_id,code,sample,type_code,type_label\n"
        "1,,1.0,A,P1,A,Alpha type\n2,,2.0,B,P2,B,Beta type\n3,,,,P3,X,\n4,,3.0,,P4,,Unknown type\n"
    )


def test_2_12_5_derived_entity_with_cross_join(ws):
    result = ws.run(
        """
    entities:
      survey:
        columns: [project]
      project:
        surrogate_id: project_id
        keys: [project]
        columns: [project]
        drop_duplicates: true
      method:
        type: fixed
        surrogate_id: method_id
        columns: [method_name]
        values: [Sieve, Flotation]
      dataset:
        source: method
        surrogate_id: dataset_id
        keys: [method_name, method_id]
        columns: []
        extra_columns:
          dataset_name: method_name
          master_set_id: 1
        foreign_keys:
          - entity: project
            how: cross
        drop_duplicates: true
    """,
        inputs={"survey": frame("project\nPA\nPB\nPA")},
    )
    dataset = result.outcome("dataset").table
    assert rows(
        dataset, ["method_id", "method_name", "dataset_name", "master_set_id", "project_id", "dataset_id"]
    ) == [
        (1, "Sieve", "Sieve", 1, 1, 1),
        (1, "Sieve", "Sieve", 1, 2, 2),
        (2, "Flotation", "Flotation", 1, 1, 3),
        (2, "Flotation", "Flotation", 1, 2, 4),
    ]
    assert list(result.tables["dataset"].columns) == [
        "system_id",
        "dataset_id",
        "project_id",
        "dataset_name",
        "master_set_id",
        "method_id",
        "method_name",
    ]


def test_2_12_6_joins_multiply_rows(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [sample, type_code]}
      sample_type:
        type: fixed
        surrogate_id: sample_type_id
        columns: [code, type_name]
        values: [[A, Alpha type], [B, Beta type], [B, Beta again]]
      sample:
        surrogate_id: sample_id
        keys: [sample]
        columns: [sample, type_code]
        drop_duplicates: [sample]
        foreign_keys:
          - {entity: sample_type, local_keys: [type_code], remote_keys: [code], how: left}
    """,
        inputs={"survey": frame(SAMPLES)},
    )
    assert rows(result.outcome("sample").table) == [
        ("P1", "A", 1.0, "A", 1),
        ("P2", "B", 2.0, "B", 2),
        ("P2", "B", 3.0, "B", 3),
        ("P3", "X", None, None, 4),
        ("P4", None, None, None, 5),
    ]


def test_2_12_7_skips(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [sample, type_code, code, type_name, site_id]}
      sample_type:
        type: fixed
        surrogate_id: sample_type_id
        columns: [code, type_name]
        values: [[A, Alpha type], [B, Beta type]]
      site:
        type: fixed
        surrogate_id: site_id
        columns: [code]
        values: [A, B]
      twice:
        keys: [sample]
        columns: [sample, type_code, code, type_name]
        foreign_keys:
          - {entity: sample_type, local_keys: [type_code], remote_keys: [code], extra_columns: [type_name]}
          - {entity: sample_type, local_keys: [type_code], remote_keys: [code]}
      has_id:
        keys: [sample]
        columns: [sample, type_code, site_id]
        foreign_keys:
          - {entity: site, local_keys: [type_code], remote_keys: [code]}
      bad_remote:
        keys: [sample]
        columns: [sample, type_code]
        foreign_keys:
          - {entity: sample_type, local_keys: [type_code], remote_keys: [sample_type_id]}
      bad_cross:
        keys: [sample]
        columns: [sample]
        foreign_keys:
          - {entity: site, how: cross, local_keys: [sample], remote_keys: [code]}
    """,
        inputs={"survey": frame("sample,type_code,code,type_name,site_id\nP1,A,c,n,99\nP2,B,c,n,98")},
    )
    twice = result.outcome("twice").table
    assert list(twice.columns) == [
        "sample",
        "type_code",
        "code",
        "type_name",
        "sample_type_id",
        "code_sample_type",
    ]
    assert rows(result.outcome("has_id").table) == [("P1", "A", "99"), ("P2", "B", "98")]
    assert "sample_type_id" not in result.outcome("bad_remote").table.columns
    assert any("not linked" in w for w in result.outcome("bad_remote").warnings)
    assert "site_id" not in result.outcome("bad_cross").table.columns


def test_remote_without_id_column_fails_entity(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [a]}
      lookup: {type: fixed, columns: [a, b], values: [[1, 2]]}
      child:
        columns: [a]
        foreign_keys: [{entity: lookup, local_keys: [a], remote_keys: [a]}]
    """,
        inputs={"survey": frame("a\n1")},
    )
    assert result.outcome("child").status == "failed"
    assert "lookup_id" in result.outcome("child").error


def test_incompatible_key_dtypes_fail_entity(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [a]}
      lookup: {type: fixed, surrogate_id: lookup_id, columns: [a, b], values: [[1, 2]]}
      child:
        columns: [a]
        foreign_keys: [{entity: lookup, local_keys: [a], remote_keys: [a]}]
    """,
        inputs={"survey": frame("a\nx")},
    )
    assert result.outcome("child").status == "failed"
    assert "merge" in result.outcome("child").error


def test_outer_and_right_joins(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [k]}
      lookup: {type: fixed, surrogate_id: lookup_id, columns: [k, v], values: [[c, 3], [a, 1]]}
      outer:
        columns: [k]
        foreign_keys: [{entity: lookup, local_keys: [k], remote_keys: [k], how: outer}]
      right:
        columns: [k]
        foreign_keys: [{entity: lookup, local_keys: [k], remote_keys: [k], how: right}]
    """,
        inputs={"survey": frame("k\nb\na")},
    )
    assert rows(result.outcome("outer").table) == [("a", 2.0), ("b", None), ("c", 1.0)]
    assert rows(result.outcome("right").table) == [("c", 1), ("a", 2)]


CONSTRAINT_CONFIG = """
entities:
  survey: {columns: [sample, type_code]}
  sample_type:
    type: fixed
    surrogate_id: sample_type_id
    columns: [code, type_name]
    values: [[A, Alpha type], [B, Beta type], [B, Beta again]]
  sample:
    surrogate_id: sample_id
    keys: [sample]
    columns: [sample, type_code]
    foreign_keys:
      - {entity: sample_type, local_keys: [type_code], remote_keys: [code], how: %s, constraints: %s}
"""


@pytest.mark.parametrize(
    "how, constraints, outcome",
    [
        ("left", "{cardinality: many_to_one}", "rows increased 4 -> 5"),
        ("left", "{cardinality: one_to_one}", "rows changed 4 -> 5"),
        ("left", "{cardinality: one_to_many}", 5),
        ("inner", "{cardinality: one_to_many}", "rows decreased 4 -> 3"),
        ("left", "{require_unique_right: true}", "1 duplicate remote key"),
        ("left", "{allow_null_keys: false}", "null values in local key ['type_code']"),
        ("inner", "{allow_row_decrease: false}", "rows decreased 4 -> 3"),
        ("left", "{cardinality: many-to-one}", "rows increased 4 -> 5"),
        ("left", "{allow_unmatched_left: false}", "2 local row(s) without a match"),
        ("left", "{}", 5),
    ],
)
def test_2_13_constraints(ws, how, constraints, outcome):
    result = ws.run(CONSTRAINT_CONFIG % (how, constraints), inputs={"survey": frame(SAMPLES)})
    sample = result.outcome("sample")
    if isinstance(outcome, int):
        assert sample.status == "success" and sample.rows_out == outcome
        indicator = "_merge_indicator_sample_type" in sample.columns
        assert indicator == (constraints != "{}")
    else:
        assert sample.status == "failed"
        assert sample.error.startswith("sample -> sample_type: ")
        assert outcome in sample.error


def test_constraints_reported_not_enforced_when_switched_off(ws):
    result = ws.run(
        CONSTRAINT_CONFIG % ("left", "{cardinality: many_to_one}"),
        inputs={"survey": frame(SAMPLES)},
        validate_constraints=False,
    )
    sample = result.outcome("sample")
    assert sample.status == "success" and sample.rows_out == 5
    assert any("many_to_one" in w for w in sample.warnings)


def test_unmatched_rows_are_reported(ws):
    result = ws.run(CONSTRAINT_CONFIG % ("left", "{}"), inputs={"survey": frame(SAMPLES)})
    assert any(i.code == "fk_unmatched" for i in result.outcome("sample").issues)


def test_unmatched_rows_count_a_null_key_as_the_merge_matches_it(ws):
    # The survey's empty type_code is NaN, the fixed table's null is None: pandas' merge matches the two.
    config = CONSTRAINT_CONFIG.replace("[B, Beta again]", "[null, Unknown type]") % ("inner", "{}")
    result = ws.run(config, inputs={"survey": frame(SAMPLES)})
    sample = result.outcome("sample")
    assert sample.rows_out == 3  # P1 (A), P2 (B), P4 (null); P3's X matches nothing
    notes = [i.message for i in sample.issues if i.code == "fk_unmatched"]
    assert notes == [
        "sample -> sample_type: 1 of 4 rows have no match in 'sample_type' and were dropped (inner join)"
    ]


def test_2_10_append(ws):
    result = ws.run(
        """
    entities:
      survey:
        columns: [culture, culture_en]
      legacy_cultures:
        type: fixed
        columns: [culture, culture_en]
        values: [[Roman, Roman], [Celt, Celtic]]
      cultural_group:
        surrogate_id: cultural_group_id
        keys: [culture]
        columns: [culture, culture_en]
        extra_columns: {origin: imported}
        append_mode: distinct
        append:
          - type: fixed
            values: [[Roman, Roman], [unknown, null]]
          - source: legacy_cultures
      cultural_group_all:
        surrogate_id: cultural_group_all_id
        keys: [culture]
        columns: [culture, culture_en]
        append:
          type: fixed
          values: [[Roman, Roman]]
    """,
        inputs={"survey": frame("culture,culture_en\nRoman,Roman\nViking,Norse\nRoman,Roman")},
    )
    assert rows(result.outcome("cultural_group").table) == [
        ("Roman", "Roman", "imported", 1),
        ("Viking", "Norse", "imported", 2),
        ("unknown", None, "imported", 3),
        ("Celt", "Celtic", "imported", 4),
    ]
    assert rows(result.outcome("cultural_group_all").table, ["culture", "cultural_group_all_id"]) == [
        ("Roman", 1),
        ("Viking", 2),
        ("Roman", 3),
        ("Roman", 4),
    ]


def test_2_10_append_traps(ws):
    result = ws.run("""
    entities:
      other: {type: fixed, surrogate_id: other_id, columns: [a, b], values: [[x, y]]}
      parent_fixed:
        type: fixed
        surrogate_id: p_id
        columns: [a, b]
        values: [[1, 2]]
        append: [{source: other}]
    """)
    assert rows(result.outcome("parent_fixed").table) == [(1, 2, 1), (1, 2, 2)]


def test_2_11_filters(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [taxon, count]}
      used_taxa: {keys: [taxon], columns: [taxon], drop_duplicates: true}
      taxa:
        type: fixed
        surrogate_id: taxon_id
        columns: [code, name]
        values: [[Oak, Quercus], [Pine, Pinus], [Elm, Ulmus], [Oak, Quercus robur]]
        filters:
          - {type: exists_in, column: code, other_entity: used_taxa, other_column: taxon, drop_duplicates: [code]}
        depends_on: [used_taxa]
    """,
        inputs={"survey": frame("taxon,count\nOak,1\nPine,2\nOak,3")},
    )
    assert rows(result.outcome("taxa").table) == [("Oak", "Quercus", 1), ("Pine", "Pinus", 2)]


def test_filter_target_waits_even_without_depends_on(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [taxon]}
      taxa:
        type: fixed
        surrogate_id: taxon_id
        columns: [code, name]
        values: [[Oak, Quercus], [Elm, Ulmus]]
        filters: [{type: exists_in, column: code, other_entity: used_taxa, other_column: taxon}]
      used_taxa: {keys: [taxon], columns: [taxon], drop_duplicates: true}
    """,
        inputs={"survey": frame("taxon\nOak")},
    )
    assert result.outcome("taxa").status == "success"
    assert rows(result.outcome("taxa").table) == [("Oak", "Quercus", 1)]


def test_filter_errors(ws):
    result = ws.run("""
    entities:
      a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1], filters: [{type: nope}]}
      b: {type: fixed, surrogate_id: b_id, columns: [x], values: [1], filters: [{column: x}]}
    """)
    assert "Unknown filter type" in result.outcome("a").error
    assert result.outcome("b").status == "success" and result.outcome("b").warnings


def test_2_12_7_same_surrogate_id_name_and_missing_local_key(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [k]}
      first: {type: fixed, surrogate_id: shared_id, columns: [k], values: [a, b]}
      second: {type: fixed, surrogate_id: shared_id, columns: [k], values: [b, a]}
      child:
        columns: [k]
        foreign_keys:
          - {entity: first, local_keys: [k], remote_keys: [k]}
          - {entity: second, local_keys: [k], remote_keys: [k]}
      missing_local:
        source: first
        columns: [k]
        foreign_keys: [{entity: second, local_keys: [nope], remote_keys: [k]}]
    """,
        inputs={"survey": frame("k\na\nb")},
    )
    assert rows(result.outcome("child").table) == [("a", 1), ("b", 2)]
    missing = result.outcome("missing_local")
    assert missing.status == "success" and "shared_id" not in missing.columns[1:]
    assert any("nope" in w for w in missing.warnings)


LINK_FINDINGS = {
    "FK_ALREADY_LINKED": (
        "{columns: [k, lookup_id], foreign_keys: [{entity: lookup, local_keys: [k], remote_keys: [k]}]}",
        "already exists",
    ),
    "FK_CHECK_FAILED": (
        "{columns: [k], foreign_keys: [{entity: lookup, local_keys: [k], remote_keys: [lookup_id]}]}",
        "not linked",
    ),
    "FK_EXTRA_COLUMNS_MISSING": (
        "{columns: [k], foreign_keys: [{entity: lookup, local_keys: [k], remote_keys: [k], extra_columns: {label: nope}}]}",
        "extra columns not found",
    ),
    "FK_DEFERRED": (
        "{columns: [k, v1], unnest: {id_vars: [k], value_vars: [nope], var_name: var, value_name: value},"
        " foreign_keys: [{entity: lookup, local_keys: [value], remote_keys: [k]}]}",
        "never linked",
    ),
}


@pytest.mark.parametrize("code", LINK_FINDINGS)
def test_each_kind_of_link_finding_has_its_own_code(ws, code):
    child, fragment = LINK_FINDINGS[code]
    result = ws.run(
        f"""
    entities:
      survey: {{columns: [k, v1, lookup_id]}}
      lookup: {{type: fixed, surrogate_id: lookup_id, columns: [k], values: [a, b]}}
      child: {child}
    """,
        inputs={"survey": frame("k,v1,lookup_id\na,x,7\nb,y,8")},
    )
    outcome = result.outcome("child")
    assert outcome.status == "success"
    codes = {issue.code for issue in outcome.issues if fragment in issue.message}
    assert codes == {IssueCode[code]}, [str(issue) for issue in outcome.issues]
