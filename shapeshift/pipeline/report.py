"""Collects the warnings and issues of one entity while it is processed."""

from __future__ import annotations

from ..issues import Issue, IssueCode, Severity


class EntityReport:
    """Warnings (plain text) and issues (coded) raised while processing one entity."""

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self.warnings: list[str] = []
        self.issues: list[Issue] = []

    def warn(
        self,
        code: IssueCode,
        message: str,
        suggestion: str = "",
        location: str = "",
        severity: Severity = Severity.WARNING,
    ) -> None:
        if message in self.warnings:
            return
        self.warnings.append(message)
        self.issues.append(Issue(severity, code, self.entity, message, suggestion, location))

    def info(self, code: IssueCode, message: str, suggestion: str = "") -> None:
        self.warn(code, message, suggestion, severity=Severity.INFO)
