"""A format-2 run (format-v2.md 6.1, 6.2, 12.5): the runner's order, deferred links and outcomes."""

from __future__ import annotations

import pathlib

import pandas as pd
import pytest

import shapeshift
from shapeshift import EntityStatus, IssueCode

CORPUS = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "conformance-v2"
C22 = CORPUS / "22_defer_dependency_cycle"
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason=f"no conformance corpus at {CORPUS}")

# [C22] without group_copy: nothing reads sample_group, and only sample_group's deferred link reads sample
DEFERRED = """
metadata: {type: shapeshifter-project}
entities:
  samples_raw:
    type: csv
    public_id: samples_raw_id
    keys: []
    columns: [grp, sample, first_sample]
    options: {filename: samples.csv}
  sample_group:
    type: entity
    source: samples_raw
    public_id: sample_group_id
    keys: [grp]
    columns: [grp, first_sample]
    drop_duplicates: [grp]
    foreign_keys:
      - {entity: sample, local_keys: [first_sample], remote_keys: [sample], defer_dependency: true}
  sample:
    type: entity
    source: samples_raw
    public_id: sample_id
    keys: [sample]
    columns: [sample, grp]
    foreign_keys:
      - {entity: sample_group, local_keys: [grp], remote_keys: [grp]}
"""


class Events(shapeshift.Observer):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.outcomes: dict[str, shapeshift.EntityOutcome] = {}

    def entity_started(self, name: str) -> None:
        self.events.append(("started", name))

    def entity_finished(self, outcome) -> None:
        self.events.append(("finished", outcome.name))
        assert outcome.name not in self.outcomes, "entity_finished twice"
        self.outcomes[outcome.name] = outcome


def _run_written(ws, text: str, **kwargs):
    written: dict[str, bytes] = {}
    observer = Events()

    def on_table(name: str, table: pd.DataFrame) -> None:
        path = ws.folder / f"{name}.out.csv"
        shapeshift.write_csv(table, path)
        written[name] = path.read_bytes()

    result = ws.run(text, keep_tables=False, on_table=on_table, observer=observer, **kwargs)
    return result, written, observer


def test_a_table_waiting_for_a_deferred_link_is_final_only_after_the_link(ws):
    ws.write("samples.csv", (C22 / "samples.csv").read_text())
    result, written, observer = _run_written(ws, DEFERRED)
    assert result.ok
    # neither sample_group (nobody reads it) nor sample (only the deferred link reads it) is released
    # before the link is made: both are as in the reference's output
    assert written["sample_group"] == (C22 / "expected" / "sample_group.csv").read_bytes()
    assert written["sample"] == (C22 / "expected" / "sample.csv").read_bytes()


def test_an_entity_with_a_deferred_link_is_told_once_the_link_is_made(ws):
    ws.write("samples.csv", (C22 / "samples.csv").read_text())
    result, _, observer = _run_written(ws, DEFERRED)
    events = observer.events
    assert events.index(("finished", "sample_group")) > events.index(("started", "sample"))
    header = (C22 / "expected" / "sample_group.csv").read_text().splitlines()[0].split(",")
    assert observer.outcomes["sample_group"].columns == header
    assert observer.outcomes["sample_group"].rows_out == 2
    assert [o.name for o in result.outcomes] == ["samples_raw", "sample_group", "sample"]  # plan order


FAILING_LINKS = """
metadata: {type: shapeshifter-project}
entities:
  grp:
    type: fixed
    public_id: grp_id
    keys: [grp]
    columns: [grp, first]
    values: [[G1, P1], [G2, P2]]
    foreign_keys:
      - {entity: sample, local_keys: [first], remote_keys: [sample], defer_dependency: true,
         constraints: {require_unique_right: true}}
  lone:
    type: fixed
    public_id: lone_id
    keys: [k]
    columns: [k]
    values: [[P1]]
    foreign_keys:
      - {entity: broken, local_keys: [k], remote_keys: [k], defer_dependency: true}
  sample:
    type: fixed
    public_id: sample_id
    keys: [sample]
    columns: [sample]
    values: [[P1], [P1], [P2]]
  broken:
    type: fixed
    public_id: broken_id
    keys: [k]
    columns: [k]
    values: not rows
  reads_grp_later:
    type: entity
    source: grp
    public_id: reads_grp_later_id
    keys: []
    columns: [grp]
    depends_on: [sample]
"""


