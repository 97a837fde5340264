"""Reading target models (format-v2.md 19.1): the bundled SEAD models, C35's model, and bad models."""

from __future__ import annotations

import pytest

import shapeshift
from shapeshift.errors import ConfigError
from shapeshift.targets import (
    ModelColumn,
    ModelForeignKey,
    TargetModelError,
    load_target_model,
    load_target_model_file,
    target_model_of,
)
from tests.shapeshift.engine_support import C35, SHARED_DATA, needs_shared

MODELS = SHARED_DATA / "upstream-projects" / "target_models"


def _model(**entities) -> dict:
    return {"model": {"name": "m", "version": "1"}, "entities": entities}


@needs_shared
@pytest.mark.parametrize(
    ("file", "name", "version", "entities"),
    [
        ("sead_standard_model.yml", "SEAD Clearinghouse Extended", "2.1.0", 51),
        ("sead_minimal_model.yml", "SEAD Clearinghouse", "2.0.0", 36),
    ],
)
def test_it_reads_the_bundled_sead_models(file, name, version, entities):
    model = load_target_model_file(MODELS / file)

    assert (model.name, model.version, len(model.entities)) == (name, version, entities)
    assert sum(entity.required for entity in model.entities.values()) == 10
    types = {column.type for entity in model.entities.values() for column in entity.columns.values()}
    assert types <= {"string", "integer", "decimal"}
    via = [(e.name, fk.entity, fk.via) for e in model.entities.values() for fk in e.foreign_keys if fk.via]
    assert via == [("site", "location", "site_location")]
    assert model.public_id_suffix == "_id"
    assert model.constraints == ("no_orphan_facts", "no_circular_dependencies")


@needs_shared
def test_it_reads_the_c35_model_as_written():
    model = load_target_model_file((C35 / "mini_model.yml").read_bytes())

    assert (model.name, model.version) == ("Mini excavation model", "1.0.0")
    assert list(model.entities) == [
        "site",
        "sample",
        "sample_type",
        "location",
        "region",
        "sample_location",
        "project",
    ]
    site = model.entities["site"]
    assert (site.role, site.required, site.target_table, site.public_id) == (
        "lookup",
        True,
        "tbl_sites",
        "site_id",
    )
    assert site.identity_columns == ("site_name",)
    assert site.unique_sets == (("site_name",),)
    assert site.columns["site_name"] == ModelColumn("site_name", required=True, type="string", nullable=False)
    assert site.columns["altitude"] == ModelColumn("altitude", required=False, type="decimal", nullable=True)
    assert model.entities["sample"].columns["depth"].nullable is None  # not said: neither true nor false
    assert model.entities["sample"].foreign_keys == (
        ModelForeignKey("site", required=True),
        ModelForeignKey("sample_type", required=True),
    )
    assert model.entities["sample_location"].foreign_keys == (
        ModelForeignKey("location", required=True, via="sample_location_bridge"),
    )
    assert model.constraints == ("no_orphan_facts",)


@needs_shared
def test_it_takes_the_model_a_project_includes():
    project = shapeshift.load(C35 / "shapeshifter.yml")

    model = target_model_of(project)

    assert model.name == "Mini excavation model"
    assert model.entities["region"].public_id == "region_code"


def test_a_project_without_a_model_has_none(tmp_path):
    path = tmp_path / "p.yml"
    path.write_text(
        "metadata: {type: shapeshifter-project}\nentities:\n  a: {type: entity, public_id: a_id}\n"
    )

    assert target_model_of(shapeshift.load(path)) is None


def test_it_names_the_project_key_of_a_bad_inline_model(tmp_path):
    path = tmp_path / "p.yml"
    path.write_text(
        "metadata:\n  type: shapeshifter-project\n  target_model: {model: {name: m}}\n"
        "entities:\n  a: {type: entity, public_id: a_id}\n"
    )

    with pytest.raises(TargetModelError) as caught:
        target_model_of(shapeshift.load(path))

    assert caught.value.problems == ["metadata.target_model.model.version: is required"]


