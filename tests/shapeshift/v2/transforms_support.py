"""Reading the format-2 conformance corpus for the transform tests.

The expected CSVs were written by the reference tool after its whole pipeline; a test compares the
columns and rows its transform is responsible for, rendered the way the CSV writer renders them.
"""

from __future__ import annotations

import io
import os
import pathlib

import pandas as pd
import pytest
import yaml

# shared/ sits beside the repository (as in CI and on developer machines)
CORPUS = pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "conformance-v2"
needs_corpus = pytest.mark.skipif(
    not CORPUS.exists() and os.environ.get("CI") != "true", reason=f"no conformance corpus at {CORPUS}"
)


def case_folder(case: str) -> pathlib.Path:
    return next(CORPUS.glob(f"{case}_*"))


def entity_config(case: str, entity: str) -> dict:
    config = yaml.safe_load((case_folder(case) / "shapeshifter.yml").read_text(encoding="utf-8"))
    return config["entities"][entity]


def read_input(case: str, entity: str) -> pd.DataFrame:
    """The entity's CSV input read with its `options` (the cases' headers need no sanitising)."""
    options = dict(entity_config(case, entity).get("options") or {})
    filename = options.pop("filename")
    if options.get("dtype") == "str":
        options["dtype"] = str
    return pd.read_csv(case_folder(case) / filename, **options)


def fixed_table(case: str, entity: str) -> pd.DataFrame:
    """A fixed entity's processed table as the store holds it: system_id 1..n first (5.1)."""
    config = entity_config(case, entity)
    table = pd.DataFrame(config["values"], columns=config["columns"])
    table.insert(0, "system_id", range(1, len(table) + 1))
    return table


def expected(case: str, entity: str, folder: str = "expected") -> pd.DataFrame:
    return pd.read_csv(case_folder(case) / folder / f"{entity}.csv", dtype=str, keep_default_na=False)


def rendered(table: pd.DataFrame) -> pd.DataFrame:
    """`table` as text, the way the CSV output writes it (nulls empty, floats as pandas prints them)."""
    return pd.read_csv(io.StringIO(table.to_csv(index=False)), dtype=str, keep_default_na=False)


def assert_same(actual: pd.DataFrame, wanted: pd.DataFrame, columns=None) -> None:
    """The rendered `actual` equals `wanted` on `columns` (default: every column of `actual`), row by row."""
    columns = list(actual.columns) if columns is None else list(columns)
    got = rendered(actual[columns]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, wanted[columns].reset_index(drop=True), check_dtype=False)
