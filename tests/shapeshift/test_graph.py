"""shapeshift.entity_graph: the entities of a project and why each needs another, on real configurations.

Expected edges are read from the configurations' own YAML; expected orders from the conformance corpus'
``expected/_run.json`` (the reference tool's processing order, which must respect every edge that is not
deferred).
"""

import graphlib
import json

import pytest
import yaml

import shapeshift
from shapeshift.graph import APPEND, BRANCH, DEFAULT_ENTITY, DEPENDS_ON, FILTER, FOREIGN_KEY, SOURCE
from tests.shapeshift.engine_support import ARBODAT, SHARED_DATA, Workspace, needs_arbodat, needs_shared

CASES = SHARED_DATA / "conformance-v2"


def load_case(case: str) -> shapeshift.Project:
    return shapeshift.load(CASES / case / "shapeshifter.yml")


def reference_order(case: str, folder: str = "expected") -> list[str]:
    run = json.loads((CASES / case / folder / "_run.json").read_text())
    return run.get("order") or run["partial_order"]


def edges(graph, kind=None) -> list[tuple]:
    return [
        (e.upstream, e.downstream) + ((e.deferred,) if kind == FOREIGN_KEY else ())
        for e in graph.edges
        if kind is None or e.kind == kind
    ]


def assert_respects(order: list[str], graph) -> None:
    """Every upstream entity of a dependency edge comes before its downstream entity in ``order``."""
    position = {name: i for i, name in enumerate(order)}
    for edge in graph.edges:
        if not edge.deferred and edge.upstream in position and edge.downstream in position:
            assert position[edge.upstream] < position[edge.downstream], edge


@needs_arbodat
def test_it_draws_every_arbodat_entity_and_reference():
    path = ARBODAT / "reduced-arbodat.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["entities"]

    graph = shapeshift.entity_graph(shapeshift.load(path))

    assert [node.name for node in graph.nodes] == list(raw)
    assert len(graph.nodes) == 55
    assert all(node.declared for node in graph.nodes)
    for name, entity in raw.items():
        into = [e for e in graph.edges if e.downstream == name]
        assert [e.upstream for e in into if e.kind == SOURCE] == (
            [entity["source"]] if entity.get("source") else []
        )
        assert [e.upstream for e in into if e.kind == DEPENDS_ON] == entity.get("depends_on", [])
        assert [e.upstream for e in into if e.kind == FOREIGN_KEY] == [
            fk["entity"] for fk in entity.get("foreign_keys", [])
        ]
    assert not any(edge.deferred for edge in graph.edges)  # format 1 has no deferred links


@needs_arbodat
def test_its_dependencies_are_the_plans():
    project = shapeshift.load(ARBODAT / "reduced-arbodat.default-entity.yml")

    for default_entity in (None, "survey"):
        graph = shapeshift.entity_graph(project, default_entity=default_entity)
        plan = shapeshift.plan(project, default_entity=default_entity)
        assert graph.dependencies() == plan.dependencies
        assert_respects(plan.order, graph)


@needs_arbodat
def test_it_draws_the_default_entity_only_when_one_is_given():
    project = shapeshift.load(ARBODAT / "reduced-arbodat.default-entity.yml")
    raw = yaml.safe_load((ARBODAT / "reduced-arbodat.default-entity.yml").read_text(encoding="utf-8"))
    readers = [
        name
        for name, entity in raw["entities"].items()
        if name != "survey" and not entity.get("source") and entity.get("type") not in ("fixed", "csv", "sql")
    ]

    assert edges(shapeshift.entity_graph(project), DEFAULT_ENTITY) == []
    with_default = shapeshift.entity_graph(project, default_entity="survey")
    assert edges(with_default, DEFAULT_ENTITY) == [("survey", name) for name in readers]
    assert len(readers) > 40


