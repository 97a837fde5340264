"""What loaders need from the outside world: file access, sampling and column pruning."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..sqlpolicy import SqlPolicy


@dataclass
class SourceContext:
    """Per-load settings.

    `max_rows` cuts file inputs (CSV/TSV/Excel) to their first N rows; `wanted_columns`, when set,
    lets a file loader read only those columns (the pipeline keeps only them anyway);
    `sql_row_limit` caps SQL results (set for sampled runs only); `sql_policy` says which servers and
    files SQL sources may open; `checkpoint` wraps a loader's long loops so a cancel lands inside them
    (it raises the runner's Cancelled).
    """

    resolver: object
    base_dir: str = ""
    max_rows: int | None = None
    wanted_columns: Callable[[str], bool] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    sql_row_limit: int | None = None  # safety bound for SQL results in sampled runs
    sql_policy: SqlPolicy = field(default_factory=SqlPolicy)
    checkpoint: Callable[[Iterable], Iterable] = iter
    format_version: int = 1  # 2: the loaders of format-v2.md section 7 (header sanitising, ...)
