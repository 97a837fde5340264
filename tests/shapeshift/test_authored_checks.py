"""Checks of the author's own: the `checks:` section (issue #11 item 3)."""

from __future__ import annotations

import io
import shutil
import textwrap

import numpy as np
import pandas as pd
import pytest

import shapeshift
from shapeshift.diff import StoredTable, diff_runs, identities, read_table
from shapeshift.issues import IssueCode, Severity
from shapeshift.targets import (
    AuthoredCheck,
    CheckKind,
    CheckStatus,
    baseline_from_diff,
    output_columns,
    parse_checks,
    run_checks,
)
from tests.shapeshift.engine_support import ARBODAT, needs_arbodat

K, S, C = CheckKind, CheckStatus, IssueCode
V2_HEADER = "metadata: {type: shapeshifter-project}\n"

# one format-2 project covering every way a column gets its name
V2_ENTITIES = """
site:
  type: fixed
  public_id: site_id
  keys: [code]
  columns: [code, name]
  values: [[S1, Alpha]]
kind:
  type: fixed
  keys: [kind]
  columns: [kind]
  values: [[pit]]
sample:
  type: entity
  source: site
  public_id: sample_id
  keys: [sample_name]
  columns: [sample_name, depth, a, b]
  extra_columns: {label: sample_name}
  foreign_keys:
    - entity: site
      local_keys: [code]
      remote_keys: [code]
      extra_columns: {site_name: name}
  unnest: {id_vars: [sample_name], value_vars: [a, b], var_name: measure, value_name: amount}
linked:
  type: entity
  source: site
  public_id: linked_id
  keys: [code]
  columns: [code]
  foreign_keys:
    - {entity: site, local_keys: [code], remote_keys: [code], extra_columns: {n: name}, drop_remote_id: true}
both:
  type: merged
  public_id: both_id
  branches:
    - {name: s, source: site}
    - {name: k, source: kind}
query:
  type: sql
  data_source: db
"""


def _project(tmp_path, checks: str, entities: str = V2_ENTITIES, header: str = V2_HEADER):
    path = tmp_path / "project.yml"
    path.write_text(
        header + "entities:\n" + textwrap.indent(textwrap.dedent(entities), "  ") + textwrap.dedent(checks)
    )
    return shapeshift.load(path)


def _parse(tmp_path, checks: str, **kwargs):
    return parse_checks(_project(tmp_path, checks, **kwargs))


def _checks(tmp_path, checks: str, **kwargs) -> list[AuthoredCheck]:
    parsed, issues = _parse(tmp_path, checks, **kwargs)
    assert issues == []
    return parsed


def _issue(tmp_path, checks: str, **kwargs):
    parsed, issues = _parse(tmp_path, checks, **kwargs)
    assert len(issues) == 1, issues
    assert parsed == []
    assert issues[0].severity == Severity.ERROR
    return issues[0]


def _table(**columns) -> pd.DataFrame:
    length = len(next(iter(columns.values())))
    return pd.DataFrame({"system_id": np.arange(1, length + 1, dtype="int64"), **columns})


def _run_one(tmp_path, check: str, tables, **kwargs):
    checks = _checks(tmp_path, "checks:\n" + textwrap.indent(textwrap.dedent(check), "  "))
    (result,) = run_checks(checks, tables, **kwargs)
    return result


# --- parsing -----------------------------------------------------------------------------------------


def test_no_section_gives_nothing(tmp_path):
    assert _parse(tmp_path, "") == ([], [])


