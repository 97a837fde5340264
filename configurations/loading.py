"""How the server opens a configuration: confined to its own folder, with only the allowed environment.

Configurations come from users, and a run's preview shows what they read. So a stored configuration may
read no file outside its bundle (``DirectoryResolver(confined=True)``), no environment variable the
operator has not listed in SHIFTBENCH_CONFIG_ENV (``${SHIFTBENCH_SECRET_KEY}`` must stay unresolved),
and no SQL server the operator has not listed in SHIFTBENCH_SQL_ALLOWED, never this application's own
database (``sql_policy``).

Every ``shapeshift.load`` and ``shapeshift.collect_files`` of the application is in this module: a stored
version is loaded by ``load_version`` alone, in the format it was imported in and with the ``${VAR}``
folders bundled with it (``path_variables``), whatever the worker's environment holds.
"""

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.conf import settings
from django.db import connections

import shapeshift
from shapeshift.config.loading import path_variables as engine_path_variables
from shapeshift.paths import join_relative
from shapeshift.sqlpolicy import SERVER_STARTED_SQL

# A file reached through ``${VAR}`` at import is bundled under ``_env/<VAR>/`` (format-v2.md 2.3-2.5).
ENV_FOLDER = "_env"


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


def bundled_variable(name: str) -> str:
    """The folder of the bundle that stands for ``${name}`` in a stored version."""
    return f"{ENV_FOLDER}/{name}"


