"""The API docs page: Swagger UI from ninja's own files, served here (never a CDN), while processes that serve
no API (workers, commands) do not import the API's stack at all."""

import os
import subprocess
import sys

from django.contrib.staticfiles import finders

ASSETS = ("ninja/swagger-ui.css", "ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js")


def test_the_docs_page_loads_swagger_ui_from_this_site(alice_client):
    page = alice_client.get("/api/v1/docs").content.decode()

    for asset in ASSETS:
        assert f'"/static/{asset}"' in page
        assert finders.find(asset), asset  # collected with the other static files
    assert "cdn" not in page.lower()
    assert 'data-api-csrf="true"' in page  # the session auth checks CSRF: Swagger UI must send the token


def test_a_worker_process_does_not_import_the_api_stack():
    code = (
        "import django, sys; django.setup(); import testruns.tasks, testruns.execution; "
        "print(sorted(m for m in ('ninja', 'pydantic') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shiftbench.settings"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "[]"


def test_run_test_runs_the_settings_checks_without_importing_the_api(tmp_path):
    # the URLconf's checks import the API; the settings' own checks are what a run needs
    code = (
        "import django, sys; django.setup()\n"
        "from django.core.management import ManagementUtility\n"
        "from django.core import checks\n"
        "ran = []\n"
        "checks.register(lambda app_configs, **kw: ran.append(1) or [], 'shiftbench')\n"
        "try:\n"
        "    ManagementUtility(['manage.py', 'run_test', 'nosuch', '--sync']).execute()\n"
        "except BaseException:\n"
        "    pass\n"
        "print(ran, sorted(m for m in ('ninja', 'pydantic') if m in sys.modules))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shiftbench.settings", "SHIFTBENCH_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "[1] []"
