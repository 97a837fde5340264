"""Very wide CSV files: read in slices of columns, as text, with a cancel landing between slices."""

from __future__ import annotations

import pandas as pd
import pytest

from shapeshift import Observer
from shapeshift.sources import files

COLUMNS = [f"c{i}" for i in range(700)] + ["c1", "c1"]  # duplicates get pandas' .1/.2 suffixes


@pytest.fixture
def narrow_bounds(monkeypatch):
    """A 702-column file counts as wide, read 300 columns at a time."""
    monkeypatch.setattr(files, "WIDE_COLUMNS", 500)
    monkeypatch.setattr(files, "WIDE_SLICE", 300)


@pytest.fixture
def reads(monkeypatch) -> list[dict]:
    """The keyword arguments of every pd.read_csv call, in order (the reads still happen)."""
    calls, read_csv = [], pd.read_csv
    monkeypatch.setattr(files.pd, "read_csv", lambda *a, **k: calls.append(k) or read_csv(*a, **k))
    return calls


def slices(reads: list[dict]) -> list[list]:
    """The column positions of each sliced read."""
    return [k["usecols"] for k in reads if isinstance(k.get("usecols"), list)]


def wide_csv(ws) -> None:
    rows = [",".join(f"{column}-{row}" for column in COLUMNS) for row in range(3)]
    ws.write("wide.csv", "\n".join([",".join(COLUMNS), *rows]) + "\n")


CONFIG = """
entities:
  wide:
    type: csv
    options: {filename: wide.csv, dtype: str, keep_default_na: false}
    columns: [%s]
"""


def test_it_reads_a_wide_file_in_slices_into_the_same_table(ws, narrow_bounds, reads):
    wide_csv(ws)
    names = list(pd.read_csv(ws.folder / "wide.csv", nrows=1).columns)

    result = ws.run(CONFIG % ", ".join(names), keep_tables=True)

    table = result.tables["wide"]
    expected = pd.read_csv(ws.folder / "wide.csv", dtype=str, keep_default_na=False)
    assert sorted(table.columns) == sorted(names)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected[list(table.columns)].astype(object))
    sliced = slices(reads)
    assert [len(s) for s in sliced] == [300, 300, 102]
    assert sliced[0][0] == 0 and sliced[-1][-1] == len(COLUMNS) - 1


def test_it_reads_a_file_below_the_bound_in_one_call_as_before(ws, reads):
    wide_csv(ws)

    ws.run(CONFIG % "c0, c5")

    assert [k.get("dtype") for k in reads if k.get("nrows") != 1] == ["category"]


def test_a_cancel_lands_between_slices_of_a_wide_read(ws, narrow_bounds, reads):
    wide_csv(ws)

    class StopInsideTheRead(Observer):
        """Asks to stop at the third check of the load phase: after the first slice was read."""

        def __init__(self):
            self.phases, self.checks = [], 0

        def entity_phase(self, name, phase, rows=None):
            self.phases.append(phase)

        def should_stop(self):
            if self.phases[-1:] == ["load"]:
                self.checks += 1
            return self.checks >= 3

    names = list(pd.read_csv(ws.folder / "wide.csv", nrows=1).columns)

    result = ws.run(CONFIG % ", ".join(names), observer=StopInsideTheRead())

    assert result.cancelled and result.outcome("wide").status == "cancelled"
    assert len(slices(reads)) == 1
