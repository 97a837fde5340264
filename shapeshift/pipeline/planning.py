"""`plan`: the dependency closure of the requested entities in a deterministic topological order.

Uses graphlib.TopologicalSorter; among entities that are ready at the same time the one declared
first in the configuration goes first, so hashing never decides the order. Format 2 plans the same
way: the reference's order depends on PYTHONHASHSEED (format-v2.md 6.2, 20 #17); declaration order
among ready entities reproduces its seed-0 outputs, including [C22].
"""

from __future__ import annotations

import graphlib
import heapq
from dataclasses import dataclass, field

from ..config.format import FORMAT_V2
from ..config.model import EntitySpec, Project
from ..errors import ConfigError


@dataclass
class Plan:
    """The entities to process (`order`) and which of them were asked for (`requested`)."""

    order: list[str]
    requested: set[str]
    default_entity: str | None = None
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # entity -> undeclared dependencies

    def role(self, name: str) -> str:
        """'requested' or 'dependency'."""
        return "requested" if name in self.requested else "dependency"

    def __iter__(self):
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def reads_default_entity(spec: EntitySpec) -> bool:
    """An entity without loader and source reads the default entity's table (format 2: not a merged one).

    In format 2 the reference does not wait for the default entity (format-v2.md 6.2); we keep the
    format-1 rule that it is a dependency, so the order never depends on hashing (20 #16).
    """
    if spec.has_loader or spec.source:
        return False
    return not (spec.format_version == FORMAT_V2 and spec.type == "merged")


def entity_dependencies(project: Project, name: str, default_entity: str | None) -> list[str]:
    """Dependencies of one entity, including the default entity it reads when it has no source."""
    spec = project.entities[name]
    deps = set(spec.dependencies)
    if default_entity and name != default_entity and reads_default_entity(spec):
        deps.add(default_entity)
    return sorted(deps)


def plan(project: Project, entities=None, *, default_entity: str | None = None) -> Plan:
    """Plan a run of `entities` (None = all) and everything they need.

    Raises ConfigError naming unknown requested entities or listing the members of a dependency
    cycle. Dependencies on undeclared entities do not raise: they are kept in `plan.unresolved`
    and `run` fails exactly those entities (and skips their dependents).
    """
    declared = project.entities
    default_entity = default_entity or project.default_entity
    if entities is None:
        requested = list(declared)
    else:
        requested = [entities] if isinstance(entities, str) else list(entities)
        unknown = [name for name in requested if name not in declared]
        if unknown:
            raise ConfigError(
                f"unknown entities: {', '.join(unknown)}", file=project.main, key_path="entities"
            )
    closure: dict[str, list[str]] = {}
    unresolved: dict[str, list[str]] = {}
    stack = list(reversed(requested))
    while stack:
        name = stack.pop()
        if name in closure:
            continue
        deps = entity_dependencies(project, name, default_entity if default_entity in declared else None)
        closure[name] = deps
        for dep in deps:
            if dep not in declared:
                unresolved.setdefault(name, []).append(dep)
            elif dep not in closure:
                stack.append(dep)
    sorter = graphlib.TopologicalSorter(
        {name: [d for d in deps if d in closure] for name, deps in closure.items()}
    )
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise ConfigError(
            "circular dependency: " + " -> ".join(cycle), file=project.main, key_path=f"entities.{cycle[0]}"
        ) from None
    position = {name: spec.index for name, spec in declared.items()}
    ready: list[tuple[int, str]] = []
    order: list[str] = []
    while sorter.is_active():
        for name in sorter.get_ready():
            heapq.heappush(ready, (position[name], name))
        name = heapq.heappop(ready)[1]
        order.append(name)
        sorter.done(name)
    return Plan(
        order=order,
        requested=set(requested),
        default_entity=default_entity,
        dependencies=closure,
        unresolved=unresolved,
    )
