"""testruns.timeline: each entity's bar on one time axis, from the durations of the entities before it."""

from types import SimpleNamespace

from testruns.timeline import timeline


def results(*durations):
    return [SimpleNamespace(entity=f"e{i}", status="success", duration_ms=d) for i, d in enumerate(durations)]


def bars(*durations):
    return [(bar.start_ms, bar.x, bar.width) for bar in timeline(results(*durations)).bars]


def test_it_starts_each_entity_where_the_ones_before_it_ended():
    assert bars(100, 300, 600) == [
        (0, "0.000%", "10.000%"),
        (100, "10.000%", "30.000%"),
        (400, "40.000%", "60.000%"),
    ]


def test_it_draws_no_bar_for_an_entity_without_a_duration():
    assert bars(None, 50, None, 150) == [
        (0, "", ""),
        (0, "0.000%", "25.000%"),
        (50, "", ""),
        (50, "25.000%", "75.000%"),
    ]


def test_it_shows_an_entity_of_no_time_as_a_sliver():
    assert bars(0, 1000) == [(0, "0.000%", "0.200%"), (0, "0.000%", "100.000%")]
    assert bars(0, 0) == [(0, "0", "0.200%"), (0, "0", "0.200%")]


def test_it_has_nothing_to_show_before_an_entity_finished():
    assert not timeline(results(None, None)).has_durations
    assert timeline(results(0)).has_durations
    assert timeline(results(None, 7)).total_ms == 7
