"""PostgreSQL sources on a real server: one query, read-only, bounded in time, never a privileged role.

Each test module gets a scratch database with a `victim` table and a few login roles, made on the server
at 127.0.0.1:5432 (trust auth, as in CI) and dropped at the end. Without that server the tests are
skipped, except under CI=true, where its absence is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest

import shapeshift
from tests.shapeshift.engine_support import rows

SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


def _admin():
    import psycopg

    try:
        return psycopg.connect(**SERVER, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL at {SERVER['host']}:{SERVER['port']}: {exc}")
        pytest.skip(f"no PostgreSQL at {SERVER['host']}:{SERVER['port']}")


@pytest.fixture(scope="module")
def scratch():
    """The scratch database's name and its roles: reader (plain), programs, escalate (superuser member)."""
    suffix = uuid.uuid4().hex[:8]
    name = f"shapeshift_sql_{suffix}"
    roles = {kind: f"shapeshift_{kind}_{suffix}" for kind in ("reader", "programs", "escalate")}
    admin = _admin()
    admin.execute(f"CREATE DATABASE {name}")
    admin.execute(f"CREATE ROLE {roles['reader']} LOGIN")
    admin.execute(f"CREATE ROLE {roles['programs']} LOGIN IN ROLE pg_execute_server_program")
    admin.execute(f"CREATE ROLE {roles['escalate']} LOGIN IN ROLE {SERVER['user']}")
    try:
        import psycopg

        with psycopg.connect(**{**SERVER, "dbname": name}, autocommit=True) as db:
            db.execute("CREATE TABLE victim (id int, name text)")
            db.execute("INSERT INTO victim VALUES (1, 'one'), (2, 'two')")
            db.execute("CREATE SEQUENCE counter")
            for role in roles.values():
                db.execute(f"GRANT SELECT ON victim TO {role}")
                db.execute(f"GRANT USAGE ON SEQUENCE counter TO {role}")
        yield name, roles
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for role in roles.values():
            admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()