def test_items_parse_in_order_with_kind_columns_severity_and_line(tmp_path):
    checks = _checks(
        tmp_path,
        """
        checks:
          sample:
            - rows: {min: 1, max: 10}
            - unique: [sample_name, depth]
            - not_null: [sample_name, depth]
            - accepted_values: {column: measure, values: [a, b]}
            - relationship: {column: site_id, to: site}
            - equals_baseline: true
              severity: warning
        """,
    )
    assert [(c.kind, c.columns, c.index) for c in checks] == [
        (K.ROW_COUNT, (), 0),
        (K.UNIQUE, ("sample_name", "depth"), 1),
        (K.NOT_NULL, ("sample_name",), 2),  # one check per column
        (K.NOT_NULL, ("depth",), 2),
        (K.ACCEPTED_VALUES, ("measure",), 3),
        (K.RELATIONSHIP, ("site_id",), 4),
        (K.EQUALS_BASELINE, (), 5),
    ]
    assert [c.severity for c in checks] == [Severity.ERROR] * 6 + [Severity.WARNING]
    assert checks[0].params == {"min": 1, "max": 10}
    assert checks[4].params == {"values": ["a", "b"]}
    assert checks[5].params == {"parent": "site", "parent_column": "system_id"}
    lines = (tmp_path / "project.yml").read_text().splitlines()
    assert lines[int(checks[1].location.split(":")[1]) - 1].strip() == "- unique: [sample_name, depth]"


def test_a_single_column_is_a_list_of_one(tmp_path):
    (check,) = _checks(tmp_path, "checks:\n  sample:\n    - unique: sample_name\n")
    assert check.columns == ("sample_name",)


def test_relationship_defaults_to_the_parents_identity_column(tmp_path):
    (check,) = _checks(tmp_path, "checks:\n  sample:\n    - relationship: {to: site, to_column: code}\n")
    assert (check.columns, check.params) == (("site_id",), {"parent": "site", "parent_column": "code"})


def test_format_1_identity_columns_are_known(tmp_path):
    entities = """
    site:
      type: fixed
      surrogate_id: site_id
      keys: [code]
      columns: [code]
      values: [[S1]]
    sample:
      source: site
      surrogate_id: sample_id
      keys: [code]
      columns: [code]
      foreign_keys: [{entity: site, local_keys: [code], remote_keys: [code]}]
    """
    checks = _checks(
        tmp_path,
        "checks:\n  sample:\n    - not_null: [sample_id, site_id]\n    - relationship: {to: site}\n",
        entities=entities,
        header="",
    )
    assert [c.columns for c in checks] == [("sample_id",), ("site_id",), ("site_id",)]


@pytest.mark.parametrize(
    "entity, column",
    [
        ("sample", "sample_name"),  # keys
        ("sample", "depth"),  # columns
        ("sample", "code"),  # FK local key
        ("sample", "label"),  # extra_columns
        ("sample", "measure"),  # unnest var_name
        ("sample", "amount"),  # unnest value_name
        ("sample", "sample_id"),  # public_id
        ("sample", "system_id"),
        ("sample", "site_id"),  # the parent's identity column
        ("sample", "site_name"),  # FK extra_columns
        ("linked", "n"),
        ("both", "both_branch"),  # merged (format-v2.md 16)
        ("both", "site_id"),
        ("both", "kind_id"),  # a branch source without public_id
        ("both", "name"),  # a branch source's columns
        ("query", "anything"),  # an SQL entity without columns: its query decides
    ],
)
def test_known_columns(tmp_path, entity, column):
    (check,) = _checks(tmp_path, f"checks:\n  {entity}:\n    - not_null: {column}\n")
    assert check.columns == (column,)


@pytest.mark.parametrize(
    "entity, column",
    [
        ("sample", "a"),  # melted away by unnest
        ("linked", "site_id"),  # dropped by drop_remote_id
        ("sample", "Sample_name"),
    ],
)
def test_columns_the_table_will_not_have_are_unknown(tmp_path, entity, column):
    issue = _issue(tmp_path, f"checks:\n  {entity}:\n    - not_null: [{column}]\n")
    assert issue.code == C.CHECK_COLUMN_UNKNOWN and issue.entity == entity
    assert f"'{column}' is no column of '{entity}'" in issue.message


