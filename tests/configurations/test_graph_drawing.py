"""configurations.graph: what survives of dot's SVG, the DOT it is given, and painting a drawing for a run."""

import xml.etree.ElementTree as ET

from configurations import graph
from configurations.graph import Drawing, display_name, sanitised_svg, to_dot
from shapeshift.graph import EntityGraph, GraphEdge, GraphNode

GRAPH = EntityGraph(
    [GraphNode("site", "entity", 0), GraphNode("sample", "csv", 1)],
    [GraphEdge("site", "sample", "foreign_key", detail="foreign key 1 (site = site)")],
)
# What a hostile or broken dot could emit: everything but the drawing must go.
FOREIGN_SVG = """<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<!-- site -->
<svg width="100pt" height="50pt" viewBox="0.00 0.00 100.00 50.00" onload="steal()" style="x"
     xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<script>alert(1)</script>
<g id="graph0" class="graph" transform="translate(4 46)" onclick="steal()"><title>entities</title>
<g id="graph-n0" class="node" style="fill:red"><title>n0</title>
<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
<a xlink:href="javascript:steal()"><path d="M0,0L1,1"/></a>
<path fill="white" stroke="black" d="M1,1L2,2" onmouseover="steal()"/>
<text x="1" y="2" font-family="Courier" font-size="12.00">&lt;b&gt;dot's text</text><text>second line</text>
</g>
<g id="graph-n1" class="node"><title>n1</title><ellipse cx="1" cy="1" rx="2" ry="2"/><text>sample</text></g>
<g id="graph-e0" class="edge"><title>n0&#45;&gt;n1</title><path d="M1,1" stroke-dasharray="5,2"/></g>
</g>
</svg>
"""


def test_it_keeps_only_the_drawing():
    svg = ET.fromstring(sanitised_svg(FOREIGN_SVG, GRAPH))

    assert [e.tag for e in svg.iter()] == [
        *("svg", "g", "title"),
        *("g", "title", "path", "text"),
        *("g", "title", "ellipse", "text"),
        *("g", "title", "path"),
    ]
    assert svg.attrib == {
        "viewBox": "0.00 0.00 100.00 50.00",
        "width": "100.00",
        "height": "50.00",
        "class": "entity-graph",
    }
    site = svg.find("g/g[@id='graph-n0']")
    assert site.attrib == {"id": "graph-n0", "class": "graph-node kind-entity"}
    assert [(t.tag, t.text) for t in site] == [("title", "site"), ("path", None), ("text", "site")]
    assert site.find("path").attrib == {"fill": "white", "stroke": "black", "d": "M1,1L2,2"}
    assert site.find("text").attrib == {"x": "1", "y": "2", "font-size": "12.00"}
    assert svg.find("g/g[@id='graph-n1']").get("class") == "graph-node kind-csv loader"
    edge = svg.find("g/g[@id='graph-e0']")
    assert edge.get("class") == "graph-edge kind-foreign_key"
    assert edge.find("title").text == "site → sample: foreign key 1 (site = site)"
    assert edge.find("path").get("stroke-dasharray") == "5,2"


def test_it_paints_statuses_and_links():
    drawing = Drawing(GRAPH, svg=sanitised_svg(FOREIGN_SVG, GRAPH))

    shown = drawing.shown({"site": "/runs/1/entities/site/"}, {"site": "failed"})

    svg = ET.fromstring(str(shown.svg))
    site = svg.find("g/a")
    assert site.attrib == {
        "id": "graph-n0",
        "class": "graph-node kind-entity status-failed",
        "href": "/runs/1/entities/site/",
    }
    assert svg.find("g/g[@id='graph-n1']").get("class") == "graph-node kind-csv loader status-none"
    assert shown.statuses == ["failed", "none"]
    assert [(row.node.name, row.href, row.status) for row in shown.rows] == [
        ("site", "/runs/1/entities/site/", "failed"),
        ("sample", "", ""),
    ]
    assert [link.upstream for link in shown.rows[1].links] == ["site"]


def test_it_escapes_names_in_dot():
    graph = EntityGraph([GraphNode('a"b\\N&amp;\n', "entity", 0)], [])

    assert 'n0 [id="graph-n0", label="a\\"b\\\\N&amp;amp;\ufffd", shape=box];' in to_dot(graph)


def test_it_draws_control_characters_as_replacement_characters():
    assert display_name("a\x00b\x1b\tc é") == "a\ufffdb\ufffd\ufffdc é"


def test_it_keeps_a_drawing_through_json():
    drawing = Drawing(GRAPH, svg=sanitised_svg(FOREIGN_SVG, GRAPH))

    again = Drawing.from_json(drawing.to_json())

    assert (again.graph, again.svg, again.problem) == (drawing.graph, drawing.svg, "")
    assert [(link.upstream, link.downstream) for link in again.links] == [("site", "sample")]


def test_it_does_not_draw_more_than_it_can_show(monkeypatch):
    monkeypatch.setattr(graph, "DOT_COMMAND", "no-such-dot")  # not even asked
    nodes = [GraphNode(f"e{i}", "entity", i) for i in range(graph.MAX_NODES + 1)]

    drawing = graph.draw(EntityGraph(nodes, []))

    assert (drawing.svg, drawing.problem) == ("", "401 entities are too many to draw (at most 400).")
    assert len(drawing.shown().rows) == 401


def test_it_says_why_dot_failed(monkeypatch):
    monkeypatch.setattr(graph, "DOT_COMMAND", "false")  # exits 1, says nothing

    drawing = graph.draw(GRAPH)

    assert (drawing.svg, drawing.problem) == ("", "Graphviz could not draw the graph: dot exited with 1")
