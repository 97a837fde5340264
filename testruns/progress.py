"""How far a run is, in entities and in rows, and how long it still needs: what the run page, its polled
status section and the API's progress object show.

Rows and time to come are only known from a run that did the same before: the run's **reference**, its last
comparable run (``TestRun.comparable_run``: same configuration, same rows per input, entities and input).
Without one, the rows read so far are shown without a total, and the time left is the mean time of the
finished entities times the entities left; with nothing finished yet, nothing is said.

Of the entity at work the worker notes its phase, the rows that phase started from and the rows it has read
from its sources so far (``RunObserver.entity_phase``), when the engine knows them. ``working_on`` says it in
the run page's words for ``show_run``, ``run_test --wait`` and the admin.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from testruns.models import EntityResult, TestRun
from testruns.templatetags.shiftbench import count

UNFINISHED = (EntityResult.Status.PENDING, EntityResult.Status.RUNNING)
# What the pages say an entity is doing in each phase the engine reports (``Observer.entity_phase``).
PHASE_WORDS = {
    "load": "loading",
    "subset": "extracting",
    "filter": "filtering",
    "link": "linking",
    "unnest": "unnesting",
    "dedupe": "removing duplicates",
    "drop_empty_rows": "dropping empty rows",
}


@dataclass(frozen=True)
class Expected:
    """What one entity did in the reference run: the rows it read and the time it took."""

    rows_in: int | None
    duration_ms: int | None


@dataclass(frozen=True)
class Reference:
    """A run's last comparable run, entity by entity (only the entities that succeeded in it)."""

    run_id: UUID
    entities: dict[str, Expected]

    @property
    def short_id(self) -> str:
        return str(self.run_id)[:8]

    @classmethod
    def of(cls, run: TestRun) -> "Reference | None":
        """The reference of an active run, found and loaded: two queries; none for a finished run."""
        if not run.is_active:
            return None
        comparable = run.comparable_run()
        return None if comparable is None else cls.load(run, comparable.pk)

    @classmethod
    def load(cls, run: TestRun, run_id) -> "Reference | None":
        """The reference whose id the page already knows (the poll's cursor): one query, none for a run
        that has ended. None when ``run_id`` is no run of the same configuration."""
        if not run.is_active or not run_id:
            return None
        rows = EntityResult.objects.filter(
            run_id=run_id, run__configuration_id=run.configuration_id, status=EntityResult.Status.SUCCESS
        ).values_list("entity", "rows_in", "duration_ms")
        entities = {entity: Expected(rows_in, duration_ms) for entity, rows_in, duration_ms in rows}
        return cls(UUID(str(run_id)), entities) if entities else None


@dataclass(frozen=True)
class Phase:
    """What the entity at work is doing: the engine's name of its phase, and the rows of the table that
    phase started from (None when the engine does not know them, as while it loads)."""

    name: str
    rows: int | None

    @classmethod
    def of(cls, run: TestRun) -> "Phase | None":
        """The phase the worker last noted on ``run``; no query.

        None when it noted none or the run has ended. An entity's finish clears its phase in the same write
        (``RunObserver.entity_finished``), so the run alone never says the phase of a finished entity.
        """
        return cls(run.current_phase, run.current_rows) if run.is_active and run.current_phase else None

    @property
    def words(self) -> str:
        return PHASE_WORDS.get(self.name, self.name)

    @property
    def text(self) -> str:
        """ "linking 945,600 rows", "loading": what the run page says the entity at work is doing."""
        if self.rows is None:
            return self.words
        return f"{self.words} {count(self.rows)} row{'' if self.rows == 1 else 's'}"


def working_on(run: TestRun, phase: Phase | None) -> str:
    """What the run page says of ``run``'s entity at work, as plain text for the commands and the admin.

    "working on result_base — linking 945,600 rows"; "working on site" without a phase; "" when no
    entity is at work (the run is pending or has ended). No query.
    """
    if not (run.is_active and run.current_entity):
        return ""
    return f"working on {run.current_entity}" + (f" — {phase.text}" if phase else "")


