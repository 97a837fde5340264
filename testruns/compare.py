"""Comparing two runs: per-entity status, rows, columns, duration and issue deltas, and a preview row diff.

Plain functions and dataclasses; ``fetch_runs`` is the only part that queries the database (two queries),
``entity_keys`` may load the versions' projects (files, and one query per version the first time a bundle is
built on this machine). ``compare_runs`` works on what it is given.
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


@dataclass(frozen=True)
class EntityKeys:
    """What identifies an entity's rows: its declared ``keys`` and its surrogate id column."""

    keys: tuple[str, ...] = ()
    surrogate_id: str | None = None


def entity_keys(*versions) -> dict[str, EntityKeys]:
    """Each entity's keys, read from the versions' projects (a later version's spec wins).

    A version whose configuration no longer loads contributes nothing: its row diffs fall back to the
    surrogate id or the whole row. A version never changes, so its keys are remembered per process by its
    hash: loading a project is most of the comparison page's time (about 170 ms for the 55 Arbodat entities).
    """
    found: dict[str, EntityKeys] = {}
    for version in versions:
        found.update(_version_keys(version))
    return found


_KEYS_CACHE: dict[tuple, dict[str, EntityKeys]] = {}
_KEYS_CACHE_SIZE = 64


def _version_keys(version) -> dict[str, EntityKeys]:
    # The bundle's hash and how it is read (a forced format, bundled variables) decide what loads.
    cache_key = (
        version.sha256,
        version.main_file,
        version.forced_format,
        tuple(version.path_variables.items()),
    )
    if cache_key in _KEYS_CACHE:
        return _KEYS_CACHE[cache_key]
    try:
        entities = version.project.entities
    except Exception:  # a ConfigError, or a bundled file gone missing: no keys, not a broken page
        return {}  # not remembered: the next page tries again
    keys = {}
    for name, spec in entities.items():
        # the identity column: surrogate_id in format 1, public_id in format 2 (format-v2.md 5.2)
        surrogate = spec.identity if isinstance(spec.identity, str) else None
        keys[name] = EntityKeys(tuple(key for key in spec.keys or [] if isinstance(key, str)), surrogate)
    if len(_KEYS_CACHE) >= _KEYS_CACHE_SIZE:
        _KEYS_CACHE.pop(next(iter(_KEYS_CACHE)))
    _KEYS_CACHE[cache_key] = keys
    return keys


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


# --- row diff of the previews ---------------------------------------------------------------------------


@dataclass
class RowChange:
    """A row present in both previews (same key) whose cells differ."""

    key: tuple
    cells: list[tuple[str, object, object, bool]]  # column, base value, head value, differs

    @property
    def changed_columns(self) -> list[str]:
        return [column for column, _, _, differs in self.cells if differs]


@dataclass
class RowDiff:
    """Added, removed and changed rows between two previews, matched on ``key_columns``.

    ``key_source`` says where the key came from: "keys" (the entity's declared keys), "surrogate id", or
    "whole row" (no usable key: rows match only when identical, so nothing shows as changed).
    ``complete`` is False when a preview holds fewer rows than its run produced: then a row "removed" or
    "added" may only have moved out of, or into, the first rows.
    """

    key_columns: list[str]
    key_source: str
    columns: list[str]
    added: list[list] = field(default_factory=list)
    removed: list[list] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    unchanged: int = 0
    base_rows: int = 0
    head_rows: int = 0
    complete: bool = True

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def change_count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


