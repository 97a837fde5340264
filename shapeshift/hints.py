"""Suggestions for misspelt column names ("did you mean ...?")."""

from __future__ import annotations

import difflib


def did_you_mean(missing, available) -> str:
    """A suggestion naming the closest available column for each missing one, or ''."""
    names = [str(a) for a in available]
    lowered = {name.lower(): name for name in names}
    pairs = []
    for name in missing:
        name = str(name)
        match = lowered.get(name.lower()) or next(
            iter(difflib.get_close_matches(name, names, n=1, cutoff=0.75)), None
        )
        if match and match != name:
            pairs.append(f"'{name}' -> '{match}'")
    return f"did you mean {', '.join(pairs)}?" if pairs else ""
