"""/runs/<id>/status: the polled part of the run page, which sends only what changed since the last poll."""

import pytest
from django.urls import reverse
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun
from tests import factories

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def make_run(version, status=Status.RUNNING, entities=2):
    """A run whose first entity succeeded and the others are pending: the page shows "s" then "p"s."""
    first = {"status": "success", "rows_in": 10, "rows_out": 8, "duration_ms": 120, "warnings": ["odd"]}
    results = [
        {"entity": f"entity_{i}", **(first if i == 0 else {"status": "pending"})} for i in range(entities)
    ]
    return factories.make_run(
        version, status, results, started_at=timezone.now(), entities_total=entities, entities_completed=1
    )


def url(run, **cursor):
    query = "&".join(f"{key}={value}" for key, value in cursor.items())
    return reverse("testruns:status", args=[run.pk]) + (f"?{query}" if query else "")


def test_it_rejects_a_bad_event_cursor(alice_client, demo_version):
    response = alice_client.get(url(make_run(demo_version), seen="sp", event="x"))

    assert response.status_code == 400
    assert b"event" in response.content


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.CANCELLING])
def test_it_keeps_polling_while_the_run_is_active(alice_client, demo_version, status):
    run = make_run(demo_version, status)

    response = alice_client.get(url(run, seen="sp", event=0), headers=HX)

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="run-status"')
    assert f'hx-get="{url(run)}?seen=sp&amp;event=0"' in content  # the next poll's cursor
    # every 2 s, and at once when a hidden tab is shown again (static/js/live.js skips a hidden tab's polls)
    assert 'hx-trigger="every 2s, visibilitychange from:document"' in content
    assert 'hx-swap="outerHTML"' in content
    assert "<html" not in content  # a fragment, not a page


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.CRASHED])
def test_it_stops_polling_once_the_run_has_ended(alice_client, demo_version, status):
    response = alice_client.get(url(make_run(demo_version, status), seen="sp", event=0), headers=HX)

    content = response.content.decode()
    assert 'id="run-status"' in content
    assert "hx-trigger" not in content
    assert "hx-get" not in content
    assert f'data-status="{status}"' in content
    assert "Cancel run" not in content


def test_it_shows_progress_eta_and_rows_so_far(alice_client, demo_version):
    run = make_run(demo_version, entities=4)
    TestRun.objects.filter(pk=run.pk).update(current_entity="entity_1")

    content = alice_client.get(url(run, seen="sppp", event=0), headers=HX).content.decode()

    assert "1 of 4 entities · 25%" in content
    assert 'width="25%" height="100%"' in content  # the bar's fill
    assert '<span class="eta">360 ms</span>' in content  # 120 ms a finished entity × 3 left
    assert '<span class="rows-so-far">8</span>' in content
    assert '<strong class="current-entity">entity_1</strong>' in content


def test_it_shows_counts_with_thousands_separators(alice_client, demo_version):
    run = make_run(demo_version, entities=2)
    EntityResult.objects.filter(run=run, position=0).update(rows_in=12345, rows_out=1234)
    TestRun.objects.filter(pk=run.pk).update(
        entities_completed=1000, entities_total=1200, entities_failed=1001
    )

    content = alice_client.get(url(run), headers=HX).content.decode()  # no cursor: the whole table

    assert "1,000 of 1,200 entities" in content
    assert '<span class="rows-so-far">1,234</span>' in content
    assert '<span class="bad run-verdict">1,001 entities failed</span>' in content
    assert '<td class="num">12,345</td>' in content
    assert '<td class="num">1,234</td>' in content


def test_it_offers_cancel_until_a_cancel_is_requested(alice_client, demo_version):
    running = make_run(demo_version, Status.RUNNING)
    cancelling = make_run(demo_version, Status.CANCELLING)

    assert b"Cancel run" in alice_client.get(url(running), headers=HX).content
    content = alice_client.get(url(cancelling), headers=HX).content.decode()
    assert "Cancel run" not in content
    assert "stops at the next checkpoint" in content


