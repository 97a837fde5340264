"""Directive resolution (spec 1.2-1.7): @include, @load, env overrides, ${NAME}, @value:.

Applied in the reference tool's fixed order. Directives are recognised only in string values
(never in keys), at any depth. Everything that cannot be resolved is either a ConfigError (broken
YAML, missing or non-YAML include, include cycle, cyclic @value) or, as in the reference tool,
left in place with a warning (@load failures, @value to a missing path).
"""

from __future__ import annotations

import copy
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError
from .format import FORMAT_V1, detect_format_version
from .resolver import FileResolver, FileUnavailable, join_relative, parent_of
from .yaml_reader import MAX_DEPTH, Budget, LimitExceeded, parse_yaml, safe_load

Location = tuple[str, int]
_ENV_WHOLE = re.compile(r"^\$\{([^}]+)\}$")


@dataclass
class FileRef:
    """A file referenced by a configuration, relative to the main file's folder."""

    path: str
    kind: str  # 'include' | 'load' | 'data'
    exists: bool


@dataclass
class LoadedDocument:
    """A fully resolved configuration tree plus where each key came from."""

    data: dict
    locations: dict[tuple, Location] = field(default_factory=dict)
    warnings: list[tuple[str, tuple]] = field(default_factory=list)  # (message, key path)
    files: list[FileRef] = field(default_factory=list)
    nodes: int = 0  # nodes of the resolved tree, as the load's budget counts them
    format_version: int = FORMAT_V1


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
        self.prefix = prefix
        self.stack: list[str] = []
        self.files: list[FileRef] = []
        self.seen: set[tuple[str, str]] = set()
        self.budget = Budget()  # one for the whole load: every @include re-parses its file
        self.depth = 0  # nesting at which the file being resolved sits in the main document

    def note_file(self, path: str, kind: str, exists: bool) -> None:
        if (path, kind) not in self.seen:
            self.seen.add((path, kind))
            self.files.append(FileRef(path, kind, exists))


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
    """
    context = _Context(resolver, env, prefix, format_version)
    doc = _load_file(name, context)
    doc.files = context.files
    doc.format_version = context.format_version
    return doc


def _load_file(
    name: str, ctx: _Context, origin: Location | None = None, origin_path: tuple = ()
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
            ctx.note_file(name, "include", False)
        raise ConfigError(
            str(exc) if isinstance(exc, FileUnavailable) else f"included file not found: {name}",
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
    outer_depth, ctx.depth = ctx.depth, depth
    try:
        base = parent_of(name)
        doc.data = _resolve_includes(doc.data, (), base, doc, ctx)
        doc.data = _resolve_loads(doc.data, (), doc.data, base, doc, ctx)
        if ctx.prefix:
            _apply_env_prefix(doc.data, ctx.env, ctx.prefix)
        doc.data = _substitute_env(doc.data, ctx.env)
        unspent = ctx.budget.nodes
        doc.data = resolve_values(doc.data, doc.data, doc, budget=ctx.budget, depth=depth)
        doc.nodes += unspent - ctx.budget.nodes
    finally:
        ctx.stack.pop()
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
        if not argument.lower().endswith((".yml", ".yaml")):
            file, line = origin or (None, None)
            raise ConfigError(
                f"@include needs a .yml/.yaml file, got {argument!r}",
                file=file,
                line=line,
                key_path=_key_path(path),
            )
        target = join_relative(base, argument)
        included = _load_file(target, ctx, origin, path)
        # The passes of this file walk the included tree once more (and so do those of every file above
        # it): pay for that too, so a long chain of includes costs no more than the budget allows.
        ctx.budget.spend(included.nodes, 0, *(origin or (None, None)))
        doc.nodes += included.nodes
        ctx.note_file(target, "include", True)
        for sub_path, location in included.locations.items():
            doc.locations.setdefault(path + sub_path, location)
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

    def __init__(self, root, doc: LoadedDocument | None, budget: Budget, depth: int) -> None:
        self.root, self.doc, self.budget, self.depth = root, doc, budget, depth

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
            return [self.resolve(item, path + (i,), stack) for i, item in enumerate(node)]
        if isinstance(node, str) and ("@value:" in node or "+" in node and "[" in node):
            return self.string(node, path, stack)
        return node

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
    node, root, doc: LoadedDocument | None = None, stack: tuple = (), *, budget=None, depth: int = 0
):
    """Resolve every `@value:` reference in `node` against `root`; unresolvable ones stay literal.

    Raises ConfigError for a cyclic reference, LimitExceeded when the copies pass `budget` (one per
    load), nest deeper than MAX_DEPTH (`node` sits `depth` levels deep) or chain too far.
    """
    return _ValueResolver(root, doc, budget or Budget(), depth).resolve(node, (), stack)
