"""Format-2 foreign-key linking (format-v2.md 12, 5.3) against the conformance corpus.

Each test builds the local entity's pre-link table from the case's input, takes the remotes' processed
tables from the case's `expected/` CSVs (faithful store entries: they carry system_id and public_id),
links, and compares the result with the local entity's expected CSV (system_id and the entity's own
public_id are added after linking, so they are left out of the comparison).
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import re

import pandas as pd
import pytest

import shapeshift
from shapeshift.errors import ConstraintViolation, EntityError
from shapeshift.issues import IssueCode
from shapeshift.pipeline.link import LinkOptions
from shapeshift.pipeline.report import EntityReport
from shapeshift.v2.link import FkState, is_deferred, link_foreign_keys

CORPUS = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "conformance-v2"
pytestmark = pytest.mark.skipif(
    not CORPUS.exists() and os.environ.get("CI") != "true", reason=f"no conformance corpus at {CORPUS}"
)


class Case:
    """One conformance case: its entities (read as format 2), inputs and expected tables."""

    def __init__(self, number: str) -> None:
        self.folder = next(CORPUS.glob(f"{number}_*"))
        self.project = shapeshift.load(self.folder / "shapeshifter.yml", format_version=2)
        self.entities = self.project.entities
        self.run = json.loads((self.folder / "expected" / "_run.json").read_text(encoding="utf-8"))

    def processed(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / "expected" / f"{name}.csv")

    def store(self, *names: str) -> dict:
        return {name: self.processed(name) for name in names}

    def local(self, name: str, **constants) -> pd.DataFrame:
        """The entity's table as stored before linking: its requested input columns, in input row order."""
        spec = self.entities[name]
        reader = spec
        while "options" not in reader.raw:  # a derived entity reads its source's input
            reader = self.entities[reader.source]
        options = dict(reader.raw["options"])
        source = pd.read_csv(self.folder / options.pop("filename"), **options)
        requested = dict.fromkeys([*spec.keys, *spec.columns, *spec.fk_local_keys])
        table = source[[column for column in source.columns if column in requested]]
        return table.assign(**constants)

    def expected(self, name: str) -> pd.DataFrame:
        """The expected CSV as text cells, without the columns added after linking."""
        table = _as_text(self.folder.joinpath("expected", f"{name}.csv").read_text(encoding="utf-8"))
        added = ["system_id", self.entities[name].public_id]
        return table.drop(columns=[column for column in added if column in table.columns])

    def failures(self) -> dict:
        return {name: error for name, error in self.run.get("per_entity", {}).items() if error != "ok"}

    def skipped_links(self) -> list[tuple[str, str, str]]:
        """(local, remote, reason) of every FK the reference logged as not linked."""
        pattern = r"ERROR: (\w+)\[linking\]: .*?(\w+) -> (\w+): (.*)"
        found = [re.match(pattern, line, re.DOTALL) for line in self.run["log"]]
        return [(m.group(2), m.group(3), m.group(4)) for m in found if m]


def _as_text(csv_text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)


def link(case: Case, name: str, table: pd.DataFrame, store: dict, states=None, **kwargs):
    """Link with the run's default options unless `options` is given."""
    report = EntityReport(name)
    states = {} if states is None else states
    kwargs.setdefault("options", LinkOptions())
    result = link_foreign_keys(
        case.entities[name], table, case.entities, store, states, report=report, **kwargs
    )
    return result, states, report


def assert_as_expected(result: pd.DataFrame, case: Case, name: str) -> None:
    """Same columns, rows in the same order, cells rendered to CSV exactly as the reference wrote them."""
    expected = case.expected(name)
    assert sorted(result.columns) == sorted(expected.columns)
    rendered = _as_text(result[list(expected.columns)].to_csv(index=False))
    pd.testing.assert_frame_equal(rendered, expected)


def assert_dtypes(result: pd.DataFrame, case: Case, name: str) -> None:
    recorded = case.run["dtypes"][name]
    assert {column: str(result[column].dtype) for column in result.columns} == {
        column: dtype for column, dtype in recorded.items() if column in result.columns
    }


# --- 5.3 / case 01: the FK column is named after the parent's public_id and holds its system_id --------


def test_fk_columns_hold_the_parents_system_ids():
    case = Case("01")
    result, states, report = link(case, "find", case.local("find"), case.store("trench", "material"))
    assert states == {1: FkState.LINKED, 2: FkState.LINKED}
    assert_as_expected(result, case, "find")
    assert str(result["trench_id"].dtype) == str(result["material_id"].dtype) == "int64"
    assert report.issues == []