@pytest.mark.parametrize(
    ("entity", "problem"),
    [
        ({"role": "dimension"}, "entities.e.role: unknown value 'dimension'"),
        ({"identity_tracking": "manual"}, "entities.e.identity_tracking: unknown value 'manual'"),
        ({"reconciliation": "guess"}, "entities.e.reconciliation: unknown value 'guess'"),
        ({"required": "maybe"}, "entities.e.required: must be true or false"),
        (
            {"columns": {"c": {"nullable": "sometimes"}}},
            "entities.e.columns.c.nullable: must be true or false",
        ),
        ({"columns": {"c": None}}, "entities.e.columns.c: is required"),
        ({"columns": ["c"]}, "entities.e.columns: must be a mapping, not a list"),
        ({"foreign_keys": [{"required": True}]}, "entities.e.foreign_keys[0].entity: is required"),
        ({"identity_columns": "name"}, "entities.e.identity_columns: must be a list of names"),
        ({"unique_sets": [["a", 1]]}, "entities.e.unique_sets[0][1]: must be a string"),
    ],
)
def test_it_rejects_a_bad_entity_naming_the_key(entity, problem):
    with pytest.raises(TargetModelError) as caught:
        load_target_model(_model(e=entity))

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"entities": {}}, "model: is required"),
        ({"model": {"version": "1"}}, "model.name: is required"),
        ({"model": {"name": "m"}}, "model.version: is required"),
        ({"model": {"name": "m", "version": 1.0}}, "model.version: must be a string, not a float (quote it)"),
        ({"model": {"name": "m", "version": "1"}, "constraints": [{}]}, "constraints[0].type: is required"),
        (["model"], "(root): must be a mapping, not a list"),
    ],
)
def test_it_rejects_a_model_without_its_metadata(data, problem):
    with pytest.raises(TargetModelError) as caught:
        load_target_model(data)

    assert caught.value.problems == [problem]


def test_it_lists_every_problem_at_once():
    with pytest.raises(TargetModelError) as caught:
        load_target_model(
            {"model": {"name": "m"}, "entities": {"a": {"role": "x"}, "b": {"reconciliation": "y"}}}
        )

    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "model.version",
        "entities.a.role",
        "entities.b.reconciliation",
    ]
    assert "3 problems" in str(caught.value)


def test_it_ignores_unknown_keys():
    data = _model(
        e={"role": "fact", "generated": True, "columns": {"c": {"type": "enum", "allowed_values": [1]}}}
    )
    data["extends"] = "other.yml"

    model = load_target_model(data)

    assert model.entities["e"].columns["c"].type == "enum"


def test_it_reads_booleans_as_the_reference_schema_does():
    model = load_target_model(
        _model(e={"required": "yes", "columns": {"c": {"required": 1, "nullable": "false"}}})
    )

    assert model.entities["e"].required is True
    assert (model.entities["e"].columns["c"].required, model.entities["e"].columns["c"].nullable) == (
        True,
        False,
    )


def test_it_reads_a_model_file_by_path(tmp_path):
    path = tmp_path / "model.yml"
    path.write_text("model: {name: m, version: '2'}\nentities:\n  a: {public_id: a_id}\n")

    assert load_target_model_file(path).entities["a"].public_id == "a_id"
    assert load_target_model_file(str(path)).version == "2"


def test_it_reports_the_file_of_a_bad_model(tmp_path):
    path = tmp_path / "model.yml"
    path.write_text("model: {name: m}\n")

    with pytest.raises(TargetModelError) as caught:
        load_target_model_file(path)

    assert caught.value.file == str(path)


def test_it_reads_yaml_within_the_safe_readers_bounds():
    bomb = b'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + b"".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n".encode()
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )

    with pytest.raises(ConfigError, match="alias expansion"):
        load_target_model_file(bomb)


def test_it_rejects_text_that_is_not_utf8():
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_target_model_file(b"model: {name: caf\xe9}\n")
