"""Downloads of a configuration version: its main YAML, and its whole bundle as a ZIP."""

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from django.core.files.storage import default_storage

from configurations.models import ConfigurationVersion
from configurations.storage import CHUNK_SIZE
from configurations.versioning import damaged_files

YAML_CONTENT_TYPE = "application/yaml; charset=utf-8"  # RFC 9512
ZIP_CONTENT_TYPE = "application/zip"


class BundleUnavailable(Exception):
    """A file of the bundle is missing or damaged in storage; the message names each one."""


def yaml_filename(version: ConfigurationVersion) -> str:
    """``demo-v3.yml``: the configuration's name and the version number, with the main file's suffix.

    Reads ``version.configuration`` (a query if it is not loaded).
    """
    suffix = PurePosixPath(version.main_file).suffix or ".yml"
    return f"{version.configuration.name}-v{version.number}{suffix}"


def bundle_filename(version: ConfigurationVersion) -> str:
    """``demo-v3.zip``. Reads ``version.configuration`` (a query if it is not loaded)."""
    return f"{version.configuration.name}-v{version.number}.zip"


def yaml_bytes(version: ConfigurationVersion) -> bytes:
    """The main YAML as the pages and the editor show it: the version's text, UTF-8."""
    return version.yaml_text.encode("utf-8")


def bundle_zip(version: ConfigurationVersion) -> Iterable[bytes]:
    """The ZIP of every file ``version`` bundles, made while it is read.

    Each file is at its path in the bundle inside one folder named like the ZIP (``demo-v3/demo.yml``,
    ``demo-v3/data/survey.csv``, the folders a ``${VAR}`` reached under ``_env/VAR``), so the unzipped
    folder holds what a run of the version reads. The bytes are the stored blobs, read in chunks: memory
    stays at a chunk or two whatever the size of the files. Before anything is sent every blob is checked
    to be there with its size (a stat each, as a bundle checks its files on use); raises
    BundleUnavailable naming those that are not. One query (the files).
    """
    import zipstream

    files = list(version.files.select_related("stored").order_by("path"))
    if damaged := damaged_files(files):
        raise BundleUnavailable(f"The files of {version} could not be read: {damaged}. Import them again.")
    folder = bundle_filename(version).removesuffix(".zip")
    archive = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED)
    for bundled in files:
        archive.add(_read_in_chunks(bundled.stored.blob.name), f"{folder}/{bundled.path}")
    return archive


def _read_in_chunks(name: str) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