def test_a_remote_without_public_id_is_skipped_with_a_warning():
    case = Case("02")  # old-format file read as format 2: surrogate_id is not read
    table = case.local("find")
    result, states, report = link(case, "find", table, case.store("trench"))
    assert states == {1: FkState.FAILED}
    assert_as_expected(result, case, "find")
    assert [issue.code for issue in report.issues] == [IssueCode.FK_CHECK_FAILED]
    assert "foreign key 1 (-> trench)" in report.warnings[0]
    assert "must have a public_id" in report.warnings[0]


@pytest.mark.parametrize("number", ["02", "21"])
def test_every_fk_the_reference_logged_as_not_linked_gets_a_warning(number):
    case = Case(number)
    skipped = case.skipped_links()
    assert skipped
    for local, remote, reason in skipped:
        store = {
            name: case.processed(name)
            for name in case.entities
            if name != local and (case.folder / "expected" / f"{name}.csv").exists()
        }
        constants = {"n": 2} if local == "remote_key_system_id" else {}
        table = case.local(local, **constants)
        result, states, report = link(case, local, table, store)
        assert list(states.values()) == [FkState.FAILED]
        assert list(result.columns) == list(table.columns)
        assert [issue.code for issue in report.issues] == [IssueCode.FK_CHECK_FAILED]
        assert f"entity '{local}'" in report.warnings[0] and f"(-> {remote})" in report.warnings[0]
        key_part = re.search(r"\{'(\w+)'\}", reason)
        assert (key_part.group(1) if key_part else "public_id") in report.warnings[0]


# --- 12.3 null keys (cases 18, 19) ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["inner_plain", "inner_allow_null", "left_lookup", "outer_plain"])
def test_null_key_behaviours(name):
    case = Case("18")
    result, states, _ = link(case, name, case.local(name), case.store("sample_type"))
    assert states == {1: FkState.LINKED}
    assert_as_expected(result, case, name)


def test_strict_null_keys_fail_the_entity():
    case = Case("18")
    assert set(case.failures()) == {"strict_constraint"}
    with pytest.raises(ConstraintViolation) as error:
        link(case, "strict_constraint", case.local("strict_constraint"), case.store("sample_type"))
    message = str(error.value)
    assert "entity 'strict_constraint': foreign key 1 (-> sample_type)" in message
    assert "local key 'type_code'" in message and "allow_null_keys=False" in message


@pytest.mark.parametrize("name", ["left_no_nulls", "left_with_nulls", "inner_with_nulls_allowed"])
def test_the_null_safe_merge_adds_the_remote_key_again_only_when_a_key_is_null(name):
    case = Case("19")
    result, _, _ = link(case, name, case.local(name), case.store("sample_type"))
    assert_as_expected(result, case, name)
    assert_dtypes(result, case, name)


def test_null_safe_merge_warnings_name_the_changed_shape():
    case = Case("19")
    _, _, report = link(
        case, "inner_with_nulls_allowed", case.local("inner_with_nulls_allowed"), case.store("sample_type")
    )
    codes = [issue.code for issue in report.issues]
    assert codes == [IssueCode.FK_UNMATCHED, IssueCode.FK_ROWS_CHANGED, IssueCode.FK_COLUMNS_UNEXPECTED]
    assert "before=4, after=2" in report.warnings[1]
    assert "code_sample_type" in report.warnings[2]


def test_a_null_safe_merge_never_matches_a_null_remote_key():
    case = Case("18")  # the remote sample_type has a null code; allow_null_keys: true
    remote = case.processed("sample_type")
    assert remote["code"].isna().any()
    table = pd.DataFrame({"sample": ["P4"], "type_code": [None]}, dtype=object)
    result, states, _ = link(case, "inner_allow_null", table, {"sample_type": remote})
    assert states == {1: FkState.LINKED}
    assert result.empty


# --- 12.4 constraints (case 20) ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["left_indicator_dropped", "row_decrease_violated"])
def test_constraints_that_pass_leave_no_indicator_column(name):
    case = Case("20")
    result, _, report = link(case, name, case.local(name), case.store("sample_type"))
    assert_as_expected(result, case, name)
    assert not any(column.startswith("_merge") for column in result.columns)


def test_hyphenated_cardinality_is_not_checked_but_reported():
    case = Case("20")
    _, _, report = link(
        case, "left_indicator_dropped", case.local("left_indicator_dropped"), case.store("sample_type")
    )
    assert IssueCode.FK_CONSTRAINT_UNKNOWN in [issue.code for issue in report.issues]
    assert any("many-to-one" in warning for warning in report.warnings)


