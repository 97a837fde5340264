"""Where SQL sources may connect: the policy a server hands the engine with a configuration.

Every SQL source, whatever the policy, runs one statement in a read-only session with a statement
timeout (``sources/sql.py``). The policy adds *where* it may connect. The default, used by the CLI,
allows any server: the person running it names the database. A server builds a restricted one from its
settings (``configurations/loading.py``), because there the configurations come from its users.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass

LOCAL = "(this machine)"
# How a PostgreSQL server is told apart from another, whatever address reached it: its start time, in
# microseconds (as text, the same on both sides). The server side runs it on its own connection.
SERVER_STARTED_SQL = "(extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint::text"


def _first(scope: dict, *keys, default=None):
    for key in keys:
        if scope.get(key) not in (None, ""):
            return scope[key]
    return default


@dataclass(frozen=True)
class SqlTarget:
    """A PostgreSQL database as a source names it: host (or socket folder), port and database name."""

    host: str
    port: str
    dbname: str

    @classmethod
    def from_options(cls, options: dict) -> SqlTarget:
        """The target of a data source's ``options``, with libpq's defaults where the source is silent."""
        return cls(
            host=str(_first(options, "host", "hostname", "dbhost", "server", default="localhost")),
            port=str(_first(options, "port", default=5432)),
            dbname=str(_first(options, "dbname", "database", "db", default="postgres")),
        )

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.dbname}"

    def key(self) -> tuple[str, str, str]:
        """What decides whether two targets are the same database: every name of this machine is one."""
        return _host_key(self.host), self.port.strip().lstrip("0") or "0", self.dbname


def _host_key(host: str) -> str:
    """A host as one comparable value: a socket folder, localhost and every loopback address are LOCAL.

    Legacy IPv4 spellings that libpq accepts ("127.1", "2130706433", "0x7f.1") are read as addresses.
    """
    name = host.strip().lower().rstrip(".")
    if name in ("", "localhost") or name.endswith(".localhost") or name.startswith(("/", "@")):
        return LOCAL
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        if not re.fullmatch(r"[0-9a-fx.]+", name):
            return name
        try:
            address = ipaddress.ip_address(socket.inet_aton(name))
        except OSError:
            return name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return LOCAL if address.is_loopback or address.is_unspecified else address.compressed


@dataclass(frozen=True)
class SqlPolicy:
    """Which SQL servers and files the SQL sources of a configuration may read.

    - ``allowed``: fnmatch patterns of ``host:port/dbname`` (a pattern without ``/`` allows every
      database of that server); ``None`` allows every server, an empty tuple none.
    - ``refused``: the application's own databases; refused whatever ``allowed`` says.
    - ``own_databases``: called once a PostgreSQL source is connected; returns
      ``(SERVER_STARTED_SQL, database name)`` of the application's own PostgreSQL databases, so a
      name the pattern check did not recognise (another address of the same machine) is refused too.
    - ``refused_files``: SQLite files no source may open (the application's own), compared by inode.
    - ``allow_privileged``: whether a role that is, or can become, a superuser or a member of
      pg_read_server_files / pg_write_server_files / pg_execute_server_program may connect.
    - ``statement_timeout``: seconds one query may run.
    - ``allowed_setting`` / ``privileged_setting``: what to name in a refusal, so an operator knows
      which setting to change.
    """

    allowed: tuple[str, ...] | None = None
    refused: tuple[SqlTarget, ...] = ()
    own_databases: Callable[[], Collection[tuple[str, str]]] | None = None
    refused_files: tuple[str, ...] = ()
    allow_privileged: bool = True
    statement_timeout: float = 300.0
    allowed_setting: str = "the allowed SQL servers"
    privileged_setting: str = "the SQL policy"

    def server_refusal(self, target: SqlTarget) -> str | None:
        """Why a PostgreSQL source may not connect to ``target``, or None; checked before connecting."""
        if "," in target.host or "," in target.port:
            return "a list of hosts or ports is refused: a SQL source names one server"
        if not target.port.strip().isdigit():
            return f"the port {target.port!r} is not a number"
        if any(target.key() == own.key() for own in self.refused):
            return "it is the application's own database, which no SQL source may read"
        if self.allowed is None:
            return None
        if not self.allowed:
            return f"this server allows no PostgreSQL source ({self.allowed_setting} is empty)"
        name = f"{target.host.strip().lower()}:{target.port.strip()}/{target.dbname}"
        if not any(fnmatch.fnmatchcase(name, _pattern(pattern)) for pattern in self.allowed):
            return f"{name} is not in {self.allowed_setting}"
        return None

    def file_refusal(self, path: str | os.PathLike) -> str | None:
        """Why a SQLite source may not open the file at ``path``, or None."""
        for own in self.refused_files:
            try:
                same = os.path.samefile(path, own)
            except OSError:
                continue
            if same:
                return "it is the application's own database, which no SQL source may read"
        return None


def _pattern(pattern: str) -> str:
    pattern = pattern.strip()
    host_port, slash, dbname = pattern.partition("/")
    return f"{host_port.lower()}/{dbname if slash else '*'}"
