"""`load` and `collect_files`: from a path or a resolver-relative name to a Project."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

from ..errors import ConfigError
from ..sqlpolicy import SqlPolicy
from .directives import (
    V2_ENV_PREFIX,
    FileRef,
    LoadedDocument,
    env_value,
    leading_variable,
    load_document,
    variables_in,
)
from .format import FORMAT_V2, FORMAT_VERSIONS
from .model import FILE_TYPES, Project, build_entities
from .resolver import DirectoryResolver, FileResolver, join_relative, parent_of


def load(
    source: str | os.PathLike,
    resolver: FileResolver | None = None,
    env: Mapping[str, str] | None = None,
    *,
    env_prefix: str | None = None,
    sql_policy: SqlPolicy | None = None,
    format_version: int | None = None,
) -> Project:
    """Load and resolve a configuration.

    `source` is a path to a YAML file (its folder becomes the resolver) or, when `resolver` is
    given, a file name relative to it. `env` replaces os.environ for ${NAME} and env overrides;
    `env_prefix` (e.g. "SEAD_NORMALIZER") enables environment overrides by prefix (spec 1.6) for a
    format-1 file; a format-2 file always uses the prefix SHAPE_SHIFTER (format-v2.md 2.6).
    `sql_policy` restricts where its SQL sources may connect (default: anywhere, as for the CLI).
    `format_version` (1 or 2) forces the format instead of detecting it from the file (config/format.py).
    Raises ConfigError on broken YAML, a missing/non-YAML/cyclic @include or a cyclic @value.
    """
    return _load(source, resolver, env, env_prefix, sql_policy, format_version)[0]


def _load(
    source, resolver, env, env_prefix=None, sql_policy=None, format_version=None
) -> tuple[Project, LoadedDocument]:
    if resolver is None:
        path = pathlib.Path(source).resolve()
        if not path.is_file():
            raise ConfigError(f"configuration file not found: {source}", file=str(source))
        resolver, main = DirectoryResolver(path.parent), path.name
    else:
        main = str(source)
    environment = dict(os.environ if env is None else env)
    if format_version is not None and format_version not in FORMAT_VERSIONS:
        raise ConfigError(f"unknown format version {format_version!r} (known: 1, 2)", file=str(source))
    doc = load_document(main, resolver, environment, env_prefix, format_version)
    project = Project(
        raw=doc.data,
        entities=build_entities(doc.data, doc.format_version),
        format_version=doc.format_version,
        resolver=resolver,
        main=main,
        locations=doc.locations,
        load_warnings=doc.warnings,
        files=doc.files,
        env=environment,
        sql_policy=sql_policy or SqlPolicy(),
    )
    return project, doc


def _data_files_of_entity(raw: dict, data_sources: dict) -> list[str]:
    names: list[str] = []
    kind = raw.get("type")
    ds_name = raw.get("data_source")
    if isinstance(ds_name, str) and isinstance(data_sources.get(ds_name), dict):
        return names  # data-source files are collected once, from options.data_sources
    if kind in FILE_TYPES:
        options = raw.get("options")
        if isinstance(options, dict) and options.get("filename"):
            names.append(str(options["filename"]))
        elif isinstance(raw.get("source"), str) and kind != "data":
            names.append(raw["source"])
        elif isinstance(raw.get("source"), dict) and raw["source"].get("filename"):
            names.append(str(raw["source"]["filename"]))
    return names


def data_source_file(entry: dict) -> str | None:
    """The file a data source reads (csv/tsv/excel/sqlite/ucanaccess), or None for servers."""
    if not isinstance(entry, dict):
        return None
    driver = str(entry.get("driver") or "")
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    if driver == "sqlite":
        for scope in (entry, options):
            for key in ("database", "filename", "dbname"):
                if scope.get(key):
                    return None if scope[key] == ":memory:" else str(scope[key])
        return None
    if options.get("filename"):
        return str(options["filename"])
    return None


def collect_files(
    source: str | os.PathLike, resolver: FileResolver | None = None, env: Mapping[str, str] | None = None
) -> list[FileRef]:
    """Every file the configuration references, relative to the main file's folder.

    @include'd YAML (recursively), @load'ed tables, entity and data-source `filename`s and SQLite
    files. Missing data files are reported with exists=False; a missing @include raises ConfigError.
    In format 2 a path may go through `${VAR}` (resolved from `env`): its FileRef names the variable
    the path starts with, and `path` is where the value led (possibly absolute or outside the folder).
    """
    return _collect(source, resolver, env)[0]


def path_variables(
    source: str | os.PathLike, resolver: FileResolver | None = None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every `${VAR}` used in an @include/@load path or a data file name, with its value ("" when unset).

    What a stored copy of the configuration needs to find the same files (format-v2.md 2.3, 2.4).
    Format 1 substitutes no variable inside paths: always {} there.
    """
    return _collect(source, resolver, env)[1]


