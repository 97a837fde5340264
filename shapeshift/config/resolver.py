"""File access for configurations: the same code loads from a folder or from a stored bundle.

Paths handed to a resolver are relative to the folder of the main configuration file, use "/"
and never escape that folder's tree by accident (absolute paths are allowed for folders only).
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from ..errors import FileUnavailable
from ..paths import join_relative, parent_of

__all__ = ["DirectoryResolver", "FileResolver", "FileUnavailable", "join_relative", "parent_of"]


@runtime_checkable
class FileResolver(Protocol):
    """Read access to the files a configuration refers to."""

    def read_bytes(self, relative: str) -> bytes:
        """Return the file's content; raise FileNotFoundError if it is missing."""

    def local_path(self, relative: str) -> pathlib.Path:
        """Return a local filesystem path (for pandas/sqlite); may raise FileNotFoundError."""

    def exists(self, relative: str) -> bool:
        """Tell whether the file exists."""


class DirectoryResolver:
    """FileResolver over a local folder; relative names are resolved against it.

    ``confined=True`` is for configurations from people other than the machine's owner (a server):
    absolute names and names that lead out of the folder ("../../etc/passwd", a symlink out) are
    treated as missing files, so a configuration can read nothing but its own bundle.

    ``unavailable`` maps files (relative to the folder) that must not be read to the reason, which
    reading them raises as FileUnavailable: the host knows a stored file is corrupt, the engine says so.
    """

    def __init__(
        self,
        folder: str | pathlib.Path,
        *,
        confined: bool = False,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = pathlib.Path(folder).resolve()
        self.confined = confined
        self.unavailable = {(self.folder / name).resolve(): why for name, why in (unavailable or {}).items()}

    def _path(self, relative: str) -> pathlib.Path:
        path = pathlib.Path(relative)
        if not self.confined:
            path = path if path.is_absolute() else self.folder / path
        else:
            resolved = (self.folder / path).resolve()
            if path.is_absolute() or not resolved.is_relative_to(self.folder):
                raise FileNotFoundError(f"{relative}: outside the configuration's folder")
            path = resolved
        if self.unavailable and (why := self.unavailable.get(path.resolve())):
            raise FileUnavailable(why)
        return path

    def read_bytes(self, relative: str) -> bytes:
        path = self._path(relative)
        if not path.is_file():
            raise FileNotFoundError(f"{relative}: no such file in {self.folder}")
        return path.read_bytes()

    def local_path(self, relative: str) -> pathlib.Path:
        path = self._path(relative)
        if not path.exists():
            raise FileNotFoundError(f"{relative}: no such file in {self.folder}")
        return path

    def exists(self, relative: str) -> bool:
        try:
            return self._path(relative).exists()
        except FileNotFoundError:
            return False

    def __repr__(self) -> str:
        return f"DirectoryResolver({str(self.folder)!r})"
