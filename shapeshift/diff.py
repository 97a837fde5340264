"""Compare the tables of two runs row by row, matching rows by identity (never by `system_id`).

`system_id` is renumbered on every run, so a diff that compares it, or foreign-key columns holding it,
calls every row after a removed one changed. Here rows are matched on the entity's identity: its
`keys`, else its public-id values (when every row has one), else the target model's
`identity_columns`, else the whole row as a multiset. Foreign-key columns compare by the identity of
the parent row they point to, so parents are diffed before their children.

Tables are Arrow tables of CSV text (`read_table`) or Arrow copies read a column at a time (`ArrowFile`,
typed or dictionary-encoded, null for an empty field: it compares as ""); every step works
on whole columns (dictionary codes, 64-bit row hashes, Arrow comparisons); a run of a million rows
never becomes a million Python objects. A table byte-identical in both runs whose parents are all
unchanged is not read at all.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.ipc as ipc

SAMPLE_ROWS = 20
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EMPTY_FK = np.uint64(0)


def read_table(source: str | os.PathLike | BinaryIO) -> pa.Table:
    """A stored table (CSV with a header) with every column as text; empty fields are ""."""
    handle = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source  # noqa: SIM115
    try:
        header = next(csv.reader([handle.readline().decode("utf-8-sig")]), [])
        handle.seek(0)
        if not header:
            return pa.table({})
        options = pa_csv.ConvertOptions(
            column_types={name: pa.dictionary(pa.int32(), pa.string()) for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        return pa_csv.read_csv(handle, convert_options=options)
    finally:
        if handle is not source:
            handle.close()


class ArrowFile:
    """A table stored as an Arrow IPC file, read one column at a time when it is big.

    What a diff holds at once is then the columns it is working on, not two whole tables: the Arrow copy
    of a 50x run's `result_base` is 70 MB a side. A file under WHOLE_BELOW bytes is read whole at once:
    opening it again for each column would cost more than it saves (the 151 columns of a 1x survey). `open`
    gives a new binary file object each time it is called (a path is opened as a file). Offers what the
    diff uses of a `pa.Table`.
    """

    WHOLE_BELOW = 8 * 1024 * 1024

    def __init__(self, source: str | os.PathLike | Callable[[], BinaryIO]):
        self._open = source if callable(source) else (lambda: pa.OSFile(os.fspath(source)))
        self._whole: pa.Table | None = None
        with self._open() as handle:
            size = handle.size() if callable(getattr(handle, "size", None)) else handle.seek(0, os.SEEK_END)
            reader = ipc.open_file(handle)
            self.schema = reader.schema
            if size < self.WHOLE_BELOW:
                self._whole = reader.read_all()
        self.num_rows = len(self[self.schema.names[0]]) if self.schema.names else 0

    @property
    def column_names(self) -> list[str]:
        return self.schema.names

    def __getitem__(self, name: str) -> pa.ChunkedArray:
        if self._whole is not None:
            return self._whole[name]
        options = ipc.IpcReadOptions(included_fields=[self.schema.get_field_index(name)])
        with self._open() as handle:
            return ipc.open_file(handle, options=options).read_all().column(0)

    def take(self, indices: pa.Array) -> pa.Table:
        return pa.table({name: self[name].take(indices) for name in self.column_names})


@dataclass(frozen=True)
class Identity:
    """How rows of one entity are recognised across runs, and which columns point at parents."""

    keys: tuple[str, ...] = ()
    public_id: str | None = None
    identity_columns: tuple[str, ...] = ()
    foreign_keys: Mapping[str, str] = field(default_factory=dict)  # FK column -> parent entity


@dataclass
class StoredTable:
    """One run's table of an entity: how to read it, a digest of its bytes and its row count (if known)."""

    read: Callable[[], pa.Table | ArrowFile]
    digest: str | None = None
    rows: int | None = None


@dataclass
class EntityDiff:
    entity: str
    matched_on: str  # keys | public_id | identity_columns | row | absent_in_base | absent_in_head
    rows_base: int = 0
    rows_head: int = 0
    only_in_base: int = 0
    only_in_head: int = 0
    changed: int = 0
    unchanged: int = 0
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    column_match: dict[str, float] = field(default_factory=dict)  # % of matched rows with equal values
    samples: dict[str, list] = field(default_factory=dict)  # only_in_base / only_in_head / changed
    identical: bool = False  # byte-identical stored tables (not read)

    @property
    def differs(self) -> bool:
        return bool(
            self.only_in_base
            or self.only_in_head
            or self.changed
            or self.columns_added
            or self.columns_removed
        )

    def as_dict(self) -> dict:
        return {
            "entity": self.entity,
            "matched_on": self.matched_on,
            "rows_base": self.rows_base,
            "rows_head": self.rows_head,
            "only_in_base": self.only_in_base,
            "only_in_head": self.only_in_head,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "columns_added": self.columns_added,
            "columns_removed": self.columns_removed,
            "column_match": self.column_match,
            "samples": self.samples,
            "identical": self.identical,
        }