def test_it_sends_the_whole_table_when_the_page_has_none(alice_client, demo_version):
    run = make_run(demo_version, entities=3)

    # the page loaded before the worker planned the run: it shows no rows (seen is empty)
    content = alice_client.get(url(run, seen="", event=0), headers=HX).content.decode()

    assert '<section id="run-entities" hx-swap-oob="true">' in content
    assert content.count('<tr id="entity-') == 3
    assert reverse("testruns:entity", args=[run.pk, "entity_2"]) in content


def test_it_sends_nothing_of_the_table_when_nothing_changed(alice_client, demo_version):
    run = make_run(demo_version, entities=3)

    content = alice_client.get(url(run, seen="spp", event=0), headers=HX).content.decode()

    assert "<tr" not in content
    assert "run-entities" not in content


def test_it_sends_only_the_rows_that_changed(alice_client, demo_version):
    run = make_run(demo_version, entities=4)
    EntityResult.objects.filter(run=run, position=1).update(status="success", rows_out=42, duration_ms=2000)
    EntityResult.objects.filter(run=run, position=2).update(status="running")

    # the page still shows entity_1 pending and entity_2 pending
    content = alice_client.get(url(run, seen="sppp", event=0), headers=HX).content.decode()

    assert content.count("<tr ") == 2
    assert '<template><tr id="entity-1" class="entity-success" hx-swap-oob="true">' in content
    assert '<tr id="entity-2" class="entity-running" hx-swap-oob="true">' in content
    assert "run-entities" not in content
    assert "seen=ssrp" in content  # the next poll starts from here


def test_it_sends_changed_rows_as_partials_to_htmx_4(alice_client, demo_version, settings):
    settings.HTMX_VERSION = 4  # htmx 4 reads no out-of-band element nested in a <template>
    run = make_run(demo_version, entities=3)
    EntityResult.objects.filter(run=run, position=1).update(status="success")

    content = alice_client.get(url(run, seen="spp", event=0), headers=HX).content.decode()

    assert (
        '<hx-partial hx-target="#entity-1" hx-swap="outerHTML"><tr id="entity-1" class="entity-success">'
        in content
    )
    assert "<template>" not in content
    assert content.count("<tr ") == 1


def test_it_sends_the_whole_table_with_the_last_poll(alice_client, demo_version):
    run = make_run(demo_version, Status.COMPLETED, entities=3)

    content = alice_client.get(url(run, seen="spp", event=0), headers=HX).content.decode()

    assert '<section id="run-entities" hx-swap-oob="true">' in content
    assert content.count('<tr id="entity-') == 3
    # the actions again, now with Delete and the exports
    assert '<div id="run-actions" class="run-actions" hx-swap-oob="true">' in content
    assert reverse("testruns:delete", args=[run.pk]) in content
    assert reverse("testruns:export_zip", args=[run.pk]) in content


def test_it_leaves_the_actions_alone_while_the_run_works(alice_client, demo_version):
    run = make_run(demo_version, entities=3)

    content = alice_client.get(url(run, seen="", event=0), headers=HX).content.decode()

    assert "run-actions" not in content


def test_it_appends_only_the_events_after_the_cursor(alice_client, demo_version):
    run = make_run(demo_version)
    seen_event = run.log("info", "Started on testhost:1.")
    run.log("error", "column KoordZ not found", entity="entity_1")
    last = run.log("info", "still going")

    content = alice_client.get(url(run, seen="sp", event=seen_event.pk), headers=HX).content.decode()

    assert '<ol id="run-event-list" hx-swap-oob="beforeend">' in content
    assert "Started on testhost:1." not in content
    assert "column KoordZ not found" in content
    assert f"event={last.pk}" in content  # the next poll asks for what comes after the last one sent


def test_it_sends_no_events_when_there_are_none_new(alice_client, demo_version):
    run = make_run(demo_version)
    event = run.log("info", "Started on testhost:1.")

    content = alice_client.get(url(run, seen="sp", event=event.pk), headers=HX).content.decode()

    assert "run-event-list" not in content
    assert f"event={event.pk}" in content


