"""Rewrite a format-1 configuration as a format-2 project (format-v2.md 1.4).

What the reference's editor does when it saves an old file, plus the by-hand steps of 1.4 that can be
done mechanically: `metadata`, `surrogate_id` -> `public_id`, `type: entity` and `keys: []` on data
entities, `mappings`/`translation` under `options`, literal `=`/`{...}` extra-column strings escaped,
FK `extra_columns` lists as mappings, legacy `values: "sql: ..."` as `query`, list `drop_duplicates`
without the FD check format 1 never made, the default entity as an explicit `source`, and (when given
`rename`) every column name as format 2's header sanitising will spell it.

It works on the resolved tree (directives already applied), so the result is one self-contained file.
What cannot be decided without the data is returned as notes for a person to check.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from .format import V2_PROJECT_TYPE
from .model import LOADER_TYPES, UNUSABLE_LOADER_TYPES, Project

_PLACEHOLDER = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*\}(?!\})")
_LEGACY_SQL = re.compile(r"^\s*sql\s*:", re.IGNORECASE)


def _escape_extra_value(value):
    """A format-1 constant string that format 2 would read as a formula or an interpolation (8.1)."""
    if not isinstance(value, str):
        return value
    if value.startswith("="):
        return "=" + value
    if _PLACEHOLDER.search(value):
        return value.replace("{", "{{").replace("}", "}}")
    return value


def _names(value, rename: Callable[[str], str]):
    if isinstance(value, str):
        return rename(value)
    if isinstance(value, list):
        return [rename(item) if isinstance(item, str) else item for item in value]
    return value


class _Migration:
    def __init__(self, project: Project, default_entity: str | None, rename: Callable[[str], str]) -> None:
        self.project = project
        self.default_entity = default_entity
        self.rename = rename
        self.notes: list[str] = []

    def note(self, entity: str, text: str) -> None:
        self.notes.append(f"entity '{entity}': {text}")

    def entity(self, name: str, raw: dict) -> dict:
        config = copy.deepcopy(raw)
        rename = self.rename
        surrogate_id = config.pop("surrogate_id", None)
        if surrogate_id and not config.get("public_id"):
            config["public_id"] = surrogate_id
        kind = config.get("type")
        is_loader = bool(config.get("data_source")) or kind in LOADER_TYPES | UNUSABLE_LOADER_TYPES
        if not is_loader:
            config["type"] = "entity"
            if not config.get("source"):
                if self.default_entity:
                    config["source"] = self.default_entity
                else:
                    self.note(name, "reads the default entity: give it a `source:`")
        config.setdefault("keys", [])
        config.setdefault("columns", [])
        options = config.get("options")
        if isinstance(options, dict) and kind == "tsv":
            options.setdefault("sep", "\t")  # format 2 gives tsv no tab default (7.3)
        if isinstance(options, dict) and kind in ("xlsx", "xls", "openpyxl"):
            options.setdefault("sanitize_header", False)  # keep the sheet's names, as format 1 read them
        for key in ("keys", "columns"):
            config[key] = _names(config[key], rename)
        surrogate_name = config.get("surrogate_name")
        if surrogate_name and isinstance(config["columns"], list) and surrogate_name not in config["columns"]:
            # informational in format 1; format 2's fixed loader refuses a name it cannot find (7.2)
            del config["surrogate_name"]
            self.note(name, f"surrogate_name '{surrogate_name}' is not one of its columns: left out")
        values = config.get("values")
        if (
            kind == "sql"
            and isinstance(values, str)
            and _LEGACY_SQL.match(values)
            and not config.get("query")
        ):
            config["query"] = _LEGACY_SQL.sub("", values, count=1).strip()
            del config["values"]
        extra = config.get("extra_columns")
        if isinstance(extra, dict):
            config["extra_columns"] = {
                rename(str(key)): _names(_escape_extra_value(value), rename) for key, value in extra.items()
            }
            copies = [v for v in config["extra_columns"].values() if isinstance(v, str) and v.isidentifier()]
            if copies:
                self.note(
                    name,
                    f"extra columns {copies} copy the column of that name if the source has one: format 2 "
                    "does not keep the copied column (list it in `columns` to keep it), and matches the "
                    "name ignoring case",
                )
        for fk in config.get("foreign_keys") or []:
            if not isinstance(fk, dict):
                continue
            for key in ("local_keys", "remote_keys"):
                if key in fk:
                    fk[key] = _names(fk[key], rename)
            fk_extra = fk.get("extra_columns")
            if isinstance(fk_extra, str):
                fk_extra = [fk_extra]
            if isinstance(fk_extra, list):  # format 2 reads only the mapping form (12.2)
                fk_extra = {item: item for item in fk_extra}
            if isinstance(fk_extra, dict):
                fk["extra_columns"] = {rename(str(k)): rename(str(v)) for k, v in fk_extra.items()}
        unnest = config.get("unnest")
        if isinstance(unnest, dict):
            for key in ("id_vars", "value_vars", "var_name", "value_name"):
                if key in unnest:
                    unnest[key] = _names(unnest[key], rename)
        dedupe = config.get("drop_duplicates")
        if isinstance(dedupe, list):
            config["drop_duplicates"] = _names(dedupe, rename)
            melted = {unnest.get("var_name"), unnest.get("value_name")} if isinstance(unnest, dict) else set()
            if not melted & set(config["drop_duplicates"]):
                # format 1 kept the first row per key without checking, whatever the entity's
                # check_functional_dependency said (old spec 2.15); format 2 checks, strictly (9.2)
                if config.get("check_functional_dependency"):
                    self.note(name, "check_functional_dependency was ignored by format 1: set to false")
                config["check_functional_dependency"] = False
        elif isinstance(dedupe, str):
            config["drop_duplicates"] = rename(dedupe)
        if config.get("append_mode") == "distinct" and not dedupe:
            config["drop_duplicates"] = True  # format 2 de-duplicates only through drop_duplicates (15.4)
        for key in ("replacements", "drop_empty_rows"):
            value = config.get(key)
            if isinstance(value, dict):
                config[key] = {rename(str(k)): v for k, v in value.items()}
            elif isinstance(value, list):
                config[key] = _names(value, rename)
        if isinstance(config.get("replacements"), dict) and any(
            isinstance(v, list) for v in config["replacements"].values()
        ):
            self.note(name, "list-form replacements forward-fill the whole column in format 2 (10.1)")
        if isinstance(config.get("drop_empty_rows"), dict):
            self.note(name, "drop_empty_rows mapping: format 2 also counts '' as empty (14)")
        for item in config.get("append") or []:
            if isinstance(item, dict):
                for key in ("keys", "columns"):
                    if key in item:
                        item[key] = _names(item[key], rename)
        return config

    def melted_codes(self, entities: dict) -> None:
        """Codes that name melted columns follow the columns' new names.

        An unnest turns column names into values of `var_name`, often linked to a fixed lookup listing
        those names; once format 2 sanitises the names, the lookup's codes must be renamed alike.
        """
        for name, config in entities.items():
            unnest = config.get("unnest") if isinstance(config, dict) else None
            if not isinstance(unnest, dict) or not unnest.get("var_name"):
                continue
            for fk in config.get("foreign_keys") or []:
                if not isinstance(fk, dict) or fk.get("local_keys") != [unnest["var_name"]]:
                    continue
                remote = entities.get(fk.get("entity"))
                keys = fk.get("remote_keys")
                if (
                    not isinstance(remote, dict)
                    or remote.get("type") != "fixed"
                    or not isinstance(keys, list)
                ):
                    continue
                columns = remote.get("columns")
                if len(keys) != 1 or not isinstance(columns, list) or keys[0] not in columns:
                    continue
                at = columns.index(keys[0])
                values = remote.get("values") if isinstance(remote.get("values"), list) else []
                for i, row in enumerate(values):
                    if isinstance(row, list) and at < len(row) and isinstance(row[at], str):
                        row[at] = self.rename(row[at])
                    elif isinstance(row, str) and len(columns) == 1:  # scalar rows of a one-column lookup
                        values[i] = self.rename(row)
                self.note(str(fk["entity"]), f"codes in '{keys[0]}' renamed like the columns '{name}' melts")

    def run(self) -> dict:
        raw = self.project.raw
        result: dict = {
            "metadata": {"type": V2_PROJECT_TYPE, "name": self.project.name, "version": "1.0.0"},
        }
        if self.default_entity:
            result["metadata"]["default_entity"] = self.default_entity
        entities = raw.get("entities") if isinstance(raw.get("entities"), dict) else {}
        result["entities"] = {
            name: self.entity(str(name), value) if isinstance(value, dict) else value
            for name, value in entities.items()
        }
        self.melted_codes(result["entities"])
        options = copy.deepcopy(raw.get("options")) if isinstance(raw.get("options"), dict) else {}
        for key in ("mappings", "translation"):
            if key in raw:
                options.setdefault(key, copy.deepcopy(raw[key]))
        mappings = options.get("mappings")
        if isinstance(mappings, dict):
            for mapping in mappings.values():
                if isinstance(mapping, dict) and isinstance(mapping.get("local_key"), str):
                    mapping["local_key"] = self.rename(mapping["local_key"])
        if options:
            result["options"] = options
        for key, value in raw.items():
            if key not in ("entities", "options", "mappings", "translation", "metadata"):
                result[key] = copy.deepcopy(value)
        return result


def header_renames(project: Project) -> dict[str, str]:
    """Original -> sanitised name of every CSV/TSV header a format-1 entity reads (format-v2.md 7.3).

    Format 2 sanitises the headers of every CSV file, so the names a format-1 configuration uses for
    them change; Excel sheets keep theirs only with `sanitize_header: false`, which the migration sets.
    """
    from ..paths import parent_of
    from ..sources.context import SourceContext
    from ..sources.files import local_path, read_header
    from ..sources.loaders import file_options
    from ..sources.v2.headers import sanitize_headers

    context = SourceContext(resolver=project.resolver, base_dir=parent_of(project.main))
    renames: dict[str, str] = {}
    for name, spec in project.entities.items():
        entry = project.data_sources.get(spec.data_source) if spec.data_source else None
        driver = entry.get("driver") if isinstance(entry, dict) else spec.type
        if driver not in ("csv", "tsv"):
            continue
        options = file_options(spec.raw, entry if isinstance(entry, dict) else None) or {}
        if not options.get("filename"):
            continue
        try:
            path = local_path(context, options["filename"], f"entity '{name}'")
        except Exception:  # noqa: BLE001 - a missing file keeps its names; the run will say it is missing
            continue
        read = {k: v for k, v in options.items() if k != "filename"}
        if driver == "tsv":
            read.setdefault("sep", "\t")
        header = read_header(path, read) or []
        renames.update(zip(map(str, header), sanitize_headers(header), strict=True))
    return {old: new for old, new in renames.items() if old != new}


def migrate_to_v2(
    project: Project, *, default_entity: str | None = None, rename: Callable[[str], str] | None = None
) -> tuple[dict, list[str]]:
    """A format-2 tree for the format-1 `project`, and notes on what a person should still check.

    `rename` maps a column name to the name format 2 gives it (its CSV/Excel header sanitising);
    without it names are kept, which is right only for files whose headers are already sanitised.
    """
    migration = _Migration(project, default_entity or project.default_entity, rename or (lambda name: name))
    return migration.run(), migration.notes
