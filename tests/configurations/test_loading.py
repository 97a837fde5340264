"""Stored configurations read nothing outside their bundle and only the environment the operator allows;
their SQL sources reach only the servers the operator allows, never the application's own database."""

import os
from pathlib import Path

import pytest

import shapeshift
from configurations.importing import import_configuration
from configurations.loading import load_project
from testruns.execution import start_run
from testruns.models import Status
from testruns.options import RunOptions

pytestmark = pytest.mark.django_db

SECRET_ECHO = """
entities:
  echo:
    type: fixed
    columns: [value]
    keys: [value]
    values:
      - ["${SHIFTBENCH_SECRET_KEY}"]
      - ["${SEAD_HOST}"]
"""


def run(version, user, capture):
    with capture(execute=True):
        run = start_run(version, RunOptions(max_rows_per_entity=None), user)
    run.refresh_from_db()
    return run


def test_it_never_bundles_a_file_outside_the_configurations_folder(tmp_path, alice):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "entities:\n  leak:\n    type: csv\n    options: {filename: ../secret.csv}\n    columns: [password]\n"
    )

    version, _ = import_configuration(path, user=alice)

    assert list(version.files.values_list("path", flat=True)) == ["config.yml"]


def test_a_run_cannot_read_outside_its_bundle(tmp_path, alice, django_capture_on_commit_callbacks):
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "config.yml"
    path.write_text(
        "entities:\n  leak:\n    type: csv\n    options: {filename: ../secret.csv}\n    columns: [password]\n"
    )
    version, _ = import_configuration(path, user=alice)
    # The bundle lives elsewhere, but a same-named file beside it must not be reached either.
    bundle = version.materialize()
    (bundle.parent.parent / "secret.csv").write_text("password\nhunter2\n")

    result = run(version, alice, django_capture_on_commit_callbacks).entity_results.get(entity="leak")

    assert result.status == "failed"
    assert "hunter2" not in str(result.preview)


def test_environment_variables_are_hidden_unless_allowed(
    write_config, alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("SHIFTBENCH_SECRET_KEY", "do-not-show")
    monkeypatch.setenv("SEAD_HOST", "db.example.org")
    settings.CONFIG_ENV = ["SEAD_*"]
    version, _ = import_configuration(write_config(SECRET_ECHO), user=alice)

    run_ = run(version, alice, django_capture_on_commit_callbacks)

    assert run_.status == Status.COMPLETED
    values = str(run_.entity_results.get(entity="echo").preview)
    assert "do-not-show" not in values
    assert "db.example.org" in values


SQL_SOURCE = """
entities:
  users:
    type: sql
    data_source: app
    columns: [username, password]
    query: "SELECT username, password FROM auth_user"
options:
  data_sources:
    app: {driver: %(driver)s, options: %(options)s}
"""


def sql_config(write_config, driver: str, **options) -> Path:
    flow = "{" + ", ".join(f"{key}: '{value}'" for key, value in options.items()) + "}"
    return write_config(SQL_SOURCE % {"driver": driver, "options": flow})


def postgres_options(db: dict, **overrides) -> dict:
    options = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "dbname": db["NAME"],
        "user": db.get("USER") or "postgres",
    }
    return {**options, **overrides}


def postgres_reachable() -> bool:
    """The local PostgreSQL server the SQL-source tests read; its absence fails only under CI=true."""
    import os

    import psycopg

    try:
        psycopg.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3
        ).close()
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs PostgreSQL at 127.0.0.1:5432")
        return False
    return True


def test_a_sql_source_cannot_read_the_applications_own_sqlite_file(write_config, alice):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on PostgreSQL: its own-database test is the PostgreSQL one")
    # The configuration's file *is* the application's database (a hard link): the name cannot tell, the
    # inode can. (A stored bundle is rebuilt from its blobs when a file's size is off, so the folder is
    # loaded the way the server loads every bundle, through load_project.)
    path = sql_config(write_config, "sqlite", filename="app.db")
    os.link(connection.settings_dict["NAME"], path.parent / "app.db")

    result = shapeshift.run(load_project(path), keep_tables=False)

    users = next(outcome for outcome in result.outcomes if outcome.name == "users")
    assert users.status == "failed"
    assert users.error == (
        "SQLite source 'app' (app.db) is refused: it is the application's own database, "
        "which no SQL source may read"
    )


