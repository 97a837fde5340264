"""Column-wise DataFrame edits that stay linear in the number of columns, and the in-phase checkpoint.

Setting columns one at a time (`table[c] = ...`, `isetitem`) makes pandas rebuild its tuple of blocks
each time, and text read from CSV is `category`, one block per column: on a table of 100,000 columns
that is quadratic. `replace_columns` builds the new table once instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

import pandas as pd

T = TypeVar("T")


def replace_columns(table: pd.DataFrame, new: Mapping[int, object]) -> pd.DataFrame:
    """`table` with the columns at the positions in `new` replaced (Series or arrays of its length).

    One new DataFrame; the other columns are shared, not copied (as with `copy(deep=False)`), nor
    consolidated into one block. Names (duplicates included), index and attrs are kept.
    """
    if not new:
        return table
    columns = {i: new[i] if i in new else column for i, (_, column) in enumerate(table.items())}
    result = pd.DataFrame(columns, index=table.index, copy=False)
    result.columns = table.columns
    return result.__finalize__(table)


class Checkpoint:
    """Iterates over a long loop of one phase and polls `should_stop` every `every` items.

    Raises `stop` (the runner's Cancelled) once `should_stop()` answers True, so a cancel lands within
    a few hundred columns instead of at the end of the phase. A cheap call even when the observer's
    should_stop is not.
    """

    def __init__(self, should_stop: Callable[[], bool], stop: type[Exception], every: int = 256) -> None:
        self.should_stop, self.stop, self.every = should_stop, stop, every
        self.calls = 0

    def __call__(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            self.calls += 1
            if self.calls % self.every == 0 and self.should_stop():
                raise self.stop()
            yield item


def unchecked(items: Iterable[T]) -> Iterable[T]:
    """The checkpoint of code that runs outside a run's phases: nothing to poll."""
    return items
