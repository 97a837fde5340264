"""Format-2 rules about the project as a whole: metadata, top-level and options keys, target model.

format-v2.md 1.1, 3, 3.1 and 19.1. None of these change processing, so nothing here is an ERROR.
"""

from __future__ import annotations

from ...hints import did_you_mean
from ...issues import IssueCode
from ...targets.model import TargetModelError, target_model_of
from ..format import V2_PROJECT_TYPE
from ..model import Project
from .collector import INFO, Collector, W
from .v2_entity import unknown_keys

TOP_LEVEL_KEYS = {"metadata", "entities", "options", "task_list", "checks"}  # checks: ShiftBench's
V1_TOP_LEVEL_KEYS = {"mappings", "translation"}  # named by the format-mixture rule
OPTIONS_KEYS = {
    "data_sources", "mappings", "translation", "translations", "dispatch", "layout", "ingesters",
    "reconciliation", "finally",
}  # fmt: skip
METADATA_KEYS = {"type", "name", "description", "version", "default_entity", "target_model"}


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
    target_model_rules(c, project)


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


def target_model_rules(c: Collector, project: Project) -> None:
    """The model must parse as the reference's strict schema reads it (19.1); unknown keys are fine."""
    try:
        target_model_of(project)
    except TargetModelError as exc:
        for problem in exc.problems[:10]:
            c.add(
                W,
                IssueCode.TARGET_MODEL_INVALID,
                None,
                f"{problem}; conformance checks cannot use the model (19.1)",
                "",
                "metadata",
                "target_model",
            )