def test_unknown_column_names_the_item_and_suggests(tmp_path):
    parsed, (issue,) = _parse(
        tmp_path, "checks:\n  sample:\n    - rows: {min: 1}\n    - unique: [sample_nam]\n"
    )
    assert [c.kind for c in parsed] == [K.ROW_COUNT]
    assert issue.message.startswith("checks of 'sample', item 2: 'sample_nam' is no column of 'sample'")
    assert issue.suggestion == "did you mean 'sample_nam' -> 'sample_name'?"
    lines = (tmp_path / "project.yml").read_text().splitlines()
    assert issue.location == f"project.yml:{lines.index('    - unique: [sample_nam]') + 1}"


def test_output_columns_of_an_sql_entity_without_columns_are_unknowable(tmp_path):
    project = _project(tmp_path, "")
    assert output_columns(project.entities["query"], project) is None
    assert "sample_name" in output_columns(project.entities["sample"], project)


@pytest.mark.parametrize(
    "checks, code, text",
    [
        ("checks: [sample]", C.CHECKS_NOT_MAPPING, "checks: must map entity names to lists of checks"),
        ("checks:\n  sample: {rows: {min: 1}}", C.CHECKS_NOT_LIST, "checks of 'sample' must be a list"),
        ("checks:\n  sampel: [{rows: {min: 1}}]", C.CHECK_ENTITY_UNKNOWN, "entity 'sampel' is not declared"),
        ("checks:\n  sample: [{not_nul: [depth]}]", C.CHECK_KIND_UNKNOWN, "unknown check not_nul"),
        ("checks:\n  sample: [{severity: warning}]", C.CHECK_KIND_UNKNOWN, "unknown check (none named)"),
        ("checks:\n  sample: [not_null]", C.CHECK_INVALID, "a check is a mapping"),
        ("checks:\n  sample: [{unique: a, not_null: b}]", C.CHECK_INVALID, "one check per item"),
        ("checks:\n  sample: [{unique: depth, where: x}]", C.CHECK_INVALID, "one check per item"),
        ("checks:\n  sample: [{unique: depth, severity: fatal}]", C.CHECK_INVALID, "severity must be"),
        ("checks:\n  sample: [{unique: []}]", C.CHECK_INVALID, "unique must be a column name or a list"),
        ("checks:\n  sample: [{not_null: [1]}]", C.CHECK_INVALID, "not_null must be a column name"),
        ("checks:\n  sample: [{rows: 5}]", C.CHECK_INVALID, "rows takes a mapping of max, min"),
        ("checks:\n  sample: [{rows: {}}]", C.CHECK_INVALID, "rows needs min, max or both"),
        ("checks:\n  sample: [{rows: {min: -1}}]", C.CHECK_INVALID, "min must be a whole number >= 0"),
        ("checks:\n  sample: [{rows: {max: true}}]", C.CHECK_INVALID, "max must be a whole number >= 0"),
        ("checks:\n  sample: [{rows: {min: 5, max: 2}}]", C.CHECK_INVALID, "min 5 is greater than max 2"),
        ("checks:\n  sample: [{rows: {minimum: 5}}]", C.CHECK_INVALID, "unknown key(s) minimum"),
        (
            "checks:\n  sample: [{accepted_values: {column: depth}}]",
            C.CHECK_INVALID,
            "accepted_values: values is required",
        ),
        (
            "checks:\n  sample: [{accepted_values: {column: depth, values: []}}]",
            C.CHECK_INVALID,
            "values must be a non-empty list",
        ),
        (
            "checks:\n  sample: [{accepted_values: {column: depth, values: [1, null]}}]",
            C.CHECK_INVALID,
            "values cannot hold null",
        ),
        (
            "checks:\n  sample: [{accepted_values: {column: dept, values: [1]}}]",
            C.CHECK_COLUMN_UNKNOWN,
            "'dept' is no column of 'sample'",
        ),
        (
            "checks:\n  sample: [{relationship: {column: code, to: sit}}]",
            C.CHECK_ENTITY_UNKNOWN,
            "relationship: to names entity 'sit', which is not declared",
        ),
        (
            "checks:\n  sample: [{relationship: {column: code, to: site, to_column: nam}}]",
            C.CHECK_COLUMN_UNKNOWN,
            "'nam' is no column of 'site'",
        ),
        (
            "checks:\n  sample: [{relationship: {to: kind}}]",
            C.CHECK_INVALID,
            "relationship to 'kind': name the column",
        ),
        ("checks:\n  sample: [{relationship: {column: code}}]", C.CHECK_INVALID, "to is required"),
        ("checks:\n  sample: [{equals_baseline: false}]", C.CHECK_INVALID, "equals_baseline takes true"),
    ],
)
def test_bad_checks_are_reported_and_left_out(tmp_path, checks, code, text):
    issue = _issue(tmp_path, checks + "\n")
    assert issue.code == code
    assert text in issue.message
    assert issue.location.startswith("project.yml:")


