"""The format-2 header check: requested columns against the file's header as the loader names it (7.3)."""

from __future__ import annotations

from ...hints import did_you_mean, name_list
from ...issues import IssueCode
from ...sources.v2.files import LOADER_KEYS
from ...sources.v2.headers import sanitize_headers, sanitize_name
from ..model import EntitySpec, Project
from .collector import Collector, W
from .source_rules import read_header
from .v2_names import strings, unnest_names


def check_header_v2(c: Collector, spec: EntitySpec, project: Project, relative: str, options: dict) -> None:
    """Warn about requested columns (6.4 step 1) that the sanitised header lacks (header row only)."""
    reader = {key: value for key, value in options.items() if key not in LOADER_KEYS}
    for key in ("nrows", "dtype", "converters", "usecols"):
        reader.pop(key, None)
    columns = read_header(c, spec, project, relative, reader)
    if columns is None:
        return
    raw = list(columns)
    header = sanitize_headers(raw) if options.get("sanitize_header", True) is not False else raw
    skipped = set(spec.extra_columns) | set(unnest_names(spec))
    for fk in spec.foreign_keys:
        skipped |= set(fk.extra_columns)
    wanted = [
        n for n in dict.fromkeys(strings(spec.keys + spec.columns + spec.fk_local_keys)) if n not in skipped
    ]
    absent = [name for name in wanted if name not in header]
    if not absent:
        return
    renamed = [
        f"'{name}' -> '{sanitize_name(name, 0)}'" for name in absent if sanitize_name(name, 0) in header
    ]
    c.add(
        W,
        IssueCode.COLUMNS_MISSING,
        spec.name,
        f"columns not in the header of {relative}: {name_list(absent)}",
        f"headers are sanitised (7.3): {', '.join(renamed[:5])}"
        if renamed
        else did_you_mean(absent, header) or "check the spelling and the separator (sep; tsv has no default)",
        "columns",
    )
