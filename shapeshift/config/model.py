"""The typed configuration model: Project, EntitySpec, ForeignKeySpec, UnnestSpec.

Building the model never raises for content problems: odd shapes are normalised the way the
reference tool reads them and reported by `validate`. Declaration order is kept everywhere
(the reference tool keeps `keys` as a set; we keep their written order, see docs/compatibility.md).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

from ..sqlpolicy import SqlPolicy
from .format import FORMAT_V1, FORMAT_V2
from .resolver import FileResolver

FILE_TYPES = {"csv", "tsv", "xlsx", "xls", "openpyxl"}
LOADER_TYPES = {"fixed", "sql"} | FILE_TYPES
UNUSABLE_LOADER_TYPES = {"fixed2", "sqlite", "postgres", "ucanaccess"}
# format 2 (format-v2.md 4, 7.1): `entity` and `merged` are kinds of their own; more loader keys exist
V2_LOADER_TYPES = {"fixed"} | FILE_TYPES
V2_UNUSABLE_LOADER_TYPES = {"sqlite", "postgres", "postgresql", "ucanaccess", "access"}
V2_KINDS = {"entity", "sql", "merged"} | V2_LOADER_TYPES | V2_UNUSABLE_LOADER_TYPES
JOIN_TYPES = {"inner", "left", "right", "outer", "cross"}


def _unique(items) -> list:
    return list(dict.fromkeys(items))


def as_name_list(value) -> list:
    """A keys/columns value as the reference tool reads it: list -> itself; string -> its characters."""
    if value is None or value is False:
        return []
    if isinstance(value, str):
        return _unique(value)  # trap 1.9.5: a string becomes its distinct characters
    if isinstance(value, (list, tuple)):
        return _unique(item for item in value if _hashable(item))
    return []


def _hashable(item) -> bool:
    try:
        hash(item)
    except TypeError:
        return False
    return True


def _branches(value) -> list[dict]:
    """`branches` of a merged entity: a list of mappings (a single mapping is one branch)."""
    if isinstance(value, dict):
        value = [value]
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def key_list(value) -> list:
    """FK key list: None -> [], string -> [string] is NOT done by the reference; keep lists only."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


@dataclass
class ForeignKeySpec:
    """One `foreign_keys` item of an entity."""

    entity: str | None
    local_keys: list
    remote_keys: list
    how: str = "inner"
    extra_columns: dict = field(default_factory=dict)  # local name -> remote column name
    drop_remote_id: bool = False
    constraints: dict = field(default_factory=dict)
    defer_dependency: bool = False  # format 2 (format-v2.md 12.5): the remote is not a dependency
    raw: dict = field(default_factory=dict)
    index: int = 1

    @classmethod
    def from_raw(cls, raw, index: int) -> ForeignKeySpec:
        if not isinstance(raw, dict):
            return cls(entity=None, local_keys=[], remote_keys=[], raw={"_invalid": raw}, index=index)
        extra = raw.get("extra_columns")
        if isinstance(extra, str):
            extras = {extra: extra}
        elif isinstance(extra, list):
            extras = {str(c): str(c) for c in extra}
        elif isinstance(extra, dict):
            extras = {str(k): str(v) for k, v in extra.items()}
        else:
            extras = {}
        constraints = raw.get("constraints")
        entity = raw.get("entity")
        return cls(
            entity=entity if isinstance(entity, str) and entity else None,
            local_keys=key_list(raw.get("local_keys")),
            remote_keys=key_list(raw.get("remote_keys")),
            how=str(raw.get("how") or "inner"),
            extra_columns=extras,
            drop_remote_id=bool(raw.get("drop_remote_id")),
            constraints=dict(constraints) if isinstance(constraints, dict) else {},
            defer_dependency=raw.get("defer_dependency") is True,
            raw=raw,
            index=index,
        )