CONSTRAINT_NAMES = {
    "unmatched_left_enforced": "allow_unmatched_left=False",
    "many_to_one_violated": "many_to_one cardinality",
    "unique_right_violated": "require_unique_right=True",
    "row_decrease_real": "allow_row_decrease=False",
}


@pytest.mark.parametrize("name", sorted(CONSTRAINT_NAMES))
def test_constraint_violations_fail_the_entity(name):
    case = Case("20")
    assert set(case.failures()) == set(CONSTRAINT_NAMES)
    remote = case.entities[name].foreign_keys[0].entity
    reason = case.failures()[name].split(": ", 2)[-1]
    counts = re.search(r"\d+ -> \d+", reason) or re.match(r"\d+ \w+", reason)
    with pytest.raises(ConstraintViolation) as error:
        link(case, name, case.local(name), case.store(remote))
    message = str(error.value)
    assert f"entity '{name}': foreign key 1 (-> {remote})" in message
    assert CONSTRAINT_NAMES[name] in message
    assert counts.group(0) in message  # the same counts as the reference's message


def constraint_case(constraints: dict, how: str = "inner", local=("A", "B"), remote=("A", "B")):
    """A tiny project: `sample` -> `kind` on code, with the given constraints."""
    case = Case("20")
    spec_raw = {
        "type": "csv",
        "public_id": "sample_id",
        "keys": ["sample"],
        "columns": ["sample", "code"],
        "foreign_keys": [
            {"entity": "kind", "local_keys": ["code"], "remote_keys": ["code"], "how": how, **constraints}
        ],
    }
    kind_raw = {"type": "fixed", "public_id": "kind_id", "keys": ["code"], "columns": ["code"]}
    case.entities = {
        "sample": shapeshift.config.model.EntitySpec.from_raw("sample", spec_raw, 0, 2),
        "kind": shapeshift.config.model.EntitySpec.from_raw("kind", kind_raw, 1, 2),
    }
    table = pd.DataFrame({"sample": [f"P{i}" for i in range(len(local))], "code": list(local)})
    store = {"kind": pd.DataFrame({"system_id": range(1, len(remote) + 1), "code": list(remote)})}
    return case, table, store


@pytest.mark.parametrize(
    ("constraints", "how", "local", "remote", "violated"),
    [
        ({"require_unique_left": True}, "inner", ("A", "A"), ("A", "B"), "require_unique_left"),
        ({"cardinality": "one_to_one"}, "inner", ("A", "C"), ("A", "B"), "one_to_one"),
        ({"cardinality": "one_to_many"}, "inner", ("A", "C"), ("A", "B"), "one_to_many"),
        ({"allow_unmatched_right": False}, "right", ("A",), ("A", "B"), "allow_unmatched_right"),
        ({"allow_unmatched_right": False}, "outer", ("A",), ("A", "B"), "allow_unmatched_right"),
        ({"allow_null_keys": False}, "left", ("A", None), ("A", "B"), "allow_null_keys"),
    ],
)
def test_each_constraint_of_the_spec_table_raises(constraints, how, local, remote, violated):
    case, table, store = constraint_case({"constraints": constraints}, how, local, remote)
    with pytest.raises(ConstraintViolation, match=violated):
        link(case, "sample", table, store)


@pytest.mark.parametrize(
    ("constraints", "how", "local", "remote"),
    [
        ({"cardinality": "many_to_many"}, "inner", ("A", "A"), ("A", "A")),
        ({"allow_unmatched_left": False}, "inner", ("A", "C"), ("A", "B")),  # inner drops, never left_only
        ({"allow_unmatched_right": False}, "left", ("A",), ("A", "B")),  # impossible for left joins
        ({"cardinality": "one_to_one"}, "inner", ("A", "C", "B"), ("A", "B", "B")),  # counts only
        ({"require_unique_left": True}, "left", ("A", None), ("A", "B")),  # lookup-style: nulls allowed
    ],
)
def test_constraints_compare_what_the_spec_says_and_nothing_else(constraints, how, local, remote):
    case, table, store = constraint_case({"constraints": constraints}, how, local, remote)
    _, states, _ = link(case, "sample", table, store)
    assert states == {1: FkState.LINKED}


