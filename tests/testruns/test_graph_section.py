"""The run page's entity graph, painted by status, and its timeline; polled at /runs/<id>/graph."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from configurations import graph
from testruns.models import Status
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("needs_dot")]

HX = {"HX-Request": "true"}


def make_run(version, status=Status.RUNNING):
    """A run of the demo's first four entities (of eleven): two finished, one running, one pending."""
    results = [
        {"entity": "survey", "status": "success", "duration_ms": 100},
        {"entity": "record_type", "status": "failed", "duration_ms": 300},
        {"entity": "project", "status": "running"},
        {"entity": "site", "status": "pending"},
    ]
    return factories.make_run(version, status, results, entities_total=4, entities_completed=2)


def url(run):
    return reverse("testruns:graph", args=[run.pk])


def svg_of(content: str) -> ET.Element:
    match = re.search(r"<svg viewBox=.*?</svg>", content, re.S)
    assert match, "no drawing"
    return ET.fromstring(match.group(0))


def nodes(svg: ET.Element) -> dict[str, ET.Element]:
    return {n.find("text").text: n for n in svg.iter() if "graph-node" in n.get("class", "")}


def test_the_run_page_shows_the_graph_painted_by_status(alice_client, demo_version):
    run = make_run(demo_version)

    content = alice_client.get(run.get_absolute_url()).content.decode()

    assert '<section id="run-graph"' in content
    drawn = nodes(svg_of(content))
    for name, status in [("survey", "success"), ("record_type", "failed"), ("project", "running")]:
        assert drawn[name].tag == "a"
        assert drawn[name].get("href") == reverse("testruns:entity", args=[run.pk, name])
        assert f"status-{status}" in drawn[name].get("class").split()
    assert drawn["taxa"].tag == "g"  # not in this run: no page to link to
    assert "status-none" in drawn["taxa"].get("class").split()
    assert "not in this run" in content  # the legend
    assert reverse("configurations:graph", args=["demo", 1]) in content


def test_it_keeps_polling_while_the_run_is_active(alice_client, demo_version):
    run = make_run(demo_version)

    content = alice_client.get(url(run), headers=HX).content.decode()

    assert content.lstrip().startswith('<section id="run-graph"')
    assert f'hx-get="{url(run)}"' in content
    assert 'hx-trigger="every 5s"' in content
    assert "<html" not in content


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.CRASHED])
def test_it_stops_polling_once_the_run_has_ended(alice_client, demo_version, status):
    run = make_run(demo_version, status)

    content = alice_client.get(url(run), headers=HX).content.decode()

    assert '<section id="run-graph"' in content
    assert "hx-trigger" not in content
    assert "hx-get" not in content


def test_its_poll_costs_two_queries_once_the_version_is_drawn(
    alice_client, demo_version, django_assert_num_queries
):
    run = make_run(demo_version)
    alice_client.get(url(run), headers=HX)  # draws the version once

    # the session and its user, then the run (with its version) and its entity results
    with django_assert_num_queries(4):
        response = alice_client.get(url(run), headers=HX)

    assert len(nodes(svg_of(response.content.decode()))) == 11


def test_it_shows_the_timeline_of_the_finished_entities(alice_client, demo_version):
    run = make_run(demo_version)

    content = alice_client.get(url(run), headers=HX).content.decode()

    # 100 ms then 300 ms of 400 ms in all: 0-25 % and 25-100 %
    assert (
        '<rect class="timeline-bar status-success" x="0.000%" y="0" width="25.000%" height="12">' in content
    )
    assert (
        '<rect class="timeline-bar status-failed" x="25.000%" y="0" width="75.000%" height="12">' in content
    )
    assert content.count('class="timeline-bar') == 2  # running and pending: no bar yet
    assert "400 ms in all" in content


def test_it_shows_a_list_without_graphviz(alice_client, demo_version, monkeypatch):
    monkeypatch.setattr(graph, "DOT_COMMAND", "no-such-dot")
    run = make_run(demo_version)

    content = alice_client.get(url(run), headers=HX).content.decode()

    assert "The graph needs Graphviz" in content
    assert "<svg viewBox" not in content
    survey = reverse("testruns:entity", args=[run.pk, "survey"])
    assert f'<a href="{survey}">survey</a>' in content
    assert '<span class="chip chip-failed" data-status="failed">failed</span>' in content


def test_it_draws_hostile_entity_names_as_text(alice_client, write_config, alice):
    from configurations.importing import import_configuration

    name = "</svg><script>alert(1)</script>"
    path = write_config(
        f"entities:\n  '{name}':\n    {{type: fixed, surrogate_id: x_id, columns: [x], values: [[1]]}}\n",
        name="hostile.yml",
    )
    version, _ = import_configuration(path, name="hostile", user=alice)
    run = factories.make_run(
        version, Status.COMPLETED, [{"entity": name, "status": "success", "duration_ms": 5}]
    )

    content = alice_client.get(run.get_absolute_url()).content.decode()

    assert "<script>alert" not in content
    (drawn,) = nodes(svg_of(content)).items()
    assert drawn[0] == name
    assert drawn[1].get("href") == reverse("testruns:entity", args=[run.pk, name])


def test_it_paints_a_real_run(alice_client, demo_version, run_demo):
    run = run_demo(demo_version, max_rows_per_entity=None)

    content = alice_client.get(run.get_absolute_url()).content.decode()

    drawn = nodes(svg_of(content))
    results = list(run.entity_results.all())
    assert sorted(drawn) == sorted(result.entity for result in results)
    assert all("status-success" in node.get("class").split() for node in drawn.values())
    assert content.count('class="timeline-bar status-success"') == len(results)