def test_good_items_survive_a_bad_neighbour(tmp_path):
    parsed, issues = _parse(tmp_path, "checks:\n  sample:\n    - unique: nope\n    - unique: depth\n")
    assert [c.columns for c in parsed] == [("depth",)]
    assert [i.code for i in issues] == [C.CHECK_COLUMN_UNKNOWN]


@pytest.mark.parametrize("header", ["", V2_HEADER])
def test_validation_leaves_the_checks_section_alone(tmp_path, header):
    entities = "site:\n  type: fixed\n  surrogate_id: site_id\n  public_id: site_id\n  keys: [code]\n"
    entities += "  columns: [code]\n  values: [[S1]]\n"
    checks = "checks:\n  site:\n    - not_null: [code]\n    - rows: {min: 1}\n"
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    project = _project(tmp_path / "with", checks, entities=entities, header=header)
    plain = _project(tmp_path / "without", "", entities=entities, header=header)
    assert project.format_version == plain.format_version == (2 if header else 1)
    assert [str(i) for i in shapeshift.validate(project)] == [str(i) for i in shapeshift.validate(plain)]
    assert len(parse_checks(project)[0]) == 2


# --- running -----------------------------------------------------------------------------------------


def test_row_count(tmp_path):
    table = {"sample": _table(depth=[1, 2, 3])}
    assert _run_one(tmp_path, "sample: [{rows: {min: 3, max: 3}}]", table).status == S.PASSED
    failed = _run_one(tmp_path, "sample: [{rows: {min: 4}}]", table)
    assert (failed.status, failed.message) == (S.FAILED, "entity 'sample' has 3 row(s), at least 4 expected")
    assert failed.details["rows"] == 3 and failed.failing_rows == 0
    assert _run_one(tmp_path, "sample: [{rows: {max: 2}}]", table).status == S.FAILED
    assert _run_one(tmp_path, "sample: [{rows: {max: 0}}]", {"sample": _table(depth=[])}).status == S.PASSED


def test_unique_single_and_combined_ignoring_nulls(tmp_path):
    tables = {"sample": _table(sample_name=["a", "a", "b", "", None, ""], depth=[1, 2, 1, 1, 1, 1])}
    single = _run_one(tmp_path, "sample: [{unique: sample_name}]", tables)
    assert (single.status, single.failing_rows) == (S.FAILED, 2)
    assert single.sample == [{"system_id": 1, "sample_name": "a"}, {"system_id": 2, "sample_name": "a"}]
    assert _run_one(tmp_path, "sample: [{unique: [sample_name, depth]}]", tables).status == S.PASSED
    depth = _run_one(tmp_path, "sample: [{unique: depth}]", tables)
    assert depth.failing_rows == 5


def test_not_null_counts_empty_strings(tmp_path):
    tables = {"sample": _table(sample_name=["a", "", None, "b"], depth=[1.0, 2.0, 3.0, 4.0])}
    failed = _run_one(tmp_path, "sample: [{not_null: sample_name}]", tables)
    assert (failed.status, failed.failing_rows) == (S.FAILED, 2)
    assert [row["system_id"] for row in failed.sample] == [2, 3]
    assert failed.message == "entity 'sample': column 'sample_name' has 2 null value(s)"
    assert _run_one(tmp_path, "sample: [{not_null: depth}]", tables).status == S.PASSED


