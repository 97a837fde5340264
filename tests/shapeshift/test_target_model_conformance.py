"""Check Conformance (format-v2.md 19.2): the model's self-check and the seven project-vs-model validators."""

from __future__ import annotations

import json

import pytest

import shapeshift
from shapeshift.issues import Severity
from shapeshift.targets import (
    ConformanceCode,
    FindingScope,
    check_conformance,
    check_model,
    load_target_model,
    target_model_of,
)
from tests.shapeshift.engine_support import C35, load_v2_entities, needs_shared

C = ConformanceCode


def _model(entities: dict, suffix: str | None = "_id"):
    data = {"model": {"name": "m", "version": "1"}, "entities": entities}
    if suffix:
        data["naming"] = {"public_id_suffix": suffix}
    return load_target_model(data)


def _codes(findings) -> list[tuple[str, str]]:
    return [(finding.code, finding.entity) for finding in findings if finding.scope == FindingScope.PROJECT]


@needs_shared
def test_it_reproduces_the_c35_reference_findings():
    expected = json.loads((C35 / "expected" / "_conformance.json").read_text())
    project = shapeshift.load(C35 / "shapeshifter.yml")

    findings = check_conformance(project, target_model_of(project))

    def rows(scope):
        return [
            {"code": f.code.value, "entity": f.entity, "field": f.field, "message": f.message}
            for f in findings
            if f.scope == scope
        ]

    def expected_rows(key):
        return [{"field": None, **issue} for issue in expected[key]]

    assert rows(FindingScope.MODEL) == expected_rows("spec_issues")
    assert rows(FindingScope.PROJECT) == expected_rows("conformance_issues")


@needs_shared
def test_c35_findings_are_errors_except_the_classifier_source_type():
    project = shapeshift.load(C35 / "shapeshifter.yml")

    findings = check_conformance(project, target_model_of(project))

    warnings = [
        f.code for f in findings if f.scope == FindingScope.PROJECT and f.severity == Severity.WARNING
    ]
    assert warnings == [C.CLASSIFIER_WRONG_SOURCE_TYPE]
    assert {f.severity for f in findings if f.scope == FindingScope.MODEL} == {Severity.WARNING}
    assert findings[0].to_dict()["code"] == "INVALID_PUBLIC_ID_SUFFIX"


def test_the_self_check_reports_names_unknown_to_the_model():
    model = _model(
        {
            "site": {
                "public_id": "site_code",
                "columns": {"site_name": {}},
                "identity_columns": ["missing_identity"],
                "unique_sets": [["site_name", "missing_unique"]],
                "foreign_keys": [{"entity": "nowhere"}],
            }
        }
    )

    assert [(f.code, f.message) for f in check_model(model)] == [
        (C.INVALID_PUBLIC_ID_SUFFIX, "Entity 'site' has public_id 'site_code' which does not end with '_id'"),
        (C.UNKNOWN_FOREIGN_KEY_ENTITY, "Entity 'site' references unknown foreign key target 'nowhere'"),
        (C.UNKNOWN_IDENTITY_COLUMN, "Entity 'site' references unknown identity column 'missing_identity'"),
        (C.UNKNOWN_UNIQUE_SET_COLUMN, "Entity 'site' references unknown unique-set column 'missing_unique'"),
    ]


def test_the_self_check_needs_a_suffix_to_judge_public_ids():
    assert check_model(_model({"site": {"public_id": "site_code"}}, suffix=None)) == []


def test_it_reports_a_missing_public_id(tmp_path):
    project = load_v2_entities(tmp_path, "site: {type: entity, keys: [], columns: []}\n")

    findings = check_conformance(project, _model({"site": {"public_id": "site_id"}}))

    assert _codes(findings) == [(C.MISSING_PUBLIC_ID, "site")]
    assert findings[0].message == "Entity 'site' is missing required public_id 'site_id'"


def test_it_checks_only_entities_the_project_has(tmp_path):
    project = load_v2_entities(tmp_path, "site: {type: entity, public_id: site_id, keys: [], columns: []}\n")
    model = _model(
        {
            "site": {"public_id": "site_id"},
            "other": {"public_id": "x_id", "columns": {"c": {"required": True}}},
        }
    )

    assert check_conformance(project, model) == []


def test_a_bridge_must_link_to_the_target(tmp_path):
    entities = """
        site: {type: entity, public_id: site_id, keys: [], columns: []}
        location: {type: entity, public_id: location_id, keys: [], columns: [loc]}
        site_location: {type: entity, public_id: site_location_id, keys: [], columns: [loc]}
    """
    model = _model(
        {
            "site": {"foreign_keys": [{"entity": "location", "required": True, "via": "site_location"}]},
            "location": {},
            "site_location": {},
        }
    )

    findings = check_conformance(load_v2_entities(tmp_path, entities), model)

    assert _codes(findings) == [(C.BRIDGE_MISSING_TARGET_FK, "site_location")]
    assert findings[0].message == (
        "Bridge entity 'site_location' (between 'site' -> 'location') does not have a foreign key to target "
        "entity 'location'"
    )
    linked = entities.replace(
        "site_location: {type: entity, public_id: site_location_id, keys: [], columns: [loc]}",
        "site_location: {type: entity, public_id: site_location_id, keys: [], columns: [loc],"
        " foreign_keys: [{entity: location, local_keys: [loc], remote_keys: [loc]}]}",
    )
    assert check_conformance(load_v2_entities(tmp_path, linked), model) == []