# --- hashing -------------------------------------------------------------------------------------
def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _fold(hashes: np.ndarray, codes: np.ndarray, position: int) -> np.ndarray:
    """Fold one column's codes into the row hashes; the column's position changes its multiplier."""
    with np.errstate(over="ignore"):
        return _mix(
            hashes ^ (codes.astype(np.uint64) * (np.uint64(2 * position + 1) * _GOLDEN | np.uint64(1)))
        )


def _distinct(column: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The column's distinct values, and each row's position among them (-1 where it is null).

    A dictionary-encoded column (an Arrow copy of a stored table) gives its own dictionary at no cost;
    any other column is encoded here.
    """
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)  # the chunks of a chunked array share one dictionary
    elif column.num_chunks > 1:
        column = column.unify_dictionaries()
    if not column.num_chunks:
        return pa.array([], column.type.value_type), np.empty(0, dtype=np.int64)
    indices = pa.chunked_array([chunk.indices for chunk in column.chunks])
    positions = pc.fill_null(indices, -1).to_numpy().astype(np.int64, copy=False)
    return column.chunk(0).dictionary, positions


def _text(values: pa.Array) -> pa.Array:
    """Values as the stored CSV writes them (a float as 1.0, a boolean as True): for a column stored
    with another type by the other run."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    if pa.types.is_floating(values.type) or pa.types.is_boolean(values.type):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], type=pa.string())
    return pc.cast(values, pa.string())


def _codes(base: pa.ChunkedArray, head: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for the values of one column in both runs: equal value, equal code.

    An empty value (null, or "" in text) is code 0 on both sides. Only the distinct values of each side
    are compared, so a dictionary-encoded copy is never decoded.
    """
    values_base, at_base = _distinct(base)
    values_head, at_head = _distinct(head)
    if values_base.type != values_head.type:
        values_base, values_head = _text(values_base), _text(values_head)
    values = pa.concat_arrays([values_base, values_head])
    encoded = pc.dictionary_encode(values)
    unified = encoded.indices.to_numpy(zero_copy_only=False).astype(np.uint64) + np.uint64(1)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        unified[pc.fill_null(pc.equal(values, ""), False).to_numpy(zero_copy_only=False)] = 0
    # position -1 (null) takes the appended 0
    lookup_base = np.append(unified[: len(values_base)], np.uint64(0))
    lookup_head = np.append(unified[len(values_base) :], np.uint64(0))
    return lookup_base[at_base], lookup_head[at_head]


def _has_empty(column: pa.ChunkedArray) -> bool:
    if column.null_count:
        return True
    if pa.types.is_dictionary(column.type):
        return any(pc.any(pc.equal(chunk.dictionary, "")).as_py() for chunk in column.chunks)
    return pa.types.is_string(column.type) and bool(pc.any(pc.equal(column, "")).as_py())


@dataclass
class _Parent:
    """A diffed parent: its rows' ids by system_id, to resolve children's FK columns."""

    system_ids: np.ndarray  # sorted float64
    row_ids: np.ndarray  # uint64, aligned with system_ids


def _numbers(column: pa.ChunkedArray) -> np.ndarray:
    """FK/system_id values as float64 (NaN where empty or text that is no number)."""
    values, at = _distinct(column)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        numbers = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    else:
        text = _text(values)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        try:
            numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            numbers = pd.to_numeric(pd.Series(text.to_numpy(zero_copy_only=False)), errors="coerce")
            numbers = numbers.to_numpy(dtype=np.float64)
    return np.append(numbers.astype(np.float64, copy=False), np.nan)[at]


def _fk_codes(column: pa.ChunkedArray, parent: _Parent) -> np.ndarray:
    """The parent row id each FK value points to; values pointing nowhere keep a code of their own."""
    values = _numbers(column)
    codes = np.full(len(values), _EMPTY_FK, dtype=np.uint64)
    found = np.zeros(len(values), dtype=bool)
    if len(parent.system_ids):
        position = np.clip(np.searchsorted(parent.system_ids, values), 0, len(parent.system_ids) - 1)
        found = parent.system_ids[position] == values
        codes[found] = parent.row_ids[position[found]]
    dangling = ~found & ~np.isnan(values)
    if dangling.any():  # points at no parent row: unequal to empty, equal only to the same number
        codes[dangling] = _mix(values[dangling].view(np.uint64))
    return codes


def _column_codes(
    name: str, base: pa.Table, head: pa.Table, identity: Identity, parents: tuple[dict, dict]
) -> tuple[np.ndarray, np.ndarray]:
    parent = identity.foreign_keys.get(name)
    # a parent missing from `parents`, or stored identically by both runs (None), keeps the same rows
    # behind the same system_ids: its FK values compare as text
    if parents[0].get(parent) is not None and parents[1].get(parent) is not None:
        return _fk_codes(base[name], parents[0][parent]), _fk_codes(head[name], parents[1][parent])
    return _codes(base[name], head[name])


def _hashes(
    names: list[str], base: pa.Table, head: pa.Table, identity: Identity, parents: tuple[dict, dict]
) -> tuple[np.ndarray, np.ndarray]:
    """One 64-bit hash per row over `names`: equal values, equal hash."""
    left, right = np.zeros(base.num_rows, dtype=np.uint64), np.zeros(head.num_rows, dtype=np.uint64)
    for position, name in enumerate(names):
        codes = _column_codes(name, base, head, identity, parents)
        left, right = _fold(left, codes[0], position), _fold(right, codes[1], position)
    return left, right


def _row_ids(hashes: np.ndarray) -> np.ndarray:
    """Hashes made distinct by their order of appearance: repeated rows match in order."""
    occurrence = pd.Series(hashes).groupby(hashes, sort=False).cumcount().to_numpy(dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(hashes ^ (occurrence * _GOLDEN))


def _unique(hashes: np.ndarray) -> bool:
    return len(pd.unique(hashes)) == len(hashes)


def _match(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ids both arrays hold, in the left array's order."""
    _, left_at, right_at = np.intersect1d(left, right, assume_unique=True, return_indices=True)
    order = np.argsort(left_at, kind="stable")
    return left_at[order], right_at[order]


def _matched_on(identity: Identity, base: pa.Table, head: pa.Table) -> tuple[str, list[str]]:
    def present(names) -> bool:
        return bool(names) and all(n in base.column_names and n in head.column_names for n in names)

    if present(identity.keys):
        return "keys", list(identity.keys)
    public_id = identity.public_id
    if (
        present([public_id] if public_id else [])
        and base.num_rows
        and head.num_rows
        and not _has_empty(base[public_id])
        and not _has_empty(head[public_id])
    ):
        return "public_id", [public_id]
    if present(identity.identity_columns):
        return "identity_columns", list(identity.identity_columns)
    return "row", []


def _cell(value) -> str:
    """A sampled cell as the stored CSV has it, whatever type the table was read with."""
    return "" if value is None else str(value)


def _rows(table: pa.Table, indices) -> list[dict]:
    if not len(indices):
        return []
    rows = table.take(pa.array(indices[:SAMPLE_ROWS], type=pa.int64())).to_pylist()
    return [{name: _cell(value) for name, value in row.items()} for row in rows]


def diff_entity(
    entity: str,
    base: pa.Table,
    head: pa.Table,
    identity: Identity,
    parents: tuple[dict, dict],
) -> tuple[EntityDiff, _Parent, _Parent]:
    """Diff one entity's tables; also returns each side's rows as a parent for its children.

    Rows equal in every compared column match first (repeated rows in order); the rest are paired on
    the identity and differ in some column: `changed`. Under whole-row identity the leftovers are
    paired in order, and a pair counts as changed when most of its cells agree.
    """
    compared = [c for c in base.column_names if c in head.column_names and c != "system_id"]
    result = EntityDiff(
        entity=entity,
        matched_on="",
        rows_base=base.num_rows,
        rows_head=head.num_rows,
        columns_added=[c for c in head.column_names if c not in base.column_names],
        columns_removed=[c for c in base.column_names if c not in head.column_names],
    )
    result.matched_on, identity_columns = _matched_on(identity, base, head)
    same_base = same_head = np.empty(0, dtype=np.int64)
    keyed = identity_columns and _hashes(identity_columns, base, head, identity, parents)
    if keyed and _unique(keyed[0]) and _unique(keyed[1]):
        # the usual case: unique keys pair the rows at once
        left_base, left_head = np.arange(base.num_rows), np.arange(head.num_rows)
        pair_base, pair_head = _match(*keyed)
        differs = _differences(compared, base, head, pair_base, pair_head, identity, parents)
        unchanged = (
            ~np.logical_or.reduce(list(differs.values())) if differs else np.ones(len(pair_base), bool)
        )
        same_base, same_head = pair_base[unchanged], pair_head[unchanged]
        pair_base, pair_head = pair_base[~unchanged], pair_head[~unchanged]
        differs = {name: d[~unchanged] for name, d in differs.items()}
    else:
        # repeated keys, or whole-row identity: equal rows first, the rest paired on the identity
        same_base, same_head = _match(*map(_row_ids, _hashes(compared, base, head, identity, parents)))
        left_base = np.setdiff1d(np.arange(base.num_rows), same_base, assume_unique=True)
        left_head = np.setdiff1d(np.arange(head.num_rows), same_head, assume_unique=True)
        if identity_columns:
            at_base, at_head = _match(_row_ids(keyed[0][left_base]), _row_ids(keyed[1][left_head]))
            pair_base, pair_head = left_base[at_base], left_head[at_head]
            differs = _differences(compared, base, head, pair_base, pair_head, identity, parents)
        else:
            pair_base, pair_head = _similar_pairs(
                compared, base, head, left_base, left_head, identity, parents
            )
            differs = _differences(compared, base, head, pair_base, pair_head, identity, parents)
    changed = np.zeros(len(pair_base), dtype=bool)
    for d in differs.values():
        changed |= d
    only_base = np.setdiff1d(left_base, np.concatenate([same_base, pair_base]), assume_unique=True)
    only_head = np.setdiff1d(left_head, np.concatenate([same_head, pair_head]), assume_unique=True)

    matched = len(same_base) + len(pair_base)
    result.only_in_base, result.only_in_head = len(only_base), len(only_head)
    result.changed = int(changed.sum())
    result.unchanged = matched - result.changed
    result.column_match = {
        name: round(100.0 * (1 - float(differs[name].sum()) / matched), 2) if matched else 100.0
        for name in compared
    }
    result.samples = {
        "only_in_base": _rows(base, only_base),
        "only_in_head": _rows(head, only_head),
        "changed": [
            {
                "base": _rows(base, pair_base[i : i + 1])[0],
                "head": _rows(head, pair_head[i : i + 1])[0],
                "columns": [name for name, d in differs.items() if d[i]],
            }
            for i in np.flatnonzero(changed)[:SAMPLE_ROWS]
        ],
    }
    # children resolve their FK columns to these ids: a matched head row gets its base row's id
    base_ids = _mix(np.arange(base.num_rows, dtype=np.uint64))
    head_ids = _mix(np.arange(base.num_rows, base.num_rows + head.num_rows, dtype=np.uint64))
    head_ids[same_head], head_ids[pair_head] = base_ids[same_base], base_ids[pair_base]
    return result, _as_parent(base, base_ids), _as_parent(head, head_ids)


SIMILARITY_CELLS = 20_000_000  # leftover pairs x columns compared for the best pairing; above: in order


def _similar_pairs(compared, base, head, left_base, left_head, identity, parents):
    """Pair leftover rows (whole-row identity) that agree in more than half of their cells.

    The pairs agreeing most are taken first. Many leftovers (a table rewritten) are paired in order
    instead, so the cost stays bounded.
    """
    if not len(left_base) or not len(left_head) or not compared:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if len(left_base) * len(left_head) * len(compared) > SIMILARITY_CELLS:
        count = min(len(left_base), len(left_head))
        at_base, at_head = np.arange(count), np.arange(count)
        agree = len(compared) - sum(
            d.astype(np.int64)
            for d in _differences(
                compared, base, head, left_base[:count], left_head[:count], identity, parents
            ).values()
        )
    else:
        matrix = np.zeros((len(left_base), len(left_head)), dtype=np.int32)
        for name in compared:
            codes_base, codes_head = _column_codes(name, base, head, identity, parents)
            matrix += codes_base[left_base][:, None] == codes_head[left_head][None, :]
        order = np.argsort(-matrix, axis=None, kind="stable")
        at_base, at_head = np.unravel_index(order, matrix.shape)
        agree = matrix[at_base, at_head]
        taken_base, taken_head, keep = set(), set(), np.zeros(len(order), dtype=bool)
        for i in np.flatnonzero(agree * 2 > len(compared)):  # only the candidate pairs: few
            if at_base[i] not in taken_base and at_head[i] not in taken_head:
                taken_base.add(at_base[i])
                taken_head.add(at_head[i])
                keep[i] = True
        at_base, at_head, agree = at_base[keep], at_head[keep], agree[keep]
    keep = agree * 2 > len(compared)
    pairs_base, pairs_head = left_base[at_base[keep]], left_head[at_head[keep]]
    order = np.argsort(pairs_base, kind="stable")
    return pairs_base[order], pairs_head[order]


def _differences(compared, base, head, at_base, at_head, identity, parents) -> dict[str, np.ndarray]:
    """Per column, whether the paired rows (base row at_base[i], head row at_head[i]) differ.

    One column's codes at a time: the tables are never copied row by row.
    """
    differs = {}
    for name in compared:
        codes_base, codes_head = _column_codes(name, base, head, identity, parents)
        differs[name] = codes_base[at_base] != codes_head[at_head]
    return differs


def _as_parent(table: pa.Table, row_ids: np.ndarray) -> _Parent:
    rows = table.num_rows
    system_ids = _numbers(table["system_id"]) if "system_id" in table.column_names else np.empty(0)
    if len(np.unique(system_ids)) != rows or np.isnan(system_ids).any():
        # no usable system_id (a format-1 extra column named system_id, say): children's FK values
        # are then the ids the rows had when linked, 1..n in row order
        system_ids = np.arange(1, rows + 1, dtype=np.float64)
    order = np.argsort(system_ids, kind="stable")
    return _Parent(system_ids[order], row_ids[order])


def _order(entities: list[str], identities: Mapping[str, Identity]) -> list[str]:
    """Parents before children (declaration order otherwise); FK cycles are cut where met."""
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return
        visiting.add(name)
        for parent in identities.get(name, Identity()).foreign_keys.values():
            if parent in entities:
                visit(parent)
        visiting.discard(name)
        done.append(name)

    for name in entities:
        visit(name)
    return done


def diff_runs(
    base: Mapping[str, StoredTable], head: Mapping[str, StoredTable], identities: Mapping[str, Identity]
) -> list[EntityDiff]:
    """Diff every entity stored by either run, in the head's order then the base's leftovers."""
    names = list(dict.fromkeys([*head, *base]))
    results: dict[str, EntityDiff] = {}
    parents: tuple[dict, dict] = ({}, {})
    changed_parents: set[str] = set()
    for name in _order(names, identities):
        identity = identities.get(name, Identity())
        if name not in base or name not in head:
            present = head.get(name) or base.get(name)
            table = present.read()
            result = EntityDiff(
                entity=name, matched_on="absent_in_base" if name in head else "absent_in_head"
            )
            if name in head:
                result.rows_head = result.only_in_head = table.num_rows
                result.columns_added = table.column_names
            else:
                result.rows_base = result.only_in_base = table.num_rows
                result.columns_removed = table.column_names
            results[name] = result
            changed_parents.add(name)
            continue
        same_bytes = base[name].digest is not None and base[name].digest == head[name].digest
        if same_bytes and not changed_parents & set(identity.foreign_keys.values()):
            rows = head[name].rows
            if rows is None:
                rows = head[name].read().num_rows
            results[name] = EntityDiff(
                entity=name,
                matched_on="identical",
                rows_base=rows,
                rows_head=rows,
                unchanged=rows,
                identical=True,
            )
            parents[0][name] = parents[1][name] = None
            continue
        result, base_parent, head_parent = diff_entity(
            name, base[name].read(), head[name].read(), identity, parents
        )
        parents[0][name], parents[1][name] = base_parent, head_parent
        if result.differs:
            changed_parents.add(name)
        results[name] = result
    return [results[name] for name in names]


def identities(project) -> dict[str, Identity]:
    """Each entity's Identity as its configuration (a shapeshift.Project) declares it.

    The FK columns of a stored table are named after the parent's identity column (public_id in
    format 2, surrogate_id in format 1) and hold the parent's system_id.
    """
    entities = project.entities
    result = {}
    for name, spec in entities.items():
        foreign_keys = {}
        for fk in spec.foreign_keys:
            remote = entities.get(fk.entity) if fk.entity else None
            if remote is not None and remote.identity:
                foreign_keys[remote.identity] = remote.name
        result[name] = Identity(keys=tuple(spec.keys), public_id=spec.identity, foreign_keys=foreign_keys)
    return result
