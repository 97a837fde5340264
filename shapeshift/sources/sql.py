"""SQL loaders: SQLite (read-only URI, reads only) and PostgreSQL (one statement, read-only session).

Credentials come from the configuration (usually ${ENV} placeholders) or the environment /
.pgpass; they never appear in messages.
"""

from __future__ import annotations

import re
import sqlite3
import time
import urllib.parse

import pandas as pd

from ..errors import FileUnavailable, SourceUnavailable
from ..paths import join_relative
from ..sqlpolicy import SERVER_STARTED_SQL, SqlTarget
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


# What a read needs from SQLite; everything else (ATTACH and so VACUUM INTO, DETACH, writes, schema
# changes, transactions, other PRAGMAs) is denied by the authorizer, before the statement runs.
_SQLITE_READS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
_SQLITE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"}
_SQLITE_ACTIONS = {  # authorizer action codes, named for messages
    getattr(sqlite3, "SQLITE_" + name): name.replace("_", " ")
    for name in (
        "CREATE_INDEX CREATE_TABLE CREATE_TEMP_INDEX CREATE_TEMP_TABLE CREATE_TEMP_TRIGGER CREATE_TEMP_VIEW "
        "CREATE_TRIGGER CREATE_VIEW DELETE DROP_INDEX DROP_TABLE DROP_TEMP_INDEX DROP_TEMP_TABLE "
        "DROP_TEMP_TRIGGER DROP_TEMP_VIEW DROP_TRIGGER DROP_VIEW INSERT TRANSACTION UPDATE DETACH "
        "ALTER_TABLE REINDEX ANALYZE CREATE_VTABLE DROP_VTABLE SAVEPOINT"
    ).split()
}
_SQLITE_CHECK_EVERY = 10_000  # virtual-machine steps between two looks at the statement timeout


class _SqliteGuard:
    """The authorizer and progress handler of one read: remembers what it denied, stops at the timeout."""

    def __init__(self, timeout: float) -> None:
        self.denied: str | None = None
        self.deadline = time.monotonic() + timeout
        self.timed_out = False

    def authorize(self, action, arg1, arg2, database, trigger) -> int:
        if action in _SQLITE_READS or (action == sqlite3.SQLITE_PRAGMA and arg1 in _SQLITE_PRAGMAS):
            if not (action == sqlite3.SQLITE_FUNCTION and arg2 == "load_extension"):
                return sqlite3.SQLITE_OK
        what = _SQLITE_ACTIONS.get(action, f"action {action}")
        if action == sqlite3.SQLITE_ATTACH:
            what = "ATTACH (or VACUUM, which attaches its target)"
        elif action == sqlite3.SQLITE_PRAGMA:
            what = f"PRAGMA {arg1}"
        elif action == sqlite3.SQLITE_FUNCTION:
            what = f"the function {arg2}()"
        elif arg1 in ("sqlite_master", "sqlite_temp_master"):  # CREATE/DROP first write the schema table
            what = "changing the schema"
        self.denied = self.denied or what
        return sqlite3.SQLITE_DENY

    def progress(self) -> int:
        self.timed_out = time.monotonic() > self.deadline
        return 1 if self.timed_out else 0


def query_sqlite(source_name: str, entry: dict, query: str, ctx: SourceContext) -> pd.DataFrame:
    """Run `query` on an SQLite file opened with mode=ro (path relative to the configuration).

    The query may only read: one statement (sqlite3 refuses more), and an authorizer denies anything
    but reading, so `VACUUM INTO` and `ATTACH` cannot create files. It is interrupted after the policy's
    statement timeout. A file the policy refuses (the application's own database) is never opened.
    """
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    path = _first([entry, options], "database", "filename", "dbname", default=":memory:")
    policy = ctx.sql_policy
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
        refusal = policy.file_refusal(local)
        if refusal:
            raise SourceUnavailable(f"SQLite source '{source_name}' ({relative}) is refused: {refusal}")
        uri = "file:" + urllib.parse.quote(str(local)) + "?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise SourceUnavailable(f"SQLite source '{source_name}' cannot be opened: {exc}") from None
    guard = _SqliteGuard(policy.statement_timeout)
    connection.set_authorizer(guard.authorize)
    connection.set_progress_handler(guard.progress, _SQLITE_CHECK_EVERY)
    try:
        cursor = connection.execute(query)
        return _frame(cursor, ctx.sql_row_limit)
    except (sqlite3.Error, sqlite3.Warning) as exc:
        if guard.denied:
            reason = f"query refused: {guard.denied} is not allowed; a SQL source may only read (SELECT)"
        elif guard.timed_out:
            reason = f"query stopped after the statement timeout of {policy.statement_timeout:g} s"
        elif isinstance(exc, sqlite3.ProgrammingError) and "one statement" in str(exc):
            reason = f"query refused: a SQL source runs exactly one statement ({exc})"
        else:
            reason = f"query failed: {exc}"
        raise SourceUnavailable(f"SQLite source '{source_name}': {reason}") from None
    finally:
        connection.close()


# Run inside the source's read-only transaction before its query: this takes the transaction's snapshot
# (so the query can no longer `SET TRANSACTION READ WRITE`) and says who and where the session is.
_SESSION_QUERY = f"""
SELECT {SERVER_STARTED_SQL}, current_database(), current_user,
       EXISTS (SELECT FROM pg_roles r WHERE r.rolsuper AND pg_has_role(current_user, r.oid, 'MEMBER')),
       (SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) FROM pg_roles r
         WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
           AND pg_has_role(current_user, r.oid, 'MEMBER'))
"""


