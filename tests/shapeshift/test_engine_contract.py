"""The public contract the Django side codes against."""

from __future__ import annotations

import pandas as pd
import pytest

import shapeshift
from shapeshift import ConfigError, Observer
from tests.shapeshift.engine_support import SURVEY_CSV, frame, rows

BASIC = """
entities:
  survey:
    columns: [site, site_name, sample, taxon, count]
  site:
    surrogate_id: site_id
    keys: [site]
    columns: [site_name, site]
    drop_duplicates: true
  sample:
    surrogate_id: sample_id
    keys: [sample]
    columns: [sample, site]
    drop_duplicates: [sample]
    foreign_keys:
      - {entity: site, local_keys: [site], remote_keys: [site]}
  kind:
    type: fixed
    surrogate_id: kind_id
    columns: [code, label]
    values: [[a, Alpha], [b, Beta]]
"""


def test_all_names_exported():
    for name in [
        "load",
        "validate",
        "plan",
        "run",
        "collect_files",
        "ConfigError",
        "Issue",
        "Severity",
        "IssueCode",
        "Project",
        "Plan",
        "EntityOutcome",
        "RunResult",
        "Observer",
        "DirectoryResolver",
        "FileResolver",
    ]:
        assert name in shapeshift.__all__
        assert hasattr(shapeshift, name)


def test_load_exposes_entities_in_declaration_order(ws):
    project = ws.load(BASIC)
    assert list(project.entities) == ["survey", "site", "sample", "kind"]
    sample = project.entities["sample"]
    assert sample.type == "data" and sample.source is None
    assert sample.keys == ["sample"] and sample.columns == ["sample", "site"]
    assert sample.surrogate_id == "sample_id"
    assert sample.dependencies == ["site"]
    fk = sample.foreign_keys[0]
    assert (fk.entity, fk.local_keys, fk.remote_keys, fk.how) == ("site", ["site"], ["site"], "inner")
    assert project.entities["kind"].type == "fixed"
    assert project.raw["entities"]["kind"]["values"] == [["a", "Alpha"], ["b", "Beta"]]


def test_load_by_name_through_a_resolver(ws):
    ws.config(BASIC, "sub/main.yml")
    project = shapeshift.load("sub/main.yml", resolver=shapeshift.DirectoryResolver(ws.folder))
    assert "site" in project.entities


def test_run_with_input_table_and_observer(ws):
    events = []

    class Recorder(Observer):
        def entity_started(self, name):
            events.append(("start", name))

        def entity_phase(self, name, phase, rows=None):
            events.append(("phase", name, phase))

        def entity_finished(self, outcome):
            events.append(("end", outcome.name, outcome.status))

    survey = frame(SURVEY_CSV, sep=";")
    result = ws.run(BASIC, inputs={"survey": survey}, observer=Recorder())
    assert [o.name for o in result.outcomes] == ["survey", "site", "sample", "kind"]
    assert all(o.status == "success" for o in result.outcomes)
    site = result.outcome("site")
    assert rows(site.table) == [("S1", "Alpha", 1), ("S2", "Beta", 2)]
    assert rows(result.tables["site"]) == [(1, None, "S1", "Alpha"), (2, None, "S2", "Beta")]
    assert list(result.tables["sample"].columns) == ["system_id", "sample_id", "site_id", "sample", "site"]
    assert ("phase", "sample", "link") in events
    assert events.index(("start", "site")) < events.index(("end", "site", "success"))
    assert result.cancelled is False
    # the run's time covers its entities' (each rounded to a millisecond)
    assert sum(o.duration_ms for o in result.outcomes) <= result.duration_ms + len(result.outcomes)


def test_plan_closure_roles_and_unknown(ws):
    project = ws.load(BASIC)
    plan = shapeshift.plan(project, ["sample"])
    assert plan.order == ["site", "sample"]
    assert plan.role("sample") == "requested" and plan.role("site") == "dependency"
    with pytest.raises(ConfigError, match="nope"):
        shapeshift.plan(project, ["nope"])


def test_plan_cycle_lists_members(ws):
    project = ws.load("""
    entities:
      a: {keys: [x], depends_on: [b]}
      b: {keys: [x], source: a}
      c: {keys: [x]}
    """)
    with pytest.raises(ConfigError) as info:
        shapeshift.plan(project)
    assert "a" in str(info.value) and "b" in str(info.value) and "circular" in str(info.value)


def test_plan_ties_follow_declaration_order(ws):
    project = ws.load("""
    entities:
      zeta: {type: fixed, surrogate_id: zeta_id, columns: [v], values: [1]}
      alpha: {type: fixed, surrogate_id: alpha_id, columns: [v], values: [1], depends_on: [mid]}
      mid: {type: fixed, surrogate_id: mid_id, columns: [v], values: [1]}
      beta: {type: fixed, surrogate_id: beta_id, columns: [v], values: [1]}
    """)
    assert shapeshift.plan(project).order == ["zeta", "mid", "alpha", "beta"]


def test_failure_skips_dependents_only(ws):
    result = ws.run("""
    entities:
      broken: {type: fixed, surrogate_id: broken_id, columns: [a, b], values: [[1]]}
      child: {type: fixed, surrogate_id: child_id, columns: [x], values: [1], depends_on: [broken]}
      other: {type: fixed, surrogate_id: other_id, columns: [x], values: [1]}
    """)
    statuses = {o.name: o.status for o in result.outcomes}
    assert statuses == {"broken": "failed", "child": "skipped", "other": "success"}
    assert "mismatched number of columns" in result.outcome("broken").error
    assert "broken" in result.outcome("child").error
    assert set(result.tables) == {"other"}


