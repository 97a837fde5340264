"""Entity outcomes: one status vocabulary (EntityStatus) for every way an entity of a run can end."""

from __future__ import annotations

import json

import pytest

from shapeshift import EntityOutcome, EntityStatus, Observer
from tests.shapeshift.engine_support import frame


def test_every_outcome_of_a_run_carries_an_entity_status(ws):
    result = ws.run(
        """
    entities:
      survey: {columns: [a]}
      good: {columns: [a]}
      bad: {columns: [a], filters: [{type: nope}]}
      after_bad: {source: bad, columns: [a]}
    """,
        inputs={"survey": frame("a\n1")},
    )
    statuses = {o.name: o.status for o in result.outcomes}
    assert statuses == {
        "survey": EntityStatus.SUCCESS,
        "good": EntityStatus.SUCCESS,
        "bad": EntityStatus.FAILED,
        "after_bad": EntityStatus.SKIPPED,
    }
    assert all(type(status) is EntityStatus for status in statuses.values())
    # stored and sent as the plain string
    assert json.loads(json.dumps(result.outcome("bad").to_dict()))["status"] == "failed"
    assert type(result.outcome("bad").to_dict()["status"]) is str


def test_a_cancelled_run_reports_its_entities_as_cancelled(ws):
    class StopAtOnce(Observer):
        def should_stop(self) -> bool:
            return True

    result = ws.run(
        "entities: {a: {type: fixed, surrogate_id: a_id, columns: [x], values: [1]}}", observer=StopAtOnce()
    )
    assert [type(o.status) for o in result.outcomes] == [EntityStatus]
    assert result.outcome("a").status == EntityStatus.CANCELLED


def test_an_outcome_refuses_a_status_outside_the_vocabulary():
    assert EntityOutcome("a", "success", "requested").status is EntityStatus.SUCCESS
    with pytest.raises(ValueError, match="succeeded"):
        EntityOutcome("a", "succeeded", "requested")