def diff_rows(base: EntityResult, head: EntityResult, keys: EntityKeys | None = None) -> RowDiff:
    """The row diff of two entity results' previews, keyed as the entity's spec says.

    1. The declared ``keys`` when every key column is in both previews and identifies one row in each;
    2. else the surrogate id column, on the same conditions (and no empty values);
    3. else the whole row over the columns both share.
    Cells are compared over the shared columns; added and removed columns are the column delta's business.
    """
    base_columns, head_columns = list(base.columns or []), list(head.columns or [])
    shared = [column for column in head_columns if column in set(base_columns)]
    base_rows = [dict(zip(base_columns, row, strict=False)) for row in base.preview or []]
    head_rows = [dict(zip(head_columns, row, strict=False)) for row in head.preview or []]
    complete = (base.rows_out is None or len(base_rows) >= base.rows_out) and (
        head.rows_out is None or len(head_rows) >= head.rows_out
    )
    source, key_columns = _choose_key(keys or EntityKeys(), shared, base_rows, head_rows)
    diff = RowDiff(
        key_columns, source, shared, base_rows=len(base_rows), head_rows=len(head_rows), complete=complete
    )
    if not key_columns:
        return _diff_whole_rows(diff, base_rows, head_rows)
    base_by_key = {_key(row, key_columns): row for row in base_rows}
    head_keys = set()
    for row in head_rows:
        key = _key(row, key_columns)
        head_keys.add(key)
        old = base_by_key.get(key)
        if old is None:
            diff.added.append([row.get(column) for column in shared])
            continue
        cells = [(column, old.get(column), row.get(column)) for column in shared]
        cells = [(column, before, after, before != after) for column, before, after in cells]
        if any(differs for *_, differs in cells):
            diff.changed.append(RowChange(key, cells))
        else:
            diff.unchanged += 1
    diff.removed = [
        [row.get(column) for column in shared] for row in base_rows if _key(row, key_columns) not in head_keys
    ]
    return diff


def _choose_key(keys: EntityKeys, shared, base_rows, head_rows) -> tuple[str, list[str]]:
    candidates = [("keys", list(keys.keys))]
    if keys.surrogate_id:
        candidates.append(("surrogate id", [keys.surrogate_id]))
    for source, columns in candidates:
        if columns and all(_identifies(columns, shared, rows) for rows in (base_rows, head_rows)):
            return source, columns
    return "whole row", []


def _identifies(key_columns, shared, rows) -> bool:
    if any(column not in shared for column in key_columns):
        return False
    keys = [_key(row, key_columns) for row in rows]
    return len(set(keys)) == len(keys) and not any(value is None for key in keys for value in key)


def _key(row: dict, key_columns) -> tuple:
    return tuple(_hashable(row.get(column)) for column in key_columns)


def _hashable(value):
    return repr(value) if isinstance(value, (list, dict)) else value


def _diff_whole_rows(diff: RowDiff, base_rows, head_rows) -> RowDiff:
    def as_tuple(row):
        return tuple(_hashable(row.get(column)) for column in diff.columns)

    left = Counter(as_tuple(row) for row in base_rows)
    for row in head_rows:
        values = as_tuple(row)
        if left[values]:
            left[values] -= 1
            diff.unchanged += 1
        else:
            diff.added.append([row.get(c) for c in diff.columns])
    for row in base_rows:
        values = as_tuple(row)
        if left[values]:
            left[values] -= 1
            diff.removed.append([row.get(c) for c in diff.columns])
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
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)
    rows: RowDiff | None = None

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
            or bool(self.rows and self.rows.has_changes)
        )


def compare_entity(
    name: str, base: EntityResult | None, head: EntityResult | None, keys: EntityKeys | None = None
) -> EntityComparison:
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
    if base.preview or head.preview:
        comparison.rows = diff_rows(base, head, keys)
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
    def row_diffs(self) -> list[EntityComparison]:
        return [e for e in self.entities if e.rows is not None and e.rows.has_changes]


def compare_runs(base: TestRun, head: TestRun, keys: dict[str, EntityKeys] | None = None) -> RunComparison:
    """Compare two runs entity by entity; ``keys`` is ``entity_keys(...)``'s answer (None: no declared keys).

    Reads ``run.entity_results.all()`` of each run, so prefetch them (``fetch_runs``) to keep it query-free.
    """
    keys = keys or {}
    base_results = {result.entity: result for result in base.entity_results.all()}
    head_results = {result.entity: result for result in head.entity_results.all()}
    names = list(head_results) + [name for name in base_results if name not in head_results]
    entities = [
        compare_entity(name, base_results.get(name), head_results.get(name), keys.get(name)) for name in names
    ]
    run_base = [Finding("error", "", base.error_message)] if base.error_message else []
    run_head = [Finding("error", "", head.error_message)] if head.error_message else []
    return RunComparison(base, head, entities, diff_findings(run_base, run_head))