@dataclass(frozen=True)
class Progress:
    """A run's progress at one moment. Built by ``progress_of``; no query."""

    entities_completed: int
    entities_total: int
    percent: int
    rows_read: int  # rows read by the finished entities
    rows_current: int | None  # rows the entity at work has read from its sources so far, once it knows
    rows_expected: int | None  # rows the whole run will read, when the reference says so for every entity
    eta: timedelta | None
    current: Expected | None  # what the entity being worked on did in the reference run
    reference: Reference | None
    phase: Phase | None  # what the entity at work is doing, once the worker said so


def progress_of(run: TestRun, results, reference: Reference | None = None) -> Progress:
    """``run``'s progress from its entity results (loaded, in any order) and its reference, if any."""
    results = list(results)
    expected = reference.entities if reference else {}
    finished = [r for r in results if r.status not in UNFINISHED]
    unfinished = [r for r in results if r.status in UNFINISHED]
    rows_read = sum(r.rows_in or 0 for r in finished)
    rows_expected = None
    if run.is_active and unfinished and all(_known(expected, r.entity, "rows_in") for r in unfinished):
        rows_expected = rows_read + sum(expected[r.entity].rows_in for r in unfinished)
    current = expected.get(run.current_entity) if run.is_active and run.current_entity else None
    # the worker's notes are about the entity at work only while its result is unfinished: else its rows
    # are in rows_read already
    at_work = run.is_active and any(r.entity == run.current_entity for r in unfinished)
    return Progress(
        entities_completed=run.entities_completed,
        entities_total=run.entities_total,
        percent=run.progress_percent,
        rows_read=rows_read,
        rows_current=run.current_rows_in if at_work else None,
        rows_expected=rows_expected,
        eta=_eta(run, finished, unfinished, expected),
        current=current,
        reference=reference,
        phase=Phase.of(run) if at_work else None,
    )


def _known(expected: dict, entity: str, field: str) -> bool:
    return entity in expected and getattr(expected[entity], field) is not None


def _eta(run: TestRun, finished, unfinished, expected: dict) -> timedelta | None:
    """The time left; zero once the run has ended, None when nothing is known to estimate it from.

    With the reference's duration of every entity still to do: those durations, scaled by how this run's
    finished entities compare with theirs in the reference (a slower machine, a busier worker), less the
    time already spent on the entity at work. Else the mean time of this run's finished entities times the
    entities left; before any entity has a duration, the elapsed time per completed entity.
    """
    if not run.is_active:
        return timedelta(0) if run.started_at else None
    remaining = run.entities_total - run.entities_completed
    if run.started_at is None or not run.entities_total or remaining <= 0:
        return None
    timed = [r for r in finished if r.duration_ms is not None]
    spent = sum(r.duration_ms for r in timed)
    if unfinished and all(_known(expected, r.entity, "duration_ms") for r in unfinished):
        compared = [r for r in timed if _known(expected, r.entity, "duration_ms")]
        reference_ms = sum(expected[r.entity].duration_ms for r in compared)
        pace = sum(r.duration_ms for r in compared) / reference_ms if reference_ms else 1.0
        left = sum(expected[r.entity].duration_ms for r in unfinished) * pace
        running = [r for r in unfinished if r.status == EntityResult.Status.RUNNING]
        if running:  # entities run one after the other: what is not in the finished ones went to this one
            in_current = max(run.elapsed.total_seconds() * 1000 - spent, 0)
            left -= min(in_current, expected[running[0].entity].duration_ms * pace)
        return timedelta(milliseconds=max(left, 0))
    if timed:
        return timedelta(milliseconds=spent / len(timed) * remaining)
    if run.entities_completed:
        return run.elapsed / run.entities_completed * remaining
    return None
