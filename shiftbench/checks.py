"""System checks of the SHIFTBENCH_* settings: values that parse but that the application cannot work with.

A value that does not parse (a word where a number belongs) already stops settings.py (shiftbench/env.py).
These rules are about what a parsed value means, alone or beside another. Every ``manage.py`` command runs
them before it starts (the worker's ``qcluster`` too); the web process, which runs no command, calls
``require_valid_settings`` from wsgi.py / asgi.py.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "shiftbench"

KEEP_EVERY_RUN = "expected 0 (keep every run) or more"
SECONDS = "expected 1 (second) or more"
BYTES = "expected a number of bytes above 0"


def at_least(least):
    return lambda value: value >= least


def unset_or_at_least(least):
    return lambda value: value is None or value >= least


# (id, setting, is the value fine, what is expected): each message names the variable an operator sets.
RULES = [
    ("shiftbench.E001", "LOGIN_FAILURE_LIMIT", at_least(1), "expected 1 or more"),
    (
        "shiftbench.E002",
        "LOGIN_COOLOFF_MINUTES",
        at_least(0),
        "expected 0 (until an admin clears it) or more",
    ),
    # A negative age would make every finished run "old" and prune it.
    ("shiftbench.E003", "RETENTION_DAYS", unset_or_at_least(0), KEEP_EVERY_RUN),
    ("shiftbench.E004", "RETENTION_KEEP_LAST", unset_or_at_least(0), KEEP_EVERY_RUN),
    ("shiftbench.E005", "EXPORT_XLSX_MAX_CELLS", at_least(0), "expected 0 (no limit) or more"),
    ("shiftbench.E006", "HTMX_VERSION", lambda value: value in (2, 4), "expected 2 or 4"),
    ("shiftbench.E007", "SQL_STATEMENT_TIMEOUT", at_least(1), SECONDS),  # PostgreSQL reads 0 as "none"
    ("shiftbench.E008", "UPLOAD_MAX_BYTES", at_least(1), BYTES),
    ("shiftbench.E009", "UPLOAD_FILE_MAX_BYTES", at_least(1), BYTES),
    # django-q2 would kill every run at once; the reaper would fail every pending run, or crash every
    # running one, at once.
    ("shiftbench.E010", "RUN_TIMEOUT", at_least(1), SECONDS),
    ("shiftbench.E011", "PENDING_TIMEOUT", at_least(1), SECONDS),
    ("shiftbench.E012", "HEARTBEAT_TIMEOUT", at_least(1), SECONDS),
]


def check_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Each SHIFTBENCH_* value that breaks its rule, as an error naming the variable and what it expects."""
    messages = [
        checks.Error(f"SHIFTBENCH_{name}={getattr(settings, name)}: {expected}", id=check_id)
        for check_id, name, is_fine, expected in RULES
        if not is_fine(getattr(settings, name))
    ]
    interval, timeout = settings.HEARTBEAT_INTERVAL, settings.HEARTBEAT_TIMEOUT
    if 0 < timeout <= interval:
        # A warning, not an error: a test may stage exactly this to play a worker that froze.
        messages.append(
            checks.Warning(
                f"SHIFTBENCH_HEARTBEAT_TIMEOUT={timeout} is not above "
                f"SHIFTBENCH_HEARTBEAT_INTERVAL={interval}",
                hint="The reaper would mark runs crashed between two heartbeats of a live worker; "
                "make the timeout several intervals long (defaults: 60 and 5).",
                id="shiftbench.W001",
            )
        )
    return messages


def require_valid_settings() -> None:
    """Refuse to start when a setting breaks an error-level rule: the web server runs no system checks."""
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{error.id}: {error.msg}" for error in errors))
