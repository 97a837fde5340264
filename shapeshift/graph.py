"""The dependency graph of a loaded project: its entities as nodes, and why each needs another as edges.

graph = shapeshift.entity_graph(project)
graph.nodes   # GraphNode per entity, in declaration order (then undeclared names, as referenced)
graph.edges   # GraphEdge(upstream, downstream, kind, deferred, detail), one per reason

An edge points the way data flows: from the entity needed (``upstream``) to the one that needs it. Every
reason the planner waits for (``pipeline.planning.entity_dependencies``) is an edge that is not
``deferred``; a format-2 foreign key with ``defer_dependency`` is an edge too, marked ``deferred``: it
links once its remote exists but orders nothing (format-v2.md 12.5), so only it can close a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config.format import FORMAT_V2
from .config.model import FILE_TYPES, EntitySpec, Project
from .pipeline.planning import reads_default_entity

# Why an entity needs another (format-v2.md 6.2; configuration-format.md for format 1).
SOURCE = "source"
DEPENDS_ON = "depends_on"
FOREIGN_KEY = "foreign_key"
APPEND = "append"
BRANCH = "branch"  # a merged entity's branch source (format-v2.md 16)
FILTER = "filter"  # the `other_entity` of an exists_in filter
DEFAULT_ENTITY = "default_entity"  # an entity without loader and source reads the default entity
EDGE_KINDS = (SOURCE, DEPENDS_ON, FOREIGN_KEY, APPEND, BRANCH, FILTER, DEFAULT_ENTITY)

UNDECLARED = "undeclared"  # the kind of a node named by a reference but not declared


@dataclass(frozen=True)
class GraphNode:
    """An entity: its name, its kind (the entity's ``type``, or "undeclared") and its declaration index."""

    name: str
    kind: str
    index: int

    @property
    def declared(self) -> bool:
        return self.kind != UNDECLARED


@dataclass(frozen=True)
class GraphEdge:
    """``downstream`` needs ``upstream`` for one reason (``kind``); ``detail`` says where, for people."""

    upstream: str
    downstream: str
    kind: str
    deferred: bool = False
    detail: str = ""


@dataclass
class EntityGraph:
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)

    def node(self, name: str) -> GraphNode | None:
        return next((node for node in self.nodes if node.name == name), None)

    def dependencies(self) -> dict[str, list[str]]:
        """Each node's upstream nodes over the edges not deferred, sorted: what the planner waits for."""
        needs: dict[str, set[str]] = {node.name: set() for node in self.nodes}
        for edge in self.edges:
            if not edge.deferred:
                needs[edge.downstream].add(edge.upstream)
        return {name: sorted(upstream) for name, upstream in needs.items()}


def entity_graph(project: Project, *, default_entity: str | None = None) -> EntityGraph:
    """The dependency graph of ``project``; reads no file.

    ``default_entity`` (else the project's ``metadata.default_entity``) gives an edge to every entity that
    reads it, when it is declared, as the planner does. A reference to an undeclared entity becomes a node of
    kind "undeclared", so the graph shows what the run will fail on. Edges are listed per entity in
    declaration order and, within one entity, in the order of ``EDGE_KINDS``.
    """
    default_entity = default_entity or project.default_entity
    if default_entity not in project.entities:
        default_entity = None
    edges = [
        edge
        for spec in project.entities.values()
        for edge in _edges_of(spec, default_entity if spec.name != default_entity else None)
    ]
    nodes = [GraphNode(spec.name, spec.type, spec.index) for spec in project.entities.values()]
    undeclared = dict.fromkeys(edge.upstream for edge in edges if edge.upstream not in project.entities)
    nodes += [GraphNode(name, UNDECLARED, len(nodes) + i) for i, name in enumerate(undeclared)]
    return EntityGraph(nodes, edges)


def _edges_of(spec: EntitySpec, default_entity: str | None) -> list[GraphEdge]:
    """The edges into one entity, mirroring ``EntitySpec.dependencies`` reason by reason."""
    name = spec.name
    v2 = spec.format_version == FORMAT_V2
    edges = []
    # a format-2 file loader reads a string `source` as its sheet name, not as an entity (20 #9)
    if spec.source and not (v2 and spec.type in FILE_TYPES):
        edges.append(GraphEdge(spec.source, name, SOURCE, detail="source"))
    edges += [GraphEdge(dep, name, DEPENDS_ON, detail="depends_on") for dep in dict.fromkeys(spec.depends_on)]
    for fk in spec.foreign_keys:
        if fk.entity:
            keys = f"{', '.join(map(str, fk.local_keys))} = {', '.join(map(str, fk.remote_keys))}"
            deferred = v2 and fk.defer_dependency
            detail = f"foreign key {fk.index} ({keys}){', deferred' if deferred else ''}"
            edges.append(GraphEdge(fk.entity, name, FOREIGN_KEY, deferred=deferred, detail=detail))
    for number, branch in enumerate(spec.branches, 1):
        source = branch.get("source")
        if isinstance(source, str) and source:
            label = branch.get("name") if isinstance(branch.get("name"), str) else f"branch {number}"
            edges.append(GraphEdge(source, name, BRANCH, detail=f"branch {label}"))
    for number, item in enumerate(spec.append, 1):
        source = item.get("source")
        if isinstance(source, str) and source:
            edges.append(GraphEdge(source, name, APPEND, detail=f"append item {number}"))
    for number, item in enumerate(spec.filters, 1):
        if isinstance(item, dict) and isinstance(item.get("other_entity"), str):
            edges.append(GraphEdge(item["other_entity"], name, FILTER, detail=f"filter {number} (exists_in)"))
    if default_entity and reads_default_entity(spec):
        edges.append(GraphEdge(default_entity, name, DEFAULT_ENTITY, detail="reads the default entity"))
    return edges