@dataclass
class UnnestSpec:
    """`unnest`: melt wide to long."""

    id_vars: list | None
    value_vars: list | None
    var_name: str | None
    value_name: str | None

    @classmethod
    def from_raw(cls, raw) -> UnnestSpec | None:
        if not raw or not isinstance(raw, dict):
            return None
        id_vars = raw.get("id_vars")
        value_vars = raw.get("value_vars")
        return cls(
            id_vars=as_name_list(id_vars) if id_vars is not None else None,
            value_vars=as_name_list(value_vars) if value_vars else None,
            var_name=raw.get("var_name") or None,
            value_name=raw.get("value_name") or None,
        )

    @property
    def names(self) -> list:
        return [n for n in (self.var_name, self.value_name) if n]


@dataclass
class EntitySpec:
    """One entity of a configuration, normalised (see the module docstring)."""

    name: str
    raw: dict
    type: str = "data"
    source: str | None = None
    data_source: str | None = None
    keys: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    surrogate_id: str | None = None
    surrogate_name: str | None = None
    extra_columns: dict = field(default_factory=dict)
    foreign_keys: list[ForeignKeySpec] = field(default_factory=list)
    unnest: UnnestSpec | None = None
    append: list[dict] = field(default_factory=list)
    append_mode: str = "all"
    depends_on: list = field(default_factory=list)
    filters: list = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    index: int = 0
    # format 2 only (format-v2.md 5, 16): the target-identity column, and the branches of `type: merged`
    format_version: int = FORMAT_V1
    public_id: str | None = None
    branches: list[dict] = field(default_factory=list)

    @classmethod
    def from_raw(cls, name: str, raw, index: int = 0, format_version: int = FORMAT_V1) -> EntitySpec:
        if not isinstance(raw, dict):
            raw = {}
        raw_type = raw.get("type")
        v2 = format_version == FORMAT_V2
        if isinstance(raw_type, str) and raw_type in (
            V2_KINDS if v2 else LOADER_TYPES | UNUSABLE_LOADER_TYPES
        ):
            kind = raw_type
        else:
            kind = "data"
        source = raw.get("source")
        append = raw.get("append") or []
        if isinstance(append, dict):
            append = [append]
        append = [item for item in append if isinstance(item, dict)] if isinstance(append, list) else []
        extra = raw.get("extra_columns")
        spec = cls(
            name=name,
            raw=raw,
            type=kind,
            source=source if isinstance(source, str) and source else None,
            data_source=raw.get("data_source") if isinstance(raw.get("data_source"), str) else None,
            keys=as_name_list(raw.get("keys")),
            columns=as_name_list(raw.get("columns")),
            # format 1: `public_id` is the later versions' name for the same column (spec section 6);
            # format 2 never reads `surrogate_id` (format-v2.md 5.2)
            surrogate_id=None if v2 else raw.get("surrogate_id") or raw.get("public_id") or None,
            surrogate_name=raw.get("surrogate_name") or None,
            extra_columns=dict(extra) if isinstance(extra, dict) else {},
            foreign_keys=[
                ForeignKeySpec.from_raw(fk, i + 1) for i, fk in enumerate(raw.get("foreign_keys") or [])
            ]
            if isinstance(raw.get("foreign_keys"), list)
            else [],
            unnest=UnnestSpec.from_raw(raw.get("unnest")),
            append=append,
            append_mode=str(raw.get("append_mode") or "all"),
            depends_on=[d for d in (raw.get("depends_on") or []) if isinstance(d, str)]
            if isinstance(raw.get("depends_on"), list)
            else [],
            filters=list(raw.get("filters") or []) if isinstance(raw.get("filters"), list) else [],
            index=index,
            format_version=format_version,
            public_id=raw["public_id"]
            if v2 and isinstance(raw.get("public_id"), str) and raw["public_id"]
            else None,
            branches=_branches(raw.get("branches")) if v2 else [],
        )
        deps = set(spec.depends_on)
        # a format-2 file loader reads a string `source` as its sheet name, not as an entity (20 #9)
        if spec.source and not (v2 and kind in FILE_TYPES):
            deps.add(spec.source)
        deps.update(fk.entity for fk in spec.foreign_keys if fk.entity and not (v2 and fk.defer_dependency))
        deps.update(
            b["source"] for b in spec.branches if isinstance(b.get("source"), str) and b.get("source")
        )
        deps.update(
            item["source"]
            for item in spec.append
            if isinstance(item.get("source"), str) and item.get("source")
        )
        # filter targets are not dependencies in the reference tool (order then decides by hash
        # seed); waiting for them is the deterministic choice (also what later versions do)
        deps.update(
            item["other_entity"]
            for item in spec.filters
            if isinstance(item, dict) and isinstance(item.get("other_entity"), str)
        )
        spec.dependencies = sorted(deps)
        return spec

    # --- derived views used by the pipeline -------------------------------------------------
    @property
    def fk_local_keys(self) -> list:
        keys: list = []
        for fk in self.foreign_keys:
            keys.extend(k for k in fk.local_keys if _hashable(k))
        return _unique(keys)

    @property
    def declared_columns(self) -> set:
        """keys + columns + FK local keys + extra-column names + unnest names (spec 3.3 rule 4)."""
        names = set(self.keys) | set(self.columns) | set(self.fk_local_keys) | set(self.extra_columns)
        if self.unnest:
            names |= set(self.unnest.names)
        return names

    @property
    def has_loader(self) -> bool:
        if self.format_version == FORMAT_V2:
            return bool(self.data_source) or self.type in V2_LOADER_TYPES | V2_UNUSABLE_LOADER_TYPES
        return bool(self.data_source) or self.type in LOADER_TYPES | UNUSABLE_LOADER_TYPES

    @property
    def identity(self) -> str | None:
        """The column children's foreign keys are named after: public_id (format 2) or surrogate_id."""
        return self.public_id if self.format_version == FORMAT_V2 else self.surrogate_id


