"""testruns.previews: an entity table's first rows as JSON, each cell and the whole bounded."""

import json

import pandas as pd

from testruns.previews import PREVIEW_CELL_CHARS, PREVIEW_CHARS, preview_rows


def test_it_cuts_long_text_with_a_marker_and_keeps_the_rest():
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "note": ["x" * 2_000_000, "short", None],
            "kind": pd.Categorical(["y" * 5_000, "a", None]),
            "ratio": [0.5, None, 2.0],
        }
    )

    rows = preview_rows(frame)

    note, kind = rows[0][1], rows[0][2]
    assert len(note) == len(kind) == PREVIEW_CELL_CHARS
    assert note == "x" * (PREVIEW_CELL_CHARS - len("… [truncated: 2,000,000 characters]")) + (
        "… [truncated: 2,000,000 characters]"
    )
    assert kind.endswith("… [truncated: 5,000 characters]")
    assert rows[1:] == [[2, "short", "a", None], [3, None, None, 2.0]]


def test_it_keeps_columns_of_the_same_name_apart():
    frame = pd.DataFrame([["a" * 1_500, 1]], columns=["same", "same"])

    assert preview_rows(frame)[0][1] == 1
    assert preview_rows(frame)[0][0].endswith("[truncated: 1,500 characters]")


def test_it_bounds_the_whole_preview_of_a_wide_table_of_long_texts():
    wide = pd.DataFrame([["z" * 5_000] * 151 for _ in range(50)])

    rows = preview_rows(wide)

    assert len(json.dumps(rows, ensure_ascii=False)) <= PREVIEW_CHARS
    assert 1 <= len(rows) < 50
    assert all(len(row) == 151 for row in rows)


def test_it_keeps_the_first_row_even_above_the_bound():
    wide = pd.DataFrame([["z" * 900] * 2_000] * 3)

    assert len(preview_rows(wide)) == 1
