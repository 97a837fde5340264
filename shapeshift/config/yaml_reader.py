"""Parse YAML like the reference tool (PyYAML safe loader, YAML 1.1) and remember line numbers.

Returns the plain data plus a map *key path tuple -> 1-based line* so errors can name the line.
Custom tags: `!join` (concatenate as strings), `!jj` / `!path_join` (join as a path). Unknown tags
load as the plain node they tag.
"""

from __future__ import annotations

import os

import yaml

from ..errors import ConfigError

LineMap = dict[tuple, int]


class _Loader(yaml.SafeLoader):
    """SafeLoader with the reference tool's custom tags and lenient unknown tags."""


def _join(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return "".join(str(item) for item in loader.construct_sequence(node, deep=True))


def _path_join(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return os.path.join(*[str(item) for item in loader.construct_sequence(node, deep=True)])


def _unknown(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_constructor("!join", _join)
_Loader.add_constructor("!jj", _path_join)
_Loader.add_constructor("!path_join", _path_join)
_Loader.add_multi_constructor("!", _unknown)


def _collect_lines(node: yaml.Node, path: tuple, lines: LineMap) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            lines[path + (key,)] = key_node.start_mark.line + 1
            _collect_lines(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, path + (index,), lines)


def parse_yaml(text: str, file: str) -> tuple[object, LineMap]:
    """Parse one YAML document; an empty document is `{}`.

    Raises ConfigError (with file and line) on a syntax error.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"invalid YAML: {problem or exc}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    lines: LineMap = {}
    _collect_lines(node, (), lines)
    return data, lines
