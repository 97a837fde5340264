"""Run results and the observer interface the host (Django) plugs into."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..issues import Issue


@dataclass
class EntityOutcome:
    """What happened to one entity of a run.

    status: 'success' | 'failed' | 'skipped' | 'cancelled'; role: 'requested' | 'dependency'.
    `table` is the processed (pre-finalisation) table, or None when not kept.
    """

    name: str
    status: str
    role: str
    rows_in: int | None = None
    rows_out: int | None = None
    columns: list[str] = field(default_factory=list)
    dtypes: dict[str, str] = field(default_factory=dict)
    duration_ms: int = 0
    warnings: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None
    table: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary (without the table)."""
        return {
            "name": self.name,
            "status": self.status,
            "role": self.role,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "columns": list(self.columns),
            "dtypes": dict(self.dtypes),
            "duration_ms": self.duration_ms,
            "warnings": list(self.warnings),
            "issues": [issue.to_dict() for issue in self.issues],
            "error": self.error,
            "traceback": self.traceback,
        }


@dataclass
class RunResult:
    """Outcomes in plan order and the final (finalised) tables of the succeeded entities."""

    outcomes: list[EntityOutcome]
    tables: dict[str, pd.DataFrame]
    cancelled: bool = False
    duration_ms: int = 0

    def outcome(self, name: str) -> EntityOutcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(name)

    @property
    def ok(self) -> bool:
        """True when nothing failed and the run was not cancelled."""
        return not self.cancelled and all(o.status == "success" for o in self.outcomes)


class Observer:
    """Hooks called during a run; every method is a no-op here. Subclass and override."""

    def entity_started(self, name: str) -> None:
        """Processing of `name` begins."""

    def entity_phase(self, name: str, phase: str) -> None:
        """A phase of one entity begins.

        Phases: 'load' and 'subset' (once per part: the entity, then each append item), 'filter',
        'link', 'unnest', 'dedupe', 'drop_empty_rows'. should_stop() is polled right after.
        """

    def entity_finished(self, outcome: EntityOutcome) -> None:
        """An entity's outcome is known (any status); called exactly once per planned entity."""

    def should_stop(self) -> bool:
        """Polled between entities and phases, and every few hundred columns inside a phase; True
        cancels the run (keep it cheap: it may be called often)."""
        return False