def test_accepted_values_compares_as_value_or_as_text_and_lets_nulls_pass(tmp_path):
    tables = {"sample": _table(measure=["a", "b", "", None, "c", "c", "1"], depth=[1, 2, 1, 2, 1, 2, 3])}
    failed = _run_one(tmp_path, "sample: [{accepted_values: {column: measure, values: [a, b, 1]}}]", tables)
    assert (failed.status, failed.failing_rows) == (S.FAILED, 2)
    assert failed.details["unexpected_values"] == ["c"]
    assert [row["system_id"] for row in failed.sample] == [5, 6]
    numbers = "sample: [{accepted_values: {column: depth, values: ['1', 2, 3]}}]"
    assert _run_one(tmp_path, numbers, tables).status == S.PASSED
    assert (
        _run_one(tmp_path, "sample: [{accepted_values: {column: depth, values: [1]}}]", tables).failing_rows
        == 4
    )


def test_relationship_to_system_id_and_to_a_named_column(tmp_path):
    tables = {
        "site": _table(code=["S1", "S2"]),
        "sample": _table(site_id=[1.0, 2.0, np.nan, 3.0], code=["S1", "S9", "", "S2"]),
    }
    by_id = _run_one(tmp_path, "sample: [{relationship: {to: site}}]", tables)
    assert (by_id.status, by_id.failing_rows, by_id.details["orphan_values"]) == (S.FAILED, 1, 1)
    assert by_id.sample == [{"system_id": 4, "site_id": 3.0}]
    by_code = _run_one(
        tmp_path, "sample: [{relationship: {column: code, to: site, to_column: code}}]", tables
    )
    assert (by_code.status, by_code.sample) == (S.FAILED, [{"system_id": 2, "code": "S9"}])
    as_text = {"site": tables["site"], "sample": _table(site_id=["1", "2", ""])}
    assert _run_one(tmp_path, "sample: [{relationship: {to: site}}]", as_text).status == S.PASSED


def test_relationship_without_the_parent_table_or_column(tmp_path):
    child = {"sample": _table(site_id=[1])}
    skipped = _run_one(tmp_path, "sample: [{relationship: {to: site}}]", child)
    assert (skipped.status, skipped.reason) == (S.SKIPPED, "entity 'site' did not produce a table")
    no_code = {**child, "site": _table(name=["x"]), "sample": _table(site_id=[1], code=["S1"])}
    failed = _run_one(
        tmp_path, "sample: [{relationship: {column: code, to: site, to_column: code}}]", no_code
    )
    assert failed.status == S.FAILED and "column 'code' is not in the table of 'site'" in failed.message


def test_equals_baseline(tmp_path):
    check = "sample: [{equals_baseline: true}]"
    tables = {"sample": _table(depth=[1])}
    skipped = _run_one(tmp_path, check, tables)
    assert (skipped.status, skipped.reason) == (S.SKIPPED, "no baseline run")
    assert _run_one(tmp_path, check, tables, baseline={"sample": True}).status == S.PASSED
    assert _run_one(tmp_path, check, tables, baseline={"sample": False}).status == S.FAILED
    assert _run_one(tmp_path, check, tables, baseline={"site": True}).status == S.SKIPPED


def test_an_entity_without_table_is_skipped_and_an_absent_column_fails(tmp_path):
    skipped = _run_one(tmp_path, "sample: [{not_null: depth}]", {})
    assert (skipped.status, skipped.reason) == (S.SKIPPED, "entity did not produce a table")
    failed = _run_one(tmp_path, "sample: [{unique: [sample_name, depth]}]", {"sample": _table(depth=[1])})
    assert (failed.status, failed.message) == (
        S.FAILED,
        "entity 'sample': column 'sample_name' is not in the table",
    )


