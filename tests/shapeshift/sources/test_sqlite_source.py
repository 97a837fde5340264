"""SQLite sources on a real file: they may only read, never create files, and stop at the timeout."""

from __future__ import annotations

import os
import sqlite3

import pytest

import shapeshift
from tests.shapeshift.engine_support import rows


@pytest.fixture
def db(ws):
    path = ws.folder / "t.db"
    with sqlite3.connect(path) as connection:
        connection.execute("create table taxa(code text, name text)")
        connection.executemany("insert into taxa values (?, ?)", [("Q", "Quercus"), ("P", "Pinus")])
    connection.close()
    return path


def run_query(ws, query: str, policy: shapeshift.SqlPolicy | None = None, database: str = "t.db"):
    """The outcome of one SQL entity `e` with columns [x] on the SQLite file `database`."""
    path = ws.config(
        "entities:\n"
        "  e:\n"
        "    type: sql\n"
        "    data_source: local\n"
        "    columns: [x]\n"
        f"    query: {query!r}\n"
        "options:\n"
        "  data_sources:\n"
        f"    local: {{driver: sqlite, options: {{filename: {database}}}}}\n"
    )
    project = shapeshift.load(path, **({"sql_policy": policy} if policy else {}))
    return shapeshift.run(project, shapeshift.plan(project)).outcome("e")


def test_it_reads_rows(ws, db):
    outcome = run_query(ws, "select code as x from taxa order by code")

    assert outcome.status == "success"
    assert rows(outcome.table) == [("P",), ("Q",)]


def test_it_refuses_vacuum_into_and_creates_no_file(ws, db, tmp_path):
    target = tmp_path / "copy.db"

    outcome = run_query(ws, f"VACUUM INTO '{target}'")

    assert outcome.status == "failed"
    assert "query refused: ATTACH (or VACUUM, which attaches its target) is not allowed" in outcome.error
    assert not target.exists()


def test_it_refuses_attach_and_creates_no_file(ws, db, tmp_path):
    target = tmp_path / "y.db"

    outcome = run_query(ws, f"ATTACH DATABASE '{target}' AS y")

    assert outcome.status == "failed"
    assert "query refused: ATTACH" in outcome.error
    assert not target.exists()


@pytest.mark.parametrize(
    "query, refused",
    [
        ("DETACH DATABASE main", "DETACH"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode"),
        ("PRAGMA user_version = 3", "PRAGMA user_version"),
        ("VACUUM", "ATTACH (or VACUUM"),
        ("BEGIN", "TRANSACTION"),
        ("create temp table t2(x)", "changing the schema"),
        ("select load_extension('/tmp/x') as x", "the function load_extension()"),
    ],
)
def test_it_refuses_everything_but_reading(ws, db, query, refused):
    outcome = run_query(ws, query)

    assert outcome.status == "failed"
    assert f"query refused: {refused}" in outcome.error
    assert "a SQL source may only read" in outcome.error


def test_it_still_reads_table_information(ws, db):
    path = ws.config("""
    entities:
      e:
        type: sql
        data_source: local
        columns: [cid, name, type, notnull, dflt_value, pk]
        query: "PRAGMA table_info(taxa)"
    options:
      data_sources:
        local: {driver: sqlite, options: {filename: t.db}}
    """)
    project = shapeshift.load(path)

    outcome = shapeshift.run(project, shapeshift.plan(project)).outcome("e")

    assert [row[1] for row in rows(outcome.table)] == ["code", "name"]


def test_it_refuses_a_second_statement(ws, db):
    outcome = run_query(ws, "select code as x from taxa; delete from taxa")

    assert outcome.status == "failed"
    assert "query refused: a SQL source runs exactly one statement" in outcome.error


def test_it_stops_a_query_at_the_statement_timeout(ws, db):
    slow = (
        "with recursive r(n) as (select 1 union all select n + 1 from r where n < 30000000) "
        "select n as x from r where n < 0"
    )

    outcome = run_query(ws, slow, shapeshift.SqlPolicy(statement_timeout=0.05))

    assert outcome.status == "failed"
    assert "query stopped after the statement timeout of 0.05 s" in outcome.error


def test_it_refuses_the_applications_own_database_file(ws, db, tmp_path):
    own = tmp_path / "app.sqlite3"
    with sqlite3.connect(own) as connection:
        connection.execute("create table auth_user(password text)")
        connection.execute("insert into auth_user values ('pbkdf2_sha256$secret')")
    connection.close()
    os.link(own, ws.folder / "innocent.db")  # the same file under a name inside the bundle
    policy = shapeshift.SqlPolicy(refused_files=(str(own),))

    outcome = run_query(ws, "select password as x from auth_user", policy, database="innocent.db")

    assert outcome.status == "failed"
    assert "SQLite source 'local' (innocent.db) is refused: it is the application's own database" in (
        outcome.error
    )
    assert outcome.table is None
