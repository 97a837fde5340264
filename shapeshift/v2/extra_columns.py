"""Format-2 `extra_columns` (format-v2.md 8): constants, copies, interpolations and formulas.

The pipeline evaluates an entity's mapping several times (8.2: at extraction, after concatenation,
after linking, after unnest); each call adds the items whose column does not exist yet and can be
computed now, and leaves (defers) formulas and interpolations whose columns are not there yet.
Everything is computed over whole columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum

import numpy as np
import pandas as pd

from ..errors import EntityError
from ..hints import did_you_mean
from ..issues import IssueCode
from . import formulas

# {name} not directly preceded by "{" nor followed by "}" (8.3); "{{" and "}}" are literal braces
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


class Kind(StrEnum):
    """What an item's value is, as far as it can be told without the table (8.1 rules 2-5)."""

    CONSTANT = "constant"  # not a string
    ESCAPED = "escaped"  # "==text": the constant "=text"
    FORMULA = "formula"  # "=..."
    INTERPOLATION = "interpolation"  # contains {name}
    TEXT = "text"  # a copy when it names a column of the table, else a constant (rules 6, 7)


def kind_of(value) -> Kind:
    if not isinstance(value, str):
        return Kind.CONSTANT
    if value.startswith("=="):
        return Kind.ESCAPED
    if value.startswith("="):
        return Kind.FORMULA
    if PLACEHOLDER.search(value):
        return Kind.INTERPOLATION
    return Kind.TEXT


def formula_tree(name, value: str, *, entity: str) -> formulas.Node:
    """The parsed formula of item `name`; a syntax error fails the entity at once (8.4)."""
    try:
        return formulas.parse(value)
    except formulas.FormulaError as error:
        raise _formula_error(entity, name, value, error) from None


def _formula_error(entity: str, name, value: str, error: Exception) -> EntityError:
    return EntityError(f"entity '{entity}': extra column '{name}' = {value!r}: formula error: {error}")


def references(name, value, *, entity: str) -> list[str]:
    """Column names a formula or an interpolation reads (exact case); [] for other kinds."""
    kind = kind_of(value)
    if kind is Kind.FORMULA:
        return formulas.references(formula_tree(name, value, entity=entity))
    if kind is Kind.INTERPOLATION:
        return list(dict.fromkeys(PLACEHOLDER.findall(value)))
    return []


def helper_columns(extra_columns: dict, source_columns, *, entity: str) -> list[str]:
    """Source columns the items need at extraction (6.4 step 3), in source order.

    Copy targets are matched ignoring case (8.1 rule 6); formula and interpolation references by exact
    name, as they are evaluated (the reference also matches those ignoring case and then never finds the
    column: format-v2.md 20 #22 - the outcome, an unresolved item, is the same).
    """
    if not isinstance(extra_columns, dict):
        return []
    names = [c for c in source_columns if isinstance(c, str)]
    lowered = {}
    for column in names:
        lowered.setdefault(column.lower(), column)
    wanted: set = set()
    for name, value in extra_columns.items():
        kind = kind_of(value)
        if kind is Kind.TEXT:
            found = value if value in names else lowered.get(value.lower())
            if found is not None:
                wanted.add(found)
        else:
            wanted.update(references(name, value, entity=entity))
    return [c for c in names if c in wanted]


def self_copies(extra_columns: dict) -> set:
    """Names of items that copy the column of their own name (`{code: code}`, format-v2.md 20 #35)."""
    if not isinstance(extra_columns, dict):
        return set()
    return {
        name
        for name, value in extra_columns.items()
        if isinstance(name, str) and kind_of(value) is Kind.TEXT and value.lower() == name.lower()
    }


