"""Small helpers that read settings from the environment and fail loudly on bad values."""

import os

from django.core.exceptions import ImproperlyConfigured

PREFIX = "SHIFTBENCH_"


def envstr(name: str, default: str = "") -> str:
    """The variable's value, or ``default``; ``NAME_FILE`` is read for mounted secrets."""
    key = PREFIX + name
    if key + "_FILE" in os.environ:
        with open(os.environ[key + "_FILE"], encoding="utf-8") as f:
            return f.read().strip()
    return os.environ.get(key, default)


def envbool(name: str, default: bool) -> bool:
    value = envstr(name, "")
    if value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{PREFIX}{name}={value!r}: expected true or false")


def envint(name: str, default: int) -> int:
    value = envstr(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name}={value!r}: expected a whole number") from None


def envfloat(name: str, default: float) -> float:
    value = envstr(name, "")
    if value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{PREFIX}{name}={value!r}: expected a number") from None


def envlist(name: str, default: list[str]) -> list[str]:
    value = envstr(name, "")
    if value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
