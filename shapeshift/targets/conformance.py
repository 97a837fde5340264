"""Check Conformance (format-v2.md 19.2): a target model's self-check, then the project against the model.

Only the configuration is read, never data (data-level checks are in targets/checks.py). Codes, entities,
order and messages are the reference's, so findings can be compared with its editor's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from enum import StrEnum, unique
from typing import TYPE_CHECKING

from ..issues import Severity
from .model import ModelEntity, TargetModel

if TYPE_CHECKING:
    from ..config.model import EntitySpec, Project

SOURCE_TYPES_FOR_CLASSIFIERS = ("fixed", "sql")  # a classifier is a pre-loaded lookup table


@unique
class ConformanceCode(StrEnum):
    """The reference's codes, spelled as it spells them (19.2)."""

    # the model's self-check
    INVALID_PUBLIC_ID_SUFFIX = "INVALID_PUBLIC_ID_SUFFIX"
    UNKNOWN_FOREIGN_KEY_ENTITY = "UNKNOWN_FOREIGN_KEY_ENTITY"
    UNKNOWN_IDENTITY_COLUMN = "UNKNOWN_IDENTITY_COLUMN"
    UNKNOWN_UNIQUE_SET_COLUMN = "UNKNOWN_UNIQUE_SET_COLUMN"
    # the project against the model
    MISSING_PUBLIC_ID = "MISSING_PUBLIC_ID"
    UNEXPECTED_PUBLIC_ID = "UNEXPECTED_PUBLIC_ID"
    MISSING_REQUIRED_FOREIGN_KEY_TARGET = "MISSING_REQUIRED_FOREIGN_KEY_TARGET"
    MISSING_BRIDGE_ENTITY = "MISSING_BRIDGE_ENTITY"
    BRIDGE_MISSING_TARGET_FK = "BRIDGE_MISSING_TARGET_FK"
    MISSING_REQUIRED_COLUMN = "MISSING_REQUIRED_COLUMN"
    MISSING_REQUIRED_ENTITY = "MISSING_REQUIRED_ENTITY"
    PUBLIC_ID_NAMING_VIOLATION = "PUBLIC_ID_NAMING_VIOLATION"
    MISSING_INDUCED_REQUIRED_ENTITY = "MISSING_INDUCED_REQUIRED_ENTITY"
    CLASSIFIER_WRONG_SOURCE_TYPE = "CLASSIFIER_WRONG_SOURCE_TYPE"


class FindingScope(StrEnum):
    """What a finding is about: the target model itself, or the project measured against it."""

    MODEL = "model"
    PROJECT = "project"


@dataclass(frozen=True)
class Finding:
    """One conformance finding. `field` names a column when the finding is about one (None otherwise)."""

    scope: FindingScope
    code: ConformanceCode
    severity: Severity
    entity: str | None
    message: str
    field: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(scope=self.scope.value, code=self.code.value, severity=self.severity.value)
        return data


def _finding(code: ConformanceCode, entity: str, message: str, *, severity=Severity.ERROR) -> Finding:
    return Finding(FindingScope.PROJECT, code, severity, entity, message)


# --- what a project entity presents to the target ------------------------------------------------------


def _surviving_unnest_columns(spec: EntitySpec) -> list[str]:
    """An unnested entity keeps only `id_vars`, `var_name` and `value_name` (the melt boundary)."""
    return [*(spec.unnest.id_vars or []), *spec.unnest.names]


def _remote_public_id(project: Project, entity: str | None) -> str | None:
    remote = project.entities.get(entity) if entity else None
    return remote.public_id if remote else None


def _facing_links(spec: EntitySpec, project: Project) -> list:
    """The entity's FKs that reach its output: all of them, or for an unnested entity only the FKs whose
    local keys survive the melt (a later FK may use an earlier one's public id or extra columns)."""
    if not spec.unnest:
        return [fk for fk in spec.foreign_keys if fk.entity]
    available = set(_surviving_unnest_columns(spec))
    if spec.public_id:
        available.add(spec.public_id)
    links = []
    for fk in spec.foreign_keys:
        if not fk.entity or not set(fk.local_keys) <= available:
            continue
        links.append(fk)
        available.add(_remote_public_id(project, fk.entity))
        available.update(fk.extra_columns)
    return links


def target_facing_foreign_key_targets(spec: EntitySpec, project: Project) -> set[str]:
    """The entities a project entity links to in its output."""
    return {fk.entity for fk in _facing_links(spec, project)}


