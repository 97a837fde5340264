"""Format-2 rules about the project as a whole: metadata, top-level and options keys, target model.

format-v2.md 1.1, 3, 3.1 and 19.1. None of these change processing, so nothing here is an ERROR.
"""

from __future__ import annotations

from ...hints import did_you_mean
from ...issues import IssueCode
from ..format import V2_PROJECT_TYPE
from ..model import Project
from .collector import INFO, Collector, W
from .v2_entity import unknown_keys

TOP_LEVEL_KEYS = {"metadata", "entities", "options", "task_list"}
V1_TOP_LEVEL_KEYS = {"mappings", "translation"}  # named by the format-mixture rule
OPTIONS_KEYS = {
    "data_sources", "mappings", "translation", "translations", "dispatch", "layout", "ingesters",
    "reconciliation", "finally",
}  # fmt: skip
METADATA_KEYS = {"type", "name", "description", "version", "default_entity", "target_model"}
# 19.1: the values the reference's target-model schema accepts
ROLES = {"fact", "lookup", "classifier", "bridge"}
IDENTITY_TRACKING = {"tracked", "reconciled", "derived", "child"}
RECONCILIATION = {
    "allocate",
    "reconcile-exact",
    "reconcile-fuzzy",
    "lookup-only",
    "lookup-extensible",
    "derive",
}


def metadata_rules(c: Collector, project: Project) -> None:
    metadata = project.metadata
    kind = metadata.get("type")
    if kind != V2_PROJECT_TYPE:
        c.add(
            W,
            IssueCode.V2_METADATA_TYPE,
            None,
            f"metadata.type is {kind!r}, not '{V2_PROJECT_TYPE}': the file is read as format 2 (it has "
            "metadata), but the reference's validator rejects it",
            f"add type: {V2_PROJECT_TYPE} to metadata",
            "metadata",
            *(["type"] if "type" in metadata else []),
        )
    unknown_keys(c, None, metadata, METADATA_KEYS, "metadata: ", "metadata")
    default = metadata.get("default_entity")
    if default is not None and (not isinstance(default, str) or default not in project.entities):
        c.add(
            INFO,
            IssueCode.DEFAULT_ENTITY_UNKNOWN,
            None,
            f"metadata.default_entity {default!r} is not a declared entity (the key is informational, 3.1)",
            did_you_mean([str(default)], project.entities),
            "metadata",
            "default_entity",
        )
    if "target_model" in metadata:
        target_model_rules(c, metadata["target_model"])


def top_level_rules(c: Collector, project: Project) -> None:
    for key in project.raw:
        if key in TOP_LEVEL_KEYS | V1_TOP_LEVEL_KEYS:
            continue
        c.add(
            INFO,
            IssueCode.V2_TOP_LEVEL_KEY,
            None,
            f"top-level key '{key}' is not read by processing (free-form, e.g. a target for @value:)",
            did_you_mean([str(key)], sorted(TOP_LEVEL_KEYS)),
            key,
        )
    options = project.raw.get("options")
    if isinstance(options, dict):
        unknown_keys(
            c,
            None,
            {k: v for k, v in options.items() if k != "database"},
            OPTIONS_KEYS,
            "options: ",
            "options",
        )


def target_model_rules(c: Collector, model) -> None:
    """The shape of 19.1 that the reference's strict schema needs; unknown extra keys are fine."""
    problems = _target_model_problems(model)
    for problem in problems[:10]:
        c.add(
            W,
            IssueCode.TARGET_MODEL_INVALID,
            None,
            f"metadata.target_model: {problem}; conformance checks cannot use the model (19.1)",
            "",
            "metadata",
            "target_model",
        )


def _target_model_problems(model) -> list[str]:
    if isinstance(model, str):
        return [f"not loaded ({model[:80]!r})"]
    if not isinstance(model, dict):
        return ["must be a mapping or an @include of a model file"]
    problems = []
    header = model.get("model")
    if not isinstance(header, dict):
        problems.append("model: {name, version} is missing")
    else:
        problems += [f"model.{key} is missing" for key in ("name", "version") if not header.get(key)]
    entities = model.get("entities", {})
    if not isinstance(entities, dict):
        return problems + ["entities must be a mapping"]
    for name, entity in entities.items():
        if not isinstance(entity, dict):
            problems.append(f"entity '{name}' is not a mapping")
            continue
        for key, allowed in (
            ("role", ROLES),
            ("identity_tracking", IDENTITY_TRACKING),
            ("reconciliation", RECONCILIATION),
        ):
            if entity.get(key) is not None and entity[key] not in allowed:
                problems.append(f"entity '{name}': {key} {entity[key]!r} is not one of {sorted(allowed)}")
        if entity.get("columns") is not None and not isinstance(entity["columns"], dict):
            problems.append(f"entity '{name}': columns must be a mapping")
        fks = entity.get("foreign_keys") or []
        if not isinstance(fks, list) or not all(isinstance(fk, dict) and fk.get("entity") for fk in fks):
            problems.append(f"entity '{name}': every foreign key needs an entity")
    return problems
