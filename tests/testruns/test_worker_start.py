"""What a worker process does as it starts (testruns.signals), without starting one."""

import gc

import pytest
from django_q.signals import post_spawn


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_worker_sets_aside_the_objects_it_starts_with_from_the_collector(db, unfrozen):
    assert gc.get_freeze_count() == 0

    post_spawn.send(sender="django_q", proc_name="Process-1:1")

    assert gc.get_freeze_count() > 10_000  # Django's, pandas' and the apps' objects
