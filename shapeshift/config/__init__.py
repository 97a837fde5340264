"""Configuration: loading with directives, the typed model and validation."""

from .directives import FileRef
from .format import FORMAT_V1, FORMAT_V2, FORMAT_VERSIONS, detect_format_version
from .loading import collect_files, load
from .model import EntitySpec, ForeignKeySpec, Project, UnnestSpec
from .resolver import DirectoryResolver, FileResolver, FileUnavailable
from .validation import validate

__all__ = [
    "FORMAT_V1",
    "FORMAT_V2",
    "FORMAT_VERSIONS",
    "detect_format_version",
    "DirectoryResolver",
    "EntitySpec",
    "FileRef",
    "FileResolver",
    "FileUnavailable",
    "ForeignKeySpec",
    "Project",
    "UnnestSpec",
    "collect_files",
    "load",
    "validate",
]
