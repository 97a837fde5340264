"""A worker hands back the memory a run or the explorer copies freed, instead of keeping a 50x run's peak."""

import gc

import numpy as np
import pyarrow as pa
import pytest

from testruns import tasks

pytestmark = pytest.mark.django_db


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def test_it_hands_back_what_arrow_freed():
    arrays = [pa.array(np.arange(500_000) + i).cast(pa.string()) for i in range(40)]  # ~250 MiB of text
    del arrays
    gc.collect()
    held = resident_mib()  # freed, yet still resident: Arrow's allocator keeps it for later

    tasks.return_freed_memory()

    assert held - resident_mib() > 100


@pytest.mark.parametrize("task", ["execute_run", "store_table_copies"])
def test_each_big_task_hands_it_back_even_when_it_fails(task, monkeypatch):
    handed_back = []
    monkeypatch.setattr(tasks, "return_freed_memory", lambda: handed_back.append(True))

    def fail(run_id):
        raise RuntimeError("the worker's task failed")

    monkeypatch.setattr(tasks.execution, "execute_run", fail)
    monkeypatch.setattr(tasks.explorer, "store_copies", fail)

    with pytest.raises(RuntimeError):
        getattr(tasks, task)("00000000-0000-0000-0000-000000000000")
    assert handed_back == [True]