def _collect(source, resolver, env) -> tuple[list[FileRef], dict[str, str]]:
    project, doc = _load(source, resolver, env)
    refs = list(project.files)
    variables = dict(doc.path_variables)
    seen = {(ref.path, ref.kind) for ref in refs}
    base = parent_of(project.main)
    if project.format_version == FORMAT_V2:
        wanted = _data_files_v2(project, doc, variables)
    else:
        wanted = [(name, None) for name in _data_files_v1(project)]
    for name, variable in wanted:
        relative = join_relative(base, name)
        if (relative, "data") in seen:
            continue
        seen.add((relative, "data"))
        refs.append(FileRef(relative, "data", project.resolver.exists(relative), variable))
    return refs, variables


def _data_files_v1(project: Project) -> list[str]:
    wanted: list[str] = []
    for entry in project.data_sources.values():
        name = data_source_file(entry)
        if name:
            wanted.append(name)
    entities = project.raw.get("entities") if isinstance(project.raw.get("entities"), dict) else {}
    for raw in entities.values():
        if not isinstance(raw, dict):
            continue
        wanted.extend(_data_files_of_entity(raw, project.data_sources))
        for item in raw.get("append") or [] if isinstance(raw.get("append"), list) else []:
            if isinstance(item, dict):
                merged = {**raw, **item}
                wanted.extend(_data_files_of_entity(merged, project.data_sources))
    return wanted


def _data_files_v2(project: Project, doc: LoadedDocument, variables: dict) -> list[tuple[str, str | None]]:
    """(file name, the ${VAR} it starts with) of every data file; `variables` gets the names' variables."""
    wanted = []
    for key_path in _data_file_keys_v2(project):
        name = str(_get(project.raw, key_path))
        template = doc.templates.get(key_path)
        variable = None
        if template is not None:
            for used in variables_in(template):
                variables[used] = env_value(used, project.env, V2_ENV_PREFIX)
            variable = leading_variable(template)
        wanted.append((name, variable))
    return wanted


def _data_file_keys_v2(project: Project) -> list[tuple]:
    """Key paths of the data file names a format-2 project reads (format-v2.md 7.3, 7.4, 7.7)."""
    keys: list[tuple] = []
    for name, entry in project.data_sources.items():
        if isinstance(entry, dict):
            keys.extend(("options", "data_sources", name) + key for key in _data_source_file_key(entry))
    entities = project.raw.get("entities") if isinstance(project.raw.get("entities"), dict) else {}
    for entity, raw in entities.items():
        if not isinstance(raw, dict):
            continue
        keys.extend(("entities", entity) + key for key in _entity_file_key_v2(raw, project.data_sources))
        items = raw.get("append") if isinstance(raw.get("append"), list) else []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                for key in _entity_file_key_v2({**raw, **item}, project.data_sources):
                    owner = ("entities", entity, "append", index) if key[0] in item else ("entities", entity)
                    keys.append(owner + key)
    return keys


def _entity_file_key_v2(raw: dict, data_sources: dict) -> list[tuple]:
    ds_name = raw.get("data_source")
    if isinstance(ds_name, str) and isinstance(data_sources.get(ds_name), dict):
        return []  # data-source files are collected once, from options.data_sources
    kind = raw.get("type")
    if kind not in FILE_TYPES:
        return []
    options = raw.get("options")
    if isinstance(options, dict) and isinstance(options.get("filename"), str) and options["filename"]:
        return [("options", "filename")]
    source = raw.get("source")
    if kind in ("csv", "tsv") and isinstance(source, str) and source:  # Excel: `source` is a sheet (7.4)
        return [("source",)]
    if isinstance(source, dict) and isinstance(source.get("filename"), str) and source["filename"]:
        return [("source", "filename")]
    return []


def _data_source_file_key(entry: dict) -> list[tuple]:
    """Where `data_source_file` finds the entry's file name, as a key path inside the entry."""
    driver = str(entry.get("driver") or "")
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    if driver == "sqlite":
        for scope, prefix in ((entry, ()), (options, ("options",))):
            for key in ("database", "filename", "dbname"):
                if scope.get(key):
                    return [] if scope[key] == ":memory:" else [prefix + (key,)]
        return []
    return [("options", "filename")] if options.get("filename") else []


def _get(node, key_path: tuple):
    for part in key_path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
