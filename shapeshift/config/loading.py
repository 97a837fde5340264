"""`load` and `collect_files`: from a path or a resolver-relative name to a Project."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

from ..errors import ConfigError
from ..sqlpolicy import SqlPolicy
from .directives import FileRef, load_document
from .format import FORMAT_VERSIONS
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
    `env_prefix` (e.g. "SEAD_NORMALIZER") enables environment overrides by prefix (spec 1.6).
    `sql_policy` restricts where its SQL sources may connect (default: anywhere, as for the CLI).
    `format_version` (1 or 2) forces the format instead of detecting it from the file (config/format.py).
    Raises ConfigError on broken YAML, a missing/non-YAML/cyclic @include or a cyclic @value.
    """
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
    return project


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
    """
    project = load(source, resolver, env)
    refs = list(project.files)
    seen = {(ref.path, ref.kind) for ref in refs}
    base = parent_of(project.main)
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
    for name in wanted:
        relative = join_relative(base, name)
        if (relative, "data") in seen:
            continue
        seen.add((relative, "data"))
        refs.append(FileRef(relative, "data", project.resolver.exists(relative)))
    return refs
