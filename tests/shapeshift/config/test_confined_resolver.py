import pytest

import shapeshift
from shapeshift import DirectoryResolver


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "outside.csv").write_text("secret\n1\n")
    inner = tmp_path / "config"
    (inner / "data").mkdir(parents=True)
    (inner / "data" / "inside.csv").write_text("a\n1\n")
    (inner / "link.csv").symlink_to(tmp_path / "outside.csv")
    return inner


def test_it_reads_files_inside_the_folder(folder):
    resolver = DirectoryResolver(folder, confined=True)
    assert resolver.read_bytes("data/inside.csv") == b"a\n1\n"
    assert resolver.exists("data/../data/inside.csv")


@pytest.mark.parametrize("name", ["../outside.csv", "link.csv", "/etc/passwd", "data/../../outside.csv"])
def test_it_treats_files_outside_the_folder_as_missing(folder, name):
    resolver = DirectoryResolver(folder, confined=True)
    assert not resolver.exists(name)
    with pytest.raises(FileNotFoundError, match="outside the configuration's folder"):
        resolver.local_path(name)
    with pytest.raises(FileNotFoundError):
        resolver.read_bytes(name)


def test_an_unconfined_resolver_follows_any_path(folder):
    assert DirectoryResolver(folder).read_bytes("../outside.csv") == b"secret\n1\n"


def test_a_confined_run_fails_the_entity_that_reads_outside(folder):
    (folder / "config.yml").write_text(
        "entities:\n  leak:\n    type: csv\n    options: {filename: ../outside.csv}\n    columns: [secret]\n"
    )
    project = shapeshift.load("config.yml", DirectoryResolver(folder, confined=True), env={})
    result = shapeshift.run(project, shapeshift.plan(project))

    leak = result.outcome("leak")
    assert leak.status == "failed"
    assert "outside.csv" in leak.error
    assert leak.table is None


def test_it_refuses_a_file_it_was_told_is_unavailable_with_the_reason(folder):
    resolver = DirectoryResolver(folder, confined=True, unavailable={"data/inside.csv": "corrupt (size 1)"})

    assert not resolver.exists("data/inside.csv")
    with pytest.raises(shapeshift.FileUnavailable, match=r"corrupt \(size 1\)"):
        resolver.local_path("./data/inside.csv")
    with pytest.raises(FileNotFoundError, match=r"corrupt \(size 1\)"):
        resolver.read_bytes("data/inside.csv")


def test_a_run_fails_only_the_entity_that_reads_an_unavailable_file_and_says_why(folder):
    (folder / "other.csv").write_text("b\n2\n")
    (folder / "config.yml").write_text(
        "entities:\n"
        "  inside:\n    type: csv\n    options: {filename: data/inside.csv}\n    columns: [a]\n"
        "  other:\n    type: csv\n    options: {filename: other.csv}\n    columns: [b]\n"
    )
    why = "bundled file data/inside.csv is corrupt or missing (size 3, expected 4)"
    resolver = DirectoryResolver(folder, confined=True, unavailable={"data/inside.csv": why})
    project = shapeshift.load("config.yml", resolver, env={})
    result = shapeshift.run(project, shapeshift.plan(project))

    assert result.outcome("inside").status == "failed"
    assert why in result.outcome("inside").error
    assert result.outcome("other").status == "success"


def test_an_unavailable_include_fails_the_load_with_the_reason(folder):
    (folder / "part.yml").write_text("a: {type: fixed, columns: [x], values: [[1]]}\n")
    (folder / "config.yml").write_text("entities: '@include: part.yml'\n")
    why = "bundled file part.yml is corrupt or missing (missing, expected 40 bytes)"
    resolver = DirectoryResolver(folder, confined=True, unavailable={"part.yml": why})

    with pytest.raises(shapeshift.ConfigError, match=r"part\.yml is corrupt or missing"):
        shapeshift.load("config.yml", resolver, env={})
