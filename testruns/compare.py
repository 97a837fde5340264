"""Comparing two runs: per-entity status, rows, columns, duration and issue deltas.

The rows themselves are compared by ``testruns.diffs`` (the whole stored tables, matched by identity).
Plain functions and dataclasses; ``fetch_runs`` is the only part that queries the database (two queries).
``compare_runs`` works on what it is given.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.urls import reverse

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
class Finding:
    """An issue, warning or error of one entity (``entity`` "" for the run itself).

    Equal findings have the same kind, entity and message: the code is left out, so an issue whose code
    was split off for its own meaning (stored under the old code on older runs) still matches itself.
    """

    kind: str  # issue severity (error, warning, info), "warning" or "error"
    entity: str
    message: str
    code: str = field(default="", compare=False)

    @property
    def match_key(self) -> tuple[str, str]:
        return (self.code or self.message, self.entity)


def findings_of(result: EntityResult) -> list[Finding]:
    found = [
        Finding(
            kind=str(issue.get("severity") or "issue"),
            entity=result.entity,
            message=str(issue.get("message") or ""),
            code=str(issue.get("code") or ""),
        )
        for issue in result.issues or []
        if isinstance(issue, dict)
    ]
    found += [Finding("warning", result.entity, str(warning)) for warning in result.warnings or []]
    if result.error:
        found.append(Finding("error", result.entity, result.error))
    return found


def diff_findings(base: list[Finding], head: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(new, resolved): head's findings with no match in base, and base's with none in head.

    Matched by (code or message, entity), as multisets: first identical findings pair off, then findings
    with the same code on the same entity (the same problem, reworded). Order follows each input.
    """
    base_left, head_left = Counter(base), Counter(head)
    exact = base_left & head_left
    base_left -= exact
    head_left -= exact
    by_key_base = Counter()
    for finding, count in base_left.items():
        by_key_base[finding.match_key] += count
    by_key_head = Counter()
    for finding, count in head_left.items():
        by_key_head[finding.match_key] += count
    same = by_key_base & by_key_head
    return _unmatched(head, exact, same), _unmatched(base, exact, same)


def _unmatched(findings: list[Finding], exact: Counter, same_key: Counter) -> list[Finding]:
    exact, same_key, left = Counter(exact), Counter(same_key), []
    for finding in findings:
        if exact[finding]:
            exact[finding] -= 1
        elif same_key[finding.match_key]:
            same_key[finding.match_key] -= 1
        else:
            left.append(finding)
    return left


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
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)

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
        """Anything but the duration differs (durations always do)."""
        return (
            self.presence != "both"
            or self.status_changed
            or bool(self.rows_in_delta)
            or bool(self.rows_out_delta)
            or self.columns_changed
            or bool(self.new_findings or self.resolved_findings)
        )


def compare_entity(name: str, base: EntityResult | None, head: EntityResult | None) -> EntityComparison:
    comparison = EntityComparison(name, base, head)
    base_findings = findings_of(base) if base is not None else []
    head_findings = findings_of(head) if head is not None else []
    comparison.new_findings, comparison.resolved_findings = diff_findings(base_findings, head_findings)
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
    run_findings: tuple[list[Finding], list[Finding]] = ([], [])  # new, resolved run-level errors

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
    def new_findings(self) -> list[Finding]:
        return self.run_findings[0] + [f for e in self.entities for f in e.new_findings]

    @property
    def resolved_findings(self) -> list[Finding]:
        return self.run_findings[1] + [f for e in self.entities for f in e.resolved_findings]

    @property
    def same_options(self) -> bool:
        """Whether the runs read the same rows for the same entities (``TestRun.comparison_key``)."""
        return self.base.comparison_key == self.head.comparison_key


def compare_runs(base: TestRun, head: TestRun) -> RunComparison:
    """Compare two runs entity by entity.

    Reads ``run.entity_results.all()`` of each run, so prefetch them (``fetch_runs``) to keep it query-free.
    """
    base_results = {result.entity: result for result in base.entity_results.all()}
    head_results = {result.entity: result for result in head.entity_results.all()}
    names = list(head_results) + [name for name in base_results if name not in head_results]
    entities = [compare_entity(name, base_results.get(name), head_results.get(name)) for name in names]
    run_base = [Finding("error", "", base.error_message)] if base.error_message else []
    run_head = [Finding("error", "", head.error_message)] if head.error_message else []
    return RunComparison(base, head, entities, diff_findings(run_base, run_head))
