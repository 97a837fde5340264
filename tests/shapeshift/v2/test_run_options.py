"""A format-2 run honours the run options of its foreign keys as format 1 does (`shapeshift.run`).

validate_constraints=False reports a constraint violation as a warning and keeps the table;
validate_foreign_keys (on by default) notes the rows of an inner or left join that found no match.
"""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import EntityStatus, IssueCode

# kind repeats code A and has a null code; sample's P3 has a null code and P4 one kind lacks
PROJECT = """
metadata: {type: shapeshifter-project}
entities:
  kind:
    type: fixed
    public_id: kind_id
    keys: [code]
    columns: [code, label]
    values: [[A, Alpha], [A, Again], [B, Beta], [null, Unknown]]
  sample:
    type: fixed
    public_id: sample_id
    keys: [sample]
    columns: [sample, code]
    values: [[P1, A], [P2, B], [P3, null], [P4, Z]]
    foreign_keys:
      - {entity: kind, local_keys: [code], remote_keys: [code], how: %s, constraints: %s}
"""
FK = "entity 'sample': foreign key 1 (-> kind)"
NOT_ENFORCED = " (not enforced: validate_constraints=False)"

VIOLATIONS = {
    "{cardinality: one_to_one}": [f"{FK}: one_to_one cardinality violated (rows: 4 -> 5)"],
    "{allow_null_keys: false}": [
        f"{FK}: null values found in local key 'code' (allow_null_keys=False)",
        f"{FK}: null values found in remote key 'code' (allow_null_keys=False)",
    ],
    "{require_unique_right: true}": [f"{FK}: 1 duplicate right key(s) found (require_unique_right=True)"],
}


@pytest.mark.parametrize("constraints", sorted(VIOLATIONS))
def test_a_constraint_violation_fails_the_entity_by_default(ws, constraints):
    result = ws.run(PROJECT % ("left", constraints))
    sample = result.outcome("sample")
    assert sample.status == EntityStatus.FAILED
    assert sample.error == VIOLATIONS[constraints][0]
    assert IssueCode.FK_CONSTRAINT_VIOLATION not in [issue.code for issue in sample.issues]


@pytest.mark.parametrize("constraints", sorted(VIOLATIONS))
def test_validate_constraints_false_reports_each_violation_and_keeps_the_table(ws, constraints):
    result = ws.run(PROJECT % ("left", constraints), validate_constraints=False)
    sample = result.outcome("sample")
    assert sample.status == EntityStatus.SUCCESS and sample.rows_out == 5  # P1 matched both A rows
    violations = [i.message for i in sample.issues if i.code == IssueCode.FK_CONSTRAINT_VIOLATION]
    assert violations == [message + NOT_ENFORCED for message in VIOLATIONS[constraints]]
    assert "kind_id" in result.tables["sample"].columns


def test_checks_go_on_after_a_violation_that_is_not_enforced(ws):
    constraints = "{cardinality: one_to_one, allow_null_keys: false}"
    result = ws.run(PROJECT % ("left", constraints), validate_constraints=False)
    violations = [
        i.message for i in result.outcome("sample").issues if i.code == IssueCode.FK_CONSTRAINT_VIOLATION
    ]
    expected = VIOLATIONS["{allow_null_keys: false}"] + VIOLATIONS["{cardinality: one_to_one}"]
    assert violations == [message + NOT_ENFORCED for message in expected]


# null keys match as the merge matches them (format-v2.md 12.3): a plain merge pairs P3's null code with
# kind's null code; a null-safe one (a lookup-style left join, allow_null_keys: true) pairs nothing
UNMATCHED = {
    ("inner", "{}"): f"{FK}: 1 of 4 rows have no match in 'kind' and were dropped (inner join)",
    ("left", "{}"): f"{FK}: 2 of 4 rows have no match in 'kind'",
    (
        "inner",
        "{allow_null_keys: true}",
    ): f"{FK}: 2 of 4 rows have no match in 'kind' and were dropped (inner join)",
    ("right", "{}"): None,  # format 1 counts inner and left joins only
}


@pytest.mark.parametrize(("how", "constraints"), sorted(UNMATCHED))
def test_rows_without_a_match_are_noted_by_default(ws, how, constraints):
    sample = ws.run(PROJECT % (how, constraints)).outcome("sample")
    assert sample.status == EntityStatus.SUCCESS
    notes = [i.message for i in sample.issues if i.code == IssueCode.FK_UNMATCHED]
    assert notes == ([UNMATCHED[how, constraints]] if UNMATCHED[how, constraints] else [])


@pytest.mark.parametrize(("how", "constraints"), sorted(UNMATCHED))
def test_validate_foreign_keys_false_notes_nothing_and_changes_no_table(ws, how, constraints):
    checked = ws.run(PROJECT % (how, constraints))
    unchecked = ws.run(PROJECT % (how, constraints), validate_foreign_keys=False)
    sample = unchecked.outcome("sample")
    assert IssueCode.FK_UNMATCHED not in [i.code for i in sample.issues]
    assert [i.message for i in sample.issues] == [
        i.message for i in checked.outcome("sample").issues if i.code != IssueCode.FK_UNMATCHED
    ]
    pd.testing.assert_frame_equal(unchecked.tables["sample"], checked.tables["sample"])
