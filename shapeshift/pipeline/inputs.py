"""Input tables for the default entity, and how dtypes are reported."""

from __future__ import annotations

import csv
import os

import pandas as pd

from ..config.model import Project
from ..sources.files import compact_text_dtype
from ..sources.loaders import file_options


def dtype_names(table: pd.DataFrame) -> dict[str, str]:
    """Column dtypes as the reference tool would have them (categorical text is reported as object)."""
    return {
        str(c): str(t.categories.dtype) if isinstance(t, pd.CategoricalDtype) else str(t)
        for c, t in table.dtypes.items()
    }


SNIFF_CHARS = 65536
SNIFF_LINES = 20


def sniff_delimiter(sample: str, cut: bool = False) -> str:
    """The delimiter of the CSV text ``sample`` (its start; ``cut``: it ends mid-file): "," if unclear.

    Sniffed over the first lines, not the header alone: a header such as Arbodat's ("…;Expr1042;ORG2,0;…")
    holds more than one candidate, and only the rows show which one splits every line alike.
    """
    lines = sample.splitlines()
    if cut and len(lines) > 1:
        lines.pop()  # the last line may be cut short
    for text in ("\n".join(lines[:SNIFF_LINES]), lines[0] if lines else ""):
        try:
            return csv.Sniffer().sniff(text, delimiters=",;\t|").delimiter
        except csv.Error:
            continue
    return ","


def read_input(name: str, value, project: Project, max_rows: int | None) -> pd.DataFrame:
    """The default-entity input table from a DataFrame or a file path.

    A file is read with the read options of the declared entity of that name when it is a CSV
    entity (so `--input survey.csv` reads like the configuration's own survey entity); otherwise
    as text with a sniffed delimiter, every column a string and empty cells kept as "".
    """
    if isinstance(value, pd.DataFrame):
        return value.head(max_rows).copy() if max_rows is not None else value
    path = os.fspath(value)
    spec = project.entities.get(name)
    options = None
    if spec is not None and spec.type in ("csv", "tsv"):
        options = file_options(spec.raw)
    if options:
        options = dict(options)
        options.pop("filename", None)
        options.setdefault("sep", "\t" if spec.type == "tsv" else ",")
    else:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            sample = handle.read(SNIFF_CHARS)
        options = {
            "sep": sniff_delimiter(sample, len(sample) == SNIFF_CHARS),
            "dtype": str,
            "keep_default_na": False,
        }
    options = compact_text_dtype(options)
    if max_rows is not None:
        options["nrows"] = max_rows
    if path.lower().endswith((".xlsx", ".xls")):
        return pd.read_excel(path, nrows=max_rows, dtype=str, keep_default_na=False)
    return pd.read_csv(path, **options)
