"""Path helpers shared by the config and sources layers (resolver-relative, POSIX style)."""

from __future__ import annotations

import pathlib


def join_relative(base_dir: str, name: str) -> str:
    """Join `name` to the folder `base_dir` (both relative to the resolver root), normalising '..'."""
    if pathlib.PurePosixPath(name).is_absolute() or pathlib.PureWindowsPath(name).is_absolute():
        return name
    parts: list[str] = []
    for part in (pathlib.PurePosixPath(base_dir) / name.replace("\\", "/")).parts:
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) if parts else "."


def parent_of(relative: str) -> str:
    """Folder part of a relative file name ('' for the root)."""
    parent = str(pathlib.PurePosixPath(relative).parent)
    return "" if parent == "." else parent
