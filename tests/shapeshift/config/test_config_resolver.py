"""Loading through a FileResolver that is not a folder (how Django loads a stored bundle)."""

from __future__ import annotations

import pathlib
import tempfile

import pytest

import shapeshift
from tests.shapeshift.engine_support import rows


class BundleResolver:
    """In-memory files; local_path materialises a file in a temporary folder."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.folder = pathlib.Path(tempfile.mkdtemp())

    def read_bytes(self, relative: str) -> bytes:
        if relative not in self.files:
            raise FileNotFoundError(relative)
        return self.files[relative]

    def local_path(self, relative: str) -> pathlib.Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.read_bytes(relative))
        return path

    def exists(self, relative: str) -> bool:
        return relative in self.files


BUNDLE = {
    "cfg/main.yml": b"""
entities:
  labels:
    type: csv
    surrogate_id: label_id
    columns: [code, label]
    options: "@value: sources.labels"
  kind: "@include: parts/kind.yml"
sources:
  labels: {filename: data/labels.csv}
""",
    "cfg/parts/kind.yml": b"type: fixed\nsurrogate_id: kind_id\ncolumns: [k]\nvalues: [x, y]\n",
    "cfg/data/labels.csv": b"code,label\nQ,oak\n",
}


def test_load_and_run_from_a_bundle():
    resolver = BundleResolver(BUNDLE)
    assert isinstance(resolver, shapeshift.FileResolver)
    project = shapeshift.load("cfg/main.yml", resolver=resolver)
    result = shapeshift.run(project, shapeshift.plan(project))
    assert rows(result.outcome("labels").table) == [("Q", "oak", 1)]
    assert rows(result.outcome("kind").table) == [("x", 1), ("y", 2)]
    refs = shapeshift.collect_files("cfg/main.yml", resolver=resolver)
    assert {(r.path, r.kind, r.exists) for r in refs} == {
        ("cfg/parts/kind.yml", "include", True),
        ("cfg/data/labels.csv", "data", True),
    }


def test_bundle_missing_include_is_config_error():
    files = dict(BUNDLE)
    del files["cfg/parts/kind.yml"]
    with pytest.raises(shapeshift.ConfigError) as info:
        shapeshift.load("cfg/main.yml", resolver=BundleResolver(files))
    assert info.value.file == "cfg/main.yml" and info.value.key_path == "entities.kind"


def test_directory_resolver():
    resolver = shapeshift.DirectoryResolver(pathlib.Path(__file__).parent)
    assert resolver.exists(pathlib.Path(__file__).name)
    with pytest.raises(FileNotFoundError):
        resolver.read_bytes("no-such-file.yml")
    with pytest.raises(FileNotFoundError):
        resolver.local_path("no-such-file.yml")
