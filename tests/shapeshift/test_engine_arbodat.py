"""The real Arbodat configurations (see ../shared/data/arbodat/README.md beside the repository)."""

from __future__ import annotations

import pytest

import shapeshift
from tests.shapeshift.engine_support import ARBODAT, needs_arbodat

pytestmark = needs_arbodat

EXPECTED_ROWS = {
    "survey": 2364,
    "result_base": 18912,
    "sample": 246,
    "site": 7,
    "taxa": 220,
    "sample_method": 0,
}


@pytest.fixture(scope="module")
def reduced_result():
    project = shapeshift.load(ARBODAT / "reduced-arbodat.yml")
    return shapeshift.run(project, shapeshift.plan(project))


@pytest.mark.parametrize(
    "name", ["reduced-arbodat.yml", "reduced-arbodat.default-entity.yml", "original/arbodat.yml"]
)
def test_validates_without_errors(name):
    issues = shapeshift.validate(shapeshift.load(ARBODAT / name))
    assert [str(i) for i in issues if i.severity == shapeshift.Severity.ERROR] == []


def test_original_reports_unreachable_sources_per_entity():
    issues = shapeshift.validate(shapeshift.load(ARBODAT / "original" / "arbodat.yml"))
    unavailable = {i.entity for i in issues if i.code == shapeshift.IssueCode.SOURCE_UNAVAILABLE}
    assert {"dimensions", "arbodat_feature"} <= unavailable
    messages = " ".join(i.message for i in issues if i.code == shapeshift.IssueCode.SOURCE_UNAVAILABLE)
    assert "MS Access" in messages


@pytest.mark.slow
def test_reduced_run_gives_readme_counts(reduced_result):
    assert len(reduced_result.tables) == 55
    assert all(o.status == "success" for o in reduced_result.outcomes)
    for name, count in EXPECTED_ROWS.items():
        assert len(reduced_result.tables[name]) == count, name


@pytest.mark.slow
def test_default_entity_variant_gives_the_same_tables(reduced_result):
    project = shapeshift.load(ARBODAT / "reduced-arbodat.default-entity.yml")
    result = shapeshift.run(project, inputs={"survey": ARBODAT / "survey.csv"})
    assert list(result.tables) == list(reduced_result.tables)
    for name, table in reduced_result.tables.items():
        assert result.tables[name].equals(table), name


def test_original_run_fails_only_entities_needing_unavailable_sources():
    project = shapeshift.load(ARBODAT / "original" / "arbodat.yml")
    result = shapeshift.run(project, inputs={"survey": ARBODAT / "survey.csv"}, max_rows=200)
    by_name = {o.name: o for o in result.outcomes}
    assert by_name["dimensions"].status == "failed"
    assert "PostgreSQL" in by_name["dimensions"].error or "sead" in by_name["dimensions"].error
    assert by_name["arbodat_feature"].status == "failed"
    assert "MS Access" in by_name["arbodat_feature"].error
    assert by_name["site"].status == "success"
