"""The engine knows no Django: importing it, and running its CLI, loads no module of Django's."""

import subprocess
import sys

LOADED_DJANGO = (
    "import sys; import {module}; "
    "print(','.join(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))))"
)


def _django_modules_after_importing(module: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_DJANGO.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_it_imports_the_engine_without_django():
    assert _django_modules_after_importing("shapeshift") == ""


def test_it_imports_the_cli_without_django():
    assert _django_modules_after_importing("shapeshift.cli") == ""
