"""The reference's own v2 projects (shared/data/upstream-projects) run here as its README says they run there.

Every entity the reference runs without MS Access or PostgreSQL gives a table of the reference's shape;
every other entity fails, or is skipped after what it needs failed, with a message naming what is
missing. Shapes and failure causes come from upstream-projects/README.md.
"""

from __future__ import annotations

import pathlib
import shutil

import pytest

import shapeshift
from shapeshift import EntityStatus

UPSTREAM = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "upstream-projects"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not UPSTREAM.exists(), reason="shared/data/upstream-projects is not beside the repository"
    ),
]


def run(config: pathlib.Path, env: dict | None = None) -> dict[str, tuple]:
    project = shapeshift.load(config, env=env)
    assert project.format_version == 2
    tables: dict = {}
    result = shapeshift.run(project, on_table=lambda name, table: tables.__setitem__(name, table.shape))
    return {o.name: (o.status, tables.get(o.name), o.error) for o in result.outcomes}


def test_bugs_runs_completely(tmp_path):
    shutil.copytree(UPSTREAM / "projects" / "bugs", tmp_path / "bugs")
    outcomes = run(tmp_path / "bugs" / "shapeshifter.yml")
    assert {name: status for name, (status, _, _) in outcomes.items()} == dict.fromkeys(
        ["a", "b", "ab"], EntityStatus.SUCCESS
    )
    assert outcomes["ab"][1][0] == 2  # the reference gives both rows system_id 1; we number them 1, 2


def test_strucke_v5_runs_all_but_the_entity_its_data_breaks(tmp_path):
    folder = tmp_path / "strucke_v5"
    shutil.copytree(UPSTREAM / "projects" / "strucke_v5", folder)
    with pytest.raises(shapeshift.ConfigError, match="sead_standard_model.yml"):
        shapeshift.load(folder / "shapeshifter.yml")  # as upstream: the model is not beside the project
    shutil.copy(UPSTREAM / "target_models" / "sead_standard_model.yml", folder)
    outcomes = run(folder / "shapeshifter.yml")
    shapes = {name: shape for name, (status, shape, _) in outcomes.items() if status == EntityStatus.SUCCESS}
    assert shapes == {
        "datasets": (1, 3),
        "datasheet": (30301, 36),
        "site": (30301, 9),
        "physical_samples": (30301, 3),
        "abundances": (18237, 7),
        "biblio": (4584, 8),
    }
    status, _, error = outcomes["analysis_entities"]
    assert status == EntityStatus.FAILED
    assert "many_to_one cardinality violated (rows increased: 30301 -> 30323)" in error


def test_arbodat_runs_what_needs_no_database(tmp_path):
    folder = tmp_path / "arbodat"
    shutil.copytree(UPSTREAM / "projects" / "arbodat", folder)
    env = {"GLOBAL_DATA_SOURCE_DIR": str(UPSTREAM / "shared" / "data-sources")}
    outcomes = run(folder / "shapeshifter.yml", env)
    assert len(outcomes) == 67
    succeeded = {
        name: shape for name, (status, shape, _) in outcomes.items() if status == EntityStatus.SUCCESS
    }
    assert len(succeeded) == 19
    assert succeeded["feature_type"] == (55, 6)
    assert succeeded["abundance_element"] == (88, 10)
    assert succeeded["site_type"] == (36, 8)
    causes = {}
    for name, (status, _, error) in outcomes.items():
        if status == EntityStatus.FAILED:
            cause = "access" if "MS Access source" in error and "UCanAccess" in error else error
            cause = "postgres" if "PostgreSQL source 'sead' is not configured" in error else cause
            causes.setdefault(cause, []).append(name)
        elif status == EntityStatus.SKIPPED:
            causes.setdefault("skipped", []).append(name)
    assert set(causes) == {"access", "postgres", "skipped"}
    assert causes["postgres"] == ["method_group"]
