"""An entity result's findings (its issues, warnings and error) as one list, each with one severity.

The engine reports most things twice: every warning or note is a line of text (``warnings``) and a coded
issue with its severity (``issues``: an info note is a warning line too), and a failed or skipped entity's
error is also an issue (``entity_failed``: error, ``entity_skipped``: warning). Pages that read the two
lists apart called one note "info" on one page and "warning" on another. ``findings_of`` is the one rule
the entity page, the run page and the comparison all read: an issue's own severity; a warning line no
issue carries (runs stored before issues were) is a warning; an error no issue carries is an error, a
warning for a skipped entity (as the engine's ``entity_skipped`` issue and the event log say) or a note for
a cancelled one (``ERROR_SEVERITY``).
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from shapeshift import EntityStatus
from shapeshift.issues import Severity

SEVERITIES = tuple(severity.value for severity in Severity)  # gravest first: the order pages list them in
# A count in a message: a number standing alone ("3 rows", "1,204 of 5,000", "12.5 %"), not part of a name
# ("site_2", "KoordZ2") nor a numbered reference ("foreign key #1"), which say which thing, not how many.
COUNT = re.compile(r"(?<![\w#.,])\d+(?:[.,]\d+)*(?![\w])")


# The severity of an entity's error that no issue carries, by the entity's status: a skipped entity's
# reason is a warning (as the engine's entity_skipped issue says), a cancelled one's a note (the user asked
# for it); any other (failed, crashed) an error.
ERROR_SEVERITY = {EntityStatus.SKIPPED: Severity.WARNING, EntityStatus.CANCELLED: Severity.INFO}


def severity_of(value) -> str:
    """A stored severity as one of SEVERITIES; anything else (missing, misspelt) reads as a warning."""
    value = str(value or "").lower()
    return value if value in SEVERITIES else Severity.WARNING.value


@dataclass(frozen=True)
class Finding:
    """An issue, warning or error of one entity (``entity`` "" for the run itself).

    Equal findings have the same severity, entity and message: the code is left out, so an issue whose
    code was split off for its own meaning (stored under the old code on older runs) still equals itself.
    """

    severity: str
    entity: str
    message: str
    code: str = field(default="", compare=False)
    location: str = field(default="", compare=False)
    suggestion: str = field(default="", compare=False)

    @property
    def counts(self) -> list[str]:
        """The counts in the message, in order ("3 rows dropped": ["3"])."""
        return COUNT.findall(self.message)

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What makes two findings the same problem, its counts aside: code, entity, location and the
        message with each count blanked ("# rows dropped")."""
        return (self.code, self.entity, self.location, COUNT.sub("#", self.message))


def findings_of(result) -> list[Finding]:
    """The findings of an EntityResult (``issues``, ``warnings``, ``error``), each once, issues first.

    Reads the result's fields only: no query (``issues`` must not be deferred).
    """
    found = [
        Finding(
            severity=severity_of(issue.get("severity")),
            entity=result.entity,
            message=str(issue.get("message") or ""),
            code=str(issue.get("code") or ""),
            location=str(issue.get("location") or ""),
            suggestion=str(issue.get("suggestion") or ""),
        )
        for issue in result.issues or []
        if isinstance(issue, dict)
    ]
    told = {finding.message for finding in found}
    found += [
        Finding(Severity.WARNING.value, result.entity, str(warning))
        for warning in result.warnings or []
        if str(warning) not in told
    ]
    if result.error and result.error not in told:
        severity = ERROR_SEVERITY.get(result.status, Severity.ERROR)
        found.append(Finding(severity.value, result.entity, result.error))
    return found


def severity_counts(findings: list[Finding]) -> list[tuple[str, int]]:
    """(severity, how many) for the severities present, gravest first."""
    counted = Counter(finding.severity for finding in findings)
    return [(severity, counted[severity]) for severity in SEVERITIES if counted[severity]]
