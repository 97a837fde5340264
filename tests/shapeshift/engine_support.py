"""Helpers for the engine tests: a workspace that writes a configuration and runs it."""

from __future__ import annotations

import io
import os
import pathlib
import textwrap

import pandas as pd
import pytest

import shapeshift

# shared/ sits beside the repository (as in CI and on developer machines)
SHARED_DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"
ARBODAT = SHARED_DATA / "arbodat"
C35 = SHARED_DATA / "conformance-v2" / "35_target_model_conformance"
# CI always has shared/ beside the clone: there a missing folder is a failure, not a skip.
needs_arbodat = pytest.mark.skipif(
    not ARBODAT.exists() and os.environ.get("CI") != "true", reason=f"no Arbodat data at {ARBODAT}"
)
needs_shared = pytest.mark.skipif(
    not SHARED_DATA.exists() and os.environ.get("CI") != "true", reason=f"no shared data at {SHARED_DATA}"
)

SURVEY_CSV = (
    "site;site_name;sample;taxon;count\n"
    + "S1;Alpha;P1;Oak;3\nS1;Alpha;P2;Pine;\nS2;Beta;P3;Oak;7\nS2;Beta;P3;Oak;7\n"
)


class Workspace:
    """A temporary folder holding one configuration and its files."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.folder = folder

    def write(self, name: str, text: str) -> pathlib.Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def config(self, text: str, name: str = "config.yml") -> pathlib.Path:
        return self.write(name, text)

    def load(self, text: str, **kwargs) -> shapeshift.Project:
        return shapeshift.load(self.config(text), **kwargs)

    def run(self, text: str, *, inputs=None, entities=None, **kwargs) -> shapeshift.RunResult:
        project = self.load(text)
        default = next(iter(inputs), None) if inputs else None
        plan = shapeshift.plan(project, entities, default_entity=default)
        return shapeshift.run(project, plan, inputs=inputs, **kwargs)


def frame(text: str, sep: str = ",", **kwargs) -> pd.DataFrame:
    """A DataFrame from CSV text: every cell a string, empty cells NaN (like the spec's inputs)."""
    return pd.read_csv(io.StringIO(textwrap.dedent(text).strip() + "\n"), sep=sep, dtype=str, **kwargs)


def rows(table: pd.DataFrame, columns=None) -> list[tuple]:
    """Rows as tuples with every null (None/NaN/NA) as None, numbers kept."""
    table = table if columns is None else table[columns]
    out = []
    for record in table.itertuples(index=False, name=None):
        out.append(tuple(None if (not isinstance(v, (list, dict)) and pd.isna(v)) else v for v in record))
    return out


def load_v2_entities(folder: pathlib.Path, entities: str):
    """Load a format-2 project whose `entities:` section is the (indented or not) YAML `entities`."""
    path = folder / "project.yml"
    path.write_text(
        "metadata: {type: shapeshifter-project}\nentities:\n"
        + textwrap.indent(textwrap.dedent(entities), "  ")
    )
    return shapeshift.load(path)