@needs_shared
def test_it_marks_a_deferred_foreign_key_and_keeps_it_out_of_the_order():
    graph = shapeshift.entity_graph(load_case("22_defer_dependency_cycle"))

    assert edges(graph, FOREIGN_KEY) == [("sample", "sample_group", True), ("sample_group", "sample", False)]
    assert graph.dependencies()["sample_group"] == ["samples_raw"]
    graphlib.TopologicalSorter(graph.dependencies()).prepare()  # no cycle without the deferred edge
    everything = {
        node.name: [e.upstream for e in graph.edges if e.downstream == node.name] for node in graph.nodes
    }
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(everything).prepare()
    assert_respects(reference_order("22_defer_dependency_cycle"), graph)


def test_it_reads_defer_dependency_only_in_format_2(tmp_path):
    project = Workspace(tmp_path).load(
        """
        entities:
          a: {type: fixed, surrogate_id: a_id, columns: [x], values: [[1]]}
          b:
            source: a
            columns: [x]
            foreign_keys: [{entity: a, local_keys: [x], remote_keys: [x], defer_dependency: true}]
        """
    )

    graph = shapeshift.entity_graph(project)

    assert edges(graph, FOREIGN_KEY) == [("a", "b", False)]
    assert "deferred" not in graph.edges[1].detail


@needs_shared
def test_it_draws_merged_branches_and_links_to_the_merged_entity():
    graph = shapeshift.entity_graph(load_case("27_merged_branches"))

    assert edges(graph, BRANCH) == [("dendro", "analysis_entity"), ("pollen", "analysis_entity")]
    assert [e.detail for e in graph.edges if e.kind == BRANCH] == ["branch dendro", "branch pollen"]
    assert edges(graph, FOREIGN_KEY) == [("analysis_entity", "measurement", False)]
    assert graph.node("analysis_entity").kind == "merged"
    assert_respects(reference_order("27_merged_branches"), graph)


@needs_shared
def test_it_draws_append_item_sources():
    graph = shapeshift.entity_graph(load_case("26_append_column_renaming"))

    assert edges(graph, APPEND) == [
        ("tree", "taxon"),
        ("tree", "taxon"),
        ("tree", "bad_align"),
        ("tree", "bad_mapping"),
    ]
    assert [e.detail for e in graph.edges if e.downstream == "taxon"] == ["append item 1", "append item 2"]
    assert_respects(reference_order("26_append_column_renaming"), graph)


@needs_shared
def test_it_draws_exists_in_targets():
    graph = shapeshift.entity_graph(load_case("17_filters_query_stage"))

    assert edges(graph, FILTER) == [("counted_taxa", "taxa")]
    assert_respects(reference_order("17_filters_query_stage"), graph)


@needs_shared
def test_it_draws_the_projects_default_entity():
    graph = shapeshift.entity_graph(load_case("30_default_entity"))

    assert edges(graph, DEFAULT_ENTITY) == [("survey", "site"), ("survey", "taxon")]
    assert_respects(reference_order("30_default_entity", "expected_with_default"), graph)


def test_it_shows_undeclared_references_as_nodes_of_their_own(tmp_path):
    project = Workspace(tmp_path).load(
        """
        metadata: {type: shapeshifter-project}
        entities:
          site:
            type: entity
            source: nowhere
            public_id: site_id
            keys: [x]
            columns: [x]
            depends_on: [elsewhere, nowhere]
        """
    )

    graph = shapeshift.entity_graph(project)

    assert [(n.name, n.kind, n.declared) for n in graph.nodes] == [
        ("site", "entity", True),
        ("nowhere", "undeclared", False),
        ("elsewhere", "undeclared", False),
    ]
    assert edges(graph) == [("nowhere", "site"), ("elsewhere", "site"), ("nowhere", "site")]


def test_it_takes_a_format_2_file_loaders_source_for_a_sheet(tmp_path):
    project = Workspace(tmp_path).load(
        """
        metadata: {type: shapeshifter-project}
        entities:
          Sheet1: {type: fixed, public_id: s_id, keys: [x], columns: [x], values: [[1]]}
          sites:
            {type: xlsx, source: Sheet1, public_id: site_id, keys: [x], columns: [x], options: {filename: a}}
        """
    )

    assert edges(shapeshift.entity_graph(project)) == []
