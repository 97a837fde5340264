"""Run results and the observer interface the host (Django) plugs into."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum, unique

import pandas as pd

from ..issues import Issue


@unique
class EntityStatus(StrEnum):
    """How one entity of a run ended: the engine's whole outcome vocabulary.

    A StrEnum, so a status equals the string stored in the database and written to JSON; the host app
    adds its own states on top (pending, running, crashed) and never redefines these.
    """

    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"  # not processed: something it needs failed, or stop_on_error stopped the run
    CANCELLED = "cancelled"


@dataclass
class EntityOutcome:
    """What happened to one entity of a run.

    role: 'requested' | 'dependency'. `table` is the processed (pre-finalisation) table, or None when
    not kept.
    """

    name: str
    status: EntityStatus
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

    def __post_init__(self) -> None:
        self.status = EntityStatus(self.status)  # a plain string is accepted; a typo fails here, not later

    def to_dict(self) -> dict:
        """JSON-ready summary (without the table)."""
        return {
            "name": self.name,
            "status": str(self.status),
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
        return not self.cancelled and all(o.status == EntityStatus.SUCCESS for o in self.outcomes)


class Observer:
    """Hooks called during a run; every method is a no-op here. Subclass and override."""

    def entity_started(self, name: str) -> None:
        """Processing of `name` begins."""

    def entity_phase(self, name: str, phase: str, rows: int | None = None) -> None:
        """A phase of one entity begins.

        Phases: 'load' and 'subset' (once per part: the entity, then each append item), 'filter',
        'link', 'unnest', 'dedupe', 'drop_empty_rows'. should_stop() is polled right after.
        `rows`: the rows of the table the phase starts from, when the engine knows them without work:
        the part's source rows at 'subset', the entity's working table at the later phases; None at
        'load' (nothing is read yet).
        """

    def entity_finished(self, outcome: EntityOutcome) -> None:
        """An entity's outcome is known (any status); called exactly once per planned entity.

        In a format-2 run an entity whose foreign keys wait for a later entity (format-v2.md 12.5) is
        finished once those links are made or given up, so other entities may start before it finishes.
        """

    def should_stop(self) -> bool:
        """Polled between entities and phases, and every few hundred columns inside a phase; True
        cancels the run (keep it cheap: it may be called often)."""
        return False