def target_facing_columns(spec: EntitySpec, project: Project) -> list[str]:
    """The columns a project entity presents to the target (19.2, MISSING_REQUIRED_COLUMN).

    `keys`, `columns`, `extra_columns` names (for an unnested entity: `id_vars`, `var_name`, `value_name`
    instead), its `public_id`, and per linked FK the remote's `public_id` and the FK's extra-column names.
    `system_id` is internal and never counts.
    """
    if spec.unnest:
        names = _surviving_unnest_columns(spec)
    else:
        names = [*spec.keys, *spec.columns, *spec.extra_columns]
    names = [name for name in names if name != "system_id"]
    if spec.public_id:
        names.append(spec.public_id)
    for fk in _facing_links(spec, project):
        names.append(_remote_public_id(project, fk.entity))
        names.extend(fk.extra_columns)
    return list(dict.fromkeys(name for name in names if isinstance(name, str) and name))


# --- the model's self-check ----------------------------------------------------------------------------


def check_model(model: TargetModel) -> list[Finding]:
    """The model's own consistency (19.2 spec self-check), as warnings: they concern the model's author."""
    findings = []

    def add(code: ConformanceCode, entity: str, message: str) -> None:
        findings.append(Finding(FindingScope.MODEL, code, Severity.WARNING, entity, message))

    suffix = model.public_id_suffix
    for name, entity in model.entities.items():
        if suffix and entity.public_id and not entity.public_id.endswith(suffix):
            add(
                ConformanceCode.INVALID_PUBLIC_ID_SUFFIX,
                name,
                f"Entity '{name}' has public_id '{entity.public_id}' which does not end with '{suffix}'",
            )
        for fk in entity.foreign_keys:
            if fk.entity not in model.entities:
                add(
                    ConformanceCode.UNKNOWN_FOREIGN_KEY_ENTITY,
                    name,
                    f"Entity '{name}' references unknown foreign key target '{fk.entity}'",
                )
        for column in entity.identity_columns:
            if column not in entity.columns:
                add(
                    ConformanceCode.UNKNOWN_IDENTITY_COLUMN,
                    name,
                    f"Entity '{name}' references unknown identity column '{column}'",
                )
        for unique_set in entity.unique_sets:
            for column in unique_set:
                if column not in entity.columns:
                    add(
                        ConformanceCode.UNKNOWN_UNIQUE_SET_COLUMN,
                        name,
                        f"Entity '{name}' references unknown unique-set column '{column}'",
                    )
    return findings


# --- the seven validators, in the reference's order ------------------------------------------------------


def _present(model: TargetModel, project: Project):
    """(name, model entity, project entity) for each model entity the project has, in model order."""
    for name, entity in model.entities.items():
        spec = project.entities.get(name)
        if spec is not None:
            yield name, entity, spec


def _public_ids(model: TargetModel, project: Project) -> list[Finding]:
    findings = []
    for name, entity, spec in _present(model, project):
        if entity.public_id is None:
            continue
        if not spec.public_id:
            findings.append(
                _finding(
                    ConformanceCode.MISSING_PUBLIC_ID,
                    name,
                    f"Entity '{name}' is missing required public_id '{entity.public_id}'",
                )
            )
        elif spec.public_id != entity.public_id:
            findings.append(
                _finding(
                    ConformanceCode.UNEXPECTED_PUBLIC_ID,
                    name,
                    f"Entity '{name}' declares public_id '{spec.public_id}' but target model expects "
                    f"'{entity.public_id}'",
                )
            )
    return findings


def _foreign_keys(model: TargetModel, project: Project) -> list[Finding]:
    """Required FKs: a direct link, or for `via` a bridge entity in the project linking to the target (dev:
    v2.0.0 wrongly looked for the bridge among the source entity's own FK targets)."""
    findings = []
    for name, entity, spec in _present(model, project):
        targets = target_facing_foreign_key_targets(spec, project)
        for fk in entity.foreign_keys:
            if not fk.required:
                continue
            if not fk.via:
                if fk.entity not in targets:
                    findings.append(
                        _finding(
                            ConformanceCode.MISSING_REQUIRED_FOREIGN_KEY_TARGET,
                            name,
                            f"Entity '{name}' is missing required foreign key target '{fk.entity}'",
                        )
                    )
                continue
            bridge = project.entities.get(fk.via)
            if bridge is None:
                findings.append(
                    _finding(
                        ConformanceCode.MISSING_BRIDGE_ENTITY,
                        name,
                        f"Entity '{name}' requires foreign key to '{fk.entity}' via bridge '{fk.via}', but "
                        "bridge entity is not present in the project",
                    )
                )
            elif fk.entity not in target_facing_foreign_key_targets(bridge, project):
                findings.append(
                    _finding(
                        ConformanceCode.BRIDGE_MISSING_TARGET_FK,
                        fk.via,
                        f"Bridge entity '{fk.via}' (between '{name}' -> '{fk.entity}') does not have a "
                        f"foreign key to target entity '{fk.entity}'",
                    )
                )
    return findings


