"""Directive resolution (spec 1.2-1.7): @include, @load, env overrides, ${NAME}, @value:.

Applied in the reference tool's fixed order. Directives are recognised only in string values
(never in keys), at any depth. Everything that cannot be resolved is either a ConfigError (broken
YAML, missing or non-YAML include, include cycle, cyclic @value) or, as in the reference tool,
left in place with a warning (@load failures, @value to a missing path).

Format 2 (format-v2.md 2) changes four steps, each in a small branch marked "format 2": `${NAME}`
anywhere in a string and in @include/@load paths, the env prefix SHAPE_SHIFTER, @load of parquet,
and @value: list items spliced into their list. Format-1 loading is unchanged.
"""

from __future__ import annotations

import copy
import io
import math
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError
from .format import FORMAT_V1, FORMAT_V2, detect_format_version
from .resolver import FileResolver, FileUnavailable, join_relative, parent_of
from .yaml_reader import MAX_DEPTH, MAX_NODES, Budget, LimitExceeded, parse_yaml, safe_load

Location = tuple[str, int]
_ENV_WHOLE = re.compile(r"^\$\{([^}]+)\}$")
_ENV_ANYWHERE = re.compile(r"\$\{([^}]+)\}")  # format 2 (format-v2.md 2.5)
_ENV_LEADING = re.compile(r"^\$\{([^}]+)\}")
V2_ENV_PREFIX = "SHAPE_SHIFTER"
"""The environment prefix of format 2 (format-v2.md 2.6): the reference's CLI and backend both use it."""


@dataclass
class FileRef:
    """A file referenced by a configuration, relative to the main file's folder.

    `variable` (format 2) is the `${VAR}` a path starts with (or that the file including it went
    through): `path` is then where the variable's value led, possibly absolute or outside the folder.
    """

    path: str
    kind: str  # 'include' | 'load' | 'data'
    exists: bool
    variable: str | None = None


class LoadWarning(str):
    """The message of a load warning; `level` is what the reference tool logs it at."""

    level = "warning"


class LoadError(LoadWarning):
    """A load message the reference logs as an error, though loading goes on (format-v2.md 2.7)."""

    level = "error"


@dataclass
class LoadedDocument:
    """A fully resolved configuration tree plus where each key came from."""

    data: dict
    locations: dict[tuple, Location] = field(default_factory=dict)
    warnings: list[tuple[str, tuple]] = field(default_factory=list)  # (message, key path)
    files: list[FileRef] = field(default_factory=list)
    nodes: int = 0  # nodes of the resolved tree, as the load's budget counts them
    format_version: int = FORMAT_V1
    # format 2: the text of each string that had `${...}` substituted, by key path (which variables a
    # data file name went through, for bundling)
    templates: dict[tuple, str] = field(default_factory=dict)
    path_variables: dict[str, str] = field(default_factory=dict)  # variable -> value, of @include/@load paths


def _directive_argument(text: str, directive: str) -> str:
    return text[len(directive) :].lstrip(":").strip()


def _key_path(path: tuple) -> str:
    return ".".join(str(part) for part in path)


