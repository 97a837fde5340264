"""`validate`: the rules of spec 3.2 plus run-time reachability checks, as a list of Issues.

Never raises. Severity follows what the engine will actually do, not the reference tool's
validator (whose verdict its own CLI inverts): ERROR only when the configuration or an entity's
definition cannot be processed as written; WARNING when an entity will fail or lose data for a
reason outside its definition (unreachable source, undeclared dependency) or behaves surprisingly;
INFO for harmless notes. See docs/compatibility.md for every severity that differs.

Format-2 projects are checked by `validate_v2` (v2.py); a format-1 file is also told about the
format-2 keys it holds (mixture.py), which format 1 ignores.
"""

from __future__ import annotations

from ...issues import Issue, IssueCode
from ..format import FORMAT_V2
from ..model import EntitySpec, Project
from .collector import INFO, Collector, E, W, unresolved_literals
from .entity_rules import (
    drop_duplicates_rules,
    fixed_rules,
    ignored_fields,
    required_fields,
    sql_rules,
    unnest_rules,
)
from .mixture import v2_keys_in_v1
from .reference_rules import (
    append_rules,
    cycles,
    entity_exists,
    filter_rules,
    foreign_key_rules,
    surrogate_ids,
)
from .source_rules import data_sources, file_inputs
from .v2 import validate_v2

__all__ = ["validate"]


def validate(project: Project) -> list[Issue]:
    """Check a loaded configuration; return issues in rule order, entity by entity. Never raises.

    ShiftBench's own `checks:` section is checked last, in either format.
    """
    from ...targets.authored import parse_checks

    issues = validate_v2(project) if project.format_version == FORMAT_V2 else _validate_v1(project)
    try:
        issues.extend(parse_checks(project)[1])
    except Exception as exc:  # noqa: BLE001 - validate never raises
        issues.append(
            Issue(
                E,
                IssueCode.VALIDATION_CRASHED,
                None,
                f"checks: validation crashed: {type(exc).__name__}: {exc}",
            )
        )
    return issues


def _validate_v1(project: Project) -> list[Issue]:
    c = Collector(project)
    try:
        for message, path in project.load_warnings:
            c.add(W, IssueCode.LOAD_DIRECTIVE_FAILED, None, message, "", *path)
        entities = project.raw.get("entities")
        if not isinstance(entities, dict) or not entities:
            c.add(
                E,
                IssueCode.ENTITIES_MISSING,
                None,
                "the configuration has no entities",
                "add entities:",
                "entities",
            )
            return c.issues
        declared = project.entities
        usable: list[EntitySpec] = []
        for name, raw in entities.items():
            if raw is None or raw == {}:
                c.add(E, IssueCode.ENTITY_EMPTY, str(name), "entity has no configuration")
            elif not isinstance(raw, dict):
                c.add(E, IssueCode.ENTITY_NOT_MAPPING, str(name), "entity must be a mapping")
            else:
                usable.append(declared[str(name)])
        for spec in usable:
            required_fields(c, spec)
        for spec in usable:
            entity_exists(c, spec, declared)
        cycles(c, project)
        for spec in usable:
            data_sources(c, spec, project)
            file_inputs(c, spec, project)
        for spec in usable:
            sql_rules(c, spec)
        for spec in usable:
            fixed_rules(c, spec)
        for spec in usable:
            foreign_key_rules(c, spec, declared)
        for spec in usable:
            unnest_rules(c, spec)
        for spec in usable:
            drop_duplicates_rules(c, spec)
        surrogate_ids(c, project)
        for spec in usable:
            ignored_fields(c, spec)
        for spec in usable:
            append_rules(c, spec, declared)
            filter_rules(c, spec, declared)
        unresolved_literals(c, entities)
        sourceless = [s.name for s in usable if not s.has_loader and not s.source]
        default = project.default_entity
        if sourceless and not default:
            c.add(
                INFO,
                IssueCode.DEFAULT_ENTITY_NEEDED,
                None,
                f"{len(sourceless)} entities have no source and no "
                f"loader and read the input table (default entity): {', '.join(sourceless[:8])}"
                + (" ..." if len(sourceless) > 8 else ""),
                "run with an input table as default entity",
            )
        for spec in usable:
            v2_keys_in_v1(c, spec)
    except Exception as exc:  # noqa: BLE001 - validate never raises
        c.issues.append(
            Issue(E, IssueCode.VALIDATION_CRASHED, None, f"validation crashed: {type(exc).__name__}: {exc}")
        )
    return c.issues
