"""Header sanitising of the format-2 file loaders (format-v2.md 7.3 rules 1-9; Excel uses them too, 7.4)."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

MAX_NAME = 48
MAX_RAW = 200  # longer header texts are not names but notes pasted into the header row: unnamed_<i>

# Rule 2: symbols that carry meaning become words. Order does not matter: no replacement contains another key.
_SYMBOL_WORDS = {
    "±": "_plus_minus_",
    "δ": "_delta_",
    "Δ": "_delta_",
    "σ": "_sigma_",
    "Σ": "_sigma_",
    "μ": "_mu_",  # Greek mu only; the micro sign (U+00B5) is dropped by rule 6
    "α": "_alpha_",
    "β": "_beta_",
    "γ": "_gamma_",
    "π": "_pi_",
    "°": "_degree_",
    "º": "_degree_",
    "%": "_percent_",
    "#": "_num_",
    "&": "_and_",
    "@": "_at_",
    "$": "_dollar_",
    "€": "_euro_",
    "£": "_pound_",
}
_SYMBOLS = re.compile("|".join(re.escape(symbol) for symbol in _SYMBOL_WORDS))
_BRACKETS = re.compile(r"[()\[\]{}]")  # rule 3
_PUNCTUATION = re.compile(r"[.,;:!?'\"\\|\-/]")  # rule 4: removed, so Tiefe-cm -> tiefecm
_WHITESPACE = re.compile(r"\s+")
_NOT_NAME = re.compile(r"[^a-z0-9_]")  # rule 6
_UNDERSCORES = re.compile(r"_+")


def sanitize_name(header, index: int) -> str:
    """One header as a lower-case identifier; `index` (0-based position) names headers that have none.

    `sanitize_name("Anteil %", 2)` -> `"anteil_percent"`, `sanitize_name("2nd Count", 5)` ->
    `"col_2nd_count"`, `sanitize_name(None, 8)` -> `"unnamed_8"`. Duplicates are left to sanitize_headers.
    """
    unnamed = f"unnamed_{index}"
    if header is None or (isinstance(header, float) and pd.isna(header)):
        return unnamed
    text = str(header).strip()
    if not text or text.startswith("=") or len(text) > MAX_RAW:
        return unnamed
    text = _SYMBOLS.sub(lambda match: _SYMBOL_WORDS[match.group(0)], text)
    text = _BRACKETS.sub("_", text)
    text = _PUNCTUATION.sub("", text)
    text = _WHITESPACE.sub("_", text).lower()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = _NOT_NAME.sub("", text)
    text = _UNDERSCORES.sub("_", text).strip("_")
    text = text[:MAX_NAME].rstrip("_")
    if not text:
        return unnamed
    return f"col_{text}" if text[0].isdigit() else text


def sanitize_headers(headers) -> list[str]:
    """All headers of a table, sanitised; a repeated result gets `_1`, `_2`, ... in order of appearance.

    pandas has already suffixed duplicate raw headers (`X`, `X.1`), which rule 4 turns into `x`, `x1`;
    the suffixes here only separate headers that became equal by sanitising (`A b`, `a-b`).
    """
    names: list[str] = []
    taken: set[str] = set()
    counts: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = sanitize_name(header, index)
        candidate = name
        while candidate in taken:
            counts[name] = counts.get(name, 0) + 1
            candidate = f"{name}_{counts[name]}"
        taken.add(candidate)
        names.append(candidate)
    return names
