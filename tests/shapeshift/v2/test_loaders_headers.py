"""Header sanitising of the format-2 file loaders, rule by rule (format-v2.md 7.3, rules 1-9)."""

from __future__ import annotations

import math

import pytest

from shapeshift.sources.v2.headers import sanitize_headers, sanitize_name


@pytest.mark.parametrize(
    "header, expected",
    [
        # the spec's own examples (7.3, [C07])
        ("Probe Nr.", "probe_nr"),
        ("Anteil %", "anteil_percent"),
        ("# Körner", "num_korner"),
        ("Tiefe-cm", "tiefecm"),
        ("2nd Count", "col_2nd_count"),
        ("Taxon (lat.).1", "taxon_lat_1"),
        ("Site Code.1", "site_code1"),
        ("Größe µm", "groe_m"),  # ß and the micro sign are dropped
        ("Unnamed: 8", "unnamed_8"),
        # rule 2: symbol words
        ("δ13C ± SD", "delta_13c_plus_minus_sd"),
        ("Σ Taxa", "sigma_taxa"),
        ("μg", "mu_g"),  # Greek mu, unlike the micro sign
        ("Temp °C", "temp_degree_c"),
        ("A & B @ C", "a_and_b_at_c"),
        ("Cost $ € £", "cost_dollar_euro_pound"),
        ("α β γ π", "alpha_beta_gamma_pi"),
        # rules 3-5: brackets, punctuation, whitespace and diacritics
        ("Depth [cm] {max}", "depth_cm_max"),
        ("a,b;c:d!e?f'g\"h\\i|j-k/l", "abcdefghijkl"),
        ("  Élan\tvital  ", "elan_vital"),
        ("Ærø", "r"),  # Æ and ø have no decomposition: dropped
        # rule 7: underscores collapsed, ends stripped, 48 characters at most
        ("__a___b__", "a_b"),
        ("x" * 47 + " yz", "x" * 47),
        # rule 8: leading digit
        ("1", "col_1"),
    ],
)
def test_sanitize_name(header, expected):
    assert sanitize_name(header, 3) == expected


@pytest.mark.parametrize(
    "header",
    [None, math.nan, "", "   ", "=SUM(A1:A3)", "x" * 201, "ß", "µ"],
)
def test_headers_without_a_name_are_unnamed_by_position(header):
    # rule 1 (null, blank, formula, over 200 characters) and rule 8 (nothing left)
    assert sanitize_name(header, 4) == "unnamed_4"


def test_a_header_of_200_characters_is_kept():
    assert sanitize_name("x" * 200, 0) == "x" * 48


def test_duplicates_after_sanitising_are_numbered_in_order():
    assert sanitize_headers(["A b", "a-b", "A B", "c", "a_b"]) == ["a_b", "ab", "a_b_1", "c", "a_b_2"]


def test_numbering_skips_names_that_are_taken():
    assert sanitize_headers(["a", "a_1", "A"]) == ["a", "a_1", "a_2"]


def test_sanitize_headers_numbers_unnamed_columns_by_position():
    assert sanitize_headers(["x", None, ""]) == ["x", "unnamed_1", "unnamed_2"]
