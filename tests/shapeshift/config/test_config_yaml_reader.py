"""Hostile YAML: alias bombs, deep nesting, huge files, include and @value: fan-out are refused early.

Each refusal is a ConfigError naming the file and the line, raised before anything big is built.
"""

from __future__ import annotations

import pathlib

import pytest

import shapeshift
from shapeshift import ConfigError
from shapeshift.config.yaml_reader import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_TEXT_CHARS,
    MAX_YAML_BYTES,
    parse_yaml,
)
from tests.shapeshift.engine_support import ARBODAT, needs_arbodat

UPSTREAM = ARBODAT.parent / "upstream-projects"


def billion_laughs() -> str:
    """The classic: nine levels, each a list of nine aliases of the level before (~435 million nodes)."""
    lines = ["entities: {}", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join(f"*{previous}" for _ in range(9)) + "]")
    return "\n".join(lines) + "\n"


def nested_mappings(levels: int, leaf: str = "1") -> str:
    return "".join("  " * i + "k:\n" for i in range(levels - 1)) + "  " * (levels - 1) + f"k: {leaf}\n"


def test_it_refuses_the_billion_laughs_at_the_alias_that_passes_the_bound(ws):
    with pytest.raises(ConfigError) as info:
        ws.load(billion_laughs())

    assert info.value.file == "config.yml"
    assert info.value.line == 7  # f: the first level past the bound (597,871 nodes)
    assert f"YAML alias expansion exceeds {MAX_NODES:,} nodes" in info.value.message


def test_it_refuses_few_aliases_of_a_long_string(ws):
    long = "x" * 100_000
    text = f'entities: {{}}\na: &a "{long}"\nb: &b [{",".join(["*a"] * 10)}]\n'
    text += f"c: &c [{','.join(['*b'] * 10)}]\nd: [{','.join(['*c'] * 10)}]\n"

    with pytest.raises(ConfigError) as info:
        ws.load(text)

    assert info.value.line == 5
    assert f"exceeds {MAX_TEXT_CHARS:,} characters of text" in info.value.message


def test_it_refuses_a_recursive_alias(ws):
    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\nloop: &a\n  - x\n  - *a\n")

    assert info.value.line == 4
    assert "alias *a refers to a node that contains it" in info.value.message


@pytest.mark.parametrize(
    "text, line",
    [
        ("entities: {}\nx: " + "[" * 500 + "]" * 500 + "\n", 2),
        ("entities: {}\n" + nested_mappings(500), MAX_DEPTH + 2),  # the root is level 1
    ],
    ids=["flow", "block"],
)
def test_it_refuses_a_500_level_document_before_composing_it(ws, text, line):
    with pytest.raises(ConfigError) as info:
        ws.load(text)

    assert info.value.file == "config.yml" and info.value.line == line
    assert info.value.message == f"nesting deeper than {MAX_DEPTH} levels"


def test_it_loads_a_document_as_deep_as_the_bound(ws):
    project = ws.load("entities: {}\n" + nested_mappings(MAX_DEPTH))
    assert "k" in project.raw


def test_it_refuses_a_file_larger_than_the_bound_before_parsing_it(ws):
    ws.config("entities: {}\n" + "#" * MAX_YAML_BYTES + "\n")

    with pytest.raises(ConfigError) as info:
        shapeshift.load(ws.folder / "config.yml")

    assert info.value.file == "config.yml"
    assert info.value.message == "file is 2.01 MB; at most 2 MB"


def test_it_counts_a_file_included_many_times_at_every_use(ws, monkeypatch):
    monkeypatch.setattr("shapeshift.config.yaml_reader.MAX_NODES", 20_000)  # the mechanism, not the bound
    leaf = "\n".join(f"c{i}: [v, v, v, v, v, v, v, v, v]" for i in range(500)) + "\n"
    ws.write("leaf.yml", leaf)  # 5,500 nodes
    fan_out = "\n".join(f"i{i}: '@include: {{}}'" for i in range(10)) + "\n"
    ws.write("middle.yml", fan_out.format(*["leaf.yml"] * 10))
    ws.write("top.yml", fan_out.format(*["middle.yml"] * 10))

    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\nall: '@include: top.yml'\n")  # 100 copies: 550,000 nodes

    # leaf.yml, paid for again in middle.yml (whose passes walk it): the second copy passes the bound
    assert (info.value.file, info.value.line) == ("middle.yml", 2)
    assert "YAML alias expansion exceeds 20,000 nodes" in info.value.message


