"""shiftbench/checks.py: the system checks that refuse SHIFTBENCH_* values that cannot work."""

import importlib

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from shiftbench.checks import check_settings, require_valid_settings


def found(messages) -> list[tuple[str, str]]:
    return [(message.id, message.msg) for message in messages]


def test_it_finds_nothing_wrong_with_the_defaults():
    assert check_settings() == []


@pytest.mark.parametrize(
    ("name", "value", "check_id", "expected"),
    [
        ("LOGIN_FAILURE_LIMIT", 0, "shiftbench.E001", "expected 1 or more"),
        ("LOGIN_COOLOFF_MINUTES", -1, "shiftbench.E002", "expected 0 (until an admin clears it) or more"),
        ("RETENTION_DAYS", -3, "shiftbench.E003", "expected 0 (keep every run) or more"),
        ("RETENTION_KEEP_LAST", -3, "shiftbench.E004", "expected 0 (keep every run) or more"),
        ("EXPORT_XLSX_MAX_CELLS", -3, "shiftbench.E005", "expected 0 (no limit) or more"),
        ("HTMX_VERSION", 3, "shiftbench.E006", "expected 2 or 4"),
        ("SQL_STATEMENT_TIMEOUT", 0, "shiftbench.E007", "expected 1 (second) or more"),
        ("UPLOAD_MAX_BYTES", 0, "shiftbench.E008", "expected a number of bytes above 0"),
        ("UPLOAD_FILE_MAX_BYTES", -1, "shiftbench.E009", "expected a number of bytes above 0"),
        ("RUN_TIMEOUT", 0, "shiftbench.E010", "expected 1 (second) or more"),
        ("PENDING_TIMEOUT", 0, "shiftbench.E011", "expected 1 (second) or more"),
        ("HEARTBEAT_TIMEOUT", 0, "shiftbench.E012", "expected 1 (second) or more"),
    ],
)
def test_it_names_the_variable_whose_value_breaks_its_rule(settings, name, value, check_id, expected):
    setattr(settings, name, value)

    messages = check_settings()

    assert found(messages) == [(check_id, f"SHIFTBENCH_{name}={value}: {expected}")]
    assert messages[0].is_serious()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOGIN_FAILURE_LIMIT", 1),
        ("LOGIN_COOLOFF_MINUTES", 0),  # locked until an admin clears it
        ("RETENTION_DAYS", None),  # SHIFTBENCH_RETENTION_DAYS=0: keep every run
        ("RETENTION_KEEP_LAST", 0),
        ("EXPORT_XLSX_MAX_CELLS", 0),  # no limit
        ("HTMX_VERSION", 4),
        ("SQL_STATEMENT_TIMEOUT", 1),
        ("UPLOAD_MAX_BYTES", 1),
        ("UPLOAD_FILE_MAX_BYTES", 1),
        ("RUN_TIMEOUT", 1),
        ("PENDING_TIMEOUT", 1),
    ],
)
def test_it_accepts_the_least_value_each_rule_allows(settings, name, value):
    setattr(settings, name, value)

    assert check_settings() == []


def test_it_warns_when_the_heartbeat_timeout_is_not_above_the_interval(settings):
    settings.HEARTBEAT_INTERVAL, settings.HEARTBEAT_TIMEOUT = 60, 60

    messages = check_settings()

    assert found(messages) == [
        ("shiftbench.W001", "SHIFTBENCH_HEARTBEAT_TIMEOUT=60 is not above SHIFTBENCH_HEARTBEAT_INTERVAL=60")
    ]
    assert not messages[0].is_serious()  # a test may stage a frozen worker this way


def test_it_accepts_any_heartbeat_timeout_without_a_heartbeat_thread(settings):
    settings.HEARTBEAT_INTERVAL, settings.HEARTBEAT_TIMEOUT = 0, 1

    assert check_settings() == []


def test_it_reports_every_broken_value_at_once(settings):
    settings.HTMX_VERSION, settings.RUN_TIMEOUT = 3, 0

    assert [check_id for check_id, _ in found(check_settings())] == ["shiftbench.E006", "shiftbench.E010"]


def test_it_runs_with_djangos_system_checks(settings):
    settings.HTMX_VERSION = 3

    assert ("shiftbench.E006", "SHIFTBENCH_HTMX_VERSION=3: expected 2 or 4") in found(checks.run_checks())


def test_it_stops_the_web_process_on_a_broken_value(settings):
    settings.HTMX_VERSION = 3

    with pytest.raises(
        ImproperlyConfigured, match=r"shiftbench\.E006: SHIFTBENCH_HTMX_VERSION=3: expected 2 or 4"
    ):
        importlib.reload(importlib.import_module("shiftbench.wsgi"))


def test_it_lets_the_web_process_start_on_a_warning(settings):
    settings.HEARTBEAT_INTERVAL, settings.HEARTBEAT_TIMEOUT = 60, 60

    require_valid_settings()  # no exception
