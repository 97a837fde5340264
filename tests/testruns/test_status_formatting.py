"""The display filters in testruns/templatetags/shiftbench.py."""

from datetime import timedelta

import pytest

from testruns.templatetags.shiftbench import count, duration, options_summary


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "0 ms"),
        (850, "850 ms"),
        (4200, "4.2 s"),
        (185_000, "3 min 05 s"),
        (timedelta(hours=2, minutes=7), "2 h 07 min"),
        (timedelta(seconds=1.5), "1.5 s"),
    ],
)
def test_it_formats_durations(value, text):
    assert duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(None, ""), (0, "0"), (999, "999"), (1234, "1,234"), (1_234_567, "1,234,567")]
)
def test_it_groups_counts_by_thousands(value, text):
    assert count(value) == text


def test_it_summarises_default_options():
    assert options_summary({}) == "first 100 rows · all entities"


def test_it_summarises_every_option():
    options = {
        "entities": ["site", "sample"],
        "max_rows_per_entity": None,
        "stop_on_error": True,
        "validate_foreign_keys": False,
        "validate_constraints": False,
    }
    assert options_summary(options) == (
        "all rows · entities: site, sample · stop on error · "
        "foreign keys not checked · constraints not checked"
    )