def test_an_unnested_entity_links_only_through_keys_that_survive_the_melt(tmp_path):
    entities = """
        site: {type: entity, public_id: site_id, keys: [s], columns: [s]}
        taxon: {type: entity, public_id: taxon_id, keys: [t], columns: [t]}
        count:
          type: entity
          public_id: count_id
          keys: []
          columns: [s, t, a, b]
          unnest: {id_vars: [s], value_vars: [a, b], var_name: t_name, value_name: n}
          foreign_keys:
            - {entity: site, local_keys: [s], remote_keys: [s]}
            - {entity: taxon, local_keys: [t], remote_keys: [t]}
    """
    model = _model(
        {
            "count": {
                "foreign_keys": [{"entity": "site", "required": True}, {"entity": "taxon", "required": True}],
                "columns": {
                    "site_id": {"required": True},
                    "taxon_id": {"required": True},
                    "n": {"required": True},
                },
            },
            "site": {},
            "taxon": {},
        }
    )

    findings = check_conformance(load_v2_entities(tmp_path, entities), model)

    assert [(f.code, f.message.rsplit(" ", 1)[-1]) for f in findings] == [
        (C.MISSING_REQUIRED_FOREIGN_KEY_TARGET, "'taxon'"),
        (C.MISSING_REQUIRED_COLUMN, "'taxon_id'"),
    ]


def test_required_columns_may_come_from_links_extra_columns_and_public_ids(tmp_path):
    entities = """
        kind: {type: entity, public_id: kind_id, keys: [k], columns: [k, label]}
        find:
          type: entity
          public_id: find_id
          keys: [f]
          columns: [k]
          extra_columns: {note: "x"}
          foreign_keys:
            - {entity: kind, local_keys: [k], remote_keys: [k], extra_columns: {kind_label: label}}
    """
    required = ["f", "k", "note", "find_id", "kind_id", "kind_label", "weight"]
    model = _model({"find": {"columns": {name: {"required": True} for name in required}}})

    findings = check_conformance(load_v2_entities(tmp_path, entities), model)

    assert [f.message for f in findings] == [
        "Entity 'find' is missing required target-facing column 'weight'"
    ]


def test_induced_requirements_are_followed_transitively(tmp_path):
    project = load_v2_entities(tmp_path, "x: {type: entity, public_id: x_id, keys: [], columns: []}\n")
    model = _model(
        {
            "x": {"foreign_keys": [{"entity": "y", "required": True}, {"entity": "r", "required": True}]},
            "y": {"foreign_keys": [{"entity": "z", "required": True}, {"entity": "w"}]},
            "z": {},
            "w": {},
            "r": {"required": True},
        }
    )

    findings = check_conformance(project, model)

    induced = [f for f in findings if f.code == C.MISSING_INDUCED_REQUIRED_ENTITY]
    assert [f.message for f in induced] == [
        "Entity 'y' is required because entity 'x' is present and has a required foreign key chain to 'y'",
        "Entity 'z' is required because entity 'x' is present and has a required foreign key chain to 'z' "
        "(via induced requirement on 'y')",
    ]
    # 'r' is required by the model itself: reported once, as a missing required entity
    assert [f.entity for f in findings if f.code == C.MISSING_REQUIRED_ENTITY] == ["r"]


@pytest.mark.parametrize(
    ("entity_type", "reported"), [("fixed", False), ("sql", False), ("csv", True), (None, False)]
)
def test_a_classifier_should_be_a_fixed_or_sql_entity(tmp_path, entity_type, reported):
    kind = f"type: {entity_type}, " if entity_type else ""
    project = load_v2_entities(tmp_path, f"unit: {{{kind}public_id: unit_id, keys: [], columns: []}}\n")

    findings = check_conformance(project, _model({"unit": {"role": "classifier"}}))

    assert _codes(findings) == ([(C.CLASSIFIER_WRONG_SOURCE_TYPE, "unit")] if reported else [])


def test_public_id_naming_follows_the_models_suffix(tmp_path):
    project = load_v2_entities(tmp_path, "unit: {type: entity, public_id: unit_key, keys: [], columns: []}\n")

    assert _codes(check_conformance(project, _model({"unit": {}}))) == [
        (C.PUBLIC_ID_NAMING_VIOLATION, "unit")
    ]
    assert check_conformance(project, _model({"unit": {}}, suffix=None)) == []