def test_merge_errors_name_the_link():
    case, table, store = constraint_case({}, "inner", ("A", "B"), ("A", "B"))
    store["kind"]["code"] = pd.to_datetime(["2024-01-01", "2024-01-02"])
    with pytest.raises(EntityError, match=r"foreign key 1 \(-> kind\): Failed to link 'sample' to 'kind'"):
        link(case, "sample", table, store)


# --- 12.2 / 12.7 other FK facts (case 21) -----------------------------------------------------------


@pytest.mark.parametrize("name", ["drop_remote", "crossed", "two_fks_same_remote"])
def test_other_fk_facts(name):
    case = Case("21")
    constants = {"fallback_code": "A"} if name == "two_fks_same_remote" else {}
    store = case.store("sample_type", "project")
    result, states, _ = link(case, name, case.local(name, **constants), store)
    assert set(states.values()) == {FkState.LINKED}
    assert_as_expected(result, case, name)


def test_a_cross_join_to_a_remote_without_public_id_is_skipped():
    # the reference adds a column with an empty name (format-v2.md 20 #6): we skip like a non-cross FK
    case = Case("21")
    table = case.local("cross_to_no_public_id")
    result, states, report = link(case, "cross_to_no_public_id", table, case.store("legacy_lookup"))
    assert states == {1: FkState.FAILED}
    assert list(result.columns) == ["sample"]
    assert "must have a public_id" in report.warnings[0]
    header = (
        (case.folder / "expected" / "cross_to_no_public_id.csv").read_text(encoding="utf-8").split("\n")[0]
    )
    assert header == "system_id,cross_to_no_public_id_id,,sample"  # what the reference wrote instead


def test_fk_extra_columns_as_a_list_or_string_are_identity_mappings():
    # the reference crashes on the list form (format-v2.md 20 #5); it must mean {type_name: type_name}
    case = Case("21")
    assert "fk_extra_columns_list" in case.failures()
    store = case.store("sample_type")
    table = case.local("fk_extra_columns_list")
    as_list, _, _ = link(case, "fk_extra_columns_list", table, store)
    spec = case.entities["fk_extra_columns_list"]
    for form in ({"type_name": "type_name"}, "type_name"):
        raw = {**spec.raw, "foreign_keys": [{**spec.raw["foreign_keys"][0], "extra_columns": form}]}
        case.entities = {**case.entities, spec.name: type(spec).from_raw(spec.name, raw, spec.index, 2)}
        other, _, _ = link(case, spec.name, table, store)
        pd.testing.assert_frame_equal(other, as_list)
    assert list(as_list["type_name"]) == ["Alpha type", "Beta type", "Ex type"]


def test_an_existing_public_id_column_skips_the_fk():
    case = Case("21")
    table = case.local("two_fks_same_remote", fallback_code="A").assign(sample_type_id=7)
    result, states, report = link(case, "two_fks_same_remote", table, case.store("sample_type"))
    assert states == {1: FkState.LINKED, 2: FkState.LINKED}
    pd.testing.assert_frame_equal(result, table)
    assert {issue.code for issue in report.issues} == {IssueCode.FK_ALREADY_LINKED}


def test_missing_remote_extra_columns_are_warned_and_left_out():
    case = Case("21")
    spec = case.entities["drop_remote"]
    fk_raw = {**spec.raw["foreign_keys"][0], "extra_columns": {"type_label": "type_name", "x": "nope"}}
    raw = {**spec.raw, "foreign_keys": [fk_raw]}
    case.entities = {**case.entities, spec.name: type(spec).from_raw(spec.name, raw, spec.index, 2)}
    result, _, report = link(case, spec.name, case.local(spec.name), case.store("sample_type"))
    assert_as_expected(result, case, "drop_remote")
    assert [issue.code for issue in report.issues] == [
        IssueCode.FK_EXTRA_COLUMNS_MISSING,
        IssueCode.FK_UNMATCHED,
    ]
    assert "nope" in report.warnings[0]


# --- 12.5 deferral (cases 22, 23, 24) ---------------------------------------------------------------


def test_a_link_to_an_unprocessed_remote_waits_then_links():
    case = Case("22")
    raw = case.processed("samples_raw")
    table = raw[["grp", "first_sample"]].drop_duplicates(subset=["grp"]).reset_index(drop=True)
    result, states, report = link(case, "sample_group", table, case.store("samples_raw"))
    assert states == {1: FkState.DEFERRED} and is_deferred(states)
    pd.testing.assert_frame_equal(result, table)
    # later pass: the table now has its system_id and public_id (6.3 steps 15-17); sample is processed
    table = result.assign(system_id=[1, 2], sample_group_id=None)
    result, states, report = link(case, "sample_group", table, case.store("sample"), states)
    assert states == {1: FkState.LINKED} and not is_deferred(states)
    # the linked columns come last, in merge order (6.6: appended after the reordering)
    assert list(result.columns)[-2:] == ["sample_id", "sample"]
    assert_as_expected(result.drop(columns=["system_id", "sample_group_id"]), case, "sample_group")