def test_it_counts_an_included_tree_again_for_every_file_above_it(ws, monkeypatch):
    monkeypatch.setattr("shapeshift.config.yaml_reader.MAX_NODES", 20_000)
    ws.write("leaf.yml", "\n".join(f"c{i}: [v, v, v, v, v, v, v, v, v]" for i in range(500)) + "\n")
    for level in range(5):
        ws.write(f"chain{level}.yml", f"x: '@include: {f'chain{level + 1}' if level < 4 else 'leaf'}.yml'\n")
    ws.load("entities: {}\nx: '@include: chain4.yml'\n")  # parsed, then paid in chain4 and config: 16,500

    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\nx: '@include: chain3.yml'\n")  # one more file above it: 22,000

    assert (info.value.file, info.value.line) == ("config.yml", 2)
    assert "YAML alias expansion exceeds 20,000 nodes" in info.value.message


def test_it_counts_the_text_of_every_include(ws):
    ws.write("notes.yml", "a: 1\n" + "#" * (MAX_YAML_BYTES // 2) + "\n")

    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\none: '@include: notes.yml'\ntwo: '@include: notes.yml'\n")

    assert info.value.file == "notes.yml"
    assert "past 2 MB" in info.value.message


def test_it_bounds_nesting_across_includes(ws):
    ws.write("deep.yml", nested_mappings(40))

    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\n" + nested_mappings(40, "'@include: deep.yml'"))

    assert info.value.file == "deep.yml"
    assert info.value.line == MAX_DEPTH - 40 + 1
    assert f"nesting deeper than {MAX_DEPTH} levels (this text sits 40 levels deep)" == info.value.message


def test_it_counts_value_copies_at_every_use(ws):
    hundred = "[" + ", ".join(["'@value: {}'"] * 100) + "]"
    text = "entities: {}\na: [" + ", ".join(["x"] * 100) + "]\n"
    text += "b: " + hundred.format(*["a"] * 100) + "\nc: " + hundred.format(*["b"] * 100) + "\n"

    with pytest.raises(ConfigError) as info:
        ws.load(text)  # c would hold a million copies of x

    assert (info.value.file, info.value.line) == ("config.yml", 4)
    assert f"YAML alias expansion exceeds {MAX_NODES:,} nodes" in info.value.message


def test_it_refuses_a_long_chain_of_value_references(ws):
    chain = "".join(f"k{i}: '@value: k{i + 1}'\n" for i in range(400))

    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\n" + chain + "k400: end\n")

    assert (info.value.file, info.value.line, info.value.key_path) == ("config.yml", 2, "k0")
    assert "@value: references chained more than 32 deep: k1 -> k2 -> k3 -> ... -> k33" in info.value.message


def test_it_bounds_the_nesting_of_value_copies(ws):
    inner = "[" * 40 + "x" + "]" * 40
    with pytest.raises(ConfigError) as info:
        ws.load(f"entities: {{}}\na: {inner}\nb: {'[' * 39}'@value: a'{']' * 39}\n")

    assert (info.value.line, info.value.key_path) == (3, "b" + ".0" * 39)
    assert f"@value: a makes nesting deeper than {MAX_DEPTH} levels" == info.value.message


def test_it_refuses_deep_yaml_inside_a_list_expression(ws):
    expression = "[" + "{a: " * 500 + "1" + "}" * 500 + "] + [x]"

    with pytest.raises(ConfigError) as info:
        ws.load(f'entities: {{}}\nlists:\n  x: "{expression}"\n')

    assert (info.value.file, info.value.line, info.value.key_path) == ("config.yml", 3, "lists.x")
    assert info.value.message == f"nesting deeper than {MAX_DEPTH} levels (this text sits 2 levels deep)"


def test_it_still_reports_syntax_errors_with_their_line(ws):
    with pytest.raises(ConfigError) as info:
        ws.load("entities: {}\nx: [1, 2\ny: 3\n")

    assert info.value.line == 3 and info.value.message.startswith("invalid YAML:")


def test_it_keeps_aliases_and_merge_keys_within_the_bounds(ws):
    project = ws.load("""
    defaults: &defaults {type: fixed, surrogate_id: id}
    entities:
      one: {<<: *defaults, columns: [a], values: [x]}
      two: {<<: *defaults, columns: [b], values: [y]}
    """)
    assert project.raw["entities"]["two"] == {
        "type": "fixed",
        "surrogate_id": "id",
        "columns": ["b"],
        "values": ["y"],
    }


def _real_configurations() -> list[pathlib.Path]:
    return sorted(p for folder in (ARBODAT, UPSTREAM) for p in folder.rglob("*.yml"))


@needs_arbodat
def test_it_parses_every_real_configuration():
    for path in _real_configurations():
        data, lines = parse_yaml(path.read_text(encoding="utf-8-sig"), path.name)
        assert isinstance(data, dict) and lines, path