class _Context:
    def __init__(
        self, resolver: FileResolver, env: Mapping[str, str], prefix: str | None, format_version: int | None
    ) -> None:
        self.resolver = resolver
        self.format_version = format_version  # None until the main file's root has been read
        self.env = env
        self.format1_prefix = prefix
        self.stack: list[str] = []
        self.via: list[str | None] = []  # per file on the stack: the ${VAR} its path went through
        self.files: list[FileRef] = []
        self.seen: set[tuple[str, str]] = set()
        self.path_variables: dict[str, str] = {}
        self.budget = Budget()  # one for the whole load: every @include re-parses its file
        self.depth = 0  # nesting at which the file being resolved sits in the main document

    @property
    def v2(self) -> bool:
        return self.format_version == FORMAT_V2

    @property
    def prefix(self) -> str | None:
        """The environment prefix: the caller's in format 1, SHAPE_SHIFTER in format 2 (format-v2.md 2.6)."""
        return V2_ENV_PREFIX if self.v2 else self.format1_prefix

    def note_file(self, path: str, kind: str, exists: bool, variable: str | None = None) -> None:
        if (path, kind) not in self.seen:
            self.seen.add((path, kind))
            self.files.append(FileRef(path, kind, exists, variable))

    def target(self, argument: str, base: str) -> tuple[str, str | None]:
        """Where an @include/@load path leads (resolver-relative or absolute) and the ${VAR} it went through.

        Format 2 expands `${VAR}` in the path first (format-v2.md 2.3). The reference then resolves the
        result against the process's working directory (a trap, 20 #19); we resolve it against the
        configuration's folder (the resolver's root), so the result does not depend on where the
        process runs; an absolute result stays absolute. Paths without `${...}` stay relative to the
        including file's folder, and inherit the variable that file was reached through.
        """
        if self.v2 and "${" in argument:
            expanded = expand_variables(argument, self.env, self.prefix, self.path_variables)
            return join_relative("", expanded), leading_variable(argument)
        if self.v2 and posixpath.isabs(base):  # inside a file reached through an absolute ${VAR} path
            return posixpath.normpath(posixpath.join(base, argument)), self.via[-1]
        return join_relative(base, argument), self.via[-1] if self.via else None

    def path_hint(self, argument: str, target: str) -> str:
        """Why a `${...}` path led where it did: each variable's value, and a confined folder's refusal."""
        if not (self.v2 and "${" in argument):
            return ""
        values = []
        for name in variables_in(argument):
            value = env_value(name, self.env, self.prefix)
            values.append(f"{name}={value!r}" if value else f"{name} is not set (or empty)")
        hint = f" (the path came from {argument!r}: {', '.join(values)}"
        outside = posixpath.isabs(target) or target == ".." or target.startswith("../")
        if outside and getattr(self.resolver, "confined", False):
            hint += "; a path outside the configuration's folder cannot be read here"
        return hint + ")"


def env_value(name: str, env: Mapping[str, str], prefix: str | None) -> str:
    """`${NAME}`'s value (format-v2.md 2.5): NAME, else PREFIX_NAME (or NAME without PREFIX_), else ""."""
    if name in env:
        return env[name]
    if prefix:
        head = prefix + "_"
        other = name[len(head) :] if name.startswith(head) else head + name
        if other in env:
            return env[other]
    return ""


def variables_in(text: str) -> list[str]:
    """The names of the `${NAME}`s in `text`, in order, without repeats."""
    return list(dict.fromkeys(match.group(1).strip() for match in _ENV_ANYWHERE.finditer(text)))


def leading_variable(text: str) -> str | None:
    """NAME when `text` starts with `${NAME}` (the variable whose value is the path's folder), else None."""
    match = _ENV_LEADING.match(text)
    return match.group(1).strip() if match else None


def expand_variables(
    text: str, env: Mapping[str, str], prefix: str | None, used: dict[str, str] | None = None
) -> str:
    """Every `${NAME}` in `text` replaced once, the result not scanned again (format-v2.md 2.5).

    `used`, when given, receives each variable's name and value.
    """

    def value(match: re.Match) -> str:
        name = match.group(1).strip()
        found = env_value(name, env, prefix)
        if used is not None:
            used[name] = found
        return found

    return _ENV_ANYWHERE.sub(value, text)


def load_document(
    name: str,
    resolver: FileResolver,
    env: Mapping[str, str],
    prefix: str | None = None,
    format_version: int | None = None,
) -> LoadedDocument:
    """Load `name` (relative to `resolver`) with every directive resolved.

    The format is `format_version` when given, else detected from the main file's root before its
    directives are resolved (config/format.py); included files are read in the main file's format.
    `prefix` is the environment prefix of format 1 (None: no overrides); format 2 always uses
    SHAPE_SHIFTER (format-v2.md 2.6).
    """
    context = _Context(resolver, env, prefix, format_version)
    doc = _load_file(name, context)
    doc.files = context.files
    doc.format_version = context.format_version
    doc.path_variables = context.path_variables
    return doc


