"""Cancelling a run that a real worker process is in the middle of, mid-entity.

The bundle's ``late.csv`` becomes a FIFO: the worker blocks reading it inside the "load" phase of
``late`` for as long as the test needs (``usecols`` is given, so the loader opens it once). The test
asks to cancel, waits for the worker's heartbeat to notice, then feeds the FIFO so the entity reaches
its next phase boundary, where it must stop.
"""

import pytest

from configurations.importing import import_configuration
from testruns.execution import start_run
from testruns.models import EntityResult, Status, TestRun
from testruns.options import RunOptions

pytestmark = pytest.mark.worker

CONFIG = """
entities:
  survey:
    type: csv
    options: {filename: survey.csv, sep: ";", dtype: str, keep_default_na: false}
    columns: [site, sample]
  site:
    source: survey
    keys: [site]
    columns: [site]
    surrogate_id: site_id
    drop_duplicates: [site]
  late:
    type: csv
    options: {filename: late.csv, sep: ";", dtype: str, keep_default_na: false, usecols: [sample, taxon]}
    columns: [sample, taxon]
  taxon:
    source: late
    keys: [taxon]
    columns: [taxon]
    surrogate_id: taxon_id
    drop_duplicates: [taxon]
"""
SURVEY = "site;sample\nA;1\nA;2\nB;3\n"
LATE = "sample;taxon\n1;oak\n2;elm\n"


def test_it_cancels_a_run_in_the_middle_of_an_entity(start_worker, queued, write_config, alice, fifos):
    path = write_config(CONFIG, survey__csv=SURVEY, late__csv=LATE)
    version = import_configuration(path, name="cancelme", user=alice)[0]
    fifo = fifos.make(version, "late.csv")
    worker = start_worker(HEARTBEAT_INTERVAL=1, HEARTBEAT_TIMEOUT=600)
    run = start_run(version, RunOptions(max_rows_per_entity=None), alice)

    worker.wait_for(f"run {run.pk}: entity late started")  # survey and site are done; late blocks on the FIFO
    assert run.request_cancel() == Status.CANCELLING
    worker.wait_for(f"run {run.pk}: cancel requested")  # the heartbeat thread saw it while late was blocked
    fifos.feed(fifo, LATE)  # late's load phase ends; its next phase boundary must stop it
    worker.wait_for(f"run {run.pk} cancelled")

    run = TestRun.objects.get(pk=run.pk)
    assert run.status == Status.CANCELLED
    assert run.finished_at is not None
    statuses = dict(run.entity_results.values_list("entity", "status"))
    assert statuses == {"survey": "success", "site": "success", "late": "cancelled", "taxon": "cancelled"}
    site = run.entity_results.get(entity="site")
    assert site.rows_out == 2 and site.output  # finished entities keep their results
    assert run.entities_succeeded == 2
    assert EntityResult.objects.get(run=run, entity="late").error == "run cancelled"