_COMMENTS = re.compile(r"\s+|--[^\n]*|/\*.*?\*/|\(", re.DOTALL)
_QUERY_STARTS = ("select", "with", "values", "table")


def _first_word(query: str) -> str:
    """The query's first keyword, after blanks, comments and opening parentheses."""
    position = 0
    while match := _COMMENTS.match(query, position):
        position = match.end()
    word = re.match(r"\w*", query[position:])
    return word.group(0) if word else ""


def _postgres_reason(exc: Exception, query: str, timeout: float) -> str:
    import psycopg.errors as pg

    text = str(exc).strip()
    first = _SECRET.sub(r"\1***", text.splitlines()[0] if text else type(exc).__name__)
    if isinstance(exc, pg.SyntaxError) and "multiple commands" in text:
        return f"query refused: a SQL source runs exactly one statement ({first})"
    if isinstance(exc, pg.SyntaxError) and _first_word(query).lower() not in _QUERY_STARTS:
        return (
            f"query refused: a SQL source is one SELECT, VALUES, TABLE or WITH ... SELECT statement, "
            f"not {_first_word(query).upper() or 'this'} ({first})"
        )
    if isinstance(exc, pg.FeatureNotSupported) and "data-modifying" in text:
        return f"query refused: a SQL source may only read ({first})"
    if isinstance(exc, pg.ReadOnlySqlTransaction | pg.ActiveSqlTransaction):
        return f"query refused: the session is read-only ({first})"
    if isinstance(exc, pg.InsufficientPrivilege):
        return f"query refused: {first}"
    if isinstance(exc, pg.QueryCanceled):
        return f"query stopped after the statement timeout of {timeout:g} s ({first})"
    return f"query failed: {first}"


def query_postgres(source_name: str, entry: dict, query: str, ctx: SourceContext) -> pd.DataFrame:
    """Run `query` as one statement in a read-only session; failures name the server, never secrets.

    1. The target must pass the policy (allowed servers, never the application's own database).
    2. The session starts read-only (`default_transaction_read_only`) with a `statement_timeout`, in
       the startup options, and the query runs inside `BEGIN READ ONLY` after a first query has taken
       the snapshot: one statement cannot make it writable again.
    3. Once connected, the session is checked: the application's own database under another name, and
       roles that can read or write server files or run programs, are refused.
    4. The query runs as a server-side cursor: one statement only, and only a query, so neither
       `COMMIT; DROP TABLE ...` nor `COPY ... TO PROGRAM` ever runs.
    """
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
    policy = ctx.sql_policy
    target = SqlTarget.from_options(options)
    user = _first([options], "user", "username", "dbuser", default="postgres")
    password = _first([options], "password")
    where = str(target)
    refusal = policy.server_refusal(target)
    if refusal:
        raise SourceUnavailable(f"PostgreSQL source '{source_name}' ({where}) is refused: {refusal}")
    try:
        import psycopg
    except ImportError:  # pragma: no cover - pinned dependency
        raise SourceUnavailable(
            f"PostgreSQL source '{source_name}' ({where}): psycopg is not installed"
        ) from None
    timeout_ms = max(1, round(policy.statement_timeout * 1000))
    params = {
        "host": target.host,
        "port": target.port,
        "user": str(user),
        "dbname": target.dbname,
        "connect_timeout": 5,
        # Given here, these also override PGOPTIONS from the environment.
        "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}",
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
            cursor.execute(_SESSION_QUERY)
            refusal = _session_refusal(policy, *cursor.fetchone())
            if refusal:
                raise SourceUnavailable(f"PostgreSQL source '{source_name}' ({where}) is refused: {refusal}")
        # A named cursor: psycopg sends `DECLARE ... CURSOR FOR <query>` with the extended protocol, which
        # refuses a second statement, and DECLARE takes only a query (SELECT, VALUES, TABLE, WITH ...
        # SELECT): no COPY ... TO PROGRAM, COMMIT, SET or data-modifying WITH.
        with connection.cursor(name="shapeshift_source") as cursor:
            cursor.execute(query)
            return _frame(cursor, ctx.sql_row_limit)
    except SourceUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001
        reason = _postgres_reason(exc, query, policy.statement_timeout)
        raise SourceUnavailable(f"PostgreSQL source '{source_name}' ({where}): {reason}") from None
    finally:
        connection.close()


def _session_refusal(
    policy, started: str, dbname: str, role: str, superuser: bool, server_roles: str | None
) -> str | None:
    """Why a connected session may not run the query (see SqlPolicy), or None.

    Membership counts, not only the role's own attributes: within its one statement a member could
    still `set_config('role', ...)` before calling a function such as pg_read_file.
    """
    if policy.own_databases is not None and (started, dbname) in set(policy.own_databases()):
        return "it is the application's own database, which no SQL source may read"
    if policy.allow_privileged:
        return None
    if superuser:
        what = "is a superuser or can become one"
    elif server_roles:
        what = f"is a member of {server_roles} (server files or programs)"
    else:
        return None
    return f"the role {role!r} {what}; such roles are refused unless {policy.privileged_setting} allows them"


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
