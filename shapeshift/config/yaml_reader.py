"""Parse YAML like the reference tool (PyYAML safe loader, YAML 1.1) and remember line numbers.

Returns the plain data plus a map *key path tuple -> 1-based line* so errors can name the line.
Custom tags: `!join` (concatenate as strings), `!jj` / `!path_join` (join as a path). Unknown tags
load as the plain node they tag.

Configurations come from users, so a document is checked against bounds before anything is built
from it: the parser's events are read once (PyYAML's parser is not recursive), and only a document
within the bounds is composed and constructed from those same events (composing is recursive, so a
document deeper than the bound never reaches it). Aliases are counted at every use, with the size
of what they point to, so a 500-byte "billion laughs" is refused after a few hundred events.
"""

from __future__ import annotations

import math
import os
from collections import deque

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from ..errors import ConfigError

try:  # LibYAML's parser: the same events as PyYAML's (a port of it), about seven times faster
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without LibYAML
    _Parser = yaml.SafeLoader

LineMap = dict[tuple, int]

MAX_YAML_BYTES = 2 * 2**20
"""YAML text one configuration may read, its @includes counted at every use.

The largest real configuration we know (upstream arbodat/shapeshifter.yml) is 51 KB; 2 MiB is 40 times
that, and more than the editor's 1,000,000 characters of ASCII.
"""

MAX_DEPTH = 64
"""Nesting levels (mappings and sequences) of the resolved document, includes and @value: copies too.

Real configurations nest 8 levels at most; 64 keeps the recursive steps (composing, constructing,
directive resolution, validation) far below Python's recursion limit, even inside a web request.
"""

MAX_NODES = 250_000
"""Nodes (scalars, mappings, sequences) of the resolved document, each alias, @include and @value:
counted at every use.

Real configurations have up to ~4,000 nodes (about 14 bytes of YAML each) and no aliases: 60 times
that leaves room for a 2 MiB file of the same density. Composing and constructing in Python costs
~10 µs a node, so this keeps the slowest acceptable load to a few seconds; the 9x9 "billion laughs"
expands to 435 million nodes.
"""

MAX_TEXT_CHARS = 20_000_000
"""Characters of scalar text in the resolved document, counted like MAX_NODES.

Without aliases the text is bounded by MAX_YAML_BYTES; this stops few-node bombs that repeat one
long string (a 1 MB column name used 100,000 times would be 100 GB in an error message).
"""


class LimitExceeded(ConfigError):
    """A document beyond one of the bounds above (a ConfigError like any other broken YAML)."""


def _megabytes(size: int) -> str:
    """Size in MiB, rounded up to two decimals (so a file one byte too large is not "2 MB")."""
    return f"{math.ceil(size * 100 / 2**20) / 100:.2f}".removesuffix(".00")


class Budget:
    """What one configuration load may still spend, summed over every YAML text it parses.

    An @include re-parses its file at every use and an @value: copies what it refers to, so a file
    that includes another many times (nested) multiplies like an alias does: one budget covers all.
    An included tree is also paid once more for each file above it, whose passes walk it again.
    """

    def __init__(self) -> None:
        self.bytes = MAX_YAML_BYTES
        self.nodes = MAX_NODES
        self.chars = MAX_TEXT_CHARS

    def check_size(self, size: int, file: str | None) -> None:
        """Refuse a text of `size` bytes that would pass the byte bound (call before reading it)."""
        if size <= self.bytes:
            return
        if self.bytes == MAX_YAML_BYTES:
            message = f"file is {_megabytes(size)} MB; at most {_megabytes(MAX_YAML_BYTES)} MB"
        else:
            message = (
                f"file is {_megabytes(size)} MB, which brings the YAML of this configuration (each "
                f"@include counted at every use) past {_megabytes(MAX_YAML_BYTES)} MB"
            )
        raise LimitExceeded(message, file=file)

    def spend_size(self, size: int, file: str | None) -> None:
        self.check_size(size, file)
        self.bytes -= size

    def check_expansion(self, nodes: int, chars: int, file: str | None, line: int | None) -> None:
        """Refuse when `nodes` / `chars` more would pass the node or text bound."""
        if nodes > self.nodes:
            raise LimitExceeded(
                f"YAML alias expansion exceeds {MAX_NODES:,} nodes (aliases, @include and @value: "
                "count at every use)",
                file=file,
                line=line,
            )
        if chars > self.chars:
            raise LimitExceeded(
                f"YAML alias expansion exceeds {MAX_TEXT_CHARS:,} characters of text (aliases, "
                "@include and @value: count at every use)",
                file=file,
                line=line,
            )

    def spend(self, nodes: int, chars: int, file: str | None = None, line: int | None = None) -> None:
        self.check_expansion(nodes, chars, file, line)
        self.nodes -= nodes
        self.chars -= chars


