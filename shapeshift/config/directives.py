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
import yaml

from ..errors import ConfigError
from .resolver import FileResolver, FileUnavailable, join_relative, parent_of
from .yaml_reader import parse_yaml

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


def _directive_argument(text: str, directive: str) -> str:
    return text[len(directive) :].lstrip(":").strip()


def _key_path(path: tuple) -> str:
    return ".".join(str(part) for part in path)


class _Context:
    def __init__(self, resolver: FileResolver, env: Mapping[str, str], prefix: str | None) -> None:
        self.resolver = resolver
        self.env = env
        self.prefix = prefix
        self.stack: list[str] = []
        self.files: list[FileRef] = []
        self.seen: set[tuple[str, str]] = set()

    def note_file(self, path: str, kind: str, exists: bool) -> None:
        if (path, kind) not in self.seen:
            self.seen.add((path, kind))
            self.files.append(FileRef(path, kind, exists))


def load_document(
    name: str, resolver: FileResolver, env: Mapping[str, str], prefix: str | None = None
) -> LoadedDocument:
    """Load `name` (relative to `resolver`) with every directive resolved."""
    context = _Context(resolver, env, prefix)
    doc = _load_file(name, context)
    doc.files = context.files
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
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", file=name) from None
    data, lines = parse_yaml(text, name)
    if not isinstance(data, dict):
        raise ConfigError("the document root must be a mapping", file=name, line=1)
    doc = LoadedDocument(data=data, locations={path: (name, line) for path, line in lines.items()})
    ctx.stack.append(name)
    try:
        base = parent_of(name)
        doc.data = _resolve_includes(doc.data, (), base, doc, ctx)
        doc.data = _resolve_loads(doc.data, (), doc.data, base, doc, ctx)
        if ctx.prefix:
            _apply_env_prefix(doc.data, ctx.env, ctx.prefix)
        doc.data = _substitute_env(doc.data, ctx.env)
        doc.data = resolve_values(doc.data, doc.data, doc)
    finally:
        ctx.stack.pop()
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


def _resolve_string(text: str, root, doc: LoadedDocument | None, stack: tuple):
    if "+" in text and ("@value:" in text or "[" in text):
        tokens = _split_top_level(text)
        if tokens is None:
            return text
        items: list = []
        for token in (token.strip() for token in tokens):
            if token.startswith("@value:"):
                found, value, where = _find_reference(root, token[len("@value:") :].replace(" ", ""))
                if not found:
                    continue
                value = _resolve_found(value, where, root, doc, stack)
                items.extend(value if isinstance(value, list) else [value])
            elif token.startswith("[") and token.endswith("]"):
                try:
                    parsed = yaml.safe_load(token)
                except yaml.YAMLError:
                    return text
                if not isinstance(parsed, list) or any(isinstance(i, list) for i in parsed):
                    return text
                items.extend(parsed)
        return items if items else text
    if text.startswith("@value:"):
        found, value, where = _find_reference(root, text[len("@value:") :].replace(" ", ""))
        if not found:
            return text
        return _resolve_found(value, where, root, doc, stack)
    return text


def _resolve_found(value, where: str, root, doc, stack: tuple):
    if where in stack:
        raise ConfigError("cyclic @value: reference: " + " -> ".join(stack + (where,)))
    return resolve_values(copy.deepcopy(value), root, doc, stack + (where,))


def resolve_values(node, root, doc: LoadedDocument | None = None, stack: tuple = ()):
    """Resolve every `@value:` reference in `node` against `root`; unresolvable ones stay literal."""
    if isinstance(node, dict):
        for key in list(node):
            node[key] = resolve_values(node[key], root, doc, stack)
        return node
    if isinstance(node, list):
        return [resolve_values(item, root, doc, stack) for item in node]
    if isinstance(node, str) and "@value:" in node or isinstance(node, str) and "+" in node and "[" in node:
        return _resolve_string(node, root, doc, stack)
    return node
