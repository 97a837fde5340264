"""/runs/<id>/: the run page, which includes the status partial."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun
from tests.factories import make_result, make_run, make_version, run_with_a_failing_entity

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_version, alice):
    run = make_run(
        demo_version,
        status=Status.RUNNING,
        requested_by=alice,
        options={"entities": ["site"], "max_rows_per_entity": 50, "stop_on_error": True},
        started_at=timezone.now(),
        entities_total=2,
        entities_completed=1,
    )
    make_result(run, "survey", 0, role="dependency", status="success")
    make_result(run, "site", 1, status="running")
    run.log("info", "Started on testhost:1.")
    run.log("error", "column KoordZ not found", entity="site")
    return run


def url(run):
    return reverse("testruns:detail", args=[run.pk])


def test_it_works(alice_client, run):
    content = alice_client.get(url(run)).content.decode()

    assert 'id="run-status"' in content
    # the same partial, polling, with the page's state as its cursor: survey done, site running, 2 events
    last_event = run.events.last().pk
    status_url = reverse("testruns:status", args=[run.pk])
    assert f'hx-get="{status_url}?seen=sr&amp;event={last_event}"' in content
    assert "first 50 rows · entities: site · stop on error" in content
    assert "v1" in content
    assert "Started on testhost:1." in content
    assert "column KoordZ not found" in content
    assert reverse("testruns:entity", args=[run.pk, "site"]) in content
    assert "htmx" in content  # {% htmx_script %}
    assert 'id="run-events"' in content
    assert "hx-swap-oob" not in content


def test_it_shows_progress_eta_and_rows_so_far(alice_client, run):
    EntityResult.objects.filter(run=run, entity="survey").update(rows_out=1200, duration_ms=4000)

    content = alice_client.get(url(run)).content.decode()

    assert "1 of 2 entities · 50%" in content
    assert '<span class="eta">4.0 s</span>' in content  # mean 4 s × 1 entity left
    assert '<span class="rows-so-far">1,200</span>' in content
    assert '<strong class="current-entity">' not in content  # current_entity not set on this run
    assert 'id="entity-0"' in content and 'id="entity-1"' in content


def test_it_says_the_eta_is_unknown_before_any_entity_finished(alice_client, run):
    TestRun.objects.filter(pk=run.pk).update(entities_completed=0, current_entity="survey")

    content = alice_client.get(url(run)).content.decode()

    assert '<span class="eta">—</span>' in content
    assert '<strong class="current-entity">survey</strong>' in content


def test_it_offers_cancel_rerun_and_pin(alice_client, run):
    content = alice_client.get(url(run)).content.decode()

    assert f'action="{reverse("testruns:cancel", args=[run.pk])}"' in content
    assert f'action="{reverse("testruns:rerun", args=[run.pk])}"' in content
    assert f'action="{reverse("testruns:pin", args=[run.pk])}"' in content
    assert "csrfmiddlewaretoken" in content
    assert reverse("testruns:delete", args=[run.pk]) not in content  # an active run cannot be deleted
    assert reverse("testruns:rerun_current", args=[run.pk]) not in content  # it ran the current version


def test_it_offers_delete_and_rerun_on_the_current_version_once_finished(alice_client, run, alice):
    make_version(
        run.configuration,
        2,
        current=True,
        main_file=run.version.main_file,
        yaml_text=run.version.yaml_text,
        created_by=alice,
    )
    TestRun.objects.filter(pk=run.pk).update(status=Status.COMPLETED, pinned=True)

    content = alice_client.get(url(run)).content.decode()

    assert reverse("testruns:delete", args=[run.pk]) in content
    assert "Re-run on current v2" in content
    assert reverse("testruns:cancel", args=[run.pk]) not in content
    assert "Unpin" in content and "chip-pinned" in content


def test_it_costs_a_fixed_number_of_queries(alice_client, run, django_assert_num_queries):
    # session, user, run (with its configuration and current version, its version, requester), previous run
    # (for "Compare with previous run"), entity results, events, the configuration's baseline (none), the
    # trend's runs (none like this one ran to the end, so not their entity results: test_trends counts both)
    with django_assert_num_queries(8):
        alice_client.get(url(run))


def test_it_shows_a_run_whose_entity_failed_as_failed_with_why(
    alice_client, alice, write_config, django_capture_on_commit_callbacks
):
    failed = run_with_a_failing_entity(write_config, alice, django_capture_on_commit_callbacks)

    content = alice_client.get(url(failed)).content.decode()

    status = content.split('id="run-status"')[1].split("</section>")[0]
    assert 'data-status="failed"' in status
    assert '<span class="bad run-verdict">1 entity failed, 1 skipped</span>' in status
    assert "error-box" not in status  # the run did start: no error of its own


def test_its_title_says_where_the_run_is(alice_client, run):
    content = alice_client.get(url(run)).content.decode()

    assert f"<title>▶ 1/2 · Run {run.short_id} of demo · ShiftBench</title>" in content
    # the button that asks for the browser's permission, shown by static/js/live.js (never asked on load)
    assert '<p id="run-notify" class="run-notify" hidden>' in content
    assert "Notify me when it ends" in content


def test_its_title_says_how_the_run_ended(alice_client, run):
    TestRun.objects.filter(pk=run.pk).update(
        status=Status.COMPLETED, entities_completed=2, entities_succeeded=2
    )

    content = alice_client.get(url(run)).content.decode()

    assert f"<title>✓ completed · Run {run.short_id} of demo · ShiftBench</title>" in content
    assert "Notify me" not in content


def test_it_polls_with_the_last_comparable_run_as_reference(alice_client, run, demo_version):
    earlier = {"created_at": run.created_at - timedelta(hours=1), "options": run.options}
    reference = make_run(
        demo_version,
        Status.COMPLETED,
        [
            {"entity": "survey", "status": "success", "rows_in": 50, "duration_ms": 100},
            {"entity": "site", "status": "success", "rows_in": 50, "duration_ms": 300},
        ],
        **earlier,
    )
    EntityResult.objects.filter(run=run, entity="survey").update(rows_in=50, duration_ms=100)
    TestRun.objects.filter(pk=run.pk).update(current_entity="site")

    content = alice_client.get(url(run)).content.decode()

    assert f"ref={reference.pk}" in content
    assert "50 of 100 rows read" in content
    assert f"(run {reference.short_id}: 50 rows in, 300 ms)" in content  # site, being worked on


def test_an_active_run_with_a_reference_costs_one_query_more(
    alice_client, run, demo_version, django_assert_num_queries
):
    make_run(
        demo_version,
        Status.COMPLETED,
        [{"entity": "site", "status": "success", "rows_in": 50, "duration_ms": 300}],
        created_at=run.created_at - timedelta(hours=1),
        options=run.options,
    )

    # as test_it_costs_a_fixed_number_of_queries, the reference's entity results, and the trend's entity
    # results (the reference is a like run that ran to its end)
    with django_assert_num_queries(10):
        alice_client.get(url(run))