def nesting_error(file: str | None, line: int | None, depth: int = 0) -> LimitExceeded:
    where = f" (this text sits {depth} levels deep)" if depth else ""
    return LimitExceeded(f"nesting deeper than {MAX_DEPTH} levels{where}", file=file, line=line)


def _parse(text: str):
    parser = _Parser(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def _bounded_events(text: str, file: str, budget: Budget, depth: int) -> list:
    """The parser events of `text`, or LimitExceeded at the first event past a bound.

    Expanded sizes are computed as the events stream by: an anchored node's size is known at its end,
    and an alias adds that size. `depth` is the nesting at which the text will be placed (@include).
    """
    events: list = []
    opened: list[tuple[str | None, int, int]] = []  # per open collection: anchor, nodes and chars before it
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> expanded (nodes, chars)
    nodes = chars = 0
    for event in _parse(text):
        events.append(event)
        if isinstance(event, yaml.ScalarEvent):
            added = (1, len(event.value))
            if event.anchor is not None:
                anchors[event.anchor] = added
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _, _ in opened):
                raise LimitExceeded(
                    f"alias *{event.anchor} refers to a node that contains it (a recursive structure)",
                    file=file,
                    line=event.start_mark.line + 1,
                )
            added = anchors.get(event.anchor, (1, 0))  # an undefined alias: the composer reports it
        elif isinstance(event, yaml.CollectionStartEvent):
            if depth + len(opened) >= MAX_DEPTH:
                raise nesting_error(file, event.start_mark.line + 1, depth)
            opened.append((event.anchor, nodes, chars))
            added = (1, 0)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, nodes_before, chars_before = opened.pop()
            if anchor is not None:
                anchors[anchor] = (nodes - nodes_before, chars - chars_before)
            continue
        else:
            continue
        nodes, chars = nodes + added[0], chars + added[1]
        budget.check_expansion(nodes, chars, file, event.start_mark.line + 1)
    budget.spend(nodes, chars, file)
    return events


class _SafeReplay(Composer, SafeConstructor, Resolver):
    """yaml.SafeLoader's composer and constructor, fed with events already parsed (and checked)."""

    def __init__(self, events: list) -> None:
        self._events = deque(events)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def check_event(self, *choices) -> bool:
        if not self._events:
            return False
        return not choices or isinstance(self._events[0], choices)

    def peek_event(self):
        return self._events[0]

    def get_event(self):
        return self._events.popleft()


class _Replay(_SafeReplay):
    """_SafeReplay with the reference tool's custom tags and lenient unknown tags."""


def _join(loader: SafeConstructor, node: yaml.Node) -> str:
    return "".join(str(item) for item in loader.construct_sequence(node, deep=True))


def _path_join(loader: SafeConstructor, node: yaml.Node) -> str:
    return os.path.join(*[str(item) for item in loader.construct_sequence(node, deep=True)])


def _unknown(loader: SafeConstructor, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Replay.add_constructor("!join", _join)
_Replay.add_constructor("!jj", _path_join)
_Replay.add_constructor("!path_join", _path_join)
_Replay.add_multi_constructor("!", _unknown)


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


def _compose(
    text: str, file: str, budget: Budget | None, depth: int, replay: type[_SafeReplay]
) -> tuple[yaml.Node | None, _SafeReplay]:
    budget = budget or Budget()
    budget.spend_size(len(text.encode("utf-8", "surrogatepass")), file)
    try:
        loader = replay(_bounded_events(text, file, budget, depth))
        return loader.get_single_node(), loader
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None
    except UnicodeEncodeError as exc:  # a lone surrogate: LibYAML reads UTF-8
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None


def _syntax_error(exc: yaml.YAMLError, file: str) -> ConfigError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        return ConfigError(f"invalid YAML: {problem or exc}", file=file, line=line)
    return ConfigError(f"invalid YAML: {exc}", file=file)


def parse_yaml(
    text: str, file: str, *, budget: Budget | None = None, depth: int = 0
) -> tuple[object, LineMap]:
    """Parse one YAML document; an empty document is `{}`.

    Raises ConfigError (with file and line) on a syntax error, and LimitExceeded (a ConfigError) for
    a text beyond the bounds of this module. `budget` is shared by every text of one configuration
    load; `depth` is the nesting at which this text will be placed (an @include's key path).
    """
    node, loader = _compose(text, file, budget, depth, _Replay)
    if node is None:
        return {}, {}
    try:
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None
    lines: LineMap = {}
    _collect_lines(node, (), lines)
    return data, lines


def safe_load(text: str, file: str, *, budget: Budget | None = None, depth: int = 0):
    """`yaml.safe_load` within the same bounds (for YAML inside a string, e.g. "[a, b]").

    Raises ConfigError on a syntax error, LimitExceeded past a bound.
    """
    node, loader = _compose(text, file, budget, depth, _SafeReplay)
    if node is None:
        return None
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, file) from None
