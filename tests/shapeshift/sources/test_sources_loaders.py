"""Spec 2.8 (SQL), 2.9 (CSV), section 6 (Excel) and unavailable sources."""
# ruff: noqa: E501 - YAML fixtures are kept on one line as written in the spec

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from tests.shapeshift.engine_support import rows


@pytest.fixture
def taxa_db(ws):
    path = ws.folder / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("create table taxa(code text, name text)")
        connection.executemany(
            "insert into taxa values (?, ?)", [("Q", "Quercus"), ("P", "Pinus"), ("Q", "Quercus")]
        )
    return path


SQL_EXAMPLE = """
entities:
  taxa:
    type: sql
    data_source: local
    surrogate_id: taxon_id
    keys: [code]
    columns: [name]
    query: "select code, name from taxa"
    drop_duplicates: true
  taxa_legacy:
    type: sql
    data_source: local2
    surrogate_id: taxa_legacy_id
    columns: [code, name]
    values: |
      sql:
      select code, name from taxa
  taxa_renamed:
    type: sql
    data_source: local
    surrogate_id: taxa_renamed_id
    columns: [taxon_code, taxon_name]
    check_column_names: false
    query: "select code, name from taxa"
  level:
    type: sql
    data_source: local
    surrogate_id: level_id
    columns: [level_id, name]
    query: "select 70 as level_id, 'a' as name union all select 80, 'b'"
options:
  data_sources:
    local:  {driver: sqlite, options: {filename: t.db}}
    local2: {driver: sqlite, database: t.db}
"""


def test_2_8_sql_example(ws, taxa_db):
    result = ws.run(SQL_EXAMPLE)
    assert rows(result.outcome("taxa").table) == [("Q", "Quercus", 1), ("P", "Pinus", 2)]
    assert rows(result.outcome("taxa_legacy").table) == [
        ("Q", "Quercus", 1),
        ("P", "Pinus", 2),
        ("Q", "Quercus", 3),
    ]
    renamed = result.outcome("taxa_renamed").table
    assert list(renamed.columns) == ["taxon_code", "taxon_name", "taxa_renamed_id"] and len(renamed) == 3
    assert rows(result.outcome("level").table) == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    "entity, message",
    [
        (
            "{type: sql, data_source: local, columns: [code, nm], query: 'select code, name from taxa'}",
            "mismatched columns",
        ),
        (
            "{type: sql, data_source: local, columns: [code], query: 'select code, name from taxa'}",
            "different number",
        ),
        (
            "{type: sql, data_source: local, columns: [code, name], values: 'select code, name from taxa'}",
            "elect",
        ),
        (
            "{type: sql, columns: [code, name], query: 'select code, name from taxa'}",
            "Unable to resolve source",
        ),
        (
            "{type: sql, data_source: nope, columns: [code], query: 'select code from taxa'}",
            "Data source 'options.data_sources.nope' not found",
        ),
    ],
)
def test_2_8_sql_errors(ws, taxa_db, entity, message):
    result = ws.run(
        f"entities:\n  e: {entity}\noptions:\n  data_sources:\n    local: {{driver: sqlite, options: {{filename: t.db}}}}\n"
    )
    assert result.outcome("e").status == "failed"
    assert message in result.outcome("e").error


def test_sqlite_is_opened_read_only(ws, taxa_db):
    result = ws.run("""
    entities:
      e: {type: sql, data_source: local, columns: [x], query: "create table hack(x int)"}
    options:
      data_sources:
        local: {driver: sqlite, options: {filename: t.db}}
    """)
    assert result.outcome("e").status == "failed"
    assert "query refused: changing the schema is not allowed" in result.outcome("e").error


def test_2_9_csv_entities(ws):
    ws.write("extra.csv", "code,label\nQ,oak\nP,pine\n")
    result = ws.run("""
    entities:
      labels:
        type: csv
        surrogate_id: label_id
        columns: [code, label]
        options: {filename: extra.csv}
      labels_ds:
        data_source: csvsrc
        surrogate_id: labels_ds_id
        columns: [code, label]
    options:
      data_sources:
        csvsrc: {driver: csv, options: {filename: extra.csv, sep: ","}}
    """)
    assert rows(result.outcome("labels").table) == [("Q", "oak", 1), ("P", "pine", 2)]
    assert rows(result.outcome("labels_ds").table) == [("Q", "oak", 1), ("P", "pine", 2)]


def test_csv_filename_in_source_is_unresolved_dependency(ws):
    ws.write("extra.csv", "code\nQ\n")
    result = ws.run("entities:\n  labels: {type: csv, source: extra.csv, columns: [code]}\n")
    assert result.outcome("labels").status == "failed"
    assert "extra.csv" in result.outcome("labels").error


def test_missing_file_fails_only_that_entity(ws):
    result = ws.run("""
    entities:
      labels: {type: csv, surrogate_id: label_id, columns: [code], options: {filename: gone.csv}}
      kind: {type: fixed, surrogate_id: kind_id, columns: [x], values: [1]}
    """)
    assert result.outcome("labels").status == "failed" and "gone.csv" in result.outcome("labels").error
    assert result.outcome("kind").status == "success"