@pytest.mark.parametrize("host", ["as configured", "localhost", "::1", "/var/run/postgresql"])
def test_a_sql_source_cannot_read_the_applications_own_postgresql_database(
    write_config, alice, settings, django_capture_on_commit_callbacks, host
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the suite runs on SQLite: its own-database test is the SQLite one")
    settings.SQL_ALLOWED = ["*"]  # the allow list can never re-allow the application's database
    settings.SQL_ALLOW_SUPERUSER = True
    db = connection.settings_dict
    overrides = {} if host == "as configured" else {"host": host}
    version, _ = import_configuration(
        sql_config(write_config, "postgres", **postgres_options(db, **overrides)), user=alice
    )

    users = run(version, alice, django_capture_on_commit_callbacks).entity_results.get(entity="users")

    assert users.status == "failed"
    assert "is refused: it is the application's own database, which no SQL source may read" in users.error
    assert "alice" not in str(users.preview)


def test_the_applications_own_postgresql_database_is_recognised_once_connected(write_config, settings):
    """A name the policy does not know (another address of the machine) is caught by the identity check."""
    import dataclasses

    from django.db import connection

    import shapeshift
    from configurations.loading import sql_policy

    if connection.vendor != "postgresql":
        pytest.skip("the suite runs on SQLite: it has no PostgreSQL database of its own")
    settings.SQL_ALLOWED = ["*"]
    settings.SQL_ALLOW_SUPERUSER = True
    unnamed = dataclasses.replace(sql_policy(), refused=())
    path = sql_config(write_config, "postgres", **postgres_options(connection.settings_dict))
    project = shapeshift.load(path, sql_policy=unnamed)

    users = shapeshift.run(project, shapeshift.plan(project)).outcome("users")

    assert users.status == "failed"
    assert "is refused: it is the application's own database" in users.error


@pytest.mark.parametrize(
    "allowed, message",
    [
        ([], "is refused: this server allows no PostgreSQL source (SHIFTBENCH_SQL_ALLOWED is empty)"),
        (["db.example.org:5432"], "is refused: 127.0.0.1:5432/sead is not in SHIFTBENCH_SQL_ALLOWED"),
    ],
)
def test_a_sql_source_is_refused_unless_its_server_is_allowed(
    write_config, alice, settings, django_capture_on_commit_callbacks, allowed, message
):
    settings.SQL_ALLOWED = allowed
    options = {"host": "127.0.0.1", "port": 5432, "dbname": "sead", "user": "reader", "password": "hunter2"}
    version, _ = import_configuration(sql_config(write_config, "postgres", **options), user=alice)

    users = run(version, alice, django_capture_on_commit_callbacks).entity_results.get(entity="users")

    assert users.status == "failed"
    assert users.error == f"PostgreSQL source 'app' (127.0.0.1:5432/sead) {message}"
    assert "hunter2" not in users.error
    warnings = [issue["message"] for issue in version.validation["issues"]]
    refused = "entity cannot be loaded: data source 'app' (PostgreSQL 127.0.0.1:5432/sead) will be refused: "
    assert any(warning.startswith(refused) for warning in warnings)


QUERY_ONE = SQL_SOURCE.replace(
    "SELECT username, password FROM auth_user", "SELECT 'a' AS username, 'b' AS password"
)


@pytest.mark.parametrize("allow_superuser", [True, False])
def test_an_allowed_server_is_read_by_roles_without_server_privileges(
    write_config, alice, settings, django_capture_on_commit_callbacks, allow_superuser
):
    if not postgres_reachable():
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    settings.SQL_ALLOWED = ["127.0.0.1:5432/postgres"]
    settings.SQL_ALLOW_SUPERUSER = allow_superuser
    flow = "{host: 127.0.0.1, port: 5432, dbname: postgres, user: postgres}"
    version, _ = import_configuration(
        write_config(QUERY_ONE % {"driver": "postgres", "options": flow}), user=alice
    )

    users = run(version, alice, django_capture_on_commit_callbacks).entity_results.get(entity="users")

    if allow_superuser:
        assert users.status == "success", users.error
        assert [dict(zip(users.columns, row, strict=True)) for row in users.preview] == [
            {"username": "a", "password": "b"}
        ]
    else:
        assert users.status == "failed"
        assert users.error.endswith(
            "is refused: the role 'postgres' is a superuser or can become one; such roles are refused "
            "unless SHIFTBENCH_SQL_ALLOW_SUPERUSER allows them"
        )
