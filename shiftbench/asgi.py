"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from shiftbench.checks import require_valid_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiftbench.settings")
application = get_asgi_application()
require_valid_settings()  # the web server runs no system checks; a broken SHIFTBENCH_* value stops it here
