"""EntityResult's status vocabulary: the engine's outcomes plus the states only the app knows."""

from shapeshift import EntityStatus
from testruns.models import EntityResult


def test_every_engine_status_is_an_entity_result_status():
    for status in EntityStatus:
        assert EntityResult.Status(status) == status  # ValueError here when the engine gains a status


def test_the_app_adds_only_the_states_of_a_result_before_and_without_an_outcome():
    app_only = set(EntityResult.Status.values) - set(EntityStatus)
    assert app_only == {"pending", "running", "crashed"}


def test_every_entity_status_has_its_own_letter_in_the_status_poll():
    from testruns.views.runs import STATUS_LETTERS

    assert set(STATUS_LETTERS) == set(EntityResult.Status)
    assert len(set(STATUS_LETTERS.values())) == len(STATUS_LETTERS)
