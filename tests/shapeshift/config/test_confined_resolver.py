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
