"""shiftbench/settings.py: the security settings the environment turns on (CSP, HTTPS, a proxy in front).

Settings are read once, when the process starts: each case runs in a fresh Python process with its own
SHIFTBENCH_* environment, as an operator would start the site.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

REPO = Path(__file__).resolve().parent.parent

# The production environment of docs/operations.md: HTTPS through one reverse proxy.
PRODUCTION = {
    "SHIFTBENCH_DEBUG": "false",
    "SHIFTBENCH_SECRET_KEY": "k7#Qm2!vR9zX@p4Lw8^Ns1&Yt6*Bc3%Hd5$Fg0+Jr2=Ue7~Ia9-Oo4_Ps8?",
    "SHIFTBENCH_ALLOWED_HOSTS": "shiftbench.example.org,testserver",
    "SHIFTBENCH_HTTPS": "true",
    "SHIFTBENCH_BEHIND_PROXY": "true",
}


def run_python(code: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    """``code`` in a fresh process with Django set up under ``env`` (and no other SHIFTBENCH_ variable)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHIFTBENCH_", "DJANGO_"))}
    clean.update(env, DJANGO_SETTINGS_MODULE="shiftbench.settings", SHIFTBENCH_VAR_DIR=str(tmp_path / "var"))
    setup = "import django, json; django.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", setup + code], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120
    )


def answer(env: dict, tmp_path, path: str = "/accounts/login/", **headers) -> dict:
    """Status, headers and cookies of a GET of ``path`` by Django's test client under ``env``."""
    code = f"""
from django.test import Client, override_settings
plain = {{"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # no collectstatic here
with override_settings(STORAGES={{"default": {{"BACKEND": "django.core.files.storage.FileSystemStorage"}},
                                  "staticfiles": plain}}):
    response = Client(raise_request_exception=True).get({path!r}, headers={headers!r})
print(json.dumps({{
    "status": response.status_code,
    "headers": dict(response.headers),
    "cookies": {{name: {{"secure": bool(c["secure"]), "httponly": bool(c["httponly"])}}
                for name, c in response.cookies.items()}},
}}))
"""
    done = run_python(code, env, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_sends_a_content_security_policy_without_inline_code(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "report-uri" not in directives


def test_it_sends_the_policy_on_error_pages(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_it_reports_csp_violations_to_the_configured_uri(tmp_path):
    env = {
        "SHIFTBENCH_ALLOWED_HOSTS": "testserver",
        "SHIFTBENCH_CSP_REPORT_URI": "https://reports.example.org/csp",
    }
    result = answer(env, tmp_path)

    assert "report-uri https://reports.example.org/csp" in result["headers"]["Content-Security-Policy"]


def test_it_passes_the_deployment_checks_under_the_production_environment(tmp_path):
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("SHIFTBENCH_", "DJANGO_"))},
            **PRODUCTION,
            "SHIFTBENCH_VAR_DIR": str(tmp_path / "var"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_it_marks_cookies_secure_and_sends_hsts_under_https(tmp_path):
    result = answer(PRODUCTION, tmp_path, HOST="shiftbench.example.org", X_FORWARDED_PROTO="https")

    assert result["status"] == 200
    assert result["cookies"]["csrftoken"]["secure"] is True
    assert result["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    done = run_python(
        "from django.conf import settings; print(json.dumps([settings.SESSION_COOKIE_SECURE,"
        " settings.SESSION_COOKIE_HTTPONLY, settings.CSRF_COOKIE_SECURE]))",
        PRODUCTION,
        tmp_path,
    )
    assert json.loads(done.stdout) == [True, True, True]


def test_it_redirects_plain_http_to_https_under_https(tmp_path):
    result = answer(PRODUCTION, tmp_path, HOST="shiftbench.example.org", X_FORWARDED_PROTO="http")

    assert result["status"] == 301
    assert result["headers"]["Location"] == "https://shiftbench.example.org/accounts/login/"


def test_it_trusts_no_forwarded_proto_unless_behind_a_proxy(tmp_path):
    # Without a proxy that sets it, a client could claim https itself; the request stays plain http.
    result = answer(
        {**PRODUCTION, "SHIFTBENCH_BEHIND_PROXY": "false"},
        tmp_path,
        HOST="shiftbench.example.org",
        X_FORWARDED_PROTO="https",
    )

    assert result["status"] == 301


def test_it_keeps_plain_cookies_and_no_hsts_by_default(tmp_path):
    result = answer({"SHIFTBENCH_ALLOWED_HOSTS": "testserver"}, tmp_path)

    assert result["status"] == 200
    assert result["cookies"]["csrftoken"]["secure"] is False
    assert "Strict-Transport-Security" not in result["headers"]


@pytest.mark.parametrize("name", ["SHIFTBENCH_HTTPS", "SHIFTBENCH_BEHIND_PROXY"])
def test_it_rejects_a_value_that_is_not_a_boolean(tmp_path, name):
    done = run_python("", {name: "maybe"}, tmp_path)

    assert done.returncode != 0
    assert f"{name}='maybe': expected true or false" in done.stderr