@dataclass
class Project:
    """A loaded configuration: entities in declaration order plus the resolved raw tree."""

    raw: dict
    entities: dict[str, EntitySpec]
    resolver: FileResolver
    main: str
    locations: dict = field(default_factory=dict)
    load_warnings: list = field(default_factory=list)
    files: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    sql_policy: SqlPolicy = field(default_factory=SqlPolicy)  # where its SQL sources may connect
    format_version: int = FORMAT_V1  # config/format.py

    @property
    def metadata(self) -> dict:
        """The format-2 `metadata` mapping (name, description, version, default_entity, target_model)."""
        metadata = self.raw.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self) -> str:
        return pathlib.PurePosixPath(self.main).stem

    @property
    def data_sources(self) -> dict:
        options = self.raw.get("options")
        sources = options.get("data_sources") if isinstance(options, dict) else None
        return sources if isinstance(sources, dict) else {}

    @property
    def default_entity(self) -> str | None:
        """`metadata.default_entity` (spec section 6) when declared, else None."""
        metadata = self.raw.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("default_entity"), str):
            return metadata["default_entity"]
        return None

    def location(self, *path) -> str:
        """'file:line' of a key path, or '' when unknown."""
        for cut in range(len(path), 0, -1):
            found = self.locations.get(tuple(path[:cut]))
            if found:
                return f"{found[0]}:{found[1]}"
        return ""

    def entity_location(self, name: str, *path) -> str:
        return self.location("entities", name, *path)


def build_entities(raw: dict, format_version: int = FORMAT_V1) -> dict[str, EntitySpec]:
    entities = raw.get("entities")
    if not isinstance(entities, dict):
        return {}
    return {
        str(name): EntitySpec.from_raw(str(name), value, index, format_version)
        for index, (name, value) in enumerate(entities.items())
    }