def test_unknown_driver_and_access_and_unreachable_postgres(ws):
    result = ws.run("""
    entities:
      a: {type: sql, data_source: acc, columns: [x], query: "select x from t"}
      b: {type: sql, data_source: weird, columns: [x], query: "select x from t"}
      c: {type: sql, data_source: pg, columns: [x], query: "select 1 as x"}
      d: {type: sql, data_source: pg_unset, columns: [x], query: "select 1 as x"}
    options:
      data_sources:
        acc: {driver: ucanaccess, options: {filename: ./input/x.mdb}}
        weird: {driver: postgresql2}
        pg: {driver: postgres, options: {host: 127.0.0.1, port: 1, dbname: x, user: u, password: sekrit}}
        pg_unset: {driver: postgres, options: {host: "${SS_UNSET_HOST}"}}
    """)
    assert "MS Access" in result.outcome("a").error and "x.mdb" in result.outcome("a").error
    assert "not registered" in result.outcome("b").error
    assert "unreachable" in result.outcome("c").error and "sekrit" not in result.outcome("c").error
    assert "empty host" in result.outcome("d").error


def test_excel_entities(ws):
    path = ws.folder / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"code": ["Q", "P", "E"], "label": ["oak", "pine", "elm"]}).to_excel(
            writer, sheet_name="s1", index=False
        )
    result = ws.run(
        """
    entities:
      labels: {type: xlsx, surrogate_id: label_id, columns: [code, label], options: {filename: book.xlsx, sheet_name: s1}}
    """,
        max_rows=2,
    )
    assert rows(result.outcome("labels").table) == [("Q", "oak", 1), ("P", "pine", 2)]


def test_csv_entity_with_only_unknown_columns_keeps_its_rows(ws):
    ws.write("extra.csv", "code,label\nQ,oak\nP,pine\n")
    result = ws.run("""
    entities:
      labels: {type: csv, surrogate_id: label_id, columns: [nope], options: {filename: extra.csv}}
    """)
    labels = result.outcome("labels")
    assert labels.columns == ["label_id"] and labels.rows_out == 2


def test_2_10_sql_append_item_renamed_by_position(ws, taxa_db):
    result = ws.run(
        """
    entities:
      survey: {columns: [culture, culture_en]}
      cultural_group:
        surrogate_id: cultural_group_id
        keys: [culture]
        columns: [culture, culture_en]
        extra_columns: {origin: imported}
        append_mode: distinct
        append:
          - {type: sql, data_source: local, check_column_names: false, query: "select code, name from taxa where code = 'P'"}
    options:
      data_sources:
        local: {driver: sqlite, options: {filename: t.db}}
    """,
        inputs={"survey": pd.DataFrame({"culture": ["Roman"], "culture_en": ["Roman"]}, dtype=object)},
    )
    assert rows(result.outcome("cultural_group").table) == [
        ("Roman", "Roman", "imported", 1),
        ("P", "Pinus", "imported", 2),
    ]


def test_2_10_sql_parent_with_fixed_item_inherits_data_source(ws, taxa_db):
    result = ws.run("""
    entities:
      taxa:
        type: sql
        data_source: local
        surrogate_id: taxon_id
        columns: [code, name]
        query: "select code, name from taxa"
        append: [{type: fixed, values: [[X, Xylo]]}]
      taxa_fixed_ok:
        type: sql
        data_source: local
        surrogate_id: taxon_ok_id
        columns: [code, name]
        query: "select code, name from taxa"
        append: [{type: fixed, data_source: null, values: [[X, Xylo]]}]
    options:
      data_sources:
        local: {driver: sqlite, options: {filename: t.db}}
    """)
    assert (
        result.outcome("taxa").status == "failed"
        and "not configured as SQL data" in result.outcome("taxa").error
    )
    assert rows(result.outcome("taxa_fixed_ok").table)[-1] == ("X", "Xylo", 4)


def test_section_6_sql_table_instead_of_query(ws, taxa_db):
    result = ws.run("""
    entities:
      taxa: {type: sql, data_source: local, surrogate_id: taxon_id, columns: [code, name], table: taxa}
    options:
      data_sources:
        local: {driver: sqlite, options: {filename: t.db}}
    """)
    assert len(result.outcome("taxa").table) == 3


def test_sql_results_are_bounded_only_in_sampled_runs(ws, taxa_db, monkeypatch):
    import shapeshift.pipeline.entity as entity

    monkeypatch.setattr(entity, "SQL_SAMPLE_BOUND", 2)
    config = """
    entities:
      taxa: {type: sql, data_source: local, surrogate_id: taxon_id, columns: [code, name], query: "select * from taxa"}
    options:
      data_sources:
        local: {driver: sqlite, options: {filename: t.db}}
    """
    assert ws.run(config).outcome("taxa").rows_out == 3
    sampled = ws.run(config, max_rows=10).outcome("taxa")
    assert sampled.rows_out == 2 and any(i.code == "rows_truncated" for i in sampled.issues)