def _load_file(
    name: str,
    ctx: _Context,
    origin: Location | None = None,
    origin_path: tuple = (),
    *,
    via: str | None = None,
    hint: str = "",
) -> LoadedDocument:
    if name in ctx.stack:
        chain = " -> ".join(ctx.stack + [name])
        file, line = origin or (None, None)
        raise ConfigError(
            f"@include cycle: {chain}", file=file, line=line, key_path=_key_path(origin_path) or None
        )
    try:
        raw = ctx.resolver.read_bytes(name)
    except FileNotFoundError as exc:
        file, line = origin or (None, None)
        if origin is not None:
            ctx.note_file(name, "include", False, via)
        raise ConfigError(
            str(exc) if isinstance(exc, FileUnavailable) else f"included file not found: {name}{hint}",
            file=file or name,
            line=line,
            key_path=_key_path(origin_path) or None,
        ) from None
    ctx.budget.check_size(len(raw), name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", file=name) from None
    depth = ctx.depth + len(origin_path)
    unspent = ctx.budget.nodes
    data, lines = parse_yaml(text, name, budget=ctx.budget, depth=depth)
    if not isinstance(data, dict):
        raise ConfigError("the document root must be a mapping", file=name, line=1)
    if ctx.format_version is None:
        ctx.format_version = detect_format_version(data)
    doc = LoadedDocument(data=data, locations={path: (name, line) for path, line in lines.items()})
    doc.nodes = unspent - ctx.budget.nodes
    ctx.stack.append(name)
    ctx.via.append(via)
    outer_depth, ctx.depth = ctx.depth, depth
    try:
        base = parent_of(name)
        doc.data = _resolve_includes(doc.data, (), base, doc, ctx)
        doc.data = _resolve_loads(doc.data, (), doc.data, base, doc, ctx)
        if ctx.v2:
            # every file, included ones too, gets the overrides at its root (format-v2.md 2.3)
            _apply_env_prefix_v2(doc, ctx.env, ctx.prefix, warn=len(ctx.stack) == 1)
            doc.data = _substitute_env_v2(doc.data, (), ctx.env, ctx.prefix, doc.templates)
        else:
            if ctx.prefix:
                _apply_env_prefix(doc.data, ctx.env, ctx.prefix)
            doc.data = _substitute_env(doc.data, ctx.env)
        unspent = ctx.budget.nodes
        # format 2: only the main file's pass reports missing references; an included file's own
        # pass leaves them for the main file's, which can still resolve them (old spec 1.3)
        doc.data = resolve_values(
            doc.data,
            doc.data,
            doc,
            budget=ctx.budget,
            depth=depth,
            format_version=ctx.format_version,
            report_missing=ctx.v2 and len(ctx.stack) == 1,
        )
        doc.nodes += unspent - ctx.budget.nodes
    finally:
        ctx.stack.pop()
        ctx.via.pop()
        ctx.depth = outer_depth
    return doc


def _resolve_includes(node, path: tuple, base: str, doc: LoadedDocument, ctx: _Context):
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _resolve_includes(node[key], path + (key,), base, doc, ctx)
        return node
    if isinstance(node, list):
        return [_resolve_includes(item, path + (i,), base, doc, ctx) for i, item in enumerate(node)]
    if isinstance(node, str) and node.startswith("@include"):
        argument = _directive_argument(node, "@include")
        origin = doc.locations.get(path)
        target, via = ctx.target(argument, base)
        if not (target if ctx.v2 else argument).lower().endswith((".yml", ".yaml")):
            file, line = origin or (None, None)
            raise ConfigError(
                f"@include needs a .yml/.yaml file, got {argument!r}{ctx.path_hint(argument, target)}",
                file=file,
                line=line,
                key_path=_key_path(path),
            )
        included = _load_file(target, ctx, origin, path, via=via, hint=ctx.path_hint(argument, target))
        # The passes of this file walk the included tree once more (and so do those of every file above
        # it): pay for that too, so a long chain of includes costs no more than the budget allows.
        ctx.budget.spend(included.nodes, 0, *(origin or (None, None)))
        doc.nodes += included.nodes
        ctx.note_file(target, "include", True, via)
        for sub_path, location in included.locations.items():
            doc.locations.setdefault(path + sub_path, location)
        for sub_path, template in included.templates.items():
            doc.templates[path + sub_path] = template
        doc.warnings.extend((message, path + sub) for message, sub in included.warnings)
        return included.data
    return node


def _lookup(root, dotted: str) -> tuple[bool, object]:
    node = root
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _resolve_loads(node, path: tuple, root: dict, base: str, doc: LoadedDocument, ctx: _Context):
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _resolve_loads(node[key], path + (key,), root, base, doc, ctx)
        return node
    if isinstance(node, list):
        return [_resolve_loads(item, path + (i,), root, base, doc, ctx) for i, item in enumerate(node)]
    if isinstance(node, str) and node.startswith("@load"):
        argument = _directive_argument(node, "@load")
        found, target = _lookup(root, argument)
        if found:
            if not isinstance(target, dict) or not target.get("filename"):
                doc.warnings.append((f"@load: {argument!r} is not a mapping with a 'filename'", path))
                return argument
            filename, delimiter = str(target["filename"]), target.get("delimiter") or ","
        else:
            filename, delimiter = argument, ","
        if ctx.v2:
            return _load_table_v2(argument, filename, delimiter, path, base, doc, ctx)
        relative = join_relative(base, filename)
        try:
            content = ctx.resolver.read_bytes(relative)
            table = pd.read_csv(io.BytesIO(content), sep=delimiter, dtype=str)
        except FileNotFoundError as exc:
            ctx.note_file(relative, "load", False)
            why = exc if isinstance(exc, FileUnavailable) else f"file not found: {relative}"
            doc.warnings.append((f"@load: {why}", path))
            return argument
        except Exception as exc:  # noqa: BLE001 - the reference tool warns on any parse problem
            ctx.note_file(relative, "load", True)
            doc.warnings.append((f"@load: cannot read {relative}: {exc}", path))
            return argument
        ctx.note_file(relative, "load", True)
        table = table.astype(object).where(table.notna(), math.nan)
        return table.to_dict(orient="records")
    return node


def _load_table_v2(
    argument: str, filename: str, delimiter, path: tuple, base: str, doc: LoadedDocument, ctx: _Context
):
    """@load in format 2 (format-v2.md 2.4): `${VAR}` in the path, .parquet keeps its column types.

    Any other file is read as text (every value a string, empty cells NaN). On failure the value
    becomes the argument text, with a warning, as in format 1.
    """
    relative, via = ctx.target(filename, base)
    parquet = relative.lower().endswith(".parquet")
    try:
        content = ctx.resolver.read_bytes(relative)
        if parquet:
            table = pd.read_parquet(io.BytesIO(content))
        else:
            table = pd.read_csv(io.BytesIO(content), sep=delimiter, dtype=str)
    except FileNotFoundError as exc:
        ctx.note_file(relative, "load", False, via)
        why = exc if isinstance(exc, FileUnavailable) else f"file not found: {relative}"
        doc.warnings.append((LoadWarning(f"@load: {why}{ctx.path_hint(filename, relative)}"), path))
        return argument
    except ImportError:  # pandas reads parquet through pyarrow, an optional dependency
        ctx.note_file(relative, "load", True, via)
        message = f"@load: cannot read {relative}: reading .parquet needs pyarrow, which is not installed"
        doc.warnings.append((LoadWarning(message), path))
        return argument
    except Exception as exc:  # noqa: BLE001 - the reference tool warns on any parse problem
        ctx.note_file(relative, "load", True, via)
        doc.warnings.append((LoadWarning(f"@load: cannot read {relative}: {exc}"), path))
        return argument
    ctx.note_file(relative, "load", True, via)
    _pay_for_table(table, relative, path, doc, ctx)
    if not parquet:
        table = table.astype(object).where(table.notna(), math.nan)
    return table.to_dict(orient="records")


def _pay_for_table(table: pd.DataFrame, name: str, path: tuple, doc: LoadedDocument, ctx: _Context) -> None:
    """Count @load rows against the load's bounds as the YAML they replace would count (format 2).

    A list of row mappings: one node for the list, one per row, one per column name and one per
    value; two levels of nesting; the text of the names and of the string values.
    """
    file, line = doc.locations.get(path, (None, None))
    where = {"file": file, "line": line, "key_path": _key_path(path) or None}
    if ctx.depth + len(path) + 2 > MAX_DEPTH:
        raise LimitExceeded(f"@load: {name}'s rows make nesting deeper than {MAX_DEPTH} levels", **where)
    rows, columns = table.shape
    nodes = 1 + rows * (1 + 2 * columns)
    if nodes > ctx.budget.nodes:
        raise LimitExceeded(
            f"@load: {name} ({rows:,} rows, {columns} columns) brings the configuration past {MAX_NODES:,} "
            "nodes (aliases, @include, @value: and @load rows count at every use)",
            **where,
        )
    # bounded by the node check: at most MAX_NODES / 2 cells are measured
    text = table.select_dtypes(include="object")
    chars = rows * sum(len(str(column)) for column in table.columns)
    lengths = (text[column].map(lambda v: len(v) if isinstance(v, str) else 0).sum() for column in text)
    chars += int(sum(lengths))
    ctx.budget.spend(nodes, chars, file, line)
    doc.nodes += nodes


def _apply_env_prefix(data: dict, env: Mapping[str, str], prefix: str) -> None:
    lowered = prefix.lower()
    for name, value in sorted(env.items()):
        if not name.lower().startswith(lowered) or len(name) <= len(prefix) + 1:
            continue
        parts = name[len(prefix) + 1 :].lower().split("_")
        node = data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value


def _apply_env_prefix_v2(doc: LoadedDocument, env: Mapping[str, str], prefix: str, *, warn: bool) -> None:
    """Format-2 overrides (format-v2.md 2.6): as format 1; PREFIX without "_" after it is skipped, warned."""
    lowered = prefix.lower()
    usable = {}
    for name, value in env.items():
        if not name.lower().startswith(lowered):
            continue
        if name[len(prefix) : len(prefix) + 1] != "_" or len(name) <= len(prefix) + 1:
            if warn:
                message = f"environment variable {name} ignored: it names no key after {prefix}_"
                doc.warnings.append((LoadWarning(message), ()))
            continue
        usable[name] = value
    _apply_env_prefix(doc.data, usable, prefix)


def _substitute_env_v2(node, path: tuple, env: Mapping[str, str], prefix: str, templates: dict):
    """`${NAME}` anywhere in a string, replaced once (format-v2.md 2.5); keys are never substituted.

    Each substituted string's original text is kept in `templates` under its key path.
    """
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _substitute_env_v2(node[key], path + (key,), env, prefix, templates)
        return node
    if isinstance(node, list):
        return [_substitute_env_v2(item, path + (i,), env, prefix, templates) for i, item in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        expanded = expand_variables(node, env, prefix)
        if expanded != node:
            templates[path] = node
        return expanded
    return node


def _substitute_env(node, env: Mapping[str, str]):
    if isinstance(node, dict):
        return {key: _substitute_env(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute_env(item, env) for item in node]
    if isinstance(node, str):
        match = _ENV_WHOLE.match(node)
        if match:
            return env.get(match.group(1).strip(), "")
    return node


# --- @value: ------------------------------------------------------------------------------


def _find_reference(root, path_text: str) -> tuple[bool, object, str]:
    for alternative in path_text.split(","):
        alternative = alternative.strip()
        if not alternative:
            continue
        candidates = [alternative]
        if ":" in alternative:
            candidates = [alternative.replace(":", "."), alternative.replace(":", "_")]
        for candidate in candidates:
            found, value = _lookup(root, candidate)
            if found:
                return True, value, candidate
    return False, None, path_text


def _split_top_level(text: str) -> list[str] | None:
    tokens, depth, current = [], 0, []
    for char in text:
        if char == "[":
            depth += 1
            if depth > 1:
                return None
        elif char == "]":
            depth -= 1
            if depth < 0:
                return None
        if char == "+" and depth == 0:
            tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        return None
    tokens.append("".join(current))
    return tokens


MAX_VALUE_CHAIN = 32
"""@value: references that may lead through one another (a -> b -> c ...) before the load is refused.

Real configurations chain two at most; each step is a recursive call, and a chain of a few hundred
would end in a RecursionError instead of a message.
"""


def _measure(value, budget: Budget) -> tuple[int, int, int]:
    """(nodes, characters, nesting levels) of a constructed value, counted as the YAML bounds count.

    Stops counting once past what `budget` has left, so measuring a huge value costs no more than that.
    """
    nodes = chars = deepest = 0
    pending = [(value, 0)]
    while pending and nodes <= budget.nodes and chars <= budget.chars:
        item, level = pending.pop()
        nodes += 1
        if isinstance(item, dict):
            deepest = max(deepest, level + 1)
            for key, sub in item.items():
                pending += ((key, level + 1), (sub, level + 1))
        elif isinstance(item, list):
            deepest = max(deepest, level + 1)
            pending.extend((sub, level + 1) for sub in item)
        elif isinstance(item, str):
            chars += len(item)
    return nodes, chars, deepest


class _ValueResolver:
    """Resolves @value: references in place; every copy is paid from the load's budget."""

    def __init__(
        self,
        root,
        doc: LoadedDocument | None,
        budget: Budget,
        depth: int,
        format_version: int = FORMAT_V1,
        report_missing: bool = False,
    ) -> None:
        self.root, self.doc, self.budget, self.depth = root, doc, budget, depth
        self.splice = format_version == FORMAT_V2  # format-v2.md 2.7: list items resolving to lists
        self.report_missing = report_missing

    def where(self, path: tuple) -> dict:
        """file, line and key path of `path` (or of its nearest parent with a known line)."""
        locations = self.doc.locations if self.doc is not None else {}
        for cut in range(len(path), -1, -1):
            if path[:cut] in locations:
                file, line = locations[path[:cut]]
                return {"file": file, "line": line, "key_path": _key_path(path) or None}
        return {"key_path": _key_path(path) or None}

    def resolve(self, node, path: tuple, stack: tuple):
        if isinstance(node, dict):
            for key in list(node):
                node[key] = self.resolve(node[key], path + (key,), stack)
            return node
        if isinstance(node, list):
            if self.splice:
                return self.spliced(node, path, stack)
            return [self.resolve(item, path + (i,), stack) for i, item in enumerate(node)]
        if isinstance(node, str) and ("@value:" in node or "+" in node and "[" in node):
            return self.string(node, path, stack)
        return node

    def spliced(self, node: list, path: tuple, stack: tuple) -> list:
        """Format 2 (format-v2.md 2.7): an item `@value: x` whose value is a list is spliced in."""
        items: list = []
        for i, item in enumerate(node):
            value = self.resolve(item, path + (i,), stack)
            if isinstance(item, str) and item.strip().startswith("@value:") and isinstance(value, list):
                items.extend(value)
            else:
                items.append(value)
        return items

    def string(self, text: str, path: tuple, stack: tuple):
        if "+" in text and ("@value:" in text or "[" in text):
            tokens = _split_top_level(text)
            if tokens is None:
                return text
            items: list = []
            for token in (token.strip() for token in tokens):
                if token.startswith("@value:"):
                    found, value, where = _find_reference(self.root, token[len("@value:") :].replace(" ", ""))
                    if not found:
                        continue
                    value = self.found(value, where, path, stack, in_list=True)
                    items.extend(value if isinstance(value, list) else [value])
                elif token.startswith("[") and token.endswith("]"):
                    try:
                        parsed = safe_load(token, None, budget=self.budget, depth=self.depth + len(path))
                    except LimitExceeded as exc:  # its line is within the string: name the string's
                        raise LimitExceeded(exc.message, **self.where(path)) from None
                    except ConfigError:
                        return text
                    if not isinstance(parsed, list) or any(isinstance(i, list) for i in parsed):
                        return text
                    items.extend(parsed)
            return items if items else text
        if text.startswith("@value:"):
            found, value, where = _find_reference(self.root, text[len("@value:") :].replace(" ", ""))
            if not found:
                if self.report_missing and self.doc is not None:
                    reference = text[len("@value:") :].strip()
                    message = f"Reference path '{reference}' not found in configuration data."
                    self.doc.warnings.append((LoadError(message), path))
                return text
            return self.found(value, where, path, stack)
        return text

    def found(self, value, where: str, path: tuple, stack: tuple, in_list: bool = False):
        """A resolved copy of `value` (found at `where`) for the string at `path`."""
        if where in stack:
            raise ConfigError(
                "cyclic @value: reference: " + " -> ".join(stack + (where,)), **self.where(path)
            )
        if len(stack) >= MAX_VALUE_CHAIN:
            raise LimitExceeded(
                f"@value: references chained more than {MAX_VALUE_CHAIN} deep: "
                + " -> ".join(stack[:3] + ("...", where)),
                **self.where(path),
            )
        location = self.where(path)
        nodes, chars, levels = _measure(value, self.budget)
        if self.depth + len(path) + int(in_list) + levels > MAX_DEPTH:
            raise LimitExceeded(f"@value: {where} makes nesting deeper than {MAX_DEPTH} levels", **location)
        self.budget.spend(nodes, chars, location.get("file"), location.get("line"))
        return self.resolve(copy.deepcopy(value), path, stack + (where,))


def resolve_values(
    node,
    root,
    doc: LoadedDocument | None = None,
    stack: tuple = (),
    *,
    budget=None,
    depth: int = 0,
    format_version: int = FORMAT_V1,
    report_missing: bool = False,
):
    """Resolve every `@value:` reference in `node` against `root`; unresolvable ones stay literal.

    In format 2 list items resolving to lists are spliced in, and with `report_missing` a simple
    reference to a missing path adds an error-level warning to `doc` (format-v2.md 2.7).
    Raises ConfigError for a cyclic reference, LimitExceeded when the copies pass `budget` (one per
    load), nest deeper than MAX_DEPTH (`node` sits `depth` levels deep) or chain too far.
    """
    resolver = _ValueResolver(root, doc, budget or Budget(), depth, format_version, report_missing)
    return resolver.resolve(node, (), stack)
