"""Suggestions for misspelt column names ("did you mean ...?") and column lists fit for a message."""

from __future__ import annotations

import difflib

MAX_SUGGESTIONS = 5
"""Missing names that get a suggestion: each is compared with every available name, so suggesting one
for each of 100,000 missing columns of a wide table would take hours; five say what is wrong."""


def did_you_mean(missing, available) -> str:
    """A suggestion naming the closest available column for the first few missing ones, or ''."""
    names = [str(a) for a in available]
    lowered = {name.lower(): name for name in names}
    pairs = []
    for name in list(missing)[:MAX_SUGGESTIONS]:
        name = str(name)
        match = lowered.get(name.lower()) or next(
            iter(difflib.get_close_matches(name, names, n=1, cutoff=0.75)), None
        )
        if match and match != name:
            pairs.append(f"'{name}' -> '{match}'")
    return f"did you mean {', '.join(pairs)}?" if pairs else ""


def name_list(names, limit: int = 20) -> str:
    """`names` as a list literal, cut after `limit` with the count of the rest (a message stays short)."""
    names = list(names)
    if len(names) <= limit:
        return repr(names)
    return repr(names[:limit])[:-1] + f", ... ({len(names) - limit:,} more)]"
