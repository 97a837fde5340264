"""Which configuration format a file is written in (format-v2.md 1.1).

A root `metadata:` mapping marks a Shape Shifter 2 project file; any other file with an `entities:`
mapping is read with the older semantics (configuration-format.md), byte for byte as before. The
format is decided from the main file alone, before any directive is resolved, because directives
themselves (`${VAR}` inside strings, `@value:` list splicing, `@load` of parquet) differ by format.
"""

from __future__ import annotations

FORMAT_V1 = 1
FORMAT_V2 = 2
FORMAT_VERSIONS = (FORMAT_V1, FORMAT_V2)
V2_PROJECT_TYPE = "shapeshifter-project"


def detect_format_version(root) -> int:
    """FORMAT_V2 when the root has a `metadata` mapping (or an `@include` of one), else FORMAT_V1."""
    if not isinstance(root, dict):
        return FORMAT_V1
    metadata = root.get("metadata")
    if isinstance(metadata, dict) or (isinstance(metadata, str) and metadata.startswith("@include")):
        return FORMAT_V2
    return FORMAT_V1


def is_target_model(root) -> bool:
    """A SEAD target model (format-v2.md 19): `model:` at the root and no `metadata:`."""
    return isinstance(root, dict) and "model" in root and "metadata" not in root


def format_label(version: int) -> str:
    return {FORMAT_V1: "1 (older format)", FORMAT_V2: "2 (Shape Shifter 2 project)"}.get(
        version, str(version)
    )
