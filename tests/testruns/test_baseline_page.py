"""The baseline section of a run's page (/runs/<id>/, polled at /runs/<id>/baseline), and making a run the
baseline or clearing it (POST /runs/<id>/make-baseline, /runs/<id>/clear-baseline)."""

import shutil

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns import diffs
from testruns.models import Baseline, RunDiff, Status
from tests.factories import DEMO, make_result, make_run
from tests.testruns.diff_support import finished

pytestmark = pytest.mark.django_db

SITE = "system_id,ProjektNr,Fustel,n\n1,P,a,1\n2,P,b,2\n"


def section(content: str) -> str:
    return content.split('<section id="run-baseline"')[1].split("</section>")[0]


def page(client, run) -> str:
    return section(client.get(run.get_absolute_url()).content.decode())


def test_it_offers_to_make_a_run_the_baseline(alice_client, demo_version):
    run = finished(demo_version, site=SITE)

    content = page(alice_client, run)

    assert "demo has no baseline" in content
    assert f'action="{reverse("testruns:make_baseline", args=[run.pk])}"' in content
    assert "hx-get" not in content.split(">")[0]  # nothing to wait for: no poll


def test_it_makes_the_run_the_baseline(alice_client, alice, demo_version):
    run = finished(demo_version, site=SITE)

    response = alice_client.post(reverse("testruns:make_baseline", args=[run.pk]), follow=True)

    assert response.redirect_chain == [(run.get_absolute_url(), 302)]
    content = response.content.decode()
    assert f"Run {run.short_id} is now the baseline of demo." in content
    assert "This run is the baseline of demo" in section(content) and "Set " in section(content)
    assert Baseline.objects.get().run == run and Baseline.objects.get().set_by == alice


