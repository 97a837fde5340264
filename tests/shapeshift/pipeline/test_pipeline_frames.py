"""Column edits that stay linear on wide tables, and the checkpoint that lets a cancel land inside a phase."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift.pipeline.frames import Checkpoint, replace_columns


class Stop(Exception):
    pass


def test_replace_columns_keeps_names_index_attrs_and_the_other_columns():
    table = pd.DataFrame([[1, "x", 3], [4, "y", 6]], columns=["a", "b", "a"], index=[10, 20])
    table.attrs["truncated_at"] = 2

    result = replace_columns(table, {1: pd.Series(["X", "Y"], index=[10, 20])})

    assert list(result.columns) == ["a", "b", "a"] and list(result.index) == [10, 20]
    assert result.attrs == {"truncated_at": 2}
    assert result.iloc[:, 1].tolist() == ["X", "Y"] and table["b"].tolist() == ["x", "y"]
    assert result.iloc[:, 2].tolist() == [3, 6]


def test_replace_columns_with_nothing_to_replace_is_the_table_itself():
    table = pd.DataFrame({"a": [1]})
    assert replace_columns(table, {}) is table


def test_the_checkpoint_asks_every_n_items_and_stops_when_told():
    answers = iter([False, True])
    asked = []

    def should_stop():
        asked.append(True)
        return next(answers)

    seen = []
    with pytest.raises(Stop):
        for item in Checkpoint(should_stop, Stop, every=3)(range(100)):
            seen.append(item)

    assert len(asked) == 2 and seen == list(range(5))  # asked before items 2 and 5; stopped at 5
