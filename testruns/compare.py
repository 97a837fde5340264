"""Comparing two runs: per-entity status, rows, columns, duration and issue deltas.

Each entity's findings come with the one severity rule of ``testruns.findings``; a finding whose counts
changed ("3 rows" then "5 rows") is one changed finding, matched by its identity (``Finding.identity``).

The rows themselves are compared by ``testruns.diffs`` (the whole stored tables, matched by identity).
Plain functions and dataclasses; ``fetch_runs`` is the only part that queries the database (two queries).
``compare_runs`` works on what it is given.
"""

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.urls import reverse

from testruns.findings import Finding
from testruns.models import EntityResult, TestRun


class RunNotFound(LookupError):
    """A run id that names no run; ``role`` says which side (base or head)."""

    def __init__(self, role: str, run_id):
        super().__init__(f"No run {run_id} ({role}).")
        self.role = role


def fetch_runs(base_id, head_id) -> tuple[TestRun, TestRun]:
    """Both runs with their configuration, version, requester and entity results (``with_results``):
    two queries.

    Raises RunNotFound naming the side whose id is unknown. ``base_id`` may equal ``head_id``.
    """
    runs = {run.pk: run for run in TestRun.objects.with_results().filter(pk__in={base_id, head_id})}
    for role, run_id in (("base", base_id), ("head", head_id)):
        if run_id not in runs:
            raise RunNotFound(role, run_id)
    return runs[base_id], runs[head_id]


# --- findings: issues, warnings and errors, matched across runs ---------------------------------------


@dataclass(frozen=True)
class FindingChange:
    """One finding in both runs whose counts (or severity) changed: "3 rows dropped" then "5 rows dropped".
    Pages show the head's side."""

    base: Finding
    head: Finding

    @property
    def count_changes(self) -> list[tuple[str, str]]:
        """(before, after) of each count that differs, in the message's order: [("3", "5")]."""
        return [(b, h) for b, h in zip(self.base.counts, self.head.counts, strict=False) if b != h]

    @property
    def severity_changed(self) -> bool:
        return self.base.severity != self.head.severity


@dataclass
class FindingsDiff:
    """What became of the findings from base to head: ``new`` (head's order), ``resolved`` (base's order),
    ``changed`` (the same problem with other counts, head's order)."""

    new: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    changed: list[FindingChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.resolved or self.changed)


def diff_findings(base: list[Finding], head: list[Finding]) -> FindingsDiff:
    """Match base's findings with head's, as multisets, in two rounds.

    First identical findings pair off (severity, entity, message; the code is left out, see ``Finding``).
    Then those of one identity (``Finding.identity``: code, entity, location and the message without its
    counts) pair off in order as changes: 3 rows before and 5 now is one changed finding, not a new one
    and a resolved one. What is left is new (head) or resolved (base).
    """
    waiting: dict[Finding, deque] = defaultdict(deque)
    for i, finding in enumerate(base):
        waiting[finding].append(i)
    matched, unmatched_head = set(), []
    for finding in head:
        if waiting[finding]:
            matched.add(waiting[finding].popleft())
        else:
            unmatched_head.append(finding)
    by_identity: dict[tuple, deque] = defaultdict(deque)
    for i, finding in enumerate(base):
        if i not in matched:
            by_identity[finding.identity].append(i)
    diff = FindingsDiff()
    for finding in unmatched_head:
        same = by_identity[finding.identity]
        if same:
            i = same.popleft()
            matched.add(i)
            diff.changed.append(FindingChange(base[i], finding))
        else:
            diff.new.append(finding)
    diff.resolved = [finding for i, finding in enumerate(base) if i not in matched]
    return diff


# --- one entity, then the whole run ------------------------------------------------------------------------


def _delta(base, head):
    return None if base is None or head is None else head - base


@dataclass
class EntityComparison:
    """One entity in the base run, the head run or both; the deltas read head minus base."""

    name: str
    base: EntityResult | None
    head: EntityResult | None
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)
    dtype_changes: list[tuple[str, str, str]] = field(default_factory=list)  # column, base dtype, head dtype
    findings: FindingsDiff = field(default_factory=FindingsDiff)
    table_differs: bool = False  # rows differ in the kept diff of the stored tables (``RunDiff``)

    @property
    def presence(self) -> str:
        """One of "both", "base only" or "head only"."""
        if self.base is None:
            return "head only"
        return "base only" if self.head is None else "both"

    @property
    def status_changed(self) -> bool:
        return self.presence == "both" and self.base.status != self.head.status

    @property
    def rows_in_delta(self) -> int | None:
        return _delta(self.base and self.base.rows_in, self.head and self.head.rows_in)

    @property
    def rows_out_delta(self) -> int | None:
        return _delta(self.base and self.base.rows_out, self.head and self.head.rows_out)

    @property
    def duration_delta_ms(self) -> int | None:
        return _delta(self.base and self.base.duration_ms, self.head and self.head.duration_ms)

    @property
    def columns_changed(self) -> bool:
        return bool(self.added_columns or self.removed_columns or self.dtype_changes)

    @property
    def has_changes(self) -> bool:
        """Anything but the duration differs (durations always do): presence, status, row counts, columns,
        findings or, once the stored tables are diffed, their rows."""
        return (
            self.presence != "both"
            or self.status_changed
            or bool(self.rows_in_delta)
            or bool(self.rows_out_delta)
            or self.columns_changed
            or bool(self.findings)
            or self.table_differs
        )


