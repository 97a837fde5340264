"""Which column names a format-2 entity can have at each moment of its processing (format-v2.md 6.3).

Built from the configuration alone, never from data: a name outside these sets can still come from a
source (a helper column, 8.2), so rules built on them say "may" unless the source is a declared entity.
"""

from __future__ import annotations

from ..model import EntitySpec

SYSTEM_ID = "system_id"


def strings(value) -> list[str]:
    """A list of names as names: its strings, nothing else (odd values are reported elsewhere)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, (list, tuple)) else []


def entity(declared: dict, name) -> EntitySpec | None:
    """The declared entity `name` refers to, None for anything else (a list, a number, ...)."""
    return declared.get(name) if isinstance(name, str) else None


def unnest_names(spec: EntitySpec) -> list[str]:
    return strings(spec.unnest.names) if spec.unnest else []


def fk_names(spec: EntitySpec, declared: dict) -> set[str]:
    """Columns linking adds: the remotes' public ids and the FK extra-column names (12.2)."""
    names: set[str] = set()
    for fk in spec.foreign_keys:
        remote = entity(declared, fk.entity)
        if remote is not None and remote.public_id:
            names.add(remote.public_id)
        names.update(strings(list(fk.extra_columns)))
    return names


def branches(spec: EntitySpec) -> list:
    """`branches` as the reference reads it: a single mapping is wrapped (16)."""
    raw = spec.raw.get("branches")
    return [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []


def merged_names(spec: EntitySpec, declared: dict) -> set[str]:
    """A merged entity's table: discriminator, branch FK columns, branch sources' columns (16)."""
    names = {f"{spec.name}_branch"}
    for branch in branches(spec):
        source = entity(declared, branch.get("source")) if isinstance(branch, dict) else None
        if isinstance(source, EntitySpec):
            names.add(source.public_id or f"{source.name}_id")
            names.update(strings(source.raw.get("columns")))
    return names


def append_names(spec: EntitySpec) -> set[str]:
    """Names append items bring into the union: their own keys/columns and renaming targets (15)."""
    names: set[str] = set()
    for item in spec.append:
        names.update(strings(item.get("keys")) + strings(item.get("columns")))
        mapping = item.get("column_mapping")
        if isinstance(mapping, dict):
            names.update(strings(list(mapping.values())))
    return names


def extracted_names(spec: EntitySpec, declared: dict) -> set[str]:
    """The table after concatenation and the entity's extra columns (6.3 steps 3-4): stage `extract`."""
    names = set(strings(spec.keys + spec.columns + spec.fk_local_keys) + strings(list(spec.extra_columns)))
    names |= append_names(spec)
    if spec.type == "merged":
        names |= merged_names(spec, declared)
    return names


def linked_names(spec: EntitySpec, declared: dict) -> set[str]:
    """After linking (stage `after_link`)."""
    return extracted_names(spec, declared) | fk_names(spec, declared)


def final_names(spec: EntitySpec, declared: dict) -> set[str]:
    """Every name the processed table can have (after unnest, ids added)."""
    names = linked_names(spec, declared) | {SYSTEM_ID}
    names |= set(unnest_names(spec))
    if spec.public_id:
        names.add(spec.public_id)
    return names


def declares_columns(spec: EntitySpec) -> bool:
    """Whether the configuration says which columns the entity has (else a source decides)."""
    return spec.type != "merged" and bool(strings(spec.keys) or strings(spec.columns))