def _required_columns(model: TargetModel, project: Project) -> list[Finding]:
    findings = []
    for name, entity, spec in _present(model, project):
        facing = set(target_facing_columns(spec, project))
        for column in entity.columns.values():
            if column.required and column.name not in facing:
                findings.append(
                    _finding(
                        ConformanceCode.MISSING_REQUIRED_COLUMN,
                        name,
                        f"Entity '{name}' is missing required target-facing column '{column.name}'",
                    )
                )
    return findings


def _required_entities(model: TargetModel, project: Project) -> list[Finding]:
    return [
        _finding(ConformanceCode.MISSING_REQUIRED_ENTITY, name, f"Target model requires entity '{name}'")
        for name, entity in model.entities.items()
        if entity.required and name not in project.entities
    ]


def _naming(model: TargetModel, project: Project) -> list[Finding]:
    suffix = model.public_id_suffix
    if not suffix:
        return []
    return [
        _finding(
            ConformanceCode.PUBLIC_ID_NAMING_VIOLATION,
            name,
            f"Entity '{name}' has public_id '{spec.public_id}' which does not end with naming convention "
            f"suffix '{suffix}'",
        )
        for name, _entity, spec in _present(model, project)
        if spec.public_id and not spec.public_id.endswith(suffix)
    ]


def _induced_requirements(model: TargetModel, project: Project) -> list[Finding]:
    """Breadth-first from every present, non-required model entity along required FKs: each absent target
    that the model does not itself require is reported once, and the search goes on through it."""
    queue: deque[tuple[str, str]] = deque()  # (entity to explore, the present entity that started it)
    visited: set[str] = set()
    for name, entity in model.entities.items():
        if name in project.entities and not entity.required:
            visited.add(name)
            queue.append((name, name))
    findings = []
    while queue:
        name, inducer = queue.popleft()
        entity: ModelEntity | None = model.entities.get(name)
        for fk in entity.foreign_keys if entity else ():
            if not fk.required or fk.entity in visited:
                continue
            visited.add(fk.entity)
            target = model.entities.get(fk.entity)
            if target is not None and target.required:
                continue  # MISSING_REQUIRED_ENTITY covers it
            if fk.entity not in project.entities:
                via = "" if name == inducer else f" (via induced requirement on '{name}')"
                findings.append(
                    _finding(
                        ConformanceCode.MISSING_INDUCED_REQUIRED_ENTITY,
                        fk.entity,
                        f"Entity '{fk.entity}' is required because entity '{inducer}' is present and has a "
                        f"required foreign key chain to '{fk.entity}'{via}",
                    )
                )
            queue.append((fk.entity, inducer))
    return findings


def _classifier_source_types(model: TargetModel, project: Project) -> list[Finding]:
    """A classifier built by row extraction is almost always a modelling mistake: a warning, as upstream."""
    findings = []
    for name, entity, spec in _present(model, project):
        kind = spec.raw.get("type")
        if entity.role == "classifier" and kind is not None and kind not in SOURCE_TYPES_FOR_CLASSIFIERS:
            findings.append(
                _finding(
                    ConformanceCode.CLASSIFIER_WRONG_SOURCE_TYPE,
                    name,
                    f"Entity '{name}' has role 'classifier' but uses source type '{kind}'; expected 'fixed' "
                    "or 'sql'",
                    severity=Severity.WARNING,
                )
            )
    return findings


VALIDATORS = (
    _public_ids,
    _foreign_keys,
    _required_columns,
    _required_entities,
    _naming,
    _induced_requirements,
    _classifier_source_types,
)


def check_conformance(project: Project, model: TargetModel) -> list[Finding]:
    """The model's self-check (scope MODEL, warnings), then the project against the model (scope PROJECT).

    Only entities present in both are checked by the per-entity validators; types, nullability, unique sets
    and identity columns are not checked against the configuration (they are data checks). Severity: error,
    except CLASSIFIER_WRONG_SOURCE_TYPE (a warning, the reference's default).
    """
    findings = check_model(model)
    for validator in VALIDATORS:
        findings.extend(validator(model, project))
    return findings