def compare_entity(
    name: str, base: EntityResult | None, head: EntityResult | None, table_differs: bool = False
) -> EntityComparison:
    comparison = EntityComparison(name, base, head, table_differs=table_differs)
    comparison.findings = diff_findings(
        base.findings if base is not None else [], head.findings if head is not None else []
    )
    if base is None or head is None:
        return comparison
    base_columns, head_columns = list(base.columns or []), list(head.columns or [])
    comparison.added_columns = [c for c in head_columns if c not in set(base_columns)]
    comparison.removed_columns = [c for c in base_columns if c not in set(head_columns)]
    base_dtypes, head_dtypes = base.dtypes or {}, head.dtypes or {}
    comparison.dtype_changes = [
        (c, base_dtypes[c], head_dtypes[c])
        for c in head_columns
        if c in base_dtypes and c in head_dtypes and base_dtypes[c] != head_dtypes[c]
    ]
    return comparison


@dataclass
class RunComparison:
    """What changed from ``base`` to ``head``, entity by entity (head's order, then entities only in base)."""

    base: TestRun
    head: TestRun
    entities: list[EntityComparison]
    run_findings: FindingsDiff = field(default_factory=FindingsDiff)  # of the run-level errors
    tables_diffed: bool = False  # whether ``table_differs`` is known (the diff of the tables is done)

    @property
    def same_configuration(self) -> bool:
        return self.base.configuration_id == self.head.configuration_id

    @property
    def same_version(self) -> bool:
        return self.base.version_id == self.head.version_id

    @property
    def version_diff_url(self) -> str | None:
        """The configuration's version diff page when the runs ran different versions of it, or None."""
        if not self.same_configuration or self.same_version:
            return None
        name, a, b = self.base.configuration.name, self.base.version.number, self.head.version.number
        return reverse("configurations:diff", args=(name, a, b))

    @property
    def duration_delta_ms(self) -> int | None:
        return _delta(self.base.total_time_ms, self.head.total_time_ms)

    @property
    def only_in_base(self) -> list[EntityComparison]:
        return [e for e in self.entities if e.presence == "base only"]

    @property
    def only_in_head(self) -> list[EntityComparison]:
        return [e for e in self.entities if e.presence == "head only"]

    @property
    def status_changes(self) -> list[EntityComparison]:
        return [e for e in self.entities if e.status_changed]

    @property
    def changed(self) -> list[EntityComparison]:
        return [e for e in self.entities if e.has_changes]

    @property
    def unchanged(self) -> list[EntityComparison]:
        return [e for e in self.entities if not e.has_changes]

    @property
    def new_findings(self) -> list[Finding]:
        return self.run_findings.new + [f for e in self.entities for f in e.findings.new]

    @property
    def resolved_findings(self) -> list[Finding]:
        return self.run_findings.resolved + [f for e in self.entities for f in e.findings.resolved]

    @property
    def changed_findings(self) -> list[FindingChange]:
        return self.run_findings.changed + [f for e in self.entities for f in e.findings.changed]

    @property
    def same_options(self) -> bool:
        """Whether the runs read the same rows for the same entities (``TestRun.comparison_key``)."""
        return self.base.comparison_key == self.head.comparison_key


def compare_runs(base: TestRun, head: TestRun, tables_differ: Iterable[str] | None = None) -> RunComparison:
    """Compare two runs entity by entity.

    ``tables_differ`` names the entities whose stored tables differ (``RunDiff.differing``), once their diff
    is done; None while it is not known. Reads ``run.entity_results.all()`` of each run, so prefetch them
    (``fetch_runs``) to keep it query-free.
    """
    base_results = {result.entity: result for result in base.entity_results.all()}
    head_results = {result.entity: result for result in head.entity_results.all()}
    names = list(head_results) + [name for name in base_results if name not in head_results]
    differ = set(tables_differ or ())
    entities = [
        compare_entity(name, base_results.get(name), head_results.get(name), name in differ) for name in names
    ]
    run_base = [Finding("error", "", base.error_message)] if base.error_message else []
    run_head = [Finding("error", "", head.error_message)] if head.error_message else []
    return RunComparison(
        base, head, entities, diff_findings(run_base, run_head), tables_diffed=tables_differ is not None
    )
