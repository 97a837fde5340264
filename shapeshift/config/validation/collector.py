"""Collects issues with the YAML location of the entity key they concern."""

from __future__ import annotations

from ...issues import Issue, IssueCode, Severity
from ..model import Project

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


class Collector:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.issues: list[Issue] = []

    def add(
        self,
        severity: Severity,
        code: IssueCode,
        entity: str | None,
        message: str,
        suggestion: str = "",
        *path,
    ) -> None:
        location = self.project.entity_location(entity, *path) if entity else self.project.location(*path)
        self.issues.append(Issue(severity, code, entity, message, suggestion, location))


def missing(value) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def find_literals(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from find_literals(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from find_literals(value, path + (index,))
    elif isinstance(node, str) and node.startswith(("@value:", "@include", "@load")):
        yield path, node


def unresolved_literals(c: Collector, entities: dict) -> None:
    """Warn about directives a load left as text in `entities` (both formats keep what they cannot read)."""
    for path, literal in find_literals(entities, ("entities",)):
        entity = path[1] if len(path) > 1 else None
        c.add(
            W,
            IssueCode.UNRESOLVED_REFERENCE,
            str(entity) if entity else None,
            f"unresolved directive left as text at {'.'.join(map(str, path[2:]))}: {literal!r}",
            "check the referenced path",
            *path[2:],
        )
