"""The configuration page's trend: rows out and duration per entity over the last runs that ran to the end."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from testruns.models import EntityResult, Status, TestRun
from testruns.trends import HEIGHT, Sparkline, entity_trend
from tests import factories

pytestmark = pytest.mark.django_db


def make_run(version, minutes_ago, results, status=Status.COMPLETED):
    """A run ``minutes_ago`` with ``results``: {entity: (rows_out, duration_ms)} (None: the entity failed)."""
    entities = [
        {
            "entity": name,
            "rows_out": value and value[0],
            "duration_ms": value and value[1],
            "status": EntityResult.Status.SUCCESS if value else EntityResult.Status.FAILED,
        }
        for name, value in results.items()
    ]
    created_at = timezone.now() - timedelta(minutes=minutes_ago)
    return factories.make_run(version, status, entities, created_at=created_at)


def test_it_draws_a_series_oldest_first_and_skips_gaps():
    line = Sparkline([10, None, 30, 20])

    assert line.last == 20
    xs = [x for x, _ in line.coordinates]
    assert xs == sorted(xs) and len(xs) == 3  # the gap is left out
    ys = dict(zip([10, 30, 20], [y for _, y in line.coordinates], strict=True))
    assert ys[30] < ys[20] < ys[10]  # SVG y grows downwards: bigger values are drawn higher
    assert line.points.count(",") == 3 and line.end == line.coordinates[-1]


def test_it_draws_a_flat_or_empty_series():
    assert {y for _, y in Sparkline([5, 5, 5]).coordinates} == {HEIGHT / 2}
    assert Sparkline([7]).end is not None
    empty = Sparkline([None, None])
    assert empty.points == "" and empty.end is None and empty.last is None


def test_it_follows_each_entity_over_the_last_completed_runs(demo_version, django_assert_num_queries):
    make_run(demo_version, 30, {"site": (1, 10)})  # beyond the last two
    make_run(demo_version, 20, {"site": (100, 50), "sample": (5000, 900)})
    could_not_run = make_run(demo_version, 15, {"site": (999, 1)}, status=Status.FAILED)
    TestRun.objects.filter(pk=could_not_run.pk).update(error_message="The bundle could not be read")
    make_run(demo_version, 12, {"site": (888, 1)}, status=Status.CANCELLED)  # stopped: left out
    # sample failed in this run: failed by the verdict, it ran to its end and its site still counts
    make_run(demo_version, 10, {"site": (120, 40), "sample": None}, status=Status.FAILED)
    make_run(factories.make_version("other"), 5, {"site": (7, 7)})

    with django_assert_num_queries(2):
        trend = entity_trend(demo_version.configuration, runs=2)

    assert trend.runs == 2  # the oldest run is beyond the last two
    assert [item.entity for item in trend.entities] == ["sample", "site"]  # most rows first
    sample, site = trend.entities
    assert site.rows_out.values == [100, 120] and site.duration_ms.values == [50, 40]
    assert sample.rows_out.values == [5000, None] and sample.rows_out.last == 5000


def test_it_keeps_the_entities_with_most_rows(demo_version):
    make_run(demo_version, 1, {f"e{i}": (i, i) for i in range(15)})

    trend = entity_trend(demo_version.configuration, entities=10)

    assert [item.entity for item in trend.entities] == [f"e{i}" for i in range(14, 4, -1)]


def test_it_is_shown_on_the_configuration_page(alice_client, demo_version):
    make_run(demo_version, 20, {"site": (1200, 50)})
    make_run(demo_version, 10, {"site": (1500, 2500)})

    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    assert 'id="run-trend"' in content and "last 2 completed runs" in content
    assert content.count("<polyline") == 2
    assert "1,500" in content and "2.5 s" in content
    assert 'aria-label="rows out of site: 1,200 to 1,500 rows over 2 runs"' in content


def test_it_says_when_there_is_nothing_to_draw(alice_client, demo_version):
    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    assert "No completed run with results yet." in content


# --- like with like -----------------------------------------------------------------------------------------


def make_run_with(version, minutes_ago, options, rows_out):
    run = make_run(version, minutes_ago, {"site": (rows_out, 10)})
    TestRun.objects.filter(pk=run.pk).update(options=options)
    run.options = options
    return run


def test_it_follows_the_runs_with_the_latest_runs_options(demo_version):
    sample = {"max_rows_per_entity": 100, "entities": ["site", "sample"]}
    make_run_with(demo_version, 50, sample, 1)
    make_run_with(demo_version, 40, {"max_rows_per_entity": None, "entities": None}, 9999)  # a full run
    make_run_with(demo_version, 30, {**sample, "entities": ["sample", "site"]}, 2)  # the same, reordered
    make_run_with(demo_version, 20, {**sample, "input": "sha256:ab12"}, 8888)  # another input
    make_run_with(demo_version, 10, sample, 3)

    trend = entity_trend(demo_version.configuration)

    assert trend.runs == 3 and trend.entities[0].rows_out.values == [1, 2, 3]
    assert trend.options == sample
    assert trend.left_out == 2  # the full run and the run on another input


def test_it_counts_only_the_runs_left_out_over_the_span_drawn(demo_version):
    make_run_with(demo_version, 30, {"max_rows_per_entity": None}, 9999)  # before the runs drawn
    make_run_with(demo_version, 20, {"max_rows_per_entity": 100}, 1)
    make_run_with(demo_version, 10, {"max_rows_per_entity": 100}, 2)

    trend = entity_trend(demo_version.configuration)

    assert (trend.runs, trend.left_out) == (2, 0)


def test_it_says_which_options_it_draws_and_what_it_left_out(alice_client, demo_version):
    make_run_with(demo_version, 10, {"max_rows_per_entity": 100}, 1500)
    make_run_with(demo_version, 7, {"max_rows_per_entity": None}, 1200)
    make_run_with(demo_version, 5, {"max_rows_per_entity": 100}, 1600)

    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    assert "last 2 completed runs with first 100 rows · all entities" in content
    assert "1 run with other options (rows read, entities or input) in that time is left out" in content


# --- the run page's trend, and the values of each point -----------------------------------------------------

SAMPLE, FULL = {"max_rows_per_entity": 100}, {"max_rows_per_entity": None}


@pytest.fixture
def mixed(demo_version):
    """Sample and full runs of the demo, alternating, oldest first."""
    return [
        make_run_with(demo_version, 50, SAMPLE, 10),
        make_run_with(demo_version, 40, FULL, 9000),
        make_run_with(demo_version, 30, SAMPLE, 12),
        make_run_with(demo_version, 20, FULL, 9100),
        make_run_with(demo_version, 10, SAMPLE, 14),
    ]


def test_it_draws_the_runs_like_a_given_one_up_to_it(demo_version, mixed):
    first_sample, first_full, sample, full, _later_sample = mixed

    like_sample = entity_trend(demo_version.configuration, until=sample)
    like_full = entity_trend(demo_version.configuration, until=full)

    assert like_sample.entities[0].rows_out.values == [10, 12]  # not the full runs, not the later sample
    assert like_sample.entities[0].rows_out.runs == [first_sample, sample]
    assert (like_sample.options, like_sample.left_out, like_sample.until) == (SAMPLE, 1, sample)
    assert like_full.entities[0].rows_out.values == [9000, 9100] and like_full.options == FULL


def test_the_run_page_shows_the_trend_of_its_like_runs(alice_client, mixed):
    sample = mixed[2]

    content = alice_client.get(sample.get_absolute_url()).content.decode()

    trend = content.split('id="run-trend"')[1].split("</section>")[0]
    assert "the last 2 completed runs up to this one with its options (first 100 rows" in trend
    assert "9,000" not in trend and "9,100" not in trend  # full runs are not drawn with samples
    assert 'aria-label="rows out of site: 10 to 12 rows over 2 runs"' in trend


def test_each_point_says_its_run_date_and_value(alice_client, demo_version):
    older = make_run(demo_version, 20, {"site": (1200, 50)})
    newer = make_run(demo_version, 10, {"site": (1500, 2500)})

    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    for run, rows, took in ((older, "1,200", "50 ms"), (newer, "1,500", "2.5 s")):
        when = timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M")
        assert f"<title>run {run.short_id} · {when}: {rows} rows</title>" in content
        assert f"<title>run {run.short_id} · {when}: {took}</title>" in content
        # the same values, listed for keyboard and screen-reader users
        assert (
            f'<td><a class="mono" href="{run.get_absolute_url()}">{run.short_id}</a></td><td>{when}</td>'
            f'<td class="num">{rows}</td><td class="num">{took}</td>'
        ) in content
    assert content.count('<g class="spark-point">') == 4  # two runs, two series


def test_the_trend_partial_costs_two_queries_however_many_runs(demo_version, django_assert_num_queries):
    render = Template("{% load testruns %}{% run_trend run %}").render
    latest = None
    for minutes_ago in range(30, 0, -1):
        latest = make_run(demo_version, minutes_ago, {f"e{i}": (i * minutes_ago, i) for i in range(12)})

    with django_assert_num_queries(2):
        html = render(Context({"run": latest}))

    assert html.count('<g class="spark-point">') == 2 * 10 * 20  # 10 entities, 2 series, the last 20 runs
