"""How the server opens a configuration: confined to its own folder, with only the allowed environment.

Configurations come from users, and a run's preview shows what they read. So a stored configuration may
read no file outside its bundle (``DirectoryResolver(confined=True)``), no environment variable the
operator has not listed in SHIFTBENCH_CONFIG_ENV (``${SHIFTBENCH_SECRET_KEY}`` must stay unresolved),
and no SQL server the operator has not listed in SHIFTBENCH_SQL_ALLOWED, never this application's own
database (``sql_policy``).
"""

import fnmatch
import os
from pathlib import Path

from django.conf import settings
from django.db import connections

import shapeshift
from shapeshift.sqlpolicy import SERVER_STARTED_SQL


def allowed_env() -> dict[str, str]:
    """The environment variables configurations may read: those matching SHIFTBENCH_CONFIG_ENV patterns."""
    patterns = settings.CONFIG_ENV
    return {
        name: value
        for name, value in os.environ.items()
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    }


def sql_policy() -> shapeshift.SqlPolicy:
    """Where the SQL sources of stored configurations may connect, from the SHIFTBENCH_SQL_* settings.

    The application's own databases (every alias of ``DATABASES``, as connected: a test database
    included) are refused by name here and, for PostgreSQL, by identity once a source is connected.
    """
    servers, files = [], []
    for alias in settings.DATABASES:
        database = connections[alias].settings_dict
        if database["ENGINE"].endswith("sqlite3"):
            files.append(str(database["NAME"]))
        elif database["ENGINE"].endswith(("postgresql", "postgis")):
            servers.append(
                shapeshift.SqlTarget(
                    host=database.get("HOST") or "",
                    port=str(database.get("PORT") or 5432),
                    dbname=str(database["NAME"]),
                )
            )
    return shapeshift.SqlPolicy(
        allowed=tuple(settings.SQL_ALLOWED),
        refused=tuple(servers),
        own_databases=_own_postgres_databases if servers else None,
        refused_files=tuple(files),
        allow_privileged=settings.SQL_ALLOW_SUPERUSER,
        statement_timeout=float(settings.SQL_STATEMENT_TIMEOUT),
        allowed_setting="SHIFTBENCH_SQL_ALLOWED",
        privileged_setting="SHIFTBENCH_SQL_ALLOW_SUPERUSER",
    )


def _own_postgres_databases() -> set[tuple[str, str]]:
    """``(server start time, database)`` of each PostgreSQL database of ours; one query per alias.

    The start time tells one server from another whatever address reached it, so the application's own
    database is recognised even when a source names its machine by another address.
    """
    found = set()
    for alias in settings.DATABASES:
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {SERVER_STARTED_SQL}, current_database()")
                found.add(tuple(cursor.fetchone()))
    return found


def _resolver(path: Path, unavailable: dict | None = None) -> shapeshift.DirectoryResolver:
    return shapeshift.DirectoryResolver(path.parent, confined=True, unavailable=unavailable)


def load_project(path, unavailable: dict | None = None) -> shapeshift.Project:
    """``shapeshift.load`` for the YAML at ``path``, confined; raises shapeshift.ConfigError.

    ``unavailable``: files of the bundle that must not be read, with the reason (``Bundle.unavailable``).
    """
    path = Path(path)
    return shapeshift.load(
        path.name, _resolver(path, unavailable), env=allowed_env(), sql_policy=sql_policy()
    )


def referenced_files(path) -> list:
    """``shapeshift.collect_files`` for the YAML at ``path``, confined; raises shapeshift.ConfigError."""
    path = Path(path)
    return shapeshift.collect_files(path.name, _resolver(path), env=allowed_env())