def test_a_deferred_link_that_fails_fails_its_entity_and_skips_its_later_readers(ws):
    result, written, observer = _run_written(ws, FAILING_LINKS)
    grp = result.outcome("grp")
    assert grp.status == EntityStatus.FAILED
    assert "require_unique_right" in grp.error and grp.columns == [] and grp.rows_out is None
    assert [i.code for i in grp.issues if i.severity == "error"] == [IssueCode.ENTITY_FAILED]
    assert "grp" not in written
    assert result.outcome("reads_grp_later").status == EntityStatus.SKIPPED
    assert observer.outcomes["grp"].status == EntityStatus.FAILED  # told once, as failed


def test_a_deferred_link_reports_a_violation_not_enforced_and_settles_its_entity(ws):
    result, written, observer = _run_written(ws, FAILING_LINKS, validate_constraints=False)
    grp = result.outcome("grp")
    assert grp.status == EntityStatus.SUCCESS and grp.rows_out == 3  # G1 matched both P1 rows
    violations = [i.message for i in grp.issues if i.code == IssueCode.FK_CONSTRAINT_VIOLATION]
    assert violations == [
        "entity 'grp': foreign key 1 (-> sample): 1 duplicate right key(s) found (require_unique_right=True)"
        " (not enforced: validate_constraints=False)"
    ]
    assert "sample_id" in written["grp"].decode().splitlines()[0]
    assert result.outcome("reads_grp_later").status == EntityStatus.SUCCESS
    assert observer.outcomes["grp"].status == EntityStatus.SUCCESS  # told once, after the link


def test_a_deferred_link_to_a_failed_remote_is_given_up_with_a_warning(ws):
    result, written, _ = _run_written(ws, FAILING_LINKS)
    lone = result.outcome("lone")
    assert lone.status == EntityStatus.SUCCESS
    assert [i.code for i in lone.issues] == [IssueCode.FK_DEFERRED_UNRESOLVED]
    assert "foreign key 1 (-> broken) was never linked: 'broken' failed" in lone.warnings[0]
    assert written["lone"].decode().splitlines()[0] == "system_id,lone_id,k"


def test_the_default_entity_is_a_dependency_of_the_entities_reading_it():
    # [C30]: site and taxon read metadata.default_entity survey; the reference does not wait for it
    # (format-v2.md 6.2, 20 #16: we do, and honour metadata.default_entity)
    project = shapeshift.load(CORPUS / "30_default_entity" / "shapeshifter.yml")
    plan = shapeshift.plan(project)
    assert plan.dependencies["site"] == ["survey"] and plan.dependencies["taxon"] == ["survey"]
    assert plan.order == ["survey", "site", "taxon"]


def test_a_merged_entity_does_not_read_the_default_entity():
    project = shapeshift.load(CORPUS / "27_merged_branches" / "shapeshifter.yml")
    plan = shapeshift.plan(project, default_entity="dendro")
    assert plan.dependencies["analysis_entity"] == ["dendro", "pollen"]


def test_a_mapping_that_will_not_apply_is_on_the_outcome(ws):
    ws.write("survey.csv", "befutyp\nPit\n")
    config = """
    metadata: {type: shapeshifter-project}
    entities:
      feature_type:
        type: csv
        public_id: feature_type_id
        keys: [befutyp]
        columns: [befutyp]
        options: {filename: survey.csv}
    options:
      mappings:
        feature_type: {local_key: nosuch, remote_key: feature_type_id, mapping: {Pit: 26}}
    """
    result = ws.run(config)
    assert [i.code for i in result.outcome("feature_type").issues] == [IssueCode.MAPPING_INVALID]
    assert result.tables["feature_type"]["feature_type_id"].isna().all()
