"""Which format a configuration is read in (format-v2.md 1.1): detected from the file, or forced."""

import pytest

import shapeshift
from shapeshift.config.format import detect_format_version, is_target_model


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ({"metadata": {"type": "shapeshifter-project"}, "entities": {}}, 2),
        ({"metadata": {"name": "no type yet"}, "entities": {}}, 2),  # transitional 1.x files: still v2
        ({"metadata": "@include: meta.yml", "entities": {}}, 2),
        ({"entities": {"a": {"surrogate_id": "a_id"}}}, 1),
        ({"metadata": None, "entities": {}}, 1),
        ([], 1),
    ],
)
def test_detect_format_version(root, expected):
    assert detect_format_version(root) == expected


def test_target_model_is_not_a_configuration():
    assert is_target_model({"model": {"name": "sead"}, "entities": {}})
    assert not is_target_model({"metadata": {}, "model": {}, "entities": {}})


def _write(tmp_path, text):
    path = tmp_path / "c.yml"
    path.write_text(text)
    return path


def test_load_detects_and_can_be_forced(tmp_path):
    v2 = _write(
        tmp_path, "metadata: {type: shapeshifter-project}\nentities:\n  a: {type: entity, public_id: a_id}\n"
    )
    project = shapeshift.load(v2)
    assert project.format_version == 2
    assert project.metadata == {"type": "shapeshifter-project"}
    assert project.entities["a"].public_id == "a_id"
    assert project.entities["a"].type == "entity"
    assert shapeshift.load(v2, format_version=1).format_version == 1


def test_v2_ignores_surrogate_id_and_defer_dependency_breaks_the_edge(tmp_path):
    path = _write(
        tmp_path,
        "metadata: {type: shapeshifter-project}\n"
        "entities:\n"
        "  a:\n"
        "    surrogate_id: a_id\n"
        "    foreign_keys: [{entity: b, local_keys: [x], remote_keys: [x], defer_dependency: true}]\n"
        "  b: {source: a, public_id: b_id}\n",
    )
    project = shapeshift.load(path)
    assert project.entities["a"].surrogate_id is None
    assert project.entities["a"].dependencies == []
    old = shapeshift.load(path, format_version=1)
    assert old.entities["a"].surrogate_id == "a_id"
    assert old.entities["a"].dependencies == ["b"]


def test_unknown_forced_version_is_refused(tmp_path):
    path = _write(tmp_path, "entities: {}\n")
    with pytest.raises(shapeshift.ConfigError, match="unknown format version 3"):
        shapeshift.load(path, format_version=3)


def test_v2_dependencies_of_merged_branches_and_sheet_names(tmp_path):
    path = _write(
        tmp_path,
        "metadata: {type: shapeshifter-project}\n"
        "entities:\n"
        "  a: {type: fixed, public_id: a_id, keys: [], columns: [x], values: [[1]]}\n"
        "  m: {type: merged, public_id: m_id, branches: {name: one, source: a}}\n"
        "  sheet: {type: xlsx, public_id: s_id, source: Sheet1, options: {filename: book.xlsx}}\n",
    )
    project = shapeshift.load(path)
    assert project.entities["m"].dependencies == ["a"]  # one mapping is one branch
    assert project.entities["sheet"].dependencies == []  # a sheet name, not an entity (format-v2.md 20 #9)
    assert shapeshift.load(path, format_version=1).entities["sheet"].dependencies == ["Sheet1"]
