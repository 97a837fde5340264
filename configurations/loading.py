"""How the server opens a configuration: confined to its own folder, with only the allowed environment.

Configurations come from users, and a run's preview shows what they read. So a stored configuration may
read no file outside its bundle (``DirectoryResolver(confined=True)``) and no environment variable the
operator has not listed in SHIFTBENCH_CONFIG_ENV (``${SHIFTBENCH_SECRET_KEY}`` must stay unresolved).
"""

import fnmatch
import os
from pathlib import Path

from django.conf import settings

import shapeshift


def allowed_env() -> dict[str, str]:
    """The environment variables configurations may read: those matching SHIFTBENCH_CONFIG_ENV patterns."""
    patterns = settings.CONFIG_ENV
    return {
        name: value
        for name, value in os.environ.items()
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    }


def _resolver(path: Path, unavailable: dict | None = None) -> shapeshift.DirectoryResolver:
    return shapeshift.DirectoryResolver(path.parent, confined=True, unavailable=unavailable)


def load_project(path, unavailable: dict | None = None) -> shapeshift.Project:
    """``shapeshift.load`` for the YAML at ``path``, confined; raises shapeshift.ConfigError.

    ``unavailable``: files of the bundle that must not be read, with the reason (``Bundle.unavailable``).
    """
    path = Path(path)
    return shapeshift.load(path.name, _resolver(path, unavailable), env=allowed_env())


def referenced_files(path) -> list:
    """``shapeshift.collect_files`` for the YAML at ``path``, confined; raises shapeshift.ConfigError."""
    path = Path(path)
    return shapeshift.collect_files(path.name, _resolver(path), env=allowed_env())