def test_it_answers_an_htmx_post_with_a_redirect_for_the_client(alice_client, demo_version):
    run = finished(demo_version, site=SITE)

    url = reverse("testruns:make_baseline", args=[run.pk])

    response = alice_client.post(url, headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == run.get_absolute_url()


def test_it_refuses_a_run_that_did_not_go_through_every_entity(alice_client, demo_version):
    run = finished(demo_version, status=Status.CANCELLED)

    assert "Make this run the baseline" not in page(alice_client, run)
    response = alice_client.post(reverse("testruns:make_baseline", args=[run.pk]), follow=True)

    assert f"Run {run.short_id} did not go through every entity (cancelled)" in response.content.decode()
    assert not Baseline.objects.exists()


def test_it_requires_a_post(alice_client, demo_version):
    run = finished(demo_version)

    assert alice_client.get(reverse("testruns:make_baseline", args=[run.pk])).status_code == 405
    assert alice_client.get(reverse("testruns:clear_baseline", args=[run.pk])).status_code == 405


def test_it_clears_the_baseline(alice_client, demo_version):
    run = finished(demo_version)
    run.make_baseline()

    url = reverse("testruns:clear_baseline", args=[run.pk])

    content = alice_client.post(url, follow=True).content.decode()

    assert "demo has no baseline now." in content
    assert "demo has no baseline:" in section(content)
    assert not Baseline.objects.exists()
    again = alice_client.post(url, follow=True).content.decode()
    assert f"Run {run.short_id} is not the baseline of demo." in again


def test_it_says_in_how_many_entities_a_run_differs_from_the_baseline(alice_client, demo_version):
    taxa = "system_id,BNam\n1,Poa\n"
    baseline = finished(demo_version, site=SITE, taxa=taxa)
    baseline.make_baseline()
    run = finished(demo_version, site="system_id,ProjektNr,Fustel,n\n1,P,b,2\n", taxa=taxa)

    content = page(alice_client, run)

    assert f'href="{baseline.get_absolute_url()}">{baseline.short_id}</a>' in content
    verdict = '<strong class="warn">Differs from baseline in 1 entity</strong>: <span class="mono">site'
    assert verdict in content
    compare = f"{reverse('testruns:compare')}?base={baseline.pk}&amp;head={run.pk}#run-diff"
    assert f'<a href="{compare}">See the diff</a>' in content  # the diff, one click away
    assert "Same configuration version as the baseline (v1)." in content
    assert "options differ" not in content


def test_it_says_when_a_run_is_the_same_as_the_baseline(alice_client, demo_version):
    baseline = finished(demo_version, site=SITE)
    baseline.make_baseline()
    run = finished(demo_version, site=SITE)

    assert "<strong>Same as the baseline</strong> (1 entity compared)." in page(alice_client, run)


def test_it_says_when_the_options_differ_from_the_baselines(alice_client, demo_version):
    finished(demo_version, options={"max_rows_per_entity": 100}, site=SITE).make_baseline()
    run = finished(demo_version, options={"max_rows_per_entity": None}, site=SITE)

    content = page(alice_client, run)

    assert "This run's options differ from the baseline's (all rows · all entities)" in content


def test_it_shows_the_yaml_diff_of_the_two_versions_beside_it(alice_client, alice, demo_version, tmp_path):
    from configurations.importing import import_configuration

    folder = tmp_path / "v2"
    shutil.copytree(DEMO, folder)
    yaml = (folder / "demo.yml").read_text(encoding="utf-8")
    (folder / "demo.yml").write_text(yaml.replace('["BNam", "Familie"]', '["BNam"]'), encoding="utf-8")
    v2, _ = import_configuration(folder / "demo.yml", name="demo", user=alice)
    finished(demo_version, site=SITE).make_baseline()
    run = finished(v2, site=SITE)

    content = page(alice_client, run)

    assert "Configuration v1 → v2" in content and '<span class="diff-count-removed">−1</span>' in content
    removed = content.split('class="diff-removed"')[1].split("</tr>")[0]
    assert '["BNam", "Familie"]' in removed.replace("&quot;", '"')
    assert f'href="{reverse("configurations:diff", args=["demo", 1, 2])}">The whole version diff' in content


def test_it_polls_while_the_run_works_and_stops_once_it_ended(
    alice_client, demo_version, django_assert_num_queries
):
    finished(demo_version, site=SITE).make_baseline()
    run = make_run(demo_version, Status.RUNNING)
    url = reverse("testruns:baseline", args=[run.pk])

    content = page(alice_client, run)
    assert f'hx-get="{url}" hx-trigger="every 2s"' in content
    assert "This run is diffed with it once it ends." in content
    # session, user, the run, the baseline
    with django_assert_num_queries(4):
        polled = alice_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in polled and "<html" not in polled

    run.status, run.finished_at = Status.COMPLETED, timezone.now()
    run.save()
    make_result(run, "site", content=SITE.encode(), status="success")
    alice_client.get(url)  # diffs it with the baseline, and keeps the diff
    # session, user, the run, the baseline, the kept diff
    with django_assert_num_queries(5):
        last = alice_client.get(url).content.decode()
    assert "hx-trigger" not in last
    assert "Same as the baseline" in last


def test_it_polls_while_a_worker_diffs_it_with_the_baseline(
    alice_client, demo_version, queued, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(diffs, "INLINE_BYTES", 0)  # any diff is big: a worker's
    finished(demo_version, site=SITE).make_baseline()
    run = finished(demo_version, site="system_id,ProjektNr,Fustel,n\n1,P,a,1\n")

    with django_capture_on_commit_callbacks(execute=True):
        content = page(alice_client, run)

    assert "Diffing with the baseline: waiting for a worker." in content
    assert f'hx-get="{reverse("testruns:baseline", args=[run.pk])}"' in content
    diffs.compute_diff(RunDiff.objects.get().pk)  # the worker
    polled = alice_client.get(reverse("testruns:baseline", args=[run.pk])).content.decode()
    assert "hx-trigger" not in polled and "Differs from baseline in 1 entity" in polled


def test_the_delete_page_says_the_run_is_the_baseline(alice_client, demo_version):
    run = finished(demo_version)
    run.make_baseline()
    other = finished(demo_version)

    content = alice_client.get(reverse("testruns:delete", args=[run.pk])).content.decode()

    assert "This run is the baseline of demo: deleting it leaves demo without a baseline." in content
    other_page = alice_client.get(reverse("testruns:delete", args=[other.pk])).content.decode()
    assert "is the baseline" not in other_page
