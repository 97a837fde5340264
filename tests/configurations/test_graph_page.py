"""/configurations/<name>/versions/<n>/graph: a version's entity graph, drawn by Graphviz, cached."""

import re
import xml.etree.ElementTree as ET

import pytest
import yaml
from django.urls import reverse
from django.utils.text import slugify

from configurations import graph
from configurations.importing import import_configuration
from configurations.models import ConfigurationVersion
from tests.factories import CONFORMANCE_V2, DEMO_YAML, copy_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("needs_dot")]

HOSTILE = [
    "</svg><script>alert(1)</script>",
    "a&b \"quoted\" 'single'",
    "x\\N\\l\\G end",  # dot escape sequences: must be drawn as written
    "<!-- --> ]]> &amp;",
]


def url(name="demo", number=1):
    return reverse("configurations:graph", args=[name, number])


def svg_of(content: str) -> ET.Element:
    """The inline SVG of a page, parsed as XML: it must be well-formed on its own."""
    match = re.search(r"<svg viewBox=.*?</svg>", content, re.S)
    assert match, "no drawing"
    return ET.fromstring(match.group(0))


def node_names(svg: ET.Element) -> list[str]:
    """The names drawn, in the order of the nodes' ids (dot draws them in an order of its own)."""
    nodes = [g for g in svg.iter() if "graph-node" in g.get("class", "")]
    return [
        g.find("text").text for g in sorted(nodes, key=lambda g: int(g.get("id").removeprefix("graph-n")))
    ]


def test_it_draws_every_entity_linking_to_its_row(alice_client, demo_version):
    response = alice_client.get(url())

    assert response.status_code == 200
    svg = svg_of(response.content.decode())
    entities = list(yaml.safe_load(DEMO_YAML.read_text())["entities"])
    assert node_names(svg) == entities
    links = {a.find("title").text: a.get("href") for a in svg.iter("a")}
    assert links == {name: f"{demo_version.get_absolute_url()}#entity-{slugify(name)}" for name in entities}
    # an arrow per pair of entities, titled with why: site has a foreign key to project in the demo
    titles = [g.find("title").text for g in svg.iter("g") if "graph-edge" in g.get("class", "")]
    assert any(title.startswith("project → site: ") and "foreign key" in title for title in titles)


def test_the_version_page_links_to_it(alice_client, demo_version):
    content = alice_client.get(reverse("configurations:detail", args=["demo"])).content.decode()

    assert f'href="{url()}"' in content


def test_it_keeps_only_drawing_elements_and_attributes(alice_client, demo_version):
    svg = svg_of(alice_client.get(url()).content.decode())

    tags = {element.tag for element in svg.iter()}
    assert tags <= {"svg", "g", "a", "title", "path", "polygon", "polyline", "ellipse", "text"}
    attributes = {name for element in svg.iter() for name in element.attrib}
    assert not {"style", "onload", "onclick", "xlink:href"} & attributes


def test_it_draws_hostile_names_as_text(alice_client, write_config, alice):
    entities = {
        name: {"type": "fixed", "surrogate_id": "x_id", "columns": ["x"], "values": [[1]]} for name in HOSTILE
    }
    entities["child"] = {"source": HOSTILE[0], "columns": ["x"]}
    path = write_config(yaml.safe_dump({"entities": entities}, sort_keys=False), name="hostile.yml")
    import_configuration(path, name="hostile", user=alice)

    content = alice_client.get(url("hostile")).content.decode()

    assert "<script>alert" not in content
    assert "&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in content
    svg = svg_of(content)
    assert node_names(svg) == [*HOSTILE, "child"]
    assert f"{HOSTILE[0]} → child: source" in [t.text for t in svg.iter("title")]


def test_it_marks_deferred_foreign_keys(alice_client, alice, tmp_path):
    case = copy_case(CONFORMANCE_V2 / "22_defer_dependency_cycle", tmp_path)
    import_configuration(case / "shapeshifter.yml", name="deferred", user=alice)

    svg = svg_of(alice_client.get(url("deferred")).content.decode())

    edges = {g.find("title").text: g for g in svg.iter("g") if "graph-edge" in g.get("class", "")}
    deferred = edges["sample → sample_group: foreign key 1 (first_sample = sample), deferred"]
    assert "deferred" in deferred.get("class").split()
    assert deferred.find("path").get("stroke-dasharray")  # dashed, as the legend says
    linked = edges["sample_group → sample: foreign key 1 (grp = grp)"]
    assert "deferred" not in linked.get("class").split()


def test_it_draws_a_version_once(alice_client, demo_version, monkeypatch, django_assert_num_queries):
    # the session, its user, the configuration and the version: the graph comes from the version's
    # validation record, so the project is not loaded
    with django_assert_num_queries(4):
        first = svg_of(alice_client.get(url()).content.decode())
    monkeypatch.setattr(graph, "DOT_COMMAND", "no-such-dot")  # a second dot would now fail

    with django_assert_num_queries(4):
        again = svg_of(alice_client.get(url()).content.decode())

    assert ET.tostring(again) == ET.tostring(first)


def test_it_draws_a_version_stored_without_its_graph(alice_client, demo_version):
    record = dict(demo_version.validation)
    del record["graph"]
    ConfigurationVersion.objects.filter(pk=demo_version.pk).update(validation=record)

    svg = svg_of(alice_client.get(url()).content.decode())  # the project is loaded instead

    assert node_names(svg) == list(yaml.safe_load(DEMO_YAML.read_text())["entities"])


def test_it_shows_a_list_and_says_why_without_graphviz(alice_client, demo_version, monkeypatch):
    monkeypatch.setattr(graph, "DOT_COMMAND", "no-such-dot")

    content = alice_client.get(url()).content.decode()

    assert "<svg viewBox" not in content
    assert "The graph needs Graphviz" in content
    assert '<details class="graph-list" open>' in content
    assert "<strong>project</strong>" in content  # site needs project, in the list
    monkeypatch.undo()  # once Graphviz is there, the graph is drawn: the note was not cached
    assert "<svg viewBox" in alice_client.get(url()).content.decode()


def test_it_says_why_a_version_that_does_not_load_has_no_graph(alice_client, write_config, alice):
    path = write_config("entities:\n  a: [unclosed\n", name="broken.yml")
    import_configuration(path, name="broken", user=alice)

    content = alice_client.get(url("broken")).content.decode()

    assert "<strong>No graph:</strong>" in content
    assert "broken.yml:3: invalid YAML" in content