def stored_env(path_variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a stored version is loaded with: the allowed one, its path variables over it.

    A path variable wins over the worker's own value, so the version reads the files it was imported
    with, inside its bundle, on any machine (``importing.bundle_files``).
    """
    return {**allowed_env(), **(path_variables or {})}


def _resolver(path: Path, unavailable: dict | None = None) -> shapeshift.DirectoryResolver:
    return shapeshift.DirectoryResolver(path.parent, confined=True, unavailable=unavailable)


def _load(main: str, resolver, format_version: int | None, path_variables) -> shapeshift.Project:
    return shapeshift.load(
        main,
        resolver,
        env=stored_env(path_variables),
        sql_policy=sql_policy(),
        format_version=format_version,
    )


def load_project(
    path,
    unavailable: dict | None = None,
    *,
    format_version: int | None = None,
    path_variables: Mapping[str, str] | None = None,
) -> shapeshift.Project:
    """``shapeshift.load`` for the YAML at ``path``, confined; raises shapeshift.ConfigError.

    ``unavailable``: files of the bundle that must not be read, with the reason (``Bundle.unavailable``).
    ``format_version``: the format forced at import (None: detected from the file). ``path_variables``:
    the variables bundled with the version (``ConfigurationVersion.path_variables``).
    """
    path = Path(path)
    return _load(path.name, _resolver(path, unavailable), format_version, path_variables)


def load_version(version, bundle=None) -> shapeshift.Project:
    """The stored ``version`` loaded from its bundle (``version.bundle()`` unless given), as every use
    loads it: in its forced format if it has one, with its bundled variables. Raises
    shapeshift.ConfigError, or OSError when the bundle cannot be written. Queries the database.
    """
    bundle = bundle or version.bundle()
    return load_project(
        bundle.main,
        bundle.unavailable,
        format_version=version.forced_format,
        path_variables=version.path_variables,
    )


def load_staged(
    main: str,
    files: Mapping[str, Path],
    *,
    format_version: int | None = None,
    path_variables: Mapping[str, str] | None = None,
) -> shapeshift.Project:
    """A bundle about to be stored, loaded as its version will be: ``files`` maps each path in the bundle
    to the local file it will hold, and nothing else can be read. Raises shapeshift.ConfigError.
    """
    return _load(main, StagedResolver(files), format_version, path_variables)


@dataclass
class References:
    """What a configuration being imported refers to."""

    files: list = field(default_factory=list)  # shapeshift.FileRef, each possibly through a ${VAR}
    variables: dict[str, str] = field(default_factory=dict)  # each ${VAR} a path went through: its value
    # Each missing @include'd file: "file:line" of the @include naming it.
    include_locations: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> list:
        """The referenced files that are not there (FileRefs with ``exists`` False)."""
        return [ref for ref in self.files if not ref.exists]


# A bound on the @include'd files read as stand-ins (one load each) before giving up on listing them all.
MAX_MISSING_INCLUDES = 50


def referenced_files(path, previous: Mapping[str, Path] | None = None) -> References:
    """``shapeshift.collect_files`` for the YAML at ``path`` being imported; raises shapeshift.ConfigError.

    Confined to the YAML's folder and to the folders the allowed variables name (``ImportResolver``):
    a file reached through ``${VAR}`` is read from where the importing process's variable points. The
    files are those of the format detected from the file (collect_files cannot be given another).
    ``previous`` maps paths in the folder to local files read in their place when the folder has none
    (the files of the version an import may reuse). A missing @include is listed, not raised
    (``collect_references``).
    """
    path = Path(path)
    env = allowed_env()
    return collect_references(path.name, ImportResolver(path.parent, env.values(), previous), env)


def collect_references(main: str, resolver, env: Mapping[str, str]) -> References:
    """Every file ``main`` references through ``resolver``, a missing @include'd file included.

    The engine stops at the first @include it cannot read (the configuration does not load without
    it). To list every missing file at once, that file is read again as an empty mapping and the files
    are collected once more, up to MAX_MISSING_INCLUDES times; each such file is listed missing, with the
    place of its @include. Any other load error is raised (shapeshift.ConfigError).
    """
    standing_in = _StandIns(resolver)
    locations: dict[str, str] = {}
    while True:
        standing_in.last_miss = None
        try:
            files = shapeshift.collect_files(main, standing_in, env=env)
            variables = engine_path_variables(main, standing_in, env=env)
            break
        except shapeshift.ConfigError as exc:
            missed = standing_in.last_miss
            # Only the error of the read that just failed: the same file "not found" (a failed @load
            # read is a warning, and a later error of another kind must not be taken for it).
            if missed is None or f"not found: {missed}" not in str(exc):
                raise
            if len(locations) >= MAX_MISSING_INCLUDES:
                raise
            name = join_relative("", missed)
            standing_in.names.add(name)
            locations[name] = ":".join(str(part) for part in (exc.file, exc.line) if part) or main
    files = [
        replace(ref, exists=False) if join_relative("", ref.path) in standing_in.names else ref
        for ref in files
    ]
    return References(files, dict(variables), locations)


class _StandIns:
    """A FileResolver reading each file of ``names`` as an empty YAML mapping, and noting the last name
    ``resolver`` did not find."""

    def __init__(self, resolver) -> None:
        self.resolver = resolver
        self.names: set[str] = set()
        self.last_miss: str | None = None

    def read_bytes(self, relative: str) -> bytes:
        if join_relative("", relative) in self.names:
            return b"{}\n"
        try:
            return self.resolver.read_bytes(relative)
        except FileNotFoundError:
            self.last_miss = relative
            raise

    def local_path(self, relative: str) -> Path:
        return self.resolver.local_path(relative)

    def exists(self, relative: str) -> bool:
        return join_relative("", relative) not in self.names and self.resolver.exists(relative)


class ImportResolver(shapeshift.DirectoryResolver):
    """FileResolver for an import: the configuration's folder, confined, plus the folders named by the
    allowed environment variables (absolute paths of existing folders), where ``${VAR}`` paths lead.

    Listing a variable in SHIFTBENCH_CONFIG_ENV lets configurations read it; a folder it names is read
    only at import, to bundle what the configuration references there. ``previous`` (path in the folder:
    local file) stands in for files the folder lacks. Only where a name may lead differs from a confined
    DirectoryResolver (``_path``); reading is the engine's.
    """

    def __init__(self, folder, values, previous: Mapping[str, Path] | None = None) -> None:
        super().__init__(folder, confined=True)
        self.roots = [
            Path(value).resolve()
            for value in values
            if value and os.path.isabs(value) and Path(value).is_dir() and Path(value).resolve() != Path("/")
        ]
        self.previous = {
            (self.folder / name).resolve(): Path(local) for name, local in (previous or {}).items()
        }

    def _path(self, relative: str) -> Path:
        resolved = (self.folder / relative).resolve()  # an absolute ``relative`` stays itself
        if any(resolved.is_relative_to(root) for root in (self.folder, *self.roots)):
            if not resolved.exists() and resolved in self.previous:
                return self.previous[resolved]
            return resolved
        raise FileNotFoundError(f"{relative}: outside the configuration's folder")


class StagedResolver:
    """FileResolver over a bundle not stored yet: each path in the bundle maps to a local file."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        self.files = {join_relative("", name): Path(local) for name, local in files.items()}

    def _path(self, relative: str) -> Path:
        found = self.files.get(join_relative("", relative))
        if found is None:
            raise FileNotFoundError(f"{relative}: no such file in the bundle")
        return found

    def read_bytes(self, relative: str) -> bytes:
        return self._path(relative).read_bytes()

    def local_path(self, relative: str) -> Path:
        return self._path(relative)

    def exists(self, relative: str) -> bool:
        return join_relative("", relative) in self.files
