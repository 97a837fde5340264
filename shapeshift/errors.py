"""Exceptions raised by the engine.

`ConfigError` is the only exception the public API raises on purpose: it names the file, the YAML
line and the dotted key path of the problem so a user can go straight to it.
"""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration that cannot be loaded or planned.

    Attributes: message, file (str | None), line (1-based int | None), key_path (dotted str | None).
    ``str(error)`` reads ``"file:line: key.path: message"`` with absent parts left out.
    """

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None, key_path: str | None = None
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key_path = key_path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        elif self.line:
            where = f"line {self.line}: "
        path = f"{self.key_path}: " if self.key_path else ""
        return f"{where}{path}{self.message}"


class EntityError(Exception):
    """A problem that fails one entity during a run (never escapes `run`)."""


class ConstraintViolation(EntityError):
    """A foreign-key constraint was violated: ``"<local> -> <remote>: <reason>"``."""


class SourceUnavailable(EntityError):
    """A data source cannot be reached or read (missing file, MS Access, server down)."""


class FileUnavailable(FileNotFoundError):
    """A file the configuration names that cannot be used; the message says why (corrupt, lost…).

    A FileNotFoundError, so whatever treats a file as missing still does; loaders that name the reason
    catch it first.
    """
