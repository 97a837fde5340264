"""Rules about data sources and input files: declared, known driver, reachable."""

from __future__ import annotations

import pandas as pd

from ...hints import did_you_mean, name_list
from ...issues import IssueCode
from ...sqlpolicy import SqlTarget
from ..loading import data_source_file
from ..model import FILE_TYPES, EntitySpec, Project
from ..resolver import join_relative, parent_of
from .collector import Collector, E, W

SQL_DRIVERS = {"sqlite", "postgres", "postgresql", "ucanaccess", "access"}
FILE_DRIVERS = {"csv", "tsv", "xlsx", "xls", "openpyxl"}


def data_sources(c: Collector, spec: EntitySpec, project: Project) -> None:
    sources = project.data_sources
    raw, name = spec.raw, spec.name
    items = [(raw, None)] + [
        ({**{k: v for k, v in raw.items() if k not in ("append", "foreign_keys")}, **item}, i)
        for i, item in enumerate(spec.append, start=1)
    ]
    for config, number in items:
        ds = config.get("data_source")
        where = f"append item #{number}" if number else "entity"
        if not isinstance(ds, str) or not ds:
            continue
        if ds not in sources:
            c.add(
                E,
                IssueCode.DATA_SOURCE_UNKNOWN,
                name,
                f"{where} references non-existent data source '{ds}'",
                "add it under options.data_sources",
                "data_source",
            )
            continue
        entry = sources[ds] if isinstance(sources[ds], dict) else {}
        driver = str(entry.get("driver") or "")
        if driver not in SQL_DRIVERS | FILE_DRIVERS:
            c.add(
                E,
                IssueCode.DRIVER_UNKNOWN,
                name,
                f"data source '{ds}' has unknown driver '{driver}'",
                "use sqlite, postgres, csv, tsv, xlsx or ucanaccess",
                "data_source",
            )
            continue
        if driver in SQL_DRIVERS and config.get("type") != "sql":
            c.add(
                E,
                IssueCode.SQL_MISSING_TYPE,
                name,
                f"{where} uses SQL data source '{ds}' but is not type: sql",
                "set type: sql (or data_source: null in an append item)",
                "type",
            )
        problem = _source_problem(project, ds, entry, driver)
        if problem:
            c.add(
                W,
                IssueCode.SOURCE_UNAVAILABLE,
                name,
                f"{where} cannot be loaded: {problem}",
                "provide the source, or run only entities that do not need it",
                "data_source",
            )


def _source_problem(project: Project, ds: str, entry: dict, driver: str) -> str | None:
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    if driver in ("ucanaccess", "access"):
        return (
            f"data source '{ds}' is MS Access ({options.get('filename')}); the ucanaccess driver "
            "needs Java and UCanAccess, which this engine does not support"
        )
    if driver in ("postgres", "postgresql"):
        if "host" in options and not options.get("host"):
            return f"data source '{ds}' (PostgreSQL) has an empty host (unset environment variable?)"
        target = SqlTarget.from_options(options)
        refusal = project.sql_policy.server_refusal(target)
        return f"data source '{ds}' (PostgreSQL {target}) will be refused: {refusal}" if refusal else None
    filename = data_source_file(entry)
    if filename and not project.resolver.exists(join_relative(parent_of(project.main), filename)):
        return f"data source '{ds}': file not found: {filename}"
    return None


def file_inputs(c: Collector, spec: EntitySpec, project: Project, check_header=None) -> None:
    """Files of file entities exist; CSV/TSV headers have the columns (`check_header`, else format 1's)."""
    raw = spec.raw
    if spec.data_source or not isinstance(raw.get("type"), str) or raw["type"] not in FILE_TYPES:
        return
    options = raw.get("options")
    filename = options.get("filename") if isinstance(options, dict) else None
    if not filename:
        c.add(
            E,
            IssueCode.FILENAME_MISSING,
            spec.name,
            f"type {raw.get('type')} needs options.filename",
            "",
            "options",
        )
        return
    relative = join_relative(parent_of(project.main), str(filename))
    if not project.resolver.exists(relative):
        c.add(
            W, IssueCode.FILE_MISSING, spec.name, f"file not found: {filename}", "provide the file", "options"
        )
        return
    if raw.get("type") in ("csv", "tsv"):
        (check_header or _check_header)(c, spec, project, relative, options)


def _check_header(c: Collector, spec: EntitySpec, project: Project, relative: str, options: dict) -> None:
    """Warn about requested columns that the file's header does not have (read: header row only)."""
    read = {
        k: v for k, v in options.items() if k not in ("filename", "nrows", "dtype", "usecols", "converters")
    }
    read.setdefault("sep", "\t" if spec.raw.get("type") == "tsv" else ",")
    header = read_header(c, spec, project, relative, read)
    if header is None:
        return
    wanted = list(dict.fromkeys(spec.keys + spec.columns))
    missing = [name for name in wanted if name not in header]  # header: a pandas Index, hashed
    if missing:
        c.add(
            W,
            IssueCode.COLUMNS_MISSING,
            spec.name,
            f"columns not in the header of {relative}: {name_list(missing)}",
            did_you_mean(missing, header) or "check the spelling and the separator (sep)",
            "columns",
        )


def read_header(
    c: Collector, spec: EntitySpec, project: Project, relative: str, reader: dict
) -> pd.Index | None:
    """The column names of a delimited file's header (pandas.read_csv keywords `reader`), or None after a
    warning that it cannot be read."""
    try:
        # nrows=1, not 0: pandas (2.3) handles a header without rows in time quadratic in its columns
        return pd.read_csv(project.resolver.local_path(relative), nrows=1, **reader).columns
    except Exception as exc:  # noqa: BLE001 - any read problem is worth a warning, not a crash
        c.add(
            W,
            IssueCode.FILE_UNREADABLE,
            spec.name,
            f"cannot read the header of {relative}: {exc}",
            "",
            "options",
        )
        return None
