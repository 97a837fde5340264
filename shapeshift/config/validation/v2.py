"""`validate_v2`: the checks of a format-2 project (format-v2.md 18), at this engine's severities.

The reference's validator rejects things its own processing runs fine (20 #33: a missing `type`, helper
columns in formulas, cross joins, ...). Here ERROR means processing fails or cannot do what is written;
what only the reference's validator objects to is a WARNING that says so.
"""

from __future__ import annotations

from ...issues import Issue, IssueCode
from ..model import EntitySpec, Project
from .collector import INFO, Collector, E, W, unresolved_literals
from .mixture import v1_keys_in_v2, v1_top_level_in_v2
from .reference_rules import cycles, entity_exists
from .source_rules import data_sources, file_inputs
from .v2_append import append_rules
from .v2_entity import (
    depends_on_rules,
    drop_duplicates_rules,
    drop_empty_rows_rules,
    entity_keys,
    file_options_rules,
    kind_rules,
    replacement_rules,
    unnest_rules,
)
from .v2_kinds import fixed_rules, materialized_rules, merged_rules, sql_rules
from .v2_project import metadata_rules, top_level_rules
from .v2_references import (
    extra_column_rules,
    filter_rules,
    foreign_key_rules,
    shared_public_ids,
)
from .v2_sources import check_header_v2

CYCLE_EDGES = "source, depends_on, foreign keys without defer_dependency, filters, append or branch sources"


def validate_v2(project: Project) -> list[Issue]:
    """Check a loaded format-2 project; issues project first, then rule by rule. Never raises."""
    c = Collector(project)
    try:
        for message, path in project.load_warnings:
            c.add(W, IssueCode.LOAD_DIRECTIVE_FAILED, None, message, "", *path)
        metadata_rules(c, project)
        top_level_rules(c, project)
        v1_top_level_in_v2(c, project)
        entities = project.raw.get("entities")
        if not isinstance(entities, dict) or not entities:
            c.add(
                E,
                IssueCode.ENTITIES_MISSING,
                None,
                "the project has no entities",
                "add entities:",
                "entities",
            )
            return c.issues
        usable = _usable(c, project, entities)
        declared = project.entities
        for spec in usable:
            entity_keys(c, spec)
            kind_rules(c, spec, declared)
            v1_keys_in_v2(c, spec)
        for spec in usable:
            entity_exists(c, spec, declared)
        cycles(
            c, project, CYCLE_EDGES, "break the cycle, e.g. with defer_dependency: true on one foreign key"
        )
        for spec in usable:
            data_sources(c, spec, project)
            file_inputs(c, spec, project, check_header=check_header_v2)
            file_options_rules(c, spec)
        for rules in (fixed_rules, sql_rules, materialized_rules, replacement_rules, depends_on_rules):
            for spec in usable:
                rules(c, spec)
        for rules in (
            merged_rules,
            foreign_key_rules,
            extra_column_rules,
            unnest_rules,
            drop_duplicates_rules,
            drop_empty_rows_rules,
            append_rules,
            filter_rules,
        ):
            for spec in usable:
                rules(c, spec, declared)
        shared_public_ids(c, project)
        unresolved_literals(c, entities)
        _default_entity(c, usable)
    except Exception as exc:  # noqa: BLE001 - validate never raises
        c.issues.append(
            Issue(E, IssueCode.VALIDATION_CRASHED, None, f"validation crashed: {type(exc).__name__}: {exc}")
        )
    return c.issues


def _usable(c: Collector, project: Project, entities: dict) -> list[EntitySpec]:
    usable = []
    for name, raw in entities.items():
        if raw is None or raw == {}:
            c.add(E, IssueCode.ENTITY_EMPTY, str(name), "entity has no configuration (2.1)")
        elif not isinstance(raw, dict):
            c.add(E, IssueCode.ENTITY_NOT_MAPPING, str(name), "entity must be a mapping")
        else:
            usable.append(project.entities[str(name)])
    return usable


def _default_entity(c: Collector, usable: list[EntitySpec]) -> None:
    """Entities without loader and source read the default entity (6.2, 7.1).

    ShiftBench reads it from `metadata.default_entity` unless the caller names one (20 #16), so only a
    project that names none is told.
    """
    sourceless = [s.name for s in usable if not s.has_loader and not s.source and s.type != "merged"]
    if sourceless and c.project.default_entity not in c.project.entities:
        c.add(
            INFO,
            IssueCode.DEFAULT_ENTITY_NEEDED,
            None,
            f"{len(sourceless)} entities have no source and no loader and read the default entity: "
            f"{', '.join(sourceless[:8])}"
            + (" ..." if len(sourceless) > 8 else "")
            + "; name it in metadata.default_entity or give the run one (an input table, --default-entity)",
            "set metadata.default_entity, or give them a source",
        )
