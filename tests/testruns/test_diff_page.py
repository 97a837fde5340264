"""The diff section of /runs/compare (the whole stored tables, rows matched by identity), and its partial
/runs/compare/diff, polled while a worker computes a big diff."""

import uuid

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from testruns import diffs
from testruns.models import RunDiff, Status
from tests.factories import make_run
from tests.testruns.diff_support import finished

pytestmark = pytest.mark.django_db

# site is keyed on (ProjektNr, Fustel) in the demo: a is removed, c added, b's n changed
BASE_SITE = "system_id,ProjektNr,Fustel,n\n1,P,a,1\n2,P,b,2\n"
HEAD_SITE = "system_id,ProjektNr,Fustel,n\n1,P,b,20\n2,P,c,3\n"
TAXA = "system_id,BNam\n1,Poa\n"


@pytest.fixture
def runs(demo_version):
    base = finished(demo_version, site=BASE_SITE, taxa=TAXA)
    return base, finished(demo_version, site=HEAD_SITE, taxa=TAXA)


def compare_url(base, head) -> str:
    return f"{reverse('testruns:compare')}?base={base.pk}&head={head.pk}"


def partial_url(base, head) -> str:
    return f"{reverse('testruns:compare_diff')}?base={base.pk}&head={head.pk}"


def section(content: str) -> str:
    return content.split('<section id="run-diff"')[1].split("</section>")[0]


def test_it_shows_the_diff_of_the_whole_tables(alice_client, runs):
    content = section(alice_client.get(compare_url(*runs)).content.decode())

    assert "Differs in <strong>1</strong> of 2 entities." in content
    row = content.split('<tr data-entity="site">')[1].split("</tr>")[0]
    assert '<td class="matched-on">keys</td>' in row
    assert '<td class="num only-in-base"><span class="delta-down">1</span></td>' in row
    assert '<td class="num only-in-head"><span class="delta-up">1</span></td>' in row
    assert '<td class="num changed"><strong>1</strong></td>' in row
    site = content.split('<details class="diff-entity" id="diff-site" data-entity="site" open>')[1]
    assert '<span class="mono">n</span> 0.0 %' in site  # b's n differs: no matched row agrees on n
    assert '<tr class="row-removed"><td>−</td><td>1</td><td>P</td><td>a</td><td>1</td></tr>' in site
    assert '<tr class="row-added"><td>+</td><td>2</td><td>P</td><td>c</td><td>3</td></tr>' in site
    assert '<td class="cell-changed"><del>2</del> → <ins>20</ins></td>' in site
    assert '<td class="cell-changed"><del>2</del> → <ins>1</ins></td>' not in site  # system_id is no change
    assert "1 entity unchanged</summary>" in content and '<p class="mono small">taxa</p>' in content


def test_it_diffs_real_runs_of_the_demo(alice_client, demo_version, run_demo):
    base, head = (run_demo(demo_version, max_rows_per_entity=rows) for rows in (10, 50))
    rows = [run.entity_results.get(entity="abundance").rows_out for run in (base, head)]
    grown = rows[1] - rows[0]

    alice_client.get(compare_url(base, head))

    diff = RunDiff.objects.get(base=base, head=head)
    abundance = next(entity for entity in diff.entities if entity["entity"] == "abundance")
    assert (abundance["only_in_base"], abundance["only_in_head"], abundance["changed"]) == (0, grown, 0)
    record_type = next(entity for entity in diff.entities if entity["entity"] == "record_type")
    assert record_type["matched_on"] == "identical"  # fixed values: the same bytes, not even read


def test_it_polls_while_a_worker_computes_the_diff(
    alice_client, runs, queued, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    monkeypatch.setattr(diffs, "INLINE_BYTES", 0)  # any diff is big: a worker's

    with django_capture_on_commit_callbacks(execute=True):
        content = alice_client.get(compare_url(*runs)).content.decode()

    partial = partial_url(*runs).replace("&", "&amp;")
    assert f'<section id="run-diff" hx-get="{partial}" hx-trigger="every 2s" hx-swap="outerHTML">' in content
    assert "Diffing the stored tables: waiting for a worker." in section(content)
    # session, user, both runs, the kept diff
    with django_assert_num_queries(4):
        polled = alice_client.get(partial_url(*runs)).content.decode()
    assert polled.lstrip().startswith("<section") and "hx-trigger" in polled.split(">")[0]

    diffs.compute_diff(RunDiff.objects.get().pk)  # the worker
    with django_assert_num_queries(4):
        done = alice_client.get(partial_url(*runs)).content.decode()
    assert "hx-trigger" not in done and "Differs in <strong>1</strong> of 2 entities." in done


def test_it_says_why_a_diff_failed(alice_client, runs):
    default_storage.delete(runs[1].entity_results.get(entity="site").output.name)

    content = section(alice_client.get(compare_url(*runs)).content.decode())

    assert "hx-trigger" not in content.split(">")[0]
    assert "A stored table could not be read: the table of &#x27;site&#x27; in run" in content
    assert "Reload the page to try again." in content


def test_it_waits_for_a_run_still_working(alice_client, runs, demo_version):
    running = make_run(demo_version, Status.RUNNING)

    content = section(alice_client.get(compare_url(runs[0], running)).content.decode())

    assert f"The head run {running.short_id} is still running: its tables are diffed once it ends." in content
    assert not RunDiff.objects.exists()


def test_the_partial_rejects_a_malformed_or_unknown_id(alice_client, runs):
    base, _ = runs
    malformed = alice_client.get(f"{reverse('testruns:compare_diff')}?base={base.pk}&head=nope")
    unknown = alice_client.get(f"{reverse('testruns:compare_diff')}?base={base.pk}&head={uuid.uuid4()}")

    assert malformed.status_code == 400
    assert unknown.status_code == 404
