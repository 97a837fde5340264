"""Drawing a version's entity graph: laid out by Graphviz's ``dot`` as SVG, made safe to inline, cached.

A version never changes: its graph is kept in its validation record at import (``graph_record``), and its
drawing is made once per machine and kept under ``VAR_DIR/graphs/``; a page view reads the file and only
paints it (classes and links per entity, ``Drawing.painted``), with no query of its own. Without ``dot``
(``make setup`` installs Debian's graphviz) a drawing has no SVG and says why; pages then show the graph as
a list, which every drawing also offers.

The SVG is inlined in pages under a strict Content-Security-Policy, so it is rebuilt from ``dot``'s output
element by element: only drawing elements and geometry attributes survive (no ``style``, no script, no
foreign links), every text is set from the entity names again and escaped by the serialiser.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

import shapeshift
from shapeshift.config.model import FILE_TYPES, UNUSABLE_LOADER_TYPES, V2_UNUSABLE_LOADER_TYPES
from shapeshift.graph import UNDECLARED, EntityGraph, GraphEdge, GraphNode

DOT_COMMAND = "dot"
DOT_TIMEOUT = 20  # seconds; Arbodat's 55 entities take well under one, 400 entities a few
MAX_NODES = 400  # beyond this a drawing is unreadable anyway (and dot slow): the list stays
QUICK_LAYOUT_FROM = 100  # entities; see to_dot
REVISION = 1  # of the drawing: bump it when the DOT or the SVG changes, so older cached drawings are not read
RECORD_REVISION = 1  # of graph_record: bump it when shapeshift.entity_graph changes, so versions load again
NO_GRAPHVIZ = (
    "The graph needs Graphviz (the dot command), which is not installed on this server; "
    "`make setup` installs it. The graph is shown as a list instead."
)

LOADER_KINDS = FILE_TYPES | {"sql"} | UNUSABLE_LOADER_TYPES | V2_UNUSABLE_LOADER_TYPES
SHAPES = {"fixed": "note", "merged": "hexagon"}

# What survives of dot's SVG: drawing elements and their geometry and paint (see the module docstring).
PAINT = {"fill", "stroke", "stroke-width", "stroke-dasharray"}
ALLOWED = {
    "svg": {"viewBox"},
    "g": {"id", "class", "transform"},
    "title": set(),
    "path": {"d"} | PAINT,
    "polygon": {"points"} | PAINT,
    "polyline": {"points"} | PAINT,
    "ellipse": {"cx", "cy", "rx", "ry"} | PAINT,
    "text": {"x", "y", "text-anchor", "font-size", "font-weight", "font-style", "fill"},
}
NODE_ID = re.compile(r"graph-n(\d+)$")
EDGE_ID = re.compile(r"graph-e(\d+)$")


@dataclass
class Link:
    """All the edges from one entity to another, merged: one arrow in the drawing."""

    upstream: str
    downstream: str
    edges: list[GraphEdge]

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(edge.kind for edge in self.edges))

    @property
    def deferred(self) -> bool:
        """Only deferred foreign keys join the two: the arrow orders nothing (format-v2.md 12.5)."""
        return all(edge.deferred for edge in self.edges)

    @property
    def description(self) -> str:
        return "; ".join(edge.detail or edge.kind for edge in self.edges)


@dataclass
class Drawing:
    """A graph and its SVG, or why there is no SVG (``problem``). ``graph`` is None when the version does not
    load (``problem`` then says why)."""

    graph: EntityGraph | None
    svg: str = ""
    problem: str = ""
    links: list[Link] = field(init=False)

    def __post_init__(self):
        self.links = links_of(self.graph) if self.graph else []

    def shown(self, hrefs: dict | None = None, statuses: dict | None = None) -> "ShownGraph":
        """What a page shows of the drawing: the SVG painted, and the graph as a list.

        Each entity links to ``hrefs[name]`` when given. With ``statuses`` (a run's, by entity name) each
        node gets the class ``status-<status>``, or ``status-none`` for an entity the run did not plan.
        """
        hrefs, of_run, statuses = hrefs or {}, statuses is not None, statuses or {}
        into: dict[str, list[Link]] = {}
        for link in self.links:
            into.setdefault(link.downstream, []).append(link)
        rows = [
            GraphRow(node, into.get(node.name, []), hrefs.get(node.name, ""), statuses.get(node.name, ""))
            for node in (self.graph.nodes if self.graph else [])
        ]
        if not of_run:
            return ShownGraph(self.painted(hrefs=hrefs), self.problem, rows)
        classes = {row.node.name: f"status-{_class_word(row.status or 'none')}" for row in rows}
        statuses_shown = list(dict.fromkeys(row.status or "none" for row in rows))
        return ShownGraph(
            self.painted(classes, hrefs), self.problem, rows, of_run=True, statuses=statuses_shown
        )

    def painted(
        self, classes: dict[str, str] | None = None, hrefs: dict[str, str] | None = None
    ) -> SafeString:
        """The SVG with ``classes[name]`` added to each entity's node and the node a link to ``hrefs[name]``.

        Names missing from either get nothing. "" when there is no SVG. The markup is ours (rebuilt by
        ``sanitised_svg`` and serialised by ElementTree, which escapes every text and attribute), so it is
        marked safe here.
        """
        if not self.svg or not self.graph:
            return mark_safe("")
        classes, hrefs = classes or {}, hrefs or {}
        root = ET.fromstring(self.svg)
        for element in root.iter("g"):
            match = NODE_ID.match(element.get("id", ""))
            if not match:
                continue
            name = self.graph.nodes[int(match.group(1))].name
            if classes.get(name):
                element.set("class", f"{element.get('class')} {classes[name]}")
            if hrefs.get(name):
                element.tag = "a"  # an SVG <a> groups like a <g>: the whole node is the link
                element.set("href", hrefs[name])
        return mark_safe(ET.tostring(root, encoding="unicode"))

    def to_json(self) -> str:
        """The drawing as cached (``version_drawing``); ``from_json`` reads it back."""
        return json.dumps({"graph": _record_of(self.graph), "svg": self.svg, "problem": self.problem})

    @classmethod
    def from_json(cls, text: str) -> "Drawing":
        data = json.loads(text)
        graph = _from_record(data["graph"])
        if graph is None:
            raise ValueError("a drawing of another revision")
        return cls(graph, data["svg"], data["problem"])


@dataclass
class GraphRow:
    """An entity as the list beside the drawing shows it: the links into it, its page, its status in a run."""

    node: GraphNode
    links: list[Link]
    href: str = ""
    status: str = ""


@dataclass
class ShownGraph:
    """What the graph partial renders (``Drawing.shown``)."""

    svg: SafeString
    problem: str
    rows: list[GraphRow]
    of_run: bool = False  # painted by status: the legend explains statuses, not kinds
    statuses: list[str] = field(default_factory=list)  # those the run's entities are in ("none": not in it)


def links_of(graph: EntityGraph) -> list[Link]:
    """The graph's edges merged per (upstream, downstream) pair, in the order each pair first appears."""
    pairs: dict[tuple[str, str], Link] = {}
    for edge in graph.edges:
        key = (edge.upstream, edge.downstream)
        pairs.setdefault(key, Link(*key, []))
        pairs[key].edges.append(edge)
    return list(pairs.values())


# --- a version's drawing, cached ---------------------------------------------------------------------------


def graph_record(project: shapeshift.Project) -> dict:
    """The project's graph as kept in a version's validation record (``importing.validation_record``), so a
    version is drawn without loading it again."""
    return _record_of(shapeshift.entity_graph(project))


def _record_of(graph: EntityGraph) -> dict:
    return {
        "revision": RECORD_REVISION,
        "nodes": [[node.name, node.kind, node.index] for node in graph.nodes],
        "edges": [[e.upstream, e.downstream, e.kind, e.deferred, e.detail] for e in graph.edges],
    }


def _from_record(record) -> EntityGraph | None:
    """The graph of a ``graph_record``; None for a version stored without one, or by an older revision."""
    if not isinstance(record, dict) or record.get("revision") != RECORD_REVISION:
        return None
    nodes, edges = record["nodes"], record["edges"]
    return EntityGraph([GraphNode(*node) for node in nodes], [GraphEdge(*edge) for edge in edges])


def version_drawing(version) -> Drawing:
    """The drawing of ``version``'s graph, from the cache when it was made before.

    No query: the graph comes from the version's validation record (``graph_record``). Only a version
    stored without one is loaded (which queries the database), once per machine. A drawing without SVG for
    want of Graphviz, or of a version that does not load, is not cached: it is made again once the cause is
    gone.
    """
    path = _cache_path(version)
    try:
        return Drawing.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not made yet, or unreadable: make it again
    if error := version.validation.get("error"):
        return Drawing(None, problem=error.get("message") or "The configuration does not load.")
    graph = _from_record(version.validation.get("graph"))
    if graph is None:
        project, problem = version.project_or_error()
        if problem:
            return Drawing(None, problem=problem)
        graph = shapeshift.entity_graph(project)
    drawing = draw(graph)
    if drawing.svg or len(drawing.graph.nodes) > MAX_NODES:
        _write_atomically(path, drawing.to_json())
    return drawing


def _cache_path(version) -> Path:
    key = f"{REVISION}.{RECORD_REVISION}:{version.sha256}:{version.forced_format}"
    return Path(settings.VAR_DIR) / "graphs" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _write_atomically(path: Path, text: str) -> None:
    """Written aside and renamed into place, so a reader meanwhile never sees half a drawing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)  # a full disk only costs the next view another dot


# --- drawing ------------------------------------------------------------------------------------------------


def draw(graph: EntityGraph) -> Drawing:
    """Lay ``graph`` out with dot; a drawing without SVG says why (no Graphviz, too large, dot failed)."""
    if len(graph.nodes) > MAX_NODES:
        return Drawing(
            graph, problem=f"{len(graph.nodes)} entities are too many to draw (at most {MAX_NODES})."
        )
    if not graph.nodes:
        return Drawing(graph, problem="No entities.")
    command = shutil.which(DOT_COMMAND)
    if command is None:
        return Drawing(graph, problem=NO_GRAPHVIZ)
    try:
        done = subprocess.run(  # a fixed command; the DOT text goes to its stdin
            [command, "-Tsvg"],
            input=to_dot(graph).encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Drawing(graph, problem=f"Graphviz could not draw the graph: {exc}")
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[:500] or f"dot exited with {done.returncode}"
        return Drawing(graph, problem=f"Graphviz could not draw the graph: {message}")
    try:
        return Drawing(graph, svg=sanitised_svg(done.stdout.decode("utf-8"), graph))
    except (ET.ParseError, UnicodeDecodeError, IndexError) as exc:
        return Drawing(graph, problem=f"Graphviz's drawing could not be read: {exc}")


def to_dot(graph: EntityGraph) -> str:
    """The graph in Graphviz's DOT language: left to right, as data flows.

    Nodes and edges are named by position (``n3``, ``graph-e7``): entity names appear only in quoted labels,
    where ``_dot_string`` escapes them. A deferred link does not constrain the ranks, so a cycle it closes
    does not bend the layout.
    """
    # dot's crossing minimisation grows fast: a large graph gets fewer rounds (400 random entities with 1,200
    # links: 12 s -> 4 s), a small one the best layout
    effort = " mclimit=0.3, nslimit=2, nslimit1=2," if len(graph.nodes) > QUICK_LAYOUT_FROM else ""
    lines = [
        "digraph entities {",
        f'  graph [rankdir=LR, nodesep=0.12, ranksep=0.5,{effort} fontname="Courier", bgcolor=transparent];',
        '  node [shape=box, style=rounded, fontname="Courier", fontsize=12, height=0.3, margin="0.1,0.03"];',
        "  edge [arrowsize=0.6];",
    ]
    number = {node.name: i for i, node in enumerate(graph.nodes)}
    for i, node in enumerate(graph.nodes):
        shape = "cylinder" if node.kind in LOADER_KINDS else SHAPES.get(node.kind, "box")
        style = ', style="rounded,dashed"' if node.kind == UNDECLARED else ""
        lines.append(f'  n{i} [id="graph-n{i}", label={_dot_string(node.name)}, shape={shape}{style}];')
    for i, link in enumerate(links_of(graph)):
        extra = ", style=dashed, constraint=false" if link.deferred else ""
        lines.append(f'  n{number[link.upstream]} -> n{number[link.downstream]} [id="graph-e{i}"{extra}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    """``text`` as a DOT quoted string that dot shows as written: no escape sequence, no HTML entity."""
    shown = display_name(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return f'"{shown}"'


def display_name(name: str) -> str:
    """A name as drawn: control characters (a YAML key may hold any) become U+FFFD, which XML can carry."""
    return "".join("\ufffd" if unicodedata.category(char) == "Cc" else char for char in name)


def sanitised_svg(svg_text: str, graph: EntityGraph) -> str:
    """dot's SVG rebuilt with only the ``ALLOWED`` elements and attributes, and our own texts.

    Each node keeps its id (``graph-n<i>``), gets the classes ``graph-node kind-<kind>``, the entity's name
    as its text and title; each edge gets ``graph-edge``, its kinds and ``deferred``, and a title that says
    why the one entity needs the other. Drops comments, the XML prolog and the DOCTYPE (ElementTree keeps
    none of them). The size is given in CSS pixels (dot's points), so the text is drawn at its font size.
    """
    start = svg_text.find("<svg")
    source = ET.fromstring(svg_text[start:] if start >= 0 else svg_text)
    root = _copy(source)
    view_box = root.get("viewBox", "0 0 0 0").split()
    root.set("width", view_box[2])
    root.set("height", view_box[3])
    root.set("class", "entity-graph")
    links = links_of(graph)
    for group in root.iter("g"):
        node, edge = NODE_ID.match(group.get("id", "")), EDGE_ID.match(group.get("id", ""))
        if node:
            _dress_node(group, graph.nodes[int(node.group(1))])
        elif edge:
            _dress_edge(group, links[int(edge.group(1))])
        elif group.get("class") == "graph":
            group.attrib.pop("id", None)
            _set_title(group, "Entity graph")
    return ET.tostring(root, encoding="unicode")


def _copy(element: ET.Element) -> ET.Element | None:
    """``element`` without namespace, with its allowed attributes and children; None if not allowed."""
    tag = element.tag.rpartition("}")[2]
    if tag not in ALLOWED:
        return None
    copy = ET.Element(tag, {k: v for k, v in element.attrib.items() if k in ALLOWED[tag]})
    copy.text = element.text if tag in ("text", "title") else None
    for child in element:
        kept = _copy(child)
        if kept is not None:
            copy.append(kept)
    return copy


def _dress_node(group: ET.Element, node: GraphNode) -> None:
    loader = " loader" if node.kind in LOADER_KINDS else ""
    group.set("class", f"graph-node kind-{_class_word(node.kind)}{loader}")
    _set_title(group, node.name if node.declared else f"{node.name} (not declared)")
    texts = group.findall("text")
    if texts:
        texts[0].text = display_name(node.name)
        for extra in texts[1:]:
            group.remove(extra)


def _dress_edge(group: ET.Element, link: Link) -> None:
    kinds = " ".join(f"kind-{_class_word(kind)}" for kind in link.kinds)
    group.set("class", f"graph-edge {kinds}{' deferred' if link.deferred else ''}")
    _set_title(group, f"{link.upstream} → {link.downstream}: {link.description}")


def _set_title(group: ET.Element, text: str) -> None:
    title = group.find("title")
    if title is None:
        title = ET.Element("title")
        group.insert(0, title)
    title.text = display_name(text)


def _class_word(text: str) -> str:
    """A kind as a class name: letters, digits, '-' and '_' only (kinds come from the configuration)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)