def test_results_carry_the_checks_severity_and_at_most_20_sample_rows(tmp_path):
    tables = {"sample": _table(depth=[None] * 25)}
    result = _run_one(tmp_path, "sample: [{not_null: depth, severity: warning}]", tables)
    assert (result.severity, result.failing_rows, len(result.sample)) == (Severity.WARNING, 25, 20)
    assert list(result.sample[0]) == ["system_id", "depth"]
    assert result.to_dict()["kind"] == "not_null" and result.details["location"].startswith("project.yml:")


# --- the real Arbodat configuration ----------------------------------------------------------------

ARBODAT_CHECKS = """
checks:
  sample:
    - rows: {max: 200}                            # max_rows 200: at most one sample per survey row
    - unique: [ProjektNr, Befu, ProbNr]           # its drop_duplicates
    - not_null: [feature_id]                      # an inner join to feature
    - relationship: {column: feature_id, to: feature}
    - relationship: {to: sample_type}
    - not_null: sample_id                         # format 1 leaves the surrogate id empty
  survey:
    - rows: {min: 200, max: 200}
    - equals_baseline: true
      severity: warning
"""


def _stored_table(table: pd.DataFrame) -> StoredTable:
    """A run's table as the diff reads stored ones: its CSV text."""
    buffer = io.BytesIO()
    shapeshift.write_csv(table, buffer)
    data = buffer.getvalue()
    return StoredTable(read=lambda: read_table(io.BytesIO(data)))


def _stored(tables) -> dict[str, StoredTable]:
    return {name: _stored_table(table) for name, table in tables.items()}


@needs_arbodat
@pytest.mark.slow
def test_arbodat_with_a_checks_section(tmp_path):
    for name in ("reduced-arbodat.yml", "survey.csv", "mappings.yml", "translations.tsv"):
        shutil.copy(ARBODAT / name, tmp_path / name)
    path = tmp_path / "reduced-arbodat.yml"
    path.write_text(path.read_text(encoding="utf-8") + ARBODAT_CHECKS, encoding="utf-8")
    project = shapeshift.load(path)
    assert [str(i) for i in shapeshift.validate(project) if i.severity == Severity.ERROR] == []
    checks, issues = parse_checks(project)
    assert issues == [] and len(checks) == 8

    head = shapeshift.run(project, keep_tables=True, max_rows=200).tables
    base = shapeshift.run(project, keep_tables=True, max_rows=100).tables
    baseline = baseline_from_diff(diff_runs(_stored(base), _stored(head), identities(project)))
    results = run_checks(checks, head, baseline=baseline)
    assert [(r.entity, r.kind, r.status) for r in results] == [
        ("sample", K.ROW_COUNT, S.PASSED),
        ("sample", K.UNIQUE, S.PASSED),
        ("sample", K.NOT_NULL, S.PASSED),
        ("sample", K.RELATIONSHIP, S.PASSED),
        ("sample", K.RELATIONSHIP, S.PASSED),
        ("sample", K.NOT_NULL, S.FAILED),
        ("survey", K.ROW_COUNT, S.PASSED),
        ("survey", K.EQUALS_BASELINE, S.FAILED),  # 100 survey rows in the baseline, 200 now
    ]
    assert results[5].failing_rows == len(head["sample"])
    assert results[-1].severity == Severity.WARNING

    again = shapeshift.run(project, keep_tables=True, max_rows=200).tables
    same = baseline_from_diff(diff_runs(_stored(again), _stored(head), identities(project)))
    assert {r.status for r in run_checks(checks, head, baseline=same) if r.kind == K.EQUALS_BASELINE} == {
        S.PASSED
    }


@pytest.mark.parametrize("header", [V2_HEADER, ""], ids=["format 2", "format 1"])
def test_validate_reports_the_checks_section(tmp_path, header):
    project = _project(tmp_path, "checks:\n  nowhere:\n    - rows: {min: 1}\n", header=header)
    codes = [issue.code for issue in shapeshift.validate(project)]
    assert IssueCode.CHECK_ENTITY_UNKNOWN in codes
