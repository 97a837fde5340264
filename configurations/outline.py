"""What a configuration's page shows of a loaded project: its format-2 metadata and a row per entity.

Read from the loaded ``shapeshift.Project`` (never from the YAML text), so the page shows what a run uses:
``@include``d metadata and target models, ``@value:`` keys, merged branches as the engine reads them.
"""

from dataclasses import dataclass, field

import shapeshift


@dataclass
class ProjectMetadata:
    """A format-2 project's ``metadata`` (format-v2.md 3.1); "" for what it does not say."""

    name: str = ""
    description: str = ""
    version: str = ""
    default_entity: str = ""
    target_model: str = ""  # "SEAD Clearinghouse 2.0.0" when metadata.target_model is a model
    target_model_note: str = ""  # why a target_model given is not shown as one


@dataclass
class Branch:
    """A branch of a merged entity (format-v2.md 16)."""

    name: str
    source: str
    keys: list[str]


@dataclass
class EntityRow:
    """One entity of the table: its spec, and what the page says beside it."""

    spec: shapeshift.EntitySpec
    driver: str = ""  # of its data source ("ucanaccess", "csv", …), when it has one
    deferred: list = field(default_factory=list)  # foreign keys with defer_dependency (format 2)
    linked: list = field(default_factory=list)  # the other foreign keys
    branches: list[Branch] = field(default_factory=list)  # of a merged entity

    @property
    def identity(self) -> str:
        return self.spec.identity or ""


@dataclass
class Outline:
    format_version: int
    metadata: ProjectMetadata | None  # format 2 only
    entities: list[EntityRow]


def outline(project: shapeshift.Project) -> Outline:
    """The project's metadata (format 2) and entity rows, in declaration order. Reads no file."""
    drivers = {
        name: str(entry.get("driver") or "")
        for name, entry in project.data_sources.items()
        if isinstance(entry, dict)
    }
    rows = [
        EntityRow(
            spec,
            driver=drivers.get(spec.data_source, "") if spec.data_source else "",
            deferred=[fk for fk in spec.foreign_keys if fk.defer_dependency],
            linked=[fk for fk in spec.foreign_keys if not fk.defer_dependency],
            branches=[_branch(raw) for raw in spec.branches],
        )
        for spec in project.entities.values()
    ]
    is_v2 = project.format_version == shapeshift.FORMAT_V2
    return Outline(project.format_version, project_metadata(project.metadata) if is_v2 else None, rows)


def project_metadata(metadata: dict) -> ProjectMetadata:
    """The ``metadata`` mapping as the page shows it: text values only, the target model by name."""
    shown = ProjectMetadata(**{key: _text(metadata.get(key)) for key in _TEXT_KEYS})
    target = metadata.get("target_model")
    model = target.get("model") if isinstance(target, dict) else None
    if isinstance(model, dict):
        shown.target_model = (
            " ".join(text for text in (_text(model.get("name")), _text(model.get("version"))) if text)
            or "(a model without a name)"
        )
    elif target is not None:
        shown.target_model_note = "given, but not a target model (no model: mapping)"
    return shown


def _branch(raw: dict) -> Branch:
    keys = raw.get("keys")
    return Branch(
        _text(raw.get("name")),
        _text(raw.get("source")),
        [str(key) for key in keys] if isinstance(keys, list) else [_text(keys)] if _text(keys) else [],
    )


_TEXT_KEYS = ("name", "description", "version", "default_entity")


def _text(value) -> str:
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
