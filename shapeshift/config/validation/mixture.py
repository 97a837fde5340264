"""No silent mixture of the two formats (format-v2.md 1.1, 1.4).

A file is read in one format, decided by its root `metadata:` alone. A key that belongs to the other
format is not an error there (it is ignored, or means something else), so it is named as a warning
with the way to say what was meant.
"""

from __future__ import annotations

from ...issues import IssueCode
from ..model import EntitySpec, Project
from .collector import INFO, Collector, W
from .expressions import Kind, kind_of

READ_AS_V1 = (
    "this file is read as format 1 (no `metadata:`); add `metadata: {type: shapeshifter-project}` to use "
    "format-2 keys (format-v2.md 1.4 lists what else changes)"
)
V2_ONLY_ENTITY_KEYS = ("branches", "materialized", "auto_detect_columns", "strict_functional_dependency")


# --- format-1 usage in a format-2 file ----------------------------------------------------------------


def v1_top_level_in_v2(c: Collector, project: Project) -> None:
    for key in ("mappings", "translation"):
        if key in project.raw:
            c.add(
                W,
                IssueCode.V1_KEY_IN_V2,
                None,
                f"top-level `{key}` is not read in format 2 (section 3)",
                f"move `{key}` under `options:`",
                key,
            )
    options = project.raw.get("options")
    if isinstance(options, dict) and "database" in options:
        c.add(
            W,
            IssueCode.V1_KEY_IN_V2,
            None,
            "`options.database` is not read in format 2 (section 3)",
            "move it to `options.dispatch.database`",
            "options",
            "database",
        )


def v1_keys_in_v2(c: Collector, spec: EntitySpec) -> None:
    raw, name = spec.raw, spec.name
    if raw.get("surrogate_id") is not None:
        if raw.get("public_id") is None:
            accepted = (
                " (the fixed loader accepts it in place of public_id, 7.2)" if spec.type == "fixed" else ""
            )
            c.add(
                W,
                IssueCode.V1_KEY_IN_V2,
                name,
                "surrogate_id is not read in format 2: the entity gets no identity column and no foreign key "
                f"can point to it (5.2){accepted}",
                "rename surrogate_id to public_id",
                "surrogate_id",
            )
        else:
            c.add(
                INFO,
                IssueCode.V1_KEY_IN_V2,
                name,
                "surrogate_id is not read in format 2; public_id is used",
                "remove surrogate_id",
                "surrogate_id",
            )
    if raw.get("append_mode") == "distinct":
        c.add(
            W,
            IssueCode.V1_KEY_IN_V2,
            name,
            "append_mode: distinct removes no duplicates in format 2 (15.4)",
            "add drop_duplicates: true (or a list of columns) instead",
            "append_mode",
        )
    for fk in spec.foreign_keys:
        extra = fk.raw.get("extra_columns")
        if isinstance(extra, (list, str)):
            names = [extra] if isinstance(extra, str) else [str(x) for x in extra]
            mapping = ", ".join(f"{n}: {n}" for n in names)
            c.add(
                W,
                IssueCode.V1_KEY_IN_V2,
                name,
                f"foreign key #{fk.index} (-> {fk.entity}): extra_columns as a "
                f"{'string' if isinstance(extra, str) else 'list'} is a format-1 form; the reference tool "
                "crashes on it (12.2, 20 #5)",
                f"write extra_columns: {{{mapping}}}",
                "foreign_keys",
                fk.index - 1,
                "extra_columns",
            )


# --- format-2 keys in a format-1 file -----------------------------------------------------------------


def v2_keys_in_v1(c: Collector, spec: EntitySpec) -> None:
    """Format-2 keys the format-1 engine ignores or reads differently (the table of format-v2.md 1.1)."""
    raw, name = spec.raw, spec.name
    found: list[tuple[str, tuple]] = []
    found += [(f"`{key}`", (key,)) for key in V2_ONLY_ENTITY_KEYS if key in raw]
    if raw.get("type") == "merged":
        found.append(("`type: merged`", ("type",)))
    if isinstance(raw.get("drop_duplicates"), dict):
        found.append(("`drop_duplicates` as a mapping", ("drop_duplicates",)))
    replacements = raw.get("replacements")
    if isinstance(replacements, dict):
        found += [
            (f"a replacement rule list for '{column}'", ("replacements", column))
            for column, rules in replacements.items()
            if isinstance(rules, list) and any(isinstance(rule, dict) for rule in rules)
        ]
    for number, item in enumerate(spec.filters):
        if isinstance(item, dict) and (item.get("type") == "query" or "stage" in item):
            what = "`type: query`" if item.get("type") == "query" else "`stage`"
            found.append((f"filter #{number + 1}: {what}", ("filters", number)))
    for fk in spec.foreign_keys:
        if "defer_dependency" in fk.raw:
            found.append((f"foreign key #{fk.index}: `defer_dependency`", ("foreign_keys", fk.index - 1)))
    for number, item in enumerate(spec.append, start=1):
        found += [
            (f"append item #{number}: `{key}`", ("append",))
            for key in ("align_by_position", "column_mapping")
            if key in item
        ]
    options = raw.get("options")
    if isinstance(options, dict) and "location" in options:
        found.append(("`options.location`", ("options", "location")))
    for what, path in found:
        c.add(
            W,
            IssueCode.V2_KEY_IN_V1,
            name,
            f"{what} is a format-2 key, ignored in format 1",
            READ_AS_V1,
            *path,
        )
    for column, value in spec.extra_columns.items():
        kind = kind_of(value)
        if kind in (Kind.FORMULA, Kind.INTERPOLATION):
            c.add(
                W,
                IssueCode.V2_KEY_IN_V1,
                name,
                f"extra column '{column}' looks like a format-2 {kind} ({value!r}) but is the constant text "
                "in format 1",
                READ_AS_V1,
                "extra_columns",
                column,
            )