def victim_rows(name: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(**{**SERVER, "dbname": name}) as db:
        return db.execute("SELECT id, name FROM victim ORDER BY id").fetchall()


def table_exists(name: str, table: str) -> bool:
    import psycopg

    with psycopg.connect(**{**SERVER, "dbname": name}) as db:
        return db.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()[0]


def run_query(ws, dbname: str, query: str, policy=None, *, user: str = "postgres", host: str = "127.0.0.1"):
    """The outcome of one SQL entity `e` (columns [id]) reading `query` from `dbname` as `user`."""
    path = ws.config(
        "entities:\n"
        "  e:\n"
        "    type: sql\n"
        "    data_source: pg\n"
        "    columns: [id]\n"
        f"    query: {query!r}\n"
        "options:\n"
        "  data_sources:\n"
        "    pg:\n"
        "      driver: postgres\n"
        f"      options: {{host: '{host}', port: 5432, dbname: {dbname}, user: {user}}}\n"
    )
    project = shapeshift.load(path, **({"sql_policy": policy} if policy else {}))
    return shapeshift.run(project, shapeshift.plan(project)).outcome("e")


def test_it_reads_rows_as_a_plain_role_from_an_allowed_server(ws, scratch):
    name, roles = scratch
    policy = shapeshift.SqlPolicy(allowed=(f"127.0.0.1:5432/{name}",), allow_privileged=False)

    outcome = run_query(ws, name, "SELECT id FROM victim ORDER BY id", policy, user=roles["reader"])

    assert outcome.status == "success", outcome.error
    assert rows(outcome.table) == [(1,), (2,)]


ONE_STATEMENT = "query refused: a SQL source runs exactly one statement"
NOT_A_QUERY = "query refused: a SQL source is one SELECT, VALUES, TABLE or WITH ... SELECT statement, not "


@pytest.mark.parametrize(
    "query, message",
    [
        ("COMMIT; DROP TABLE victim; SELECT 1 AS id", NOT_A_QUERY + "COMMIT"),
        (
            "SET TRANSACTION READ WRITE; INSERT INTO victim VALUES (9, 'nine'); COMMIT; SELECT 1 AS id",
            NOT_A_QUERY + "SET",
        ),
        ("ROLLBACK; CREATE TABLE made (id int); SELECT 1 AS id", NOT_A_QUERY + "ROLLBACK"),
        ("SELECT 1 AS id; DROP TABLE victim", ONE_STATEMENT),
        ("SELECT 1 AS id; SELECT 2 AS id", ONE_STATEMENT),
    ],
)
def test_it_refuses_more_than_one_statement(ws, scratch, query, message):
    name, _ = scratch

    outcome = run_query(ws, name, query)  # as the superuser, with the CLI's policy: nothing else stops it

    assert outcome.status == "failed"
    assert message in outcome.error
    assert victim_rows(name) == [(1, "one"), (2, "two")]
    assert not table_exists(name, "made")


@pytest.mark.parametrize(
    "query, word",
    [
        ("COMMIT", "COMMIT"),
        ("SET TRANSACTION READ WRITE", "SET"),
        ("DROP TABLE victim", "DROP"),
        ("COPY (SELECT 1) TO PROGRAM 'touch {marker}'", "COPY"),
        ("COPY victim TO '{marker}'", "COPY"),
    ],
)
def test_it_refuses_statements_that_are_not_queries(ws, scratch, tmp_path, query, word):
    name, _ = scratch
    marker = tmp_path / "written-by-the-server"

    outcome = run_query(ws, name, query.format(marker=marker))

    assert outcome.status == "failed"
    assert NOT_A_QUERY + word in outcome.error
    assert not marker.exists()
    assert victim_rows(name) == [(1, "one"), (2, "two")]


@pytest.mark.parametrize(
    "query, message",
    [
        ("WITH gone AS (DELETE FROM victim RETURNING id) SELECT id FROM gone", "a SQL source may only read"),
        ("SELECT nextval('counter') AS id", "the session is read-only"),
        ("SELECT set_config('transaction_read_only', 'off', false) AS id", "the session is read-only"),
    ],
)
def test_the_session_stays_read_only(ws, scratch, query, message):
    name, roles = scratch

    outcome = run_query(ws, name, query, user=roles["reader"])

    assert outcome.status == "failed"
    assert f"query refused: {message}" in outcome.error
    assert victim_rows(name) == [(1, "one"), (2, "two")]


def test_it_stops_a_query_at_the_statement_timeout(ws, scratch):
    name, roles = scratch
    policy = shapeshift.SqlPolicy(statement_timeout=0.2)

    outcome = run_query(ws, name, "SELECT 1 AS id FROM pg_sleep(30)", policy, user=roles["reader"])

    assert outcome.status == "failed"
    assert "query stopped after the statement timeout of 0.2 s" in outcome.error


@pytest.mark.parametrize(
    "role, why",
    [
        ("postgres", "is a superuser or can become one"),
        ("escalate", "is a superuser or can become one"),
        ("programs", "is a member of pg_execute_server_program (server files or programs)"),
    ],
)
def test_it_refuses_privileged_roles_unless_allowed(ws, scratch, role, why):
    name, roles = scratch
    user = roles.get(role, role)
    policy = shapeshift.SqlPolicy(allow_privileged=False, privileged_setting="SHIFTBENCH_SQL_ALLOW_SUPERUSER")

    outcome = run_query(ws, name, "SELECT length(pg_read_file('/etc/hostname')) AS id", policy, user=user)

    assert outcome.status == "failed"
    assert (
        f"is refused: the role '{user}' {why}; such roles are refused unless "
        "SHIFTBENCH_SQL_ALLOW_SUPERUSER allows them"
    ) in outcome.error


def test_it_refuses_a_server_that_is_not_allowed_before_connecting(ws, scratch):
    name, _ = scratch
    policy = shapeshift.SqlPolicy(allowed=("db.example.org:5432",), allowed_setting="SHIFTBENCH_SQL_ALLOWED")

    outcome = run_query(ws, name, "SELECT id FROM victim", policy)

    assert outcome.status == "failed"
    assert outcome.error == (
        f"PostgreSQL source 'pg' (127.0.0.1:5432/{name}) is refused: "
        f"127.0.0.1:5432/{name} is not in SHIFTBENCH_SQL_ALLOWED"
    )


def test_it_recognises_the_applications_own_database_under_any_address(ws, scratch):
    """The name check sees 'localhost' and '::1' as this machine; the identity check needs no name at all."""
    import psycopg

    name, roles = scratch
    with psycopg.connect(**{**SERVER, "dbname": name}) as db:
        own = db.execute(f"SELECT {shapeshift.sqlpolicy.SERVER_STARTED_SQL}, current_database()").fetchone()
    policy = shapeshift.SqlPolicy(allowed=("*",), own_databases=lambda: {tuple(own)})

    outcome = run_query(ws, name, "SELECT id FROM victim", policy, user=roles["reader"], host="localhost")

    assert outcome.status == "failed"
    assert outcome.error == (
        f"PostgreSQL source 'pg' (localhost:5432/{name}) is refused: "
        "it is the application's own database, which no SQL source may read"
    )