def test_it_sends_the_event_that_says_how_the_run_ended(alice_client, demo_version):
    run = make_run(demo_version, Status.FAILED)
    TestRun.objects.filter(pk=run.pk).update(error_message="demo.yml:3: entities.a: broken")
    run.log("error", "Run failed: no survey.csv")

    content = alice_client.get(url(run, seen="sp", event=0), headers=HX).content.decode()

    assert "demo.yml:3: entities.a: broken" in content
    assert "Run failed: no survey.csv" in content


@pytest.mark.parametrize("entities", [2, 40])
@pytest.mark.parametrize("changed", [False, True])
def test_it_costs_a_fixed_number_of_queries(
    alice_client, demo_version, django_assert_num_queries, entities, changed
):
    run = make_run(demo_version, entities=entities)
    run.log("info", "Started on testhost:1.")
    if changed:
        EntityResult.objects.filter(run=run).update(status="success")
    seen = "s" + "p" * (entities - 1)

    # session, user (the middleware), the run with its configuration/versions/requester, its entity
    # results, the events after the cursor
    with django_assert_num_queries(5):
        response = alice_client.get(url(run, seen=seen, event=0), headers=HX)

    assert response.content.count(b'<tr id="entity-') == (entities - 1 if changed else 0)


def make_reference(version, run, **entities):
    """A finished run of ``version`` before ``run``, whose entities read name=(rows_in, duration_ms)."""
    from datetime import timedelta

    return factories.make_run(
        version,
        Status.COMPLETED,
        [
            {"entity": name, "status": "success", "rows_in": rows, "rows_out": rows, "duration_ms": ms}
            for name, (rows, ms) in entities.items()
        ],
        created_at=run.created_at - timedelta(hours=1),
    )


def test_it_counts_rows_read_of_what_the_reference_run_read(alice_client, demo_version, monkeypatch):
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # the run started just now: no time in entity_1 yet
    run = make_run(demo_version, entities=3)  # entity_0 read 10 rows in 120 ms
    TestRun.objects.filter(pk=run.pk).update(current_entity="entity_1")
    reference = make_reference(
        demo_version, run, entity_0=(10, 100), entity_1=(945_600, 12_000), entity_2=(5, 100)
    )

    content = alice_client.get(url(run, seen="spp", event=0, ref=reference.pk), headers=HX).content.decode()

    assert "1 of 3 entities · 33%" in content
    assert ">10 of 945,615 rows read</span>" in content
    assert f"run {reference.short_id}, the last comparable run" in content  # what the total comes from
    assert f"(run {reference.short_id}: 945,600 rows in, 12.0 s)" in content  # entity_1 last time
    assert f"ref={reference.pk}" in content  # the next poll asks for the same reference
    # ETA from the reference's times: (12 s + 0.1 s) × 1.2 (this run's pace: 120 ms where it took 100)
    assert '<span class="eta" title="from the entities' in content
    assert ">14.5 s</span>" in content


def test_it_counts_rows_read_without_a_total_when_nothing_says_what_is_to_come(alice_client, demo_version):
    run = make_run(demo_version, entities=3)

    content = alice_client.get(url(run, seen="spp", event=0), headers=HX).content.decode()

    assert '<span class="rows-progress">10 rows read</span>' in content
    assert " of " not in content.split('class="rows-progress"')[1].split("</span>")[0]
    assert "ref=" not in content


def test_it_rejects_a_bad_reference_cursor(alice_client, demo_version):
    response = alice_client.get(url(make_run(demo_version), seen="sp", event=0, ref="nope"), headers=HX)

    assert response.status_code == 400
    assert b"ref" in response.content