def test_stop_on_error(ws):
    result = ws.run(
        """
    entities:
      broken: {type: fixed, surrogate_id: broken_id, columns: [a, b], values: [[1]]}
      other: {type: fixed, surrogate_id: other_id, columns: [x], values: [1]}
    """,
        stop_on_error=True,
    )
    assert [o.status for o in result.outcomes] == ["failed", "skipped"]


def test_should_stop_cancels(ws):
    class StopAfterFirst(Observer):
        def __init__(self):
            self.finished = 0

        def entity_finished(self, outcome):
            self.finished += 1

        def should_stop(self):
            return self.finished >= 1

    result = ws.run(
        """
    entities:
      a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1]}
      b: {type: fixed, surrogate_id: b_id, columns: [x], values: [1]}
    """,
        observer=StopAfterFirst(),
    )
    assert result.cancelled
    assert result.outcomes[0].status == "success"
    assert result.outcomes[1].status == "cancelled"


def test_cancel_during_phase_marks_entity_cancelled(ws):
    class StopInPhase(Observer):
        stop = False

        def entity_phase(self, name, phase, rows=None):
            if phase == "subset":
                self.stop = True

        def should_stop(self):
            return self.stop

    result = ws.run(
        """
    entities:
      a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1]}
      b: {type: fixed, surrogate_id: b_id, columns: [x], values: [1]}
    """,
        observer=StopInPhase(),
    )
    assert result.cancelled
    assert [o.status for o in result.outcomes] == ["cancelled", "cancelled"]


def test_a_cancel_lands_inside_a_long_phase(ws):
    class StopInsideDropEmptyRows(Observer):
        """Asks to stop at the second check of the drop_empty_rows phase (the first is at its start)."""

        def __init__(self):
            self.phases, self.checks_in_phase = [], 0

        def entity_phase(self, name, phase, rows=None):
            self.phases.append(phase)

        def should_stop(self):
            if self.phases[-1:] == ["drop_empty_rows"]:
                self.checks_in_phase += 1
            return self.checks_in_phase >= 2

    columns = [f"c{i}" for i in range(2_000)]
    observer = StopInsideDropEmptyRows()
    result = ws.run(
        f"entities:\n  wide:\n    type: fixed\n    surrogate_id: wide_id\n    drop_empty_rows: true\n"
        f"    columns: [{', '.join(columns)}]\n    values: [[{', '.join(columns)}]]\n",
        observer=observer,
    )

    assert result.cancelled and result.outcome("wide").status == "cancelled"
    assert observer.phases[-1] == "drop_empty_rows" and observer.checks_in_phase == 2


def test_max_rows_cuts_file_inputs_not_fixed(ws):
    ws.write("data.csv", "code,label\nA,a\nB,b\nC,c\n")
    result = ws.run(
        """
    entities:
      labels: {type: csv, surrogate_id: label_id, columns: [code, label], options: {filename: data.csv}}
      kind: {type: fixed, surrogate_id: kind_id, columns: [x], values: [1, 2, 3]}
    """,
        max_rows=2,
    )
    assert result.outcome("labels").rows_out == 2
    assert result.outcome("kind").rows_out == 3


def test_outcome_fields(ws):
    result = ws.run(BASIC, inputs={"survey": frame(SURVEY_CSV, sep=";")})
    outcome = result.outcome("sample")
    assert outcome.role == "requested" and outcome.rows_in == 4 and outcome.rows_out == 3
    assert outcome.columns == ["sample", "site", "site_id", "sample_id"]
    assert outcome.dtypes["sample_id"] == "int64"
    assert isinstance(outcome.table, pd.DataFrame)
    assert outcome.error is None and outcome.traceback is None
    assert isinstance(outcome.duration_ms, int)


@pytest.mark.parametrize("scenario", ["ok", "stop_on_error", "cancel"])
def test_entity_finished_once_per_planned_entity(ws, scenario):
    class Counter(Observer):
        def __init__(self):
            self.finished = []

        def entity_finished(self, outcome):
            self.finished.append(outcome.name)

        def should_stop(self):
            return scenario == "cancel" and len(self.finished) >= 2

    observer = Counter()
    result = ws.run(
        """
    entities:
      broken: {type: fixed, surrogate_id: broken_id, columns: [a, b], values: [[1]]}
      child: {type: fixed, surrogate_id: child_id, columns: [x], values: [1], depends_on: [broken]}
      a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1]}
      b: {type: fixed, surrogate_id: b_id, columns: [x], values: [1]}
    """,
        observer=observer,
        stop_on_error=scenario == "stop_on_error",
    )
    assert (
        sorted(observer.finished) == sorted(o.name for o in result.outcomes) == ["a", "b", "broken", "child"]
    )
    assert result.cancelled == (scenario == "cancel")


def test_unreadable_input_fails_only_what_needs_it(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [a]}
      site: {keys: [a]}
      kind: {type: fixed, surrogate_id: kind_id, columns: [x], values: [1]}
    """,
        inputs={"survey": ws.folder / "missing.csv"},
    )
    statuses = {o.name: o.status for o in result.outcomes}
    assert statuses == {"survey": "failed", "site": "skipped", "kind": "success"}
    assert "missing.csv" in result.outcome("survey").error
