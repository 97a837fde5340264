"""SQL loaders: SQLite (read-only URI) and PostgreSQL (read-only transaction via psycopg 3).

Credentials come from the configuration (usually ${ENV} placeholders) or the environment /
.pgpass; they never appear in messages.
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse

import pandas as pd

from ..errors import FileUnavailable, SourceUnavailable
from ..paths import join_relative
from .context import SourceContext

_SECRET = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)


def _first(scopes: list[dict], *keys, default=None):
    for scope in scopes:
        for key in keys:
            if isinstance(scope, dict) and scope.get(key) not in (None, ""):
                return scope[key]
    return default


def _frame(cursor, limit: int | None = None) -> pd.DataFrame:
    """The result as a DataFrame; with `limit`, at most that many rows and attrs['truncated_at'] set."""
    rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit + 1)
    truncated = limit is not None and len(rows) > limit
    rows = rows[:limit] if truncated else rows
    columns = [d[0] for d in cursor.description or []]
    frame = _to_frame(rows, columns)
    if truncated:
        frame.attrs["truncated_at"] = limit
    return frame


def _to_frame(rows: list, columns: list) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


def query_sqlite(source_name: str, entry: dict, query: str, ctx: SourceContext) -> pd.DataFrame:
    """Run `query` on an SQLite file opened with mode=ro (path relative to the configuration)."""
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    path = _first([entry, options], "database", "filename", "dbname", default=":memory:")
    if path == ":memory:":
        connection = sqlite3.connect(":memory:")
    else:
        relative = join_relative(ctx.base_dir, str(path))
        try:
            local = ctx.resolver.local_path(relative)
        except FileUnavailable as exc:
            raise SourceUnavailable(f"SQLite source '{source_name}': {exc}") from None
        except FileNotFoundError:
            raise SourceUnavailable(f"SQLite source '{source_name}': file not found: {relative}") from None
        uri = "file:" + urllib.parse.quote(str(local)) + "?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise SourceUnavailable(f"SQLite source '{source_name}' cannot be opened: {exc}") from None
    try:
        cursor = connection.execute(query)
        return _frame(cursor, ctx.sql_row_limit)
    except sqlite3.Error as exc:
        raise SourceUnavailable(f"SQLite source '{source_name}': query failed: {exc}") from None
    finally:
        connection.close()


def query_postgres(source_name: str, entry: dict, query: str, ctx: SourceContext) -> pd.DataFrame:
    """Run `query` in a read-only transaction; connection failures name the server, never secrets."""
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    empty = [
        key
        for key in ("host", "hostname", "port", "dbname", "database", "user", "username")
        if key in options and options[key] in (None, "")
    ]
    if empty:
        raise SourceUnavailable(
            f"PostgreSQL source '{source_name}' is not configured: empty "
            f"{', '.join(empty)} (an unset ${{...}} environment variable?)"
        )
    host = _first([options], "host", "hostname", "dbhost", "server", default="localhost")
    port = _first([options], "port", default=5432)
    user = _first([options], "user", "username", "dbuser", default="postgres")
    dbname = _first([options], "dbname", "database", "db", default="postgres")
    password = _first([options], "password")
    where = f"{host}:{port}/{dbname}"
    try:
        import psycopg
    except ImportError:  # pragma: no cover - pinned dependency
        raise SourceUnavailable(
            f"PostgreSQL source '{source_name}' ({where}): psycopg is not installed"
        ) from None
    params = {
        "host": str(host),
        "port": str(port),
        "user": str(user),
        "dbname": str(dbname),
        "connect_timeout": 5,
    }
    if password:
        params["password"] = str(password)
    try:
        connection = psycopg.connect(**params)
    except Exception as exc:  # noqa: BLE001 - any connection problem makes the source unavailable
        reason = _SECRET.sub(
            r"\1***", str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        raise SourceUnavailable(
            f"PostgreSQL source '{source_name}' ({where}) is unreachable: {reason}"
        ) from None
    try:
        connection.read_only = True
        with connection.cursor() as cursor:
            cursor.execute(query)
            return _frame(cursor, ctx.sql_row_limit)
    except Exception as exc:  # noqa: BLE001
        reason = _SECRET.sub(
            r"\1***", str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        raise SourceUnavailable(
            f"PostgreSQL source '{source_name}' ({where}): query failed: {reason}"
        ) from None
    finally:
        connection.close()


def query_ucanaccess(source_name: str, entry: dict, query: str, ctx: SourceContext) -> pd.DataFrame:
    """MS Access needs Java + UCanAccess jars; this engine does not ship them, so always unavailable."""
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    filename = options.get("filename") or "(no filename)"
    raise SourceUnavailable(
        f"MS Access source '{source_name}' ({filename}) is unavailable: the ucanaccess driver needs a "
        "Java runtime and the UCanAccess jars, which this engine does not support"
    )


SQL_DRIVERS = {
    "sqlite": query_sqlite,
    "postgres": query_postgres,
    "postgresql": query_postgres,
    "ucanaccess": query_ucanaccess,
    "access": query_ucanaccess,
}