def test_it_carries_the_title_and_state_for_the_page_script(alice_client, demo_version):
    running = make_run(demo_version, entities=4)
    failed = make_run(demo_version, Status.FAILED, entities=2)
    TestRun.objects.filter(pk=failed.pk).update(entities_failed=1)

    content = alice_client.get(url(running, seen="sppp", event=0), headers=HX).content.decode()
    assert f'data-title="▶ 1/4 · Run {running.short_id} of demo · ShiftBench"' in content
    assert 'data-active="true"' in content

    content = alice_client.get(url(failed, seen="sp", event=0), headers=HX).content.decode()
    assert f'data-title="✗ failed · Run {failed.short_id} of demo · ShiftBench"' in content
    assert 'data-active="false"' in content
    assert 'data-summary="1 entity failed, 1 not finished"' in content


def test_it_costs_one_query_more_with_a_reference(alice_client, demo_version, django_assert_num_queries):
    run = make_run(demo_version, entities=40)
    reference = make_reference(demo_version, run, **{f"entity_{i}": (10, 100) for i in range(40)})
    seen = "s" + "p" * 39

    # as without one, and the reference's entity results
    with django_assert_num_queries(6):
        response = alice_client.get(url(run, seen=seen, event=0, ref=reference.pk), headers=HX)

    assert b"10 of 400 rows read" in response.content


def at_work(run, entity="entity_1", **notes):
    """The worker's notes on ``run``: ``entity`` is at work (its result running), in a phase."""
    EntityResult.objects.filter(run=run, entity=entity).update(status="running")
    TestRun.objects.filter(pk=run.pk).update(current_entity=entity, **notes)


def test_it_says_the_phase_of_the_entity_at_work_and_its_rows(alice_client, demo_version):
    run = make_run(demo_version, entities=3)  # entity_0 read 10 rows
    at_work(run, current_phase="link", current_rows=945_600, current_rows_in=945_615)

    content = alice_client.get(url(run, seen="srp", event=0), headers=HX).content.decode()

    assert 'working on <strong class="current-entity">entity_1</strong> — ' in content
    assert '<span class="current-phase">linking 945,600 rows</span>' in content
    # the finished entities' rows, then what entity_1 has read so far: not yet in the 10
    assert (
        'title="rows read by the finished entities + rows entity_1 has read so far">10 + 945,615 rows read'
        in content
    )


def test_it_adds_the_rows_of_the_entity_at_work_to_the_reference_total(alice_client, demo_version):
    run = make_run(demo_version, entities=3)
    at_work(run, current_phase="subset", current_rows=480_000, current_rows_in=480_000)
    reference = make_reference(
        demo_version, run, entity_0=(10, 100), entity_1=(945_600, 12_000), entity_2=(5, 100)
    )

    content = alice_client.get(url(run, seen="srp", event=0, ref=reference.pk), headers=HX).content.decode()

    assert ">10 + 480,000 of 945,615 rows read</span>" in content
    assert '<span class="current-phase">extracting 480,000 rows</span>' in content


def test_a_phase_without_rows_is_said_without_them(alice_client, demo_version):
    run = make_run(demo_version, entities=3)
    at_work(run, current_phase="load")

    content = alice_client.get(url(run, seen="srp", event=0), headers=HX).content.decode()

    assert '<span class="current-phase">loading</span>' in content
    assert '<span class="rows-progress">10 rows read</span>' in content


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.CRASHED])
def test_an_ended_run_says_no_phase(alice_client, demo_version, status):
    run = make_run(demo_version, status, entities=3)
    at_work(run, current_phase="link", current_rows=5, current_rows_in=5)  # as a killed worker left it

    content = alice_client.get(url(run, seen="srp", event=0), headers=HX).content.decode()

    assert "current-phase" not in content and "+ 5" not in content


def test_the_phase_costs_no_query(alice_client, demo_version, django_assert_num_queries):
    run = make_run(demo_version, entities=40)
    at_work(run, current_phase="dedupe", current_rows=1_000, current_rows_in=2_000)
    seen = "sr" + "p" * 38

    with django_assert_num_queries(5):  # as test_it_costs_a_fixed_number_of_queries
        response = alice_client.get(url(run, seen=seen, event=0), headers=HX)

    assert b"removing duplicates 1,000 rows" in response.content
