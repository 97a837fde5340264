"""Format-2 `replacements` (format-v2.md 10): value mappings, blank-out lists and ordered rule lists.

Applied per sub-table at the end of extraction (6.4 step 10). Each column's specification is one of:
a mapping `{old: new}` (pandas replace), a value or list of values (blanked out, then the whole column
forward-filled, 10.1), or a list of rule mappings applied in order (10.2). Every rule works on the whole
column; comparisons use a normalised or coerced *copy* of the values, the output keeps the originals.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import EntityError
from ..issues import IssueCode
from ..pipeline.frames import replace_columns
from .formulas import bounded_regex

NEGATED = {
    "not_equals": "equals",
    "not_in": "in",
    "not_contains": "contains",
    "not_startswith": "startswith",
    "not_endswith": "endswith",
    "not_regex": "regex",
}
MATCH_KINDS = {"equals", "in", "contains", "startswith", "endswith", "regex", "regex_sub"}
NO_FILL = (None, False, "none", "null", "false")
REGEX_FLAGS = {
    "i": re.IGNORECASE,
    "ignorecase": re.IGNORECASE,
    "m": re.MULTILINE,
    "multiline": re.MULTILINE,
    "s": re.DOTALL,
    "dotall": re.DOTALL,
}
INT_NAMES, FLOAT_NAMES, STRING_NAMES = (
    {"int", "int64", "integer"},
    {"float", "double", "number"},
    {"string", "str"},
)


def apply_replacements(table: pd.DataFrame, replacements, *, entity: str, report) -> pd.DataFrame:
    """`table` with each configured column replaced (10); columns that do not exist are skipped."""
    if not isinstance(replacements, dict) or not replacements:
        return table
    positions = {name: i for i, name in enumerate(table.columns)}
    new = {}
    for column, spec in replacements.items():
        if column not in positions or spec is None:
            continue
        series = table[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)  # new values are not categories; results read as text anyway
        where = f"replacements of column '{column}'"
        if isinstance(spec, list) and all(isinstance(rule, Mapping) for rule in spec):
            for number, rule in enumerate(spec, start=1):
                series = _Rule(rule, f"{where}, rule {number}", entity, report).apply(series)
        elif isinstance(spec, Mapping):
            series = _pandas_replace(series, dict(spec))
        elif isinstance(spec, list) and any(isinstance(rule, Mapping) for rule in spec):
            raise EntityError(
                f"entity '{entity}': {where}: a list holds either values to blank out or rule mappings, "
                "not both"
            )
        else:  # 10.1: blank out, then forward-fill the whole column (pre-existing nulls too)
            series = _fill(_pandas_replace(series, spec, pd.NA), "forward")
        new[positions[column]] = series
    return replace_columns(table, new)


def _pandas_replace(series: pd.Series, to_replace, *value) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", FutureWarning
        )  # pandas' downcasting notice: the result is what we want
        return series.replace(to_replace, *value)


def _fill(series: pd.Series, how: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return series.ffill() if how == "forward" else series.bfill()


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


class _Rule:
    """One rule mapping of a rule list (10.2), applied to a whole column."""

    def __init__(self, rule: Mapping, where: str, entity: str, report) -> None:
        self.rule, self.where, self.entity, self.report = rule, where, entity, report
        self.normalize = self._normalize_ops(rule.get("normalize"))
        self.coerce = self._coerce_name(rule.get("coerce"))
        self.flags = _as_list(rule.get("flags"))
        self.ignorecase = any(str(f).lower() in ("i", "ignorecase") for f in self.flags)

    # --- configuration ---------------------------------------------------------------------
    def warn(self, message: str) -> None:
        self.report.warn(IssueCode.REPLACEMENT_RULE_INVALID, f"{self.where}: {message}")

    def _normalize_ops(self, ops) -> list[str]:
        known = []
        for op in _as_list(ops):
            name = str(op).lower()
            if name in ("strip", "lower", "upper", "collapse_ws", "collapse_whitespace"):
                known.append(name)
            else:
                self.warn(f"unknown normalize operation {op!r} ignored")
        return known

    def _coerce_name(self, value) -> str | None:
        if value is None:
            return None
        name = str(value).lower()
        if name in INT_NAMES | FLOAT_NAMES | STRING_NAMES:
            return name
        self.warn(f"unknown coerce {value!r} ignored")
        return None

    def kind(self) -> tuple[str, bool]:
        """(rule kind, negated) inferred from the keys (10.2)."""
        rule = self.rule
        if "blank_out" in rule:
            return "blank_out", False
        if "map" in rule:
            return "map", False
        if ("normalize" in rule or "coerce" in rule) and "match" not in rule and "from" not in rule:
            return "transform", False
        match = str(rule.get("match", "equals")).lower()
        return NEGATED.get(match, match), match in NEGATED

    # --- comparison copies -----------------------------------------------------------------
    def normalized(self, series: pd.Series) -> pd.Series:
        out = series.astype("string")
        for op in self.normalize:
            if op == "strip":
                out = out.str.strip()
            elif op == "lower":
                out = out.str.lower()
            elif op == "upper":
                out = out.str.upper()
            else:
                out = out.str.replace(r"\s+", " ", regex=True).str.strip()
        return out

    def normalized_value(self, value) -> str:
        text = "" if value is None else str(value)
        for op in self.normalize:
            if op == "strip":
                text = text.strip()
            elif op == "lower":
                text = text.lower()
            elif op == "upper":
                text = text.upper()
            else:
                text = re.sub(r"\s+", " ", text).strip()
        return text

    def coerced(self, series: pd.Series) -> pd.Series:
        if self.coerce is None or self.coerce in STRING_NAMES:
            return series.astype("string")
        numbers = pd.to_numeric(series.astype(object), errors="coerce")
        if self.coerce in FLOAT_NAMES:
            return numbers
        return numbers.where(numbers % 1 == 0).astype("Int64")  # non-integral -> null

    def coerced_value(self, value):
        if value is None:
            return None
        if self.coerce is None or self.coerce in STRING_NAMES:
            return str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if self.coerce in FLOAT_NAMES:
            return number
        return int(number) if number.is_integer() else None

    def coerced_values(self, values) -> list:
        return [v for v in (self.coerced_value(value) for value in _as_list(values)) if v is not None]

    def regex(self, pattern) -> re.Pattern:
        flags = 0
        for flag in self.flags:
            flags |= REGEX_FLAGS.get(str(flag).lower(), 0)
        try:
            return bounded_regex(str(pattern), flags)
        except ValueError as error:
            raise EntityError(f"entity '{self.entity}': {self.where}: {error}") from None

    # --- application -----------------------------------------------------------------------
    def apply(self, series: pd.Series) -> pd.Series:
        if not self.rule:
            return series
        kind, negated = self.kind()
        if kind not in MATCH_KINDS | {"blank_out", "map", "transform"}:
            self.warn(f"unknown rule type {kind!r}, rule skipped")
            return series
        try:
            result = getattr(self, f"_{kind}")(series, negated)
        except re.error as error:  # a bad group reference in a regex_sub replacement
            raise EntityError(f"entity '{self.entity}': {self.where}: {error}") from None
        self._report(kind, series, result)
        return result

    def _report(self, kind: str, before: pd.Series, after: pd.Series) -> None:
        if not (self.rule.get("report_replaced") or self.rule.get("report_unmatched")):
            return
        changed = int((before.astype("string").fillna("\x00") != after.astype("string").fillna("\x00")).sum())
        if self.rule.get("report_replaced"):
            self.report.info(
                IssueCode.REPLACEMENT_REPORT, f"{self.where}: {kind} replaced {changed} value(s)"
            )
        if self.rule.get("report_unmatched") and kind == "map" and isinstance(self.rule.get("map"), Mapping):
            keys = [self.normalized_value(k) for k in self.rule["map"]]
            values = self.normalized(before)
            unmatched = values[values.notna() & ~values.isin(keys)]
            if len(unmatched):
                top = unmatched.value_counts().head(int(self.rule.get("report_top") or 10)).to_dict()
                self.report.info(
                    IssueCode.REPLACEMENT_REPORT,
                    f"{self.where}: {len(unmatched)} value(s) not in the map (most frequent: {top})",
                )
        elif self.rule.get("report_unmatched") and changed == 0:
            self.report.info(IssueCode.REPLACEMENT_REPORT, f"{self.where}: {kind} matched no value")

    def _set(self, series: pd.Series, mask, value) -> pd.Series:
        """`series` with `value` where `mask` (a boolean array; null counts as no match)."""
        mask = np.asarray(pd.array(mask, dtype="boolean").fillna(False), dtype=bool)
        if not mask.any():
            return series
        try:
            return series.where(~mask, value)
        except (TypeError, ValueError):  # a text-typed column given a number: store objects
            return series.astype(object).where(~mask, value)

    def _negate(self, mask, compared: pd.Series, negated: bool):
        mask = np.asarray(pd.array(mask, dtype="boolean").fillna(False), dtype=bool)
        return (~mask & compared.notna().to_numpy(dtype=bool)) if negated else mask

    def _equals(self, series, negated):
        source, target = self.rule.get("from"), self.rule.get("to")
        if not self.normalize and self.coerce:
            compared = self.coerced(series)
            value = self.coerced_value(source)
            mask = np.zeros(len(series), dtype=bool) if value is None else (compared == value)
        elif not self.normalize and not negated:
            return _pandas_replace(series, {source: target})
        elif not self.normalize:
            compared, mask = series, series == source
        else:
            compared = self.normalized(series)
            mask = compared == self.normalized_value(source)
        return self._set(series, self._negate(mask, compared, negated), target)

    def _in(self, series, negated):
        source, target = self.rule.get("from"), self.rule.get("to")
        if source is None:
            return series
        if self.normalize:
            compared = self.normalized(series)
            values = [self.normalized_value(v) for v in _as_list(source)]
            if self.ignorecase:
                compared, values = compared.str.lower(), [v.lower() for v in values]
        elif self.coerce:
            compared, values = self.coerced(series), self.coerced_values(source)
        elif self.ignorecase:
            compared = series.astype("string").str.lower()
            values = [str(v).lower() for v in _as_list(source)]
        else:
            compared, values = series, _as_list(source)
        return self._set(series, self._negate(compared.isin(values), compared, negated), target)

    def _text_test(self, series, negated, test):
        source, target = self.rule.get("from"), self.rule.get("to")
        if source is None:
            return series
        compared, needle = self.normalized(series), self.normalized_value(source)
        mask = test(compared, needle)
        return self._set(series, self._negate(mask, compared, negated), target)

    def _contains(self, series, negated):
        return self._text_test(
            series, negated, lambda s, n: s.str.contains(n, case=not self.ignorecase, regex=False, na=False)
        )

    def _startswith(self, series, negated):
        if self.ignorecase:
            return self._text_test(
                series, negated, lambda s, n: s.str.lower().str.startswith(n.lower(), na=False)
            )
        return self._text_test(series, negated, lambda s, n: s.str.startswith(n, na=False))

    def _endswith(self, series, negated):
        if self.ignorecase:
            return self._text_test(
                series, negated, lambda s, n: s.str.lower().str.endswith(n.lower(), na=False)
            )
        return self._text_test(series, negated, lambda s, n: s.str.endswith(n, na=False))

    def _regex(self, series, negated):
        source, target = self.rule.get("from"), self.rule.get("to")
        if source is None:
            return series
        pattern = self.regex(source)  # re.match: anchored at the start of the (normalised) text
        compared = self.normalized(series)
        mask = compared.str.match(pattern, na=False)
        return self._set(series, self._negate(mask, compared, negated), target)

    def _regex_sub(self, series, negated):
        source, target = self.rule.get("from"), self.rule.get("to")
        if source is None:
            return series
        pattern = self.regex(source)
        before = series.astype("string")
        if target is None:  # every cell that contains a match becomes null
            return self._set(series, before.str.contains(pattern, na=False), pd.NA)
        after = before.str.replace(pattern, str(target), regex=True)
        if not (before.fillna("\x00") != after.fillna("\x00")).any():
            return series  # nothing matched: the column keeps its dtype
        return after

    def _blank_out(self, series, negated):
        values = self.rule.get("blank_out")
        if self.coerce:
            mask = self.coerced(series).isin(self.coerced_values(values))
            out = self._set(series, mask, pd.NA)
        else:
            out = _pandas_replace(series, values, pd.NA) if values is not None else series
        fill = self.rule.get("fill", "forward")
        if isinstance(fill, str):
            fill = fill.lower()
        if fill in NO_FILL:
            return out
        if fill in ("forward", "backward"):
            return _fill(out, fill)
        if isinstance(fill, Mapping) and "constant" in fill:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return out.fillna(fill["constant"])
        self.warn(f"unknown fill {fill!r}: blanked cells stay empty")
        return out

    def _map(self, series, negated):
        mapping = self.rule.get("map")
        if not isinstance(mapping, Mapping):
            self.warn("`map` is not a mapping, rule skipped")
            return series
        if not self.normalize and not self.coerce:
            return _pandas_replace(series, dict(mapping))
        if self.normalize:
            compared = self.normalized(series)
            keys = [(self.normalized_value(old), new) for old, new in mapping.items()]
        else:
            compared = self.coerced(series)
            keys = [(self.coerced_value(old), new) for old, new in mapping.items()]
        out = series
        for old, new in keys:
            if old is not None:
                out = self._set(out, compared == old, new)  # masks from the original values
        return out

    def _transform(self, series, negated):
        out = self.normalized(series) if self.normalize else series
        return self.coerced(out) if self.coerce else out