class _Columns(Mapping):
    """The table's columns plus the items added so far in this evaluation."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table, self.added = table, {}

    def __getitem__(self, name) -> pd.Series:
        if name in self.added:
            return self.added[name]
        column = self.table[name]
        return column.iloc[:, 0] if isinstance(column, pd.DataFrame) else column  # duplicate names

    def __contains__(self, name) -> bool:
        return name in self.added or name in self.table.columns

    def __iter__(self) -> Iterator:
        yield from self.table.columns
        yield from self.added

    def __len__(self) -> int:
        return len(self.table.columns) + len(self.added)

    def copy_source(self, text: str):
        """The column `text` names: exact name first, else the first whose name matches ignoring case."""
        if text in self:
            return text
        lowered = text.lower()
        return next((c for c in self if isinstance(c, str) and c.lower() == lowered), None)


def evaluate_extra_columns(
    table: pd.DataFrame, extra_columns: dict, *, entity: str, report=None
) -> pd.DataFrame:
    """`table` with every item of `extra_columns` that is missing and computable now (8.1, 8.2).

    Items are tried in mapping order and see the items added before them. Formulas and interpolations
    whose columns are not all present are left out (deferred); constants and copies never are. Raises
    EntityError for a formula that cannot be parsed, or that fails once its columns exist.
    """
    if not isinstance(extra_columns, dict) or not extra_columns:
        return table
    columns = _Columns(table)
    index = table.index
    other_keys = {str(k).lower() for k in extra_columns}
    for name, value in extra_columns.items():
        if name in columns:
            continue  # rule 1: never recomputed nor overwritten
        kind = kind_of(value)
        if kind is Kind.CONSTANT:
            columns.added[name] = _constant(value, index)
        elif kind is Kind.ESCAPED:
            columns.added[name] = _constant(value[1:], index)
        elif kind is Kind.FORMULA:
            tree = formula_tree(name, value, entity=entity)
            if all(ref in columns for ref in formulas.references(tree)):
                columns.added[name] = _formula_column(tree, columns, index, entity, name, value)
        elif kind is Kind.INTERPOLATION:
            names = list(dict.fromkeys(PLACEHOLDER.findall(value)))
            if all(ref in columns for ref in names):
                columns.added[name] = interpolate(value, names, columns, index)
        else:
            # rule 6: a copy unless the text names another item (an item's own name is a copy of the
            # source column of that name: format-v2.md 20 #35; the reference makes it the constant text)
            source = columns.copy_source(value)
            others = other_keys - {str(name).lower()}
            if source is not None and value.lower() not in others:
                columns.added[name] = columns[source].copy()
            else:
                columns.added[name] = _constant(value, index)
    return _with_columns(table, columns.added)


def _constant(value, index: pd.Index) -> pd.Series:
    if value is None or isinstance(value, (list, dict, set, tuple)):  # containers: one per cell
        cells = np.empty(len(index), dtype=object)
        cells[:] = [value] * len(index)
        return pd.Series(cells, index=index, dtype=object)
    return pd.Series(value, index=index)


def _formula_column(tree, columns: _Columns, index: pd.Index, entity: str, name, value: str) -> pd.Series:
    try:
        formulas.check(tree)
        result = formulas.evaluate(tree, columns, index)
    except formulas.FormulaError as error:
        raise _formula_error(entity, name, value, error) from None
    if isinstance(result, pd.Series):
        return result.copy() if any(result is columns[c] for c in formulas.references(tree)) else result
    return _constant(result, index)


def interpolate(template: str, names: list, columns: Mapping, index: pd.Index) -> pd.Series:
    """`template` with each {name} replaced by the row's value as text (8.3); object strings, never null."""
    protected = template.replace("{{", "\x00").replace("}}", "\x01")
    pattern = "|".join(re.escape(n) for n in names)
    pieces = re.split(r"\{(" + pattern + r")\}", protected)  # literal, name, literal, name, ..., literal
    texts = {n: value_texts(columns[n]) for n in names}
    result = np.full(len(index), _restore(pieces[0]), dtype=object)
    for position in range(1, len(pieces), 2):
        result = result + texts[pieces[position]]
        literal = _restore(pieces[position + 1])
        if literal:
            result = result + literal
    return pd.Series(result, index=index, dtype=object)


def _restore(text: str) -> str:
    return text.replace("\x00", "{").replace("\x01", "}")


def value_texts(series: pd.Series) -> np.ndarray:
    """Each value as interpolation text (8.3): null -> '', integral float -> no decimals, else str()."""
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells: one conversion per row
        missing = series.isna().to_numpy(dtype=bool)
        return np.array(["" if m else _text(v) for v, m in zip(series, missing, strict=True)], dtype=object)
    texts = np.empty(len(uniques) + 1, dtype=object)
    texts[:-1] = [_text(value) for value in uniques]
    texts[-1] = ""
    return texts[codes]


def _text(value) -> str:
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _with_columns(table: pd.DataFrame, added: dict) -> pd.DataFrame:
    """`table` with the new columns appended, built at once (no per-column block rebuild)."""
    if not added:
        return table
    new = pd.DataFrame({i: series.array for i, series in enumerate(added.values())}, index=table.index)
    new.columns = list(added)
    return pd.concat([table, new], axis=1)


def unresolved_extra_columns(table: pd.DataFrame, extra_columns: dict) -> list[str]:
    """Configured items still missing from `table` (8.2: logged at the end of the entity, not an error)."""
    if not isinstance(extra_columns, dict):
        return []
    return [name for name in extra_columns if name not in table.columns]


def unresolved_reasons(table: pd.DataFrame, extra_columns: dict, *, entity: str) -> dict:
    """For each unresolved item, why: the referenced columns that are missing, with a suggestion."""
    reasons = {}
    for name in unresolved_extra_columns(table, extra_columns):
        value = extra_columns[name]
        missing = [c for c in references(name, value, entity=entity) if c not in table.columns]
        hint = did_you_mean(missing, table.columns)
        reasons[name] = f"{value!r} reads missing column(s) {missing}" + (f"; {hint}" if hint else "")
    return reasons


def report_unresolved(table: pd.DataFrame, extra_columns: dict, *, entity: str, report) -> list[str]:
    """Warn about the items still missing at the end of the entity (6.3 step 18); returns their names."""
    reasons = unresolved_reasons(table, extra_columns, entity=entity)
    if reasons:
        report.warn(
            IssueCode.EXTRA_COLUMNS_UNRESOLVED,
            f"Unresolved extra columns after processing: {list(reasons)}",
            "; ".join(f"{name}: {why}" for name, why in reasons.items()),
        )
    return list(reasons)