def test_linked_fks_are_not_tried_again():
    case = Case("22")
    table = case.processed("sample").drop(columns=["sample_group_id"])
    states = {1: FkState.LINKED}
    result, states, _ = link(case, "sample", table, {}, states)
    assert states == {1: FkState.LINKED}
    pd.testing.assert_frame_equal(result, table)


def test_fks_of_an_entity_wait_for_its_unnest_columns():
    case = Case("23")
    wide = pd.read_csv(case.folder / "coords.csv")
    _, states, _ = link(case, "coordinate", wide, case.store("dimension"), unnest_pending=True)
    assert states == {1: FkState.DEFERRED}
    long = wide.melt(["sample"], ["x", "y", "z"], var_name="coord_type", value_name="coord_value")
    long = long.drop_duplicates(subset=["sample", "coord_type"]).reset_index(drop=True)  # delayed (9)
    result, states, _ = link(case, "coordinate", long, case.store("dimension"), states)
    assert states == {1: FkState.LINKED}
    expected = case.expected("coordinate")
    got = _as_text(result.to_csv(index=False)).merge(expected[["sample", "coord_type"]])
    columns = ["sample", "coord_type", "dimension_id", "code", "dimension_name"]
    pd.testing.assert_frame_equal(got[columns], expected[columns])


def test_a_failed_unnest_keeps_the_fk_deferred():
    case = Case("24")
    assert any("unresolved deferred links" in line and "missing_id_vars" in line for line in case.run["log"])
    table = case.local("missing_id_vars")
    result, states, _ = link(case, "missing_id_vars", table, case.store("axis"))
    assert states == {1: FkState.DEFERRED}
    assert_as_expected(result, case, "missing_id_vars")


# --- 12.6 key dtype coercion (case 32) --------------------------------------------------------------


def test_text_keys_joined_to_numbers_become_numbers():
    case = Case("32")
    table = case.local("sample")
    assert str(table["grade"].dtype) == "object"
    result, _, _ = link(case, "sample", table, case.store("grade"))
    assert_as_expected(result, case, "sample")
    assert_dtypes(result, case, "sample")


def test_text_keys_that_are_not_all_numbers_are_not_converted():
    # 12.6: "otherwise nothing", and pandas refuses to merge text with integers
    case, table, store = constraint_case({}, "left", ("1", "x"), (1, 2))
    with pytest.raises(EntityError, match="Failed to link .* object and int64"):
        link(case, "sample", table, store)


def test_an_all_null_numeric_key_joined_to_text_keys_matches_nothing():
    case, table, store = constraint_case({}, "left", (None, None), ("A", "B"))
    table["code"] = table["code"].astype("float64")
    result, _, _ = link(case, "sample", table, store)
    assert len(result) == 2 and result["kind_id"].isna().all()


def test_null_safe_merges_keep_unmatched_rows_of_both_sides_for_outer_joins():
    # allow_null_keys: true (12.3): the null on either side matches nothing, outer keeps both rows
    case, table, store = constraint_case(
        {"constraints": {"allow_null_keys": True}}, "outer", ("A", None), ("A", None)
    )
    result, _, _ = link(case, "sample", table, store)
    assert len(result) == 3
    matched = result[result["sample"] == "P0"]
    assert list(matched["kind_id"]) == [1.0]
    assert result["sample"].isna().sum() == 1  # the remote null row, unmatched
    assert list(result[result["sample"] == "P1"]["kind_id"].isna()) == [True]


def test_an_invalid_join_type_fails_the_entity():
    case, table, store = constraint_case({}, "sideways")
    with pytest.raises(EntityError, match=r"foreign key 1 \(-> kind\): invalid how 'sideways'"):
        link(case, "sample", table, store)


def test_a_stored_remote_without_system_id_is_not_processed_yet():
    # an entity is stored before its system_id is added (6.3 steps 7, 15): e.g. a self-reference
    case, table, store = constraint_case({}, "inner")
    store["kind"] = store["kind"].drop(columns=["system_id"])
    result, states, _ = link(case, "sample", table, store)
    assert states == {1: FkState.DEFERRED}
    pd.testing.assert_frame_equal(result, table)
