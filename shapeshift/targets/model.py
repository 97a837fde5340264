"""Target models (format-v2.md 19.1): what a destination system expects from a project, parsed and checked.

The reference parses a model with a pydantic schema: unknown `role`, `identity_tracking` or `reconciliation`
values, a missing `model.name`/`model.version` or a wrongly shaped value make the whole model unusable,
while unknown extra keys are ignored. We do the same, but collect every problem, each naming its key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..config.yaml_reader import parse_yaml
from ..errors import ConfigError

ROLES = ("fact", "lookup", "classifier", "bridge")
IDENTITY_TRACKING = ("tracked", "reconciled", "derived", "child")
RECONCILIATION = (
    "allocate",
    "reconcile-exact",
    "reconcile-fuzzy",
    "lookup-only",
    "lookup-extensible",
    "derive",
)

# what pydantic's lax mode reads as a boolean (the reference's schema), besides true/false themselves
_TRUE_WORDS = {"1", "on", "t", "true", "y", "yes"}
_FALSE_WORDS = {"0", "off", "f", "false", "n", "no"}


class TargetModelError(ConfigError):
    """A target model that cannot be used; `problems` lists each one as "key.path: what is wrong"."""

    def __init__(self, problems: list[str], *, file: str | None = None) -> None:
        self.problems = list(problems)
        if len(problems) == 1:
            message = f"invalid target model: {problems[0]}"
        else:
            message = f"invalid target model ({len(problems)} problems): " + "; ".join(problems)
        super().__init__(message, file=file)


@dataclass(frozen=True)
class ModelColumn:
    """One `columns` item of a model entity; `type` is free text (19.1), `nullable` None when not said."""

    name: str
    required: bool = False
    type: str | None = None
    nullable: bool | None = None
    description: str | None = None


@dataclass(frozen=True)
class ModelForeignKey:
    """One `foreign_keys` item: the entity must link to `entity` (through the bridge entity `via`, if set)."""

    entity: str
    required: bool = False
    via: str | None = None


@dataclass(frozen=True)
class ModelEntity:
    """One entity of a target model (names are project entity names)."""

    name: str
    role: str | None = None
    required: bool = False
    description: str | None = None
    domains: tuple[str, ...] = ()
    target_table: str | None = None
    public_id: str | None = None
    identity_columns: tuple[str, ...] = ()
    columns: dict[str, ModelColumn] = field(default_factory=dict)
    unique_sets: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ModelForeignKey, ...] = ()
    identity_tracking: str | None = None
    reconciliation: str | None = None
    aggregate_parent: str | None = None


@dataclass(frozen=True)
class TargetModel:
    """A parsed target model: `model` metadata, entities in file order, naming and declared constraints."""

    name: str
    version: str
    description: str | None = None
    entities: dict[str, ModelEntity] = field(default_factory=dict)
    public_id_suffix: str | None = None  # naming.public_id_suffix
    constraints: tuple[str, ...] = ()  # the declared constraint types (declared, never enforced: 19.1)


class _Reader:
    """Reads values out of the raw mapping, recording a problem (with its key path) for each bad one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(self, value, path: str, *, required: bool = False) -> dict | None:
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping, not {_kind(value)}")
            return None
        return value

    def text(self, value, path: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            hint = " (quote it)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
            self.fail(path, f"must be a string, not {_kind(value)}{hint}")
            return None
        return value

    def flag(self, value, path: str, default: bool | None = False) -> bool | None:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
            return value.strip().lower() in _TRUE_WORDS
        self.fail(path, f"must be true or false, not {value!r}")
        return default

    def choice(self, value, path: str, choices: tuple[str, ...]) -> str | None:
        if value is None:
            return None
        if value not in choices:
            self.fail(path, f"unknown value {value!r} (expected one of: {', '.join(choices)})")
            return None
        return value

    def names(self, value, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(path, f"must be a list of names, not {_kind(value)}")
            return ()
        names = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                names.append(item)
            else:
                self.fail(f"{path}[{index}]", f"must be a string, not {_kind(item)}")
        return tuple(names)


def _kind(value) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _column(reader: _Reader, name: str, raw, path: str) -> ModelColumn | None:
    raw = reader.mapping(raw, path, required=True)
    if raw is None:
        return None
    return ModelColumn(
        name=name,
        required=reader.flag(raw.get("required"), f"{path}.required"),
        type=reader.text(raw.get("type"), f"{path}.type"),
        nullable=reader.flag(raw.get("nullable"), f"{path}.nullable", default=None),
        description=reader.text(raw.get("description"), f"{path}.description"),
    )


def _foreign_keys(reader: _Reader, value, path: str) -> tuple[ModelForeignKey, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.fail(path, f"must be a list, not {_kind(value)}")
        return ()
    keys = []
    for index, raw in enumerate(value):
        item_path = f"{path}[{index}]"
        raw = reader.mapping(raw, item_path, required=True)
        if raw is None:
            continue
        entity = reader.text(raw.get("entity"), f"{item_path}.entity", required=True)
        required = reader.flag(raw.get("required"), f"{item_path}.required")
        via = reader.text(raw.get("via"), f"{item_path}.via")
        if entity is not None:
            keys.append(ModelForeignKey(entity=entity, required=required, via=via))
    return tuple(keys)


def _unique_sets(reader: _Reader, value, path: str) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.fail(path, f"must be a list of column lists, not {_kind(value)}")
        return ()
    return tuple(reader.names(item, f"{path}[{index}]") for index, item in enumerate(value))


def _entity(reader: _Reader, name: str, raw, path: str) -> ModelEntity | None:
    raw = reader.mapping(raw, path, required=True)
    if raw is None:
        return None
    columns_raw = reader.mapping(raw.get("columns"), f"{path}.columns") or {}
    columns = {}
    for column_name, column_raw in columns_raw.items():
        column = _column(reader, str(column_name), column_raw, f"{path}.columns.{column_name}")
        if column is not None:
            columns[column.name] = column
    return ModelEntity(
        name=name,
        role=reader.choice(raw.get("role"), f"{path}.role", ROLES),
        required=reader.flag(raw.get("required"), f"{path}.required"),
        description=reader.text(raw.get("description"), f"{path}.description"),
        domains=reader.names(raw.get("domains"), f"{path}.domains"),
        target_table=reader.text(raw.get("target_table"), f"{path}.target_table"),
        public_id=reader.text(raw.get("public_id"), f"{path}.public_id"),
        identity_columns=reader.names(raw.get("identity_columns"), f"{path}.identity_columns"),
        columns=columns,
        unique_sets=_unique_sets(reader, raw.get("unique_sets"), f"{path}.unique_sets"),
        foreign_keys=_foreign_keys(reader, raw.get("foreign_keys"), f"{path}.foreign_keys"),
        identity_tracking=reader.choice(
            raw.get("identity_tracking"), f"{path}.identity_tracking", IDENTITY_TRACKING
        ),
        reconciliation=reader.choice(raw.get("reconciliation"), f"{path}.reconciliation", RECONCILIATION),
        aggregate_parent=reader.text(raw.get("aggregate_parent"), f"{path}.aggregate_parent"),
    )


def _constraints(reader: _Reader, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.fail("constraints", f"must be a list, not {_kind(value)}")
        return ()
    types = []
    for index, raw in enumerate(value):
        raw = reader.mapping(raw, f"constraints[{index}]", required=True)
        if raw is not None:
            kind = reader.text(raw.get("type"), f"constraints[{index}].type", required=True)
            if kind is not None:
                types.append(kind)
    return tuple(types)


def load_target_model(data: dict, *, file: str | None = None) -> TargetModel:
    """A TargetModel from the parsed YAML of a model file (format-v2.md 19.1).

    Raises TargetModelError (a ConfigError) listing every problem, each with its key path: a missing
    `model`, `model.name` or `model.version`, an unknown `role`/`identity_tracking`/`reconciliation`, a
    value of the wrong shape. Unknown extra keys are ignored.
    """
    reader = _Reader()
    root = reader.mapping(data, "(root)", required=True)
    if root is None:
        raise TargetModelError(reader.problems, file=file)
    meta = reader.mapping(root.get("model"), "model", required=True)
    name = version = description = None
    if meta is not None:
        name = reader.text(meta.get("name"), "model.name", required=True)
        version = reader.text(meta.get("version"), "model.version", required=True)
        description = reader.text(meta.get("description"), "model.description")
    entities = {}
    for entity_name, raw in (reader.mapping(root.get("entities"), "entities") or {}).items():
        entity = _entity(reader, str(entity_name), raw, f"entities.{entity_name}")
        if entity is not None:
            entities[entity.name] = entity
    naming = reader.mapping(root.get("naming"), "naming") or {}
    suffix = reader.text(naming.get("public_id_suffix"), "naming.public_id_suffix")
    constraints = _constraints(reader, root.get("constraints"))
    if reader.problems:
        raise TargetModelError(reader.problems, file=file)
    return TargetModel(
        name=name,
        version=version,
        description=description,
        entities=entities,
        public_id_suffix=suffix or None,
        constraints=constraints,
    )


def load_target_model_file(path_or_bytes: str | os.PathLike | bytes) -> TargetModel:
    """A TargetModel read from a YAML file (a path) or its content (bytes), within the YAML reader's bounds.

    Raises TargetModelError for a model that does not parse (19.1), ConfigError for unreadable YAML or a
    file beyond the bounds of config/yaml_reader.py, OSError when the path cannot be read.
    """
    if isinstance(path_or_bytes, bytes | bytearray):
        content, file = bytes(path_or_bytes), "<target model>"
    else:
        file = os.fspath(path_or_bytes)
        with open(file, "rb") as handle:
            content = handle.read()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    data, _lines = parse_yaml(text, file)
    return load_target_model(data, file=file)


def target_model_of(project) -> TargetModel | None:
    """The project's `metadata.target_model` (an inline mapping, or what its `@include` loaded), or None.

    Raises TargetModelError when it is there but not a usable model (e.g. an `@include` that was not
    resolved, or a model that does not parse).
    """
    value = project.metadata.get("target_model")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TargetModelError(
            [f"metadata.target_model: must be a mapping or an @include of one, not {value!r}"],
            file=project.main,
        )
    try:
        return load_target_model(value)
    except TargetModelError as exc:
        raise TargetModelError(
            [f"metadata.target_model.{problem}" for problem in exc.problems], file=project.main
        ) from None
