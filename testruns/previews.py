"""The preview of an entity's table: its first rows as JSON, with each cell and the whole bounded.

The preview is stored on ``EntityResult.preview`` and sent whole by the entity page, the API and the run
comparison, so one hostile cell must not make them megabytes. The full table stays in the stored CSV
(download and ZIP export), untouched.
"""

import json

import pandas as pd

from shapeshift.excel import shorten

# A text cell longer than this is cut, with "… [truncated: N characters]" at its end (the marker counts
# in the bound). A thousand characters is a long paragraph: enough to recognise a text in a table cell,
# a fiftieth of a megabyte.
PREVIEW_CELL_CHARS = 1_000
# The whole preview (its JSON text) stops at the row that would take it past this; the first row is always
# kept. 50 rows of the real Arbodat survey (151 columns, longest cell 69 characters) take 55,000
# characters; 50 rows of 151 cut cells would take 7.5 MB, which no page or API answer should be. A million
# characters keeps ordinary previews whole and at least six rows of even that table.
PREVIEW_CHARS = 1_000_000


def preview_rows(frame: pd.DataFrame) -> list[list]:
    """The rows of ``frame`` (already its first rows) as JSON-safe lists, bounded.

    Missing values become None; numbers and booleans keep their JSON type; dates become ISO text; anything
    else becomes text. Text longer than PREVIEW_CELL_CHARS is cut with a marker; rows after the one that
    would take the preview past PREVIEW_CHARS are left out (its length tells the reader how many it holds).
    """
    frame = _cut_text_columns(frame)
    rows = json.loads(frame.to_json(orient="values", date_format="iso", default_handler=str))
    kept, size = [], 0
    for row in rows:
        row = [_cut(value) for value in row]  # what default_handler made text of, too
        size += len(json.dumps(row, ensure_ascii=False))
        if kept and size > PREVIEW_CHARS:
            break
        kept.append(row)
    return kept


def _cut(value):
    return shorten(value, PREVIEW_CELL_CHARS) if isinstance(value, str) else value


def _cut_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its long texts cut before they are turned into JSON: a 50 MB cell is never copied.

    Only a column holding a text over the bound is rebuilt (by position, so duplicate column names stay
    apart); a table without one is returned as it is, for the cost of reading its few rows once.
    """
    cut = {}
    for position, (_, column) in enumerate(frame.items()):
        dtype = column.dtype
        if not (
            pd.api.types.is_object_dtype(dtype) or isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))
        ):
            continue
        values = column.to_numpy(dtype=object)
        if any(isinstance(value, str) and len(value) > PREVIEW_CELL_CHARS for value in values):
            cut[position] = pd.Series([_cut(value) for value in values], index=frame.index, dtype=object)
    if not cut:
        return frame
    columns = {i: cut.get(i, column) for i, (_, column) in enumerate(frame.items())}
    return pd.DataFrame(columns, index=frame.index)
